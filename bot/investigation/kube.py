"""Kubernetes API objects (JSON shape) as the short text a responder reads in ``kubectl describe``."""

from __future__ import annotations

from typing import Any


def _state(state: dict[str, Any] | None) -> str:
    if not state:
        return "-"
    for phase, detail in state.items():
        detail = detail or {}
        parts = [phase]
        for key in ("reason", "exitCode", "signal", "message", "startedAt", "finishedAt"):
            if detail.get(key) not in (None, ""):
                parts.append(f"{key}={str(detail[key])[:200]}")
        return " ".join(parts)
    return "-"


def describe_pod(pod: dict[str, Any]) -> str:
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    owners = ", ".join(f"{o.get('kind')}/{o.get('name')}" for o in meta.get("ownerReferences") or [])
    lines = [f"Pod {meta.get('namespace')}/{meta.get('name')} phase={status.get('phase')} "
             f"node={spec.get('nodeName') or '-'} owner={owners or '-'}"]
    if status.get("reason") or status.get("message"):
        lines.append(f"Status: {status.get('reason') or ''} {status.get('message') or ''}".strip())
    for cond in status.get("conditions") or []:
        if cond.get("status") != "True":
            lines.append(f"Condition {cond.get('type')}={cond.get('status')} {cond.get('reason') or ''} "
                         f"{cond.get('message') or ''}".rstrip())
    limits = {c.get("name"): (c.get("resources") or {}).get("limits") for c in spec.get("containers") or []}
    for cs in status.get("containerStatuses") or []:
        name = cs.get("name")
        lines.append(f"Container {name} image={cs.get('image')} ready={cs.get('ready')} "
                     f"restarts={cs.get('restartCount', 0)} limits={limits.get(name) or '-'}")
        lines.append(f"  state: {_state(cs.get('state'))}")
        if cs.get("lastState"):
            lines.append(f"  last state: {_state(cs.get('lastState'))}")
    return "\n".join(lines)


def event_lines(events: list[dict[str, Any]]) -> list[str]:
    def when(e: dict[str, Any]) -> str:
        return str(e.get("lastTimestamp") or e.get("eventTime") or e.get("firstTimestamp") or "")

    out = []
    for e in sorted(events, key=when):
        obj = e.get("involvedObject") or {}
        count = f" (x{e['count']})" if (e.get("count") or 0) > 1 else ""
        out.append(f"{when(e)} {e.get('type') or 'Normal'} {e.get('reason') or ''} "
                   f"{str(obj.get('kind') or '').lower()}/{obj.get('name') or ''}: "
                   f"{(e.get('message') or '').strip()}{count}")
    return out
