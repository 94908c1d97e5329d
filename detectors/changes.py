"""Recent changes (deploys, config changes, feature flags, Kubernetes events) as signals.

A change shortly before the alert is evidence; the closer and the more "risky" its kind, the higher
its score. Whether it *caused* anything is the ranker's call, not this detector's. Changes come from the
change log (``events.jsonl``, ``POST /api/v1/changes``) and from the lines of the logs that state one
(``detectors/logs/changes.py``: an unattended upgrade in a node's journal, a router's configuration commit),
unless the change log already has a change of that service within ``SAME_CHANGE``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from bot.domain import ChangeEvent, Evidence, EvidenceType, Signal, SignalSource

WINDOW = timedelta(hours=2)
SAME_CHANGE = timedelta(minutes=15)
_KIND_ALIASES = {
    "deploy": "deploy", "deployment": "deploy", "rollout": "deploy", "release": "deploy", "image": "deploy",
    "config": "config", "config_change": "config", "configmap": "config", "secret": "config",
    "feature_flag": "feature_flag", "flag": "feature_flag", "toggle": "feature_flag",
    "scale": "scale", "hpa": "scale", "k8s": "k8s", "kubernetes": "k8s", "event": "k8s", "k8s_event": "k8s",
    "kube_event": "k8s",
    "rollback": "rollback", "restart": "restart", "migration": "migration", "infra": "infra",
}
_KIND_PRIOR = {"deploy": 1.0, "config": 0.9, "feature_flag": 0.85, "migration": 0.9, "infra": 0.6,
               "k8s": 0.5, "scale": 0.4, "restart": 0.35, "rollback": 0.3}
_FLAG_WORDS = re.compile(r"\b(flag|toggle|feature)\b", re.I)
_CONFIG_WORDS = re.compile(r"\b(config|configmap|setting|env var|parameter|pool size|timeout|limit)\b", re.I)


# an autoscaler (or an operator's scaling request) refused for a quota or a configured ceiling: the workload needed
# more instances than it may have (a cluster/role quota, a max-instances cap), which is a limit, not a change
_SCALE_REFUSED = re.compile(
    r"(?:rejected|refused|denied|failed|blocked|cannot|unable|not allowed)\b.{0,120}?"
    r"\b(?:quota|max(?:imum)?[ _-]?(?:instances|replicas|count|size)|limit)\b|"
    r"\b(?:quota|limit)\b.{0,60}?\b(?:exhausted|exceeded|reached)\b",
    re.IGNORECASE)


def scale_refusal(event: ChangeEvent) -> Signal | None:
    """A scaling event whose text says the scale-out was refused for a quota or a ceiling: a decisive
    ``resource_quota`` on the scaled service (docs/causes.md: a scale-out refused for quota)."""
    if normalise_kind(event) != "scale" or not event.service or not _SCALE_REFUSED.search(event.text or ""):
        return None
    return Signal(
        source=SignalSource.CHANGES,
        detector="changes.scale_refused",
        service=event.service,
        kind="resource_quota",
        title=f"{event.service}: scale-out refused: {event.text[:140]}",
        score=0.8,
        started_at=event.ts,
        evidence=[Evidence(id=f"scale-refused:{event.service}:{event.ts.isoformat()}", type=EvidenceType.CHANGE,
                           summary=f"{event.ts.isoformat()} scale {event.service}: {event.text[:300]}",
                           service=event.service, ts=event.ts, weight=0.8)],
        attributes={"decisive": True, "rule": "changes.scale_refused", "kind": "resource_quota"},
    )


# a change-log row (a GitOps sync, an audit line, ``kubectl apply`` output) that made a NetworkPolicy: any policy that
# selects a pod isolates it for what it does not allow; a deny policy made minutes before is the workload's
# network_policy_block (docs/causes.md), read here when no kubectl output of the policy is at hand
_POLICY_MADE = re.compile(
    r"\bnetwork ?polic(?:y|ies)\b.{0,160}?\b(?:applied|created|added|configured|updated|changed|synced)\b|"
    r"\b(?:applied|created|added)\b.{0,40}?\bnetwork ?polic(?:y|ies)\b",
    re.IGNORECASE)
_POLICY_SELECTS = re.compile(r"\b(?:app\.kubernetes\.io/name|k8s-app|app)\s*[=:]\s*\"?([a-z0-9][a-z0-9.-]*[a-z0-9])",
                             re.IGNORECASE)
_POLICY_DENIES = re.compile(r"\bdeny\b|\bdeny-?all\b", re.IGNORECASE)
POLICY_RECENT = timedelta(minutes=30)


def policy_change(event: ChangeEvent, alert_time: datetime | None) -> Signal | None:
    """A change whose text says a NetworkPolicy was made or changed and names the pods it selects (``app=x``): a
    ``network_policy_block`` finding on that workload; decisive when the policy denies (``default-deny-ingress``,
    ``deny-all``) and was made within ``POLICY_RECENT`` before the alert. None without a selector."""
    text = event.text or ""
    if not _POLICY_MADE.search(text):
        return None
    selected = _POLICY_SELECTS.search(text)
    if not selected:  # a namespace-wide policy, or one whose selector the row omits: the kubectl output must say
        return None  # whose traffic it cuts; the change's own service is often the tool that shipped it
    service = selected.group(1)
    recent = alert_time is None or -300 <= (alert_time - event.ts).total_seconds() <= POLICY_RECENT.total_seconds()
    decisive = bool(_POLICY_DENIES.search(text)) and recent
    score = 0.75 if decisive else 0.45
    return Signal(
        source=SignalSource.CHANGES,
        detector="changes.network_policy",
        service=service,
        kind="network_policy_block",
        title=f"{service}: NetworkPolicy change at {event.ts.strftime('%H:%M UTC')}: {text[:140]}",
        score=score,
        started_at=event.ts,
        evidence=[Evidence(id=f"netpol-change:{service}:{event.ts.isoformat()}", type=EvidenceType.CHANGE,
                           summary=f"{event.ts.isoformat()} {event.kind} {event.service or ''}: {text[:300]}",
                           service=service, ts=event.ts, weight=score)],
        attributes={"decisive": decisive, "rule": "changes.network_policy", "kind": "network_policy_block"},
    )


# a maintenance entry that changes how the component is set up: its nodes or hosts moved, replaced or re-provisioned
# elsewhere, an element inserted into it, capacity added to it. Routine work that leaves it as it was (a backup, a
# vacuum, a scrub, a reboot, a drain, a version upgrade done by its provider) names no such change and stays a note.
_MAINTENANCE_CHANGE = re.compile(
    r"\b(?:move[ds]?|moving)\b.{0,60}?\b(?:off|onto|to)\b|"
    r"\b(?:replace[ds]?|replacing)\b(?!.{0,40}\b(?:drive|disk|fan|psu|battery)s?\b)|"
    r"\bre-?provision(?:ed|ing)?\b|\binsert(?:ed|ing)?\b.{0,40}?\binto\b|"
    r"\badd(?:ed|ing)?\b.{0,30}?\bcapacity\b",
    re.IGNORECASE)


def normalise_kind(event: ChangeEvent) -> str:
    """The change's kind; an untyped change whose text names a flag or a setting is one, and a maintenance entry that
    changes the component's setup (``_MAINTENANCE_CHANGE``) is a configuration change. Kubernetes events stay
    "k8s" (context only: the kubernetes detector reads their reasons, so their words must not make a cause)."""
    kind = _KIND_ALIASES.get(event.kind.lower().strip(), event.kind.lower().strip() or "change")
    if kind == "maintenance" and _MAINTENANCE_CHANGE.search(event.text or ""):
        return "config"
    if kind == "change":
        if _FLAG_WORDS.search(event.text):
            return "feature_flag"
        if _CONFIG_WORDS.search(event.text):
            return "config"
    return kind


# change-log entries that record something without saying what changed
UNTYPED_ENTRIES = frozenset({"k8s", "note", "maintenance"})


def with_log_changes(events: list[ChangeEvent], logs: Mapping[str, Sequence[str]] | None,
                     *, known: Iterable[str] = ()) -> list[ChangeEvent]:
    """The change log's events plus the changes the logs state that it does not already hold (a change log entry
    of the same service within ``SAME_CHANGE`` is the same change, told better). An entry that records without
    typing a change (``UNTYPED_ENTRIES``: a note, a maintenance window, a Kubernetes event) holds none: the line
    that states what changed in it is kept."""
    if not logs:
        return list(events)
    from detectors.logs.changes import changes_in_logs

    def _aware(ts: datetime) -> datetime:
        return ts if ts.tzinfo else ts.replace(tzinfo=UTC)

    logged = [(e.service, _aware(e.ts)) for e in events if e.service and normalise_kind(e) not in UNTYPED_ENTRIES]
    out = list(events)
    for change in changes_in_logs(logs, known=known):
        ts = _aware(change.ts)
        if any(service == change.service and abs(ts - when) <= SAME_CHANGE for service, when in logged):
            continue
        out.append(change)
    return out


def detect_change_signals(
    events: list[ChangeEvent], *, alert_time: datetime | None, window: timedelta = WINDOW
) -> list[Signal]:
    """Changes in ``window`` before the alert (and a few minutes after, clocks drift) as signals."""
    signals: list[Signal] = []
    for i, event in enumerate(events):
        kind = normalise_kind(event)
        if alert_time is not None:
            lead = (alert_time - event.ts).total_seconds()
            if lead > window.total_seconds() or lead < -300:
                continue
            recency = math.exp(-max(lead, 0.0) / 1800.0)  # half weight ~20 minutes before
        else:
            recency = 0.5
        score = round(min(1.0, _KIND_PRIOR.get(kind, 0.3) * (0.35 + 0.65 * recency)), 4)
        when = event.ts.strftime("%H:%M UTC")
        title = f"{kind.replace('_', ' ')} of {event.service or 'unknown service'} at {when}: {event.text[:120]}"
        signals.append(
            Signal(
                source=SignalSource.CHANGES,
                detector="changes.recent",
                service=event.service,
                kind=kind,
                title=title,
                score=score,
                started_at=event.ts,
                evidence=[
                    Evidence(
                        id=f"change:{i}",
                        type=EvidenceType.CHANGE,
                        summary=f"{event.ts.isoformat()} {kind} {event.service or ''}: {event.text[:300]}",
                        service=event.service,
                        ts=event.ts,
                    )
                ],
                attributes={"kind": kind, "lead_seconds": None if alert_time is None else lead if alert_time else None},
            )
        )
    refusals: dict[str, Signal] = {}
    for event in events:
        refused = scale_refusal(event)
        if refused is not None and refused.service not in refusals:
            if alert_time is not None and not (-300 <= (alert_time - event.ts).total_seconds() <= window.total_seconds()):
                continue
            refusals[str(refused.service)] = refused
    signals.extend(refusals.values())
    policies: dict[str, Signal] = {}
    for event in events:
        if alert_time is not None and not (-300 <= (alert_time - event.ts).total_seconds() <= window.total_seconds()):
            continue
        made = policy_change(event, alert_time)
        if made is not None and (made.service not in policies or made.score > policies[str(made.service)].score):
            policies[str(made.service)] = made
    signals.extend(policies.values())
    return sorted(signals, key=lambda s: s.score, reverse=True)
