"""Decisive findings: evidence that explains a failure by itself (a Kubernetes reason, a crash's last line,
a kernel message), as the detectors mark it (``attributes["decisive"]``).

Two things happen here before candidates are built:
- a finding that blames another component than where it was seen (``attributes["culprit"]``: the database a
  refused connection names, the registry an image pull could not reach, the node that evicted a pod) is moved
  to that component, and the service that reported it keeps a symptom (it is failing, but it is not the cause);
- the culprit's name is matched to the services the incident knows (``orders-db.prod.svc.cluster.local`` ->
  ``orders-db``); an unknown name stays a candidate of its own (an external provider, a node, a registry).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from bot.domain import Signal, is_cause_kind

_CLUSTER_SUFFIX = re.compile(r"(\.svc)?(\.cluster\.local)?\.?$")
_GENERIC_LABELS = frozenset({"api", "www", "rest", "app", "gw", "gateway", "edge", "svc", "service", "web", "prod"})
REPORTER_SYMPTOM = "error_rate_increase"


def is_decisive(signal: Signal) -> bool:
    return bool(signal.attributes.get("decisive")) and is_cause_kind(signal.kind)


def resolve_culprit(name: str, known: Iterable[str]) -> str:
    """The known service a culprit's name denotes, else a short name for it (host part, no port)."""
    raw = name.strip().strip("'\"[]()<>").lower()
    host = raw.split("://", 1)[-1].split("@")[-1].split("/", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    host = host.strip(".")
    known_lower = {k.lower(): k for k in known if k}
    if not host:
        return name.strip()
    if host in known_lower:
        return known_lower[host]
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    short = _CLUSTER_SUFFIX.sub("", host)
    labels = [label for label in short.split(".") if label]
    if not labels:
        return host
    if labels[0] in known_lower:
        return known_lower[labels[0]]
    # a known service inside the first label (orders-db-primary -> orders-db), the longest one
    inside = [k for k in known_lower if len(k) >= 3 and re.search(rf"(?<![a-z0-9]){re.escape(k)}(?![a-z0-9])", labels[0])]
    if inside:
        return known_lower[max(inside, key=len)]
    if len(labels) > 2 and labels[0] in _GENERIC_LABELS:
        return labels[1]
    return labels[0]


def retarget(signals: list[Signal], known: Iterable[str]) -> list[Signal]:
    """Move each decisive finding to the component it blames; the reporter keeps a symptom of it."""
    names = sorted({k for k in known if k})
    out: list[Signal] = []
    for sig in signals:
        culprit = sig.attributes.get("culprit") if sig.attributes else None
        if not is_decisive(sig) or not isinstance(culprit, str) or not culprit.strip():
            out.append(sig)
            continue
        target = resolve_culprit(culprit, names)
        if target == sig.service:
            out.append(sig)
            continue
        out.append(sig.model_copy(update={
            "service": target,
            "attributes": {**sig.attributes, "reporter": sig.service, "culprit": target},
        }))
        if sig.service:
            out.append(sig.model_copy(update={
                "id": f"{sig.id}:reporter",
                "kind": REPORTER_SYMPTOM,
                "score": round(float(sig.score) * 0.8, 4),
                "attributes": {**sig.attributes, "decisive": False, "blames": target},
            }))
    return out


def support(signals: Iterable[Signal]) -> dict[tuple[str, str], float]:
    """(service, kind) -> the strongest decisive finding for it."""
    best: dict[tuple[str, str], float] = {}
    for sig in signals:
        if is_decisive(sig) and sig.service:
            key = (sig.service, str(sig.kind))
            best[key] = max(best.get(key, 0.0), float(sig.score))
    return best
