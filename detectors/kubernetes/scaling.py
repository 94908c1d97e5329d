"""A workload scaled to zero: nothing serves it, so its callers are refused (docs/causes.md).

Scaling a Deployment to zero replicas (a GitOps overlay with ``replicaCount: 0``, ``kubectl scale --replicas=0``
run against the wrong cluster) is a change that leaves its Service without endpoints; the callers' refused
connections and the alert on them follow from it. Read from the deployment controller's event (``Scaled down
replica set x-5d8b9 to 0``) when no other ReplicaSet of the workload was scaled up (that is a rollout moving its
pods) and the same one was not scaled up after it (the workload brought back), and from the workload's desired count
(``kubectl describe deployment``: ``Replicas: 0 desired``; ``kubectl get deploy``: READY ``0/0``). The event
alone weighs less, and says nothing when pods of another ReplicaSet of the workload are seen (a rollout); a
desired count of zero with no scale-down event in the two hours before the alert is a state, not a change.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.domain import Evidence, EvidenceType, KubeText, Signal, SignalSource, stable_hash
from detectors.kubernetes.model import Findings, KubeEvent
from detectors.kubernetes.parse import split_commands
from detectors.kubernetes.resolve import Resolver
from detectors.kubernetes.text import clean

SCORE = 0.75  # the workload's desired count says zero
EVENT_ONLY_SCORE = 0.55  # only the controller's event says so (a rollout's first half may be cut from the list)
WINDOW = timedelta(hours=2)  # a scale to zero is a change: it needs a time near the alert, not only a state
_SCALED = re.compile(r"Scaled (?P<dir>up|down) replica set (?P<rs>[\w.-]+) to (?P<to>\d+)\b")
_DESCRIBE_NAME = re.compile(r"^Name:\s+(?P<name>[\w.-]+)", re.M)
_DESCRIBE_ZERO = re.compile(r"^Replicas:\s+0 desired\b", re.M)
_DEPLOY_HEADER = re.compile(r"^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\b")
_DEPLOY_ZERO = re.compile(r"^(?:deployment(?:\.apps)?/)?(?P<name>[a-z0-9][\w.-]*)\s+0/0\s")


def desired_zero(kube_texts: list[KubeText]) -> dict[str, str]:
    """Workload -> the line that says it wants no replicas (describe's ``0 desired``, get deploy's ``0/0``)."""
    out: dict[str, str] = {}
    for item in kube_texts:
        for _command, segment in split_commands(clean(item.text)):
            zero = _DESCRIBE_ZERO.search(segment)
            name = _DESCRIBE_NAME.search(segment)
            if zero and name:
                out.setdefault(name.group("name"), " ".join(zero.group(0).split()))
            in_table = False
            for line in segment.split("\n"):
                if _DEPLOY_HEADER.match(line):
                    in_table = True
                    continue
                row = _DEPLOY_ZERO.match(line) if in_table else None
                if row:
                    out.setdefault(row.group("name"), " ".join(line.split()))
    return out


def _at(event: KubeEvent, alert_time: datetime) -> datetime:
    age = event.first_age or event.last_age
    return event.first_seen or event.last_seen or (alert_time - (age or timedelta()))


def scaled_to_zero(findings: Findings, resolver: Resolver, kube_texts: list[KubeText],
                   alert_time: datetime) -> list[Signal]:
    """One decisive ``config_change`` per workload scaled to zero and not brought back."""
    downs: dict[str, list[tuple[datetime, KubeEvent, str]]] = {}
    ups: dict[str, list[tuple[datetime, str]]] = {}
    for event in findings.events:
        match = _SCALED.search(event.message) if event.reason in ("ScalingReplicaSet", "") else None
        if not match:
            continue
        workload = resolver.workload(event.obj)
        if not workload:
            continue
        at = _at(event, alert_time)
        if match.group("dir") == "up":
            ups.setdefault(workload, []).append((at, match.group("rs")))
        elif match.group("to") == "0":
            downs.setdefault(workload, []).append((at, event, match.group("rs")))
    zero = desired_zero(kube_texts)
    signals = []
    for workload in sorted(set(downs) | set(zero)):
        scaled = sorted(downs.get(workload, []), key=lambda item: item[0])
        last_down = scaled[-1][0] if scaled else None
        down_sets = {rs for _, _, rs in scaled}
        rollout_or_back = any(rs not in down_sets or (last_down is not None and at >= last_down)
                              for at, rs in ups.get(workload, []))
        if rollout_or_back and workload not in zero:
            continue  # a rollout moved the pods to another ReplicaSet, or the workload was scaled back up
        if last_down is None or not timedelta(minutes=-5) <= alert_time - last_down <= WINDOW:
            continue  # no recent scale-down: a workload left at zero long ago is a state, not this incident's change
        others = [p for p in resolver.pods if resolver.workload_of_pod(p) == workload
                  and not any(p.startswith(f"{rs}-") for rs in down_sets)]
        if workload not in zero and others:
            continue  # pods of another ReplicaSet of it exist: a rollout, whatever part of it the events show
        quotes = [" ".join(e.message.split()) for _, e, _ in scaled[-2:]]
        if workload in zero:
            quotes.append(zero[workload])
        evidence = [Evidence(id=f"k8s:{stable_hash('scaled_to_zero', workload, q)}", type=EvidenceType.KUBERNETES,
                             summary=f"{workload}: {q}"[:300], service=workload, ts=last_down,
                             detail="rule scale.to_zero; workload scaled to zero replicas")
                    for q in quotes[:3]]
        signals.append(Signal(
            source=SignalSource.KUBERNETES, detector="k8s.scaling", service=workload, kind="config_change",
            title=f"{workload} scaled to zero replicas: {quotes[0][:160]}",
            score=SCORE if workload in zero else EVENT_ONLY_SCORE, started_at=last_down,
            evidence=evidence,
            attributes={"decisive": True, "rule": "scale.to_zero", "object": workload, "count": len(quotes),
                        "message": quotes[0][:500], "blame": "workload"}))
    return signals
