"""A workload's recent rollout as non-decisive context (a ``deploy`` change with its time), so the reasoning can
judge whether a deploy fits: from ScalingReplicaSet events that move pods between two ReplicaSets, from
ReplicaSets' creation times, from ``describe deployment`` / ``rollout history`` (no time printed)."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

from bot.domain import Evidence, EvidenceType, Signal, SignalSource, stable_hash
from detectors.kubernetes.model import Findings, Rollout
from detectors.kubernetes.resolve import Resolver

WINDOW = timedelta(hours=2)
_SCALED = re.compile(r"Scaled (?P<dir>up|down) replica set (?P<rs>[\w.-]+)")


def _from_scaling_events(findings: Findings, resolver: Resolver, alert_time: datetime) -> list[Rollout]:
    ups: dict[str, dict[str, list[datetime]]] = {}
    touched: dict[str, set[str]] = {}
    for event in findings.events:
        match = _SCALED.search(event.message) if event.reason == "ScalingReplicaSet" else None
        if not match:
            continue
        workload = resolver.workload(event.obj)
        touched.setdefault(workload, set()).add(match.group("rs"))
        at = event.first_seen or event.last_seen or (alert_time - (event.first_age or event.last_age or timedelta()))
        if match.group("dir") == "up":
            ups.setdefault(workload, {}).setdefault(match.group("rs"), []).append(at)
    out = []
    for workload, by_rs in ups.items():
        if len(touched.get(workload, ())) < 2:
            continue  # one ReplicaSet scaled: a scale, not a rollout
        newest = max(by_rs, key=lambda rs: max(by_rs[rs]))
        out.append(Rollout(workload=workload, at=min(by_rs[newest]), detail=f"new ReplicaSet {newest} scaled up"))
    return out


def rollout_signals(findings: Findings, resolver: Resolver, *, alert_time: datetime) -> list[Signal]:
    rollouts = [*findings.rollouts, *_from_scaling_events(findings, resolver, alert_time)]
    for rollout in rollouts:
        if rollout.at is None and rollout.age is not None:
            rollout.at = alert_time - rollout.age  # kubectl's ages, read against the alert time
    latest: dict[str, Rollout] = {}
    for rollout in rollouts:
        known = latest.get(rollout.workload)
        if known is None or (rollout.at is not None and (known.at is None or rollout.at > known.at)):
            if known is not None and not rollout.revision:
                rollout.revision = known.revision
            latest[rollout.workload] = rollout
    return [s for s in (_signal(r, alert_time) for r in latest.values()) if s is not None]


def _signal(rollout: Rollout, alert_time: datetime) -> Signal | None:
    lead = (alert_time - rollout.at).total_seconds() if rollout.at else None
    if lead is not None and (lead > WINDOW.total_seconds() or lead < -300):
        return None
    recency = math.exp(-max(lead, 0.0) / 1800.0) if lead is not None else 0.3
    when = rollout.at.strftime("%H:%M UTC") if rollout.at else "time unknown"
    revision = f" revision {rollout.revision}" if rollout.revision else ""
    text = f"rollout of {rollout.workload}{revision} at {when}" + (f": {rollout.detail}" if rollout.detail else "")
    return Signal(
        source=SignalSource.CHANGES, detector="k8s.rollout", service=rollout.workload, kind="deploy", title=text,
        score=round(0.35 + 0.55 * recency, 4), started_at=rollout.at,
        evidence=[Evidence(id=f"k8s:{stable_hash('rollout', rollout.workload, when)}", type=EvidenceType.CHANGE,
                           summary=text, service=rollout.workload, ts=rollout.at)],
        attributes={"kind": "deploy", "decisive": False, "rule": "rollout", "revision": rollout.revision,
                    "lead_seconds": lead},
    )
