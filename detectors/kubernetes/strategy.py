"""A rollout that takes away more capacity than the workload can spare after a change of its strategy
(docs/causes.md): ``strategy.type: Recreate`` scales every old pod to zero before the new ones start (the Service has
no endpoint until they are ready), and ``maxUnavailable`` raised with ``maxSurge 0`` removes half the pods or more
in one step. The release that happens to roll out then works once started; the strategy is the workload's own
setting, so the cause is its ``config_change``, not the release's ``bad_deploy``.

Read when a change of the workload (a deploy or config text, not a note) names the strategy (``Recreate``,
``maxUnavailable``, ``maxSurge`` in any spelling) before the alert, and the evidence shows the capacity going: the
deployment controller's ``Scaled down replica set x to K from N`` with K at most half of N, or describe's
``StrategyType: Recreate`` / ``RollingUpdateStrategy: 50% max unavailable, 0% max surge`` (half or more, no surge)
with half the desired pods or more unavailable.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.domain import ChangeEvent, Evidence, EvidenceType, KubeText, Signal, SignalSource, stable_hash
from bot.domain.models import aware
from detectors.kubernetes.model import Findings
from detectors.kubernetes.parse import split_commands
from detectors.kubernetes.resolve import Resolver
from detectors.kubernetes.text import clean

SCORE = 0.8
# how a change names a rollout strategy: the API's fields, Terraform's and Helm's spellings, the Recreate type
STRATEGY_WORDS = re.compile(r"\bRecreate\b|max[_-]?unavailable|max[_-]?surge", re.I)
_SCALED_DOWN = re.compile(r"Scaled down replica set (?P<rs>[\w.-]+) to (?P<to>\d+) from (?P<from>\d+)\b")
_NAME = re.compile(r"^Name:\s+(?P<name>[\w.-]+)", re.M)
_DESCRIBE_CMD = re.compile(r"\bdescribe\s+(?:deploy(?:ment)?s?(?:\.apps)?[/ ]\s*)(?P<name>[a-z0-9][\w.-]*)")
_REPLICAS = re.compile(r"^Replicas:\s+(?P<desired>\d+) desired \|.*?\|\s*(?P<available>\d+) available\b", re.M)
_RECREATE = re.compile(r"^StrategyType:\s+Recreate\b", re.M)
_ROLLING = re.compile(r"^RollingUpdateStrategy:\s+(?P<unavailable>\d+)% max unavailable,\s+(?P<surge>\d+)%? max surge",
                      re.M)


def _strategy_changes(changes: list[ChangeEvent], alert_time: datetime | None) -> dict[str, ChangeEvent]:
    out: dict[str, ChangeEvent] = {}
    for change in sorted(changes, key=lambda c: aware(c.ts)):
        if not change.service or change.kind in ("note", "k8s", "k8s_event"):
            continue
        if alert_time is not None and aware(change.ts) > aware(alert_time):  # a time without a zone is UTC
            continue
        if STRATEGY_WORDS.search(change.text):
            out[change.service] = change
    return out


def _halved_by_describe(kube_texts: list[KubeText]) -> dict[str, str]:
    """Deployment -> describe's line saying its strategy took half its pods or more away at once."""
    out: dict[str, str] = {}
    for item in kube_texts:
        for command, segment in split_commands(clean(item.text)):
            named = _NAME.search(segment) or _DESCRIBE_CMD.search(command or "")
            replicas = _REPLICAS.search(segment)
            if not named or not replicas:
                continue
            desired, available = int(replicas["desired"]), int(replicas["available"])
            if desired == 0 or available * 2 > desired:
                continue
            rolling = _ROLLING.search(segment)
            if _RECREATE.search(segment):
                out[named["name"]] = "StrategyType: Recreate; " + " ".join(replicas.group(0).split())
            elif rolling and int(rolling["unavailable"]) >= 50 and int(rolling["surge"]) == 0:
                out[named["name"]] = " ".join(rolling.group(0).split()) + "; " + " ".join(replicas.group(0).split())
    return out


def strategy_signals(findings: Findings, resolver: Resolver, kube_texts: list[KubeText],
                     changes: list[ChangeEvent], alert_time: datetime | None) -> list[Signal]:
    """One decisive ``config_change`` per workload whose changed rollout strategy took half its pods or more."""
    changed = _strategy_changes(changes, alert_time)
    if not changed:
        return []
    quotes: dict[str, str] = {}
    for event in findings.events:
        match = _SCALED_DOWN.search(event.message) if event.reason in ("ScalingReplicaSet", "") else None
        workload = resolver.workload(event.obj) if match else ""
        if match and workload in changed and int(match["to"]) * 2 <= int(match["from"]):
            quotes.setdefault(workload, " ".join(event.message.split()))
    for workload, line in _halved_by_describe(kube_texts).items():
        if workload in changed:
            quotes.setdefault(workload, line)
    signals = []
    for workload, quote in sorted(quotes.items()):
        change = changed[workload]
        evidence = [Evidence(id=f"k8s:{stable_hash('rollout_strategy', workload, quote)}",
                             type=EvidenceType.KUBERNETES, summary=f"{workload}: {quote}"[:300], service=workload,
                             ts=change.ts, detail=f"rule rollout.strategy; changed: {change.text[:200]}")]
        signals.append(Signal(
            source=SignalSource.KUBERNETES, detector="k8s.rollout_strategy", service=workload, kind="config_change",
            title=f"{workload}: its rollout strategy took half its pods or more at once: {quote[:140]}",
            score=SCORE, started_at=change.ts, evidence=evidence,
            attributes={"decisive": True, "rule": "rollout.strategy", "object": workload, "count": 1,
                        "message": quote[:500], "blame": "workload"}))
    return signals
