"""Hypothesis candidates (service, cause kind) and the features the learned scorer weighs.

Candidates come from: signals that name a cause kind, symptoms mapped to causes, metric names and log
text that hint at a kind, recent changes before the first anomaly, similar past incidents' confirmed
causes, runbook matches and the alert text. Features describe each candidate's support, including the
topology: blame flows from callers to their dependencies, and a service whose anomaly started first
while its own dependencies are healthy is the likely origin.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain import (
    ALL_KINDS,
    Category,
    Document,
    Evidence,
    EvidenceType,
    IncidentContext,
    MetricSeries,
    Signal,
    SimilarIncident,
    category_of,
    is_cause_kind,
)
from bot.domain.roles import roles_from_logs
from bot.reasoning import decisive as dec
from bot.reasoning import evidence as ev
from bot.reasoning.change_rules import kind_by_what_changed
from bot.reasoning.change_values import new_values, quoted_new_value
from bot.reasoning.keywords import SYMPTOM_CAUSES, change_kind, kind_of_metric, kinds_in_text
from detectors.changes import normalise_kind
from detectors.logs.machines import header_hosts, machines_from_logs

FEATURES: tuple[str, ...] = (
    "direct_score",
    "direct_count",
    "direct_logs",
    "direct_metrics",
    "text_match",
    "metric_hint",
    "symptom_score",
    "svc_anomaly",
    "svc_signal_share",
    "svc_earliest",
    "onset_order",
    "deps_healthy",
    "dep_earlier",
    "callers_anomalous",
    "alert_service",
    "alert_reach",
    "alert_text_match",
    "is_change_kind",
    "change_before_onset",
    "change_proximity",
    "change_on_service",
    "similar_exact",
    "similar_kind",
    "runbook_kind",
    "runbook_exact",
    "only_symptom",
    "direct_rel",
    "anomaly_rel",
    "no_anomaly",
    "dep_share",
    "kind_spread",
    "propagated_score",
    "name_affinity",
    "is_leaf",
    "origin_count",
    "kind_share",
    "event_match",
    "named_by_others",
    "named_kind_by_others",
    "front_reporters",
    "dep_reports_kind",
    "svc_kind_rel",
    "svc_kind_best",
    "decisive_score",
    "decisive_rel",
    "decisive_gap",
    "alert_confirms",
    "metric_origin",
    *(f"category:{c.value}" for c in Category if c is not Category.UNKNOWN),
)

CHANGE_CAUSES = ("bad_deploy", "config_change", "feature_flag")
ORIGIN_DETECTOR = "metric.origin"  # the metric ranking's verdict on which service started it
ANOMALY_SOURCES = ("logs", "metrics", "log", "metric")
CHANGE_WINDOW = timedelta(hours=2)
# onsets read by different detectors (a log line, a metric's change point placed to its sample) that differ by
# less than this are the same moment for dependency order
ONSET_GRACE = timedelta(minutes=2)
ANOMALOUS = 0.3  # a service whose best signal scores this much is failing (``_Scene.is_anomalous``)
MAX_EVIDENCE = 8
# the cluster's name servers (CoreDNS, kube-dns, node-local DNS): every workload depends on them
_RESOLVER = re.compile(r"dns")


@dataclass
class Change:
    service: str
    kind: str  # a cause kind: bad_deploy, config_change, feature_flag
    ts: datetime | None
    evidence: Evidence


# a workload's rollout seen in the cluster (new ReplicaSet scaled up) is how a change shipped; the change record of the
# same workload just before it says what changed (docs/causes.md: a change is named by what it changed)
ROLLOUT_DETECTOR = "k8s.rollout"
SHIPPED_WITHIN = timedelta(minutes=10)


def _without_shipping(changes: list[Change], rollouts: list[Change]) -> list[Change]:
    """``changes`` less each rollout that shipped a recorded change of its workload (made up to ``SHIPPED_WITHIN``
    before it, or a minute after: the two clocks differ)."""
    def shipped(rollout: Change) -> bool:
        return rollout.ts is not None and any(
            c.service == rollout.service and c is not rollout and c not in rollouts and c.ts is not None
            and -timedelta(minutes=1) <= rollout.ts - c.ts <= SHIPPED_WITHIN for c in changes)
    return [c for c in changes if not (c in rollouts and shipped(c))]


@dataclass
class Candidate:
    service: str
    kind: str
    origins: set[str] = field(default_factory=set)
    features: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, Evidence] = field(default_factory=dict)

    def add_evidence(self, items: Iterable[Evidence]) -> None:
        for item in items:
            if item.id not in self.evidence or self.evidence[item.id].weight < item.weight:
                self.evidence[item.id] = item

    def ranked_evidence(self) -> list[Evidence]:
        items = sorted(self.evidence.values(), key=lambda e: (-e.weight, e.id))
        return items[:MAX_EVIDENCE]


def _aware(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    if ts.tzinfo is None:
        from datetime import UTC

        return ts.replace(tzinfo=UTC)
    return ts


def _texty(signal: Signal) -> bool:
    """Signals whose free text may name a cause: log templates and change notes. Kubernetes events are read by
    their reasons (detectors/kubernetes), not by words: an image pull's "no such host" is not a DNS failure."""
    source = (signal.source or "").lower()
    if source == "changes" and str(signal.kind or signal.attributes.get("kind", "")).lower() in {"k8s", "k8s_event"}:
        return False
    return source.startswith("log") or source == "changes"


def _text_of(signal: Signal) -> str:
    parts = [signal.title or ""]
    for key in ("template", "message", "example", "examples", "text"):
        value = signal.attributes.get(key) if signal.attributes else None
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(str(v) for v in value[:5])
    return " ".join(parts)


def _transitive(graph: dict[str, list[str]], start: str) -> dict[str, int]:
    """Services reachable from ``start`` following ``graph`` edges, with their hop count."""
    hops = {start: 0}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for dep in graph.get(node, []):
                if dep not in hops:
                    hops[dep] = hops[node] + 1
                    nxt.append(dep)
        frontier = nxt
    return hops


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


_CHANGE_PREFIX = re.compile(r"^\s*(?:\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?\s+)?[^:]*?:\s*")


def _change_text(summary: str) -> str:
    """What a change's summary says was changed, without its time and "kind service:" prefix."""
    return _CHANGE_PREFIX.sub("", summary, count=1)


def _words_of_name(name: str | None) -> str:
    """An alert rule's CamelCase name in words (``HostOutOfDiskSpace`` -> ``Host Out Of Disk Space``), so that
    the community rule names say what they are about."""
    return _CAMEL.sub(" ", name or "")


_TYPED_BY_TEXT = frozenset({"", "change", "maintenance"})


class _Scene:
    """What the candidates share: anomalies per service, onsets, changes, topology, alert."""

    def __init__(self, context: IncidentContext, signals: list[Signal]) -> None:
        incident = context.incident
        self.alert_service = incident.service or next((a.service for a in incident.alerts if a.service), None)
        self.alert_time = _aware(context.alert_time)
        self.alert_text = " ".join(
            [incident.title]
            + [f"{a.name} {_words_of_name(a.name)} {a.summary} {a.description} {' '.join(a.labels.values())}"
               for a in incident.alerts]
        )
        self.topology = {k: list(v) for k, v in (context.topology or {}).items()}
        # the components the incident knows by name (a host named only in a log line is none of them)
        self.known = set(context.services) | set(self.topology) | {d for v in self.topology.values() for d in v} \
            | {a.service for a in incident.alerts if a.service}
        self.roles: dec.Roles = {}  # what services are by their own lines (set by build_candidates)
        self.callers: dict[str, list[str]] = defaultdict(list)
        for svc, deps in self.topology.items():
            for dep in deps:
                self.callers[dep].append(svc)
        # A topology rarely lists the cluster DNS, yet every workload (a service with dependencies of its
        # own) resolves names through it: for name-resolution failures it is everyone's dependency.
        names = set(context.services) | set(self.topology)
        self.resolvers = sorted(n for n in names if _RESOLVER.search(n.lower()))
        self.dns_topology = {
            svc: deps + [r for r in self.resolvers if r != svc and r not in deps] if deps else list(deps)
            for svc, deps in self.topology.items()
        }
        self.dns_callers: dict[str, list[str]] = defaultdict(list)
        for svc, deps in self.dns_topology.items():
            for dep in deps:
                self.dns_callers[dep].append(svc)

        self.anomalies: dict[str, list[Signal]] = defaultdict(list)
        # the metric ranking's clear origin (detectors/metrics/signals.py ``metric.origin``), by service
        self.metric_origin: dict[str, float] = {}
        for signal in signals:
            if signal.detector == ORIGIN_DETECTOR and signal.service:
                self.metric_origin[signal.service] = max(self.metric_origin.get(signal.service, 0.0), float(signal.score))
        self.alert_signals: list[Signal] = []
        self.changes: list[Change] = []
        rollouts: list[Change] = []
        for signal in signals:
            source = (signal.source or "").lower()
            service = signal.service or self.alert_service
            if source == "changes":
                ckind = change_kind(signal.kind) or change_kind(str(signal.attributes.get("kind", "")))
                if ckind and service:
                    evs = ev.from_signal(signal)
                    ckind = kind_by_what_changed(ckind, _change_text(evs[0].summary or ""),
                                                 context.logs.get(service, []), service)
                    if ckind:
                        self.changes.append(Change(service, ckind, _aware(signal.started_at), evs[0]))
                        if signal.detector == ROLLOUT_DETECTOR:
                            rollouts.append(self.changes[-1])
                elif service:
                    # Kubernetes events, scaling, restarts: symptoms whose text may name a cause
                    self.anomalies[service].append(signal)
            elif source == "alert":
                self.alert_signals.append(signal)
            elif service:
                self.anomalies[service].append(signal)
        self.changes = _without_shipping(self.changes, rollouts)
        self._add_events(context)

        self.onset: dict[str, datetime] = {}
        self.anomaly_score: dict[str, float] = {}
        for svc, sigs in self.anomalies.items():
            self.anomaly_score[svc] = max((s.score for s in sigs), default=0.0)
            times = [t for t in (_aware(s.started_at) for s in sigs) if t is not None]
            if times:
                self.onset[svc] = min(times)
        order = sorted(self.onset.items(), key=lambda kv: kv[1])
        self.onset_rank = {svc: i for i, (svc, _) in enumerate(order)}
        # when anything began to fail: a faint entry of the change log (a routine scale event, a restart of a healthy
        # service) is not the start of the incident, so it cannot put the changes that explain it before it
        starts = [t for sigs in self.anomalies.values() for s in sigs
                  if not ((s.source or "").lower() == "changes" and float(s.score) < ANOMALOUS)
                  and (t := _aware(s.started_at)) is not None]
        self.first_onset = min(starts) if starts else self.alert_time
        self.total_signals = sum(len(s) for s in self.anomalies.values()) or 1
        # cause kind -> services whose own signals (kind or log text) name it, with the best score
        self.kind_services: dict[str, dict[str, float]] = defaultdict(dict)
        for svc, sigs in self.anomalies.items():
            for sig in sigs:
                named = set(kinds_in_text(_text_of(sig))) if _texty(sig) else set()
                if is_cause_kind(sig.kind):
                    named.add(str(sig.kind))
                for kind in sorted(named - set(CHANGE_CAUSES)):
                    best = self.kind_services[kind].get(svc, 0.0)
                    self.kind_services[kind][svc] = max(best, float(sig.score))
        self._reach: dict[tuple[str, bool], dict[str, int]] = {}
        self.decisive: dict[tuple[str, str], float] = {}
        self.fits: dict[tuple[str, str], Evidence] = {}  # changes that fit the evidence (``_deploy_fit``)
        # failures a caller's change pointed it at (``_change_quoted_by_failure``): no origin in dependency order
        self.pointed_at: set[tuple[str, str]] = set()
        # components whose change made their own traffic rise (``_change_makes_load``): what they call is loaded by it
        self.load_makers: set[str] = set()
        self._find_mentions(context)

    def _find_mentions(self, context: IncidentContext) -> None:
        """Which services other services' error text names ("call to X failed"), and with which kinds."""
        names = set(context.services) | set(self.topology) | set(self.callers) | set(self.anomalies)
        patterns = {n: re.compile(r"(?<![\w.-])" + re.escape(n.lower()) + r"(?![\w-])") for n in names if len(n) >= 3}
        # named service -> reporter -> best score; (named service, kind) -> best score
        self.mentions: dict[str, dict[str, float]] = defaultdict(dict)
        self.mention_kinds: dict[tuple[str, str], float] = {}
        for reporter, sigs in self.anomalies.items():
            for sig in sigs:
                if not _texty(sig) or sig.score < 0.3:
                    continue
                text = _text_of(sig).lower()
                named = [n for n, pat in patterns.items() if n != reporter and pat.search(text)]
                if not named:
                    continue
                kinds = set(kinds_in_text(text)) - set(CHANGE_CAUSES)
                if is_cause_kind(sig.kind) and sig.kind not in CHANGE_CAUSES:
                    kinds.add(str(sig.kind))
                for n in named:
                    self.mentions[n][reporter] = max(self.mentions[n].get(reporter, 0.0), float(sig.score))
                    # a name that failed to resolve blames the resolver, not the service named
                    for kind in kinds if n in self.resolvers else kinds - {"dns_failure"}:
                        key = (n, kind)
                        self.mention_kinds[key] = max(self.mention_kinds.get(key, 0.0), float(sig.score))

    def graph(self, kind: str) -> dict[str, list[str]]:
        """Service -> dependencies, with the cluster DNS added for name-resolution failures."""
        return self.dns_topology if kind == "dns_failure" else self.topology

    def caller_graph(self, kind: str) -> dict[str, list[str]]:
        return dict(self.dns_callers if kind == "dns_failure" else self.callers)

    def reach(self, service: str, kind: str = "") -> dict[str, int]:
        key = (service, kind == "dns_failure")
        if key not in self._reach:
            self._reach[key] = _transitive(self.graph(kind), service)
        return self._reach[key]

    def _add_events(self, context: IncidentContext) -> None:
        seen = {(c.service, c.kind, c.ts.replace(second=0, microsecond=0) if c.ts else None) for c in self.changes}
        for i, event in enumerate(context.events):
            # an untyped change or a maintenance entry is typed by its text (``detectors.changes.normalise_kind``)
            untyped = (event.kind or "").lower().strip() in _TYPED_BY_TEXT
            ckind = change_kind(normalise_kind(event) if untyped else event.kind)
            if not ckind or not event.service:
                continue
            ckind = kind_by_what_changed(ckind, event.text or "", context.logs.get(event.service, []), event.service)
            if not ckind:
                continue
            ts = _aware(event.ts)
            key = (event.service, ckind, ts.replace(second=0, microsecond=0) if ts else None)
            if key in seen:
                continue
            seen.add(key)
            item = Evidence(
                id=f"change:{i}",
                type=EvidenceType.CHANGE,
                summary=f"{event.kind} on {event.service}: {event.text}".strip(": "),
                service=event.service,
                ts=ts,
                weight=0.5,
            )
            self.changes.append(Change(event.service, ckind, ts, item))

    def is_anomalous(self, service: str) -> bool:
        return self.anomaly_score.get(service, 0.0) >= ANOMALOUS

    def change_lead(self, change: Change) -> float | None:
        """Minutes from the change to the first anomaly of its service (or of anything): >0 = before."""
        if change.ts is None:
            return None
        ref = self.onset.get(change.service) or self.first_onset
        if ref is None:
            return None
        return (ref - change.ts).total_seconds() / 60.0


# a change is a decisive suspect when errors of a new kind start on its own service within this window after it
DEPLOY_FIT_WINDOW = timedelta(minutes=30)
DEPLOY_FIT_SCORE = 0.72
_FRESH_ERROR_DETECTORS = ("log.new_template", "log.error_share")
_GENERIC_ERROR_KINDS = frozenset({"error_rate_increase", "exception_surge", "crash_loop", "log_anomaly", None})


def _deploy_fit(scene: _Scene) -> None:
    """A deploy, config change or flag whose own service starts failing right after it (a new error template or
    a jump in its error share, with no more specific cause named) fits the evidence: a decisive suspect. A change
    of another service, or one followed by nothing on its own service, stays a plain change."""
    for change in scene.changes:
        if change.ts is None or change.kind not in CHANGE_CAUSES:
            continue
        fresh = [
            s for s in scene.anomalies.get(change.service, [])
            if s.detector in _FRESH_ERROR_DETECTORS and s.kind in _GENERIC_ERROR_KINDS and s.score >= 0.8
            and s.started_at is not None
            and timedelta(0) <= _aware(s.started_at) - change.ts <= DEPLOY_FIT_WINDOW  # type: ignore[operator]
        ]
        if fresh and not _dependency_failed_first(scene, change.service, _first_start(fresh)) \
                and not _dependency_failing_before(scene, change.service, change.ts):
            key = (change.service, change.kind)
            if not _specific_cause_on(scene, change.service):
                scene.decisive[key] = max(scene.decisive.get(key, 0.0), DEPLOY_FIT_SCORE)
            first = min(fresh, key=lambda s: s.started_at or change.ts)  # type: ignore[arg-type,return-value]
            scene.fits[key] = _fit_evidence(change, DEPLOY_FIT_SCORE, f"then on {change.service}: {first.title[:160]}")


# a component's own function failing with no mechanism named: a daemon that will not come back, errors, or the very
# thing the component serves (names on a DNS server). Right after a change of that component, the change explains it.
_OWN_FAILURE_KINDS = frozenset({"crash_loop", "exception_surge", "error_rate_increase"})
# a component's own queue or backlog growing says that it falls behind, not why (docs/causes.md: a queue grows when
# what works it is slow): right after its change, with errors of its own, the change is why, not a mechanism
_FALLING_BEHIND_KINDS = frozenset({"queue_backlog"})
_IDENTITY_FAILURES = frozenset({"dns_failure"})
# what callers say of a component they can no longer reach (moved to it by ``dec.retarget``): that it stopped doing
# its job, not how; right after a change of that component, with no mechanism of its own named, the change is how
_UNREACHABLE_KINDS = frozenset({"network_partition"})
# a balancer's health checks marking its servers DOWN (no live upstream): that it stopped answering, not how; a caller's
# own failed call to it (a webhook that times out) stays that dependency's failure, change or not
_HEALTH_CHECK_RULES = frozenset({"haproxy.server_down", "nginx.no_live_upstreams", "envoy.no_healthy_upstream"})
# callers told that the component's name does not exist (its Service removed: ``NXDOMAIN``, ``ENOTFOUND``, moved to
# it by ``dec.retarget``) say that it is gone, not why: right after its change, the change removed it
_GONE_RULES = _HEALTH_CHECK_RULES | dec.NO_SUCH_NAME_RULES
EXPLAINED_BY_CHANGE = 0.7


# a change that sets a pod priority (a PriorityClass, ``priorityClassName``) is what makes the scheduler preempt
# lower-priority pods: the preemptions and the preempted pods' failed rescheduling that follow are the change's
_PRIORITY_CHANGE = re.compile(r"priority ?class|priorityclassname|pod priority|preemptionpolicy", re.IGNORECASE)
_PREEMPTION_RULES = frozenset({"schedule.preempted", "schedule.insufficient"})


# a certificate refused for something other than its dates (an unknown issuer, a name it does not hold, a rejected
# certificate): what a change of the certificate, its secret or its trust can do. An expired one is the calendar's.
_CHANGEABLE_TLS_RULES = frozenset({"tls.untrusted", "tls.name_mismatch", "tls.remote_rejected"})
# of those, the refusals a client prints of the certificate it was presented (not a server's of its own)
_CLIENT_TLS_RULES = frozenset({"tls.untrusted", "tls.name_mismatch"})


def _changed_certificate(signal: Signal) -> bool:
    return signal.kind == "certificate_expired" and signal.attributes.get("rule") in _CHANGEABLE_TLS_RULES


def _preemption_by_priority_change(scene: _Scene, change: Change) -> list[Signal]:
    """The decisive preemption findings (and the preempted pods' ``FailedScheduling``) on the changed component
    within ``DEPLOY_FIT_WINDOW`` after a change whose text sets a pod priority, when a preemption is among them."""
    if change.ts is None or not _PRIORITY_CHANGE.search(change.evidence.summary or ""):
        return []
    found = [
        s for s in scene.anomalies.get(change.service, [])
        if dec.is_decisive(s) and s.attributes.get("rule") in _PREEMPTION_RULES and s.started_at is not None
        and timedelta(0) <= _aware(s.started_at) - change.ts <= DEPLOY_FIT_WINDOW  # type: ignore[operator]
    ]
    return found if any(s.attributes.get("rule") == "schedule.preempted" for s in found) else []


def self_throttling(signals: list[Signal]) -> bool:
    """Whether a component's signals show it refusing requests for rate by a limit of its own: its rate-limit
    evidence (its 429 count, its rejections) names no provider that throttles it and no caller reported it, while
    the requests it receives did not rise (no ``traffic_spike``). Such throttling is the component's own rules at
    work, not a provider's reply (docs/causes.md)."""
    limited = [s for s in signals if s.kind == "rate_limited" and float(s.score) >= 0.5]
    named = any(s.attributes.get("culprit") or s.attributes.get("reporter") for s in limited)
    rise = any(s.kind == "traffic_spike" and float(s.score) >= 0.5 for s in signals)
    return bool(limited) and not named and not rise


def _change_explains(scene: _Scene) -> None:
    """A config change, flag or deploy of a component followed (within ``DEPLOY_FIT_WINDOW``) by that component's
    own decisive failure of a generic kind (``_OWN_FAILURE_KINDS``, or its identity failure as its callers report
    it: names a DNS server no longer answers; its own log naming how, such as a forwarding loop, keeps the answer)
    is the cause (docs/causes.md: a configuration push that breaks a service is ``config_change``): the
    change takes the finding's support and the finding keeps less of it. The failures of the fleet's members its own
    log names count as its own (``_member_failures``). A specific mechanism the component's own metrics or log show
    (``_specific_cause_on``, ``_own_mechanism_on``) keeps the answer, and so does a failure of a dependency that began
    no later than the effects (``_dependency_failed_first``)."""
    for change in scene.changes:
        if change.ts is None or change.kind not in CHANGE_CAUSES:
            continue
        if change.kind == "bad_deploy" and _own_spec_named(scene, change.service):
            continue
        preempted = _preemption_by_priority_change(scene, change)
        # a limit the component applies itself (``self_throttling``) names no mechanism beyond its own rules: right
        # after its change, the change is how it began refusing
        throttle = self_throttling(scene.anomalies.get(change.service, []))
        if not preempted and (_specific_cause_on(scene, change.service, skip_throttle=throttle)
                              or _own_mechanism_on(scene, change.service, skip_throttle=throttle)):
            continue
        own = preempted or [
            s for s in scene.anomalies.get(change.service, [])
            if s.started_at is not None
            and ((throttle and s.kind == "rate_limited" and float(s.score) >= 0.5) or dec.is_decisive(s) and (
                 s.kind in _OWN_FAILURE_KINDS or _changed_certificate(s)
                 or (s.kind in _IDENTITY_FAILURES and s.attributes.get("reporter")
                     and dec.name_affinity(change.service, str(s.kind), scene.roles) == 1.0)
                 or ((s.kind in _UNREACHABLE_KINDS or s.attributes.get("rule") in _GONE_RULES)
                     and s.attributes.get("reporter")
                     and not _own_mechanism_on(scene, change.service))))
            and (timedelta(0) <= _aware(s.started_at) - change.ts <= DEPLOY_FIT_WINDOW  # type: ignore[operator]
                 or (throttle and s.kind == "rate_limited" and _first_seen_within(s, change.ts, DEPLOY_FIT_WINDOW))
                 # a crash that kept recurring until the alert, its first line within the window after the change
                 or (s.kind == "crash_loop" and _first_seen_within(s, change.ts, DEPLOY_FIT_WINDOW)))
        ]
        if not preempted:
            own = own + _member_failures(scene, change)
        if not own or (not preempted and _dependency_failed_first(scene, change.service, _first_start(own))):
            continue
        best = max(own, key=lambda s: float(s.score))
        _credit_change(scene, change, own, f"then on {change.service}: {best.title[:160]}", on=change.service)


# a decisive finding of the component's own spec (its Kubernetes objects show which setting: a rollout strategy that
# took its pods, an admission refusal, a RuntimeClass): it names what of a release broke it, so the release's code
# (``bad_deploy``) is not credited with the failures that followed
_OWN_SPEC_MIN = 0.75


def _own_spec_named(scene: _Scene, service: str) -> bool:
    return any(dec.is_decisive(s) and s.kind == "config_change" and not s.attributes.get("reporter")
               and (s.source or "") == "kubernetes" and float(s.score) >= _OWN_SPEC_MIN
               for s in scene.anomalies.get(service, []))


def _first_seen_within(signal: Signal, start: datetime, window: timedelta) -> bool:
    """Whether the signal's template first appeared in its log (``first_seen``: the surge of a refusal that grew
    over an hour is dated by its window, later than its first line) between ``start`` and ``start + window``."""
    seen = _first_seen(signal)
    return seen is not None and timedelta(0) <= seen - start <= window


def _first_seen(signal: Signal) -> datetime | None:
    """The first line of a log template's signal in its whole log (``attributes["first_seen"]``), else None."""
    raw = signal.attributes.get("first_seen") if signal.attributes else None
    if not isinstance(raw, str):
        return None
    try:
        return _aware(datetime.fromisoformat(raw))
    except ValueError:
        return None


def _member_failures(scene: _Scene, change: Change) -> list[Signal]:
    """Decisive failures, within ``DEPLOY_FIT_WINDOW`` after ``change``, of hosts the changed component's own log
    names that the incident knows by no other name (its fleet's members: ``bs-node-14`` in ``block-storage``'s log):
    a fleet's change reaches its members, so their crashes, errors and lost links right after it are its own."""
    out: list[Signal] = []
    for service, sigs in scene.anomalies.items():
        if service == change.service or service in scene.known:
            continue
        out.extend(
            s for s in sigs
            if dec.is_decisive(s) and s.attributes.get("reporter") == change.service and s.started_at is not None
            and s.kind in (_OWN_FAILURE_KINDS | _UNREACHABLE_KINDS)
            and timedelta(0) <= _aware(s.started_at) - change.ts <= DEPLOY_FIT_WINDOW  # type: ignore[operator]
        )
    return out


def _credit_change(scene: _Scene, change: Change, effects: list[Signal], then: str, *, on: str | None = None) -> None:
    """The change takes its effects' best support; each effect (on ``on``, else on its signal's service) keeps less
    of its own (``EXPLAINED_BY_CHANGE``)."""
    best = max(effects, key=lambda s: float(s.score))
    key = (change.service, change.kind)
    scene.decisive[key] = max(scene.decisive.get(key, 0.0), float(best.score))
    for s in effects:
        effect = (on if on and s.service in (None, on) else str(s.service), str(s.kind))
        if effect in scene.decisive:
            scene.decisive[effect] = round(min(scene.decisive[effect], float(s.score) * EXPLAINED_BY_CHANGE), 4)
    scene.fits[key] = _fit_evidence(change, float(best.score), then)


def _fit_evidence(change: Change, weight: float, then: str) -> Evidence:
    """The evidence that ``change`` explains what followed it (``then``: what happened next, and where)."""
    return Evidence(id=f"fit:{change.service}:{change.kind}", type=EvidenceType.CHANGE, service=change.service,
                    ts=change.ts, weight=weight, summary=f"{change.evidence.summary} -- {then}")


def _recent_mechanism_on(scene: _Scene, service: str, since: datetime) -> bool:
    """Whether the service's own evidence names how it fails (as ``_own_mechanism_on``: a decisive finding of its
    own, a cause its metrics name) with a signal begun at ``since`` or later (or undated): a condition it had long
    before a change, without the failures that followed the change, did not make them."""
    return any(is_cause_kind(s.kind) and s.kind not in CHANGE_CAUSES and s.kind not in _OWN_FAILURE_KINDS
               and s.kind not in _UNREACHABLE_KINDS and s.detector != ORIGIN_DETECTOR and float(s.score) >= 0.5
               and not s.attributes.get("reporter")
               and (dec.is_decisive(s) or (s.source or "").startswith("metric"))
               and (s.started_at is None or _aware(s.started_at) >= since)  # type: ignore[operator]
               for s in scene.anomalies.get(service, []))


def _change_fails_dependencies(scene: _Scene) -> None:
    """A change of a component whose own evidence shifts right after it (``_shifted_after``: a new log template, a
    metric change point), followed within ``DEPLOY_FIT_WINDOW`` by the incident's first failures on the components
    it calls (up to ``CALLER_HOPS``, by the topology): fresh errors that name no mechanism of their own
    (``_caller_failures``, no decisive finding of their own), begun after that shift, with nothing failing anywhere
    before the change and no change of those components in the window. What the changed component now sends them
    (a cached page served for another account, requests they refuse) is the change's doing: a decisive suspect
    (``DEPLOY_FIT_SCORE``)."""
    onsets = {svc: failure_onset(scene, svc) for svc in scene.anomalies if scene.is_anomalous(svc)}
    for change in scene.changes:
        if change.ts is None or change.kind not in CHANGE_CAUSES:
            continue
        key = (change.service, change.kind)
        if key in scene.fits or _recent_mechanism_on(scene, change.service, change.ts - DEPLOY_FIT_WINDOW):
            continue
        end = change.ts + DEPLOY_FIT_WINDOW
        failed = {svc: t for svc, t in onsets.items() if t is not None and svc != change.service}
        if not failed or any(t < change.ts for t in failed.values()):
            continue
        below = {d for d, hops in scene.reach(change.service).items() if 0 < hops <= CALLER_HOPS}
        first = min(failed.values())
        hit = {d: failed[d] for d in sorted(below) if d in failed and failed[d] <= end}
        if not hit or not any(began <= first + ONSET_GRACE for began in hit.values()):
            continue
        if any(_own_mechanism_on(scene, d) or _own_finding_on(scene, d) or _names_own_dependency(scene, d, change.service)
               or any(o.service == d and o.ts is not None and change.ts - DEPLOY_FIT_WINDOW <= o.ts <= end
                      for o in scene.changes) for d in hit):
            continue
        effects = [s for d in hit for s in _caller_failures(scene, d, change.ts, end) if not dec.is_decisive(s)]
        if not effects:
            continue
        shifts = [_aware(s.started_at) for s in scene.anomalies.get(change.service, [])
                  if s.started_at is not None and float(s.score) >= SHIFT_MIN and not dec.is_decisive(s)
                  and (s.source or "").lower().startswith(("log", "metric"))
                  and change.ts <= _aware(s.started_at) <= end]  # type: ignore[operator]
        start = _first_start(effects)
        if not shifts or start is None or min(t for t in shifts if t is not None) > start:
            continue  # the changed component must shift first: else it may be reacting to them
        best = max(effects, key=lambda s: float(s.score))
        scene.decisive[key] = max(scene.decisive.get(key, 0.0), DEPLOY_FIT_SCORE)
        scene.fits[key] = _fit_evidence(change, DEPLOY_FIT_SCORE,
                                        f"then on {best.service}, which it calls: {best.title[:160]}")


# a rise in the requests a component receives that begins this soon after its own change, with nothing failing and
# none of its callers sending more before it, is the change's doing (a handler that loops its own work, a client
# that retries without pause): an engineer's first suspect is the change, not the dependency it floods
RELEASE_LOAD_WINDOW = timedelta(minutes=10)
RELEASE_LOAD_MIN = 0.4


def _names_own_dependency(scene: _Scene, service: str, changed: str) -> bool:
    """Whether the failing ``service``'s own error text names a component it calls itself (up to two hops, not
    ``changed``): an SMS sender whose failures say ``provider=nexmo ... connect timed out``, a mailer relaying its
    provider's ``deferred`` events. Its failures then report that dependency's failure (docs/causes.md: the component
    that answered), not what the changed component above it now sends it."""
    below = {d for d, hops in scene.reach(service).items() if 0 < hops <= 2 and d not in (service, changed)}
    return any(service in scene.mentions.get(d, {}) for d in below)


def _change_makes_load(scene: _Scene) -> None:
    """A change of a component followed within ``RELEASE_LOAD_WINDOW`` by a rise of that component's own traffic
    (``traffic_spike`` of ``RELEASE_LOAD_MIN`` or more), when the component showed nothing before the change, none
    of its callers' traffic rose before its own (within ``ONSET_GRACE``: then the load came from them), and nothing
    failed anywhere before the change: the change made the load, and the backlog and timeouts that follow on what it
    calls and on its callers are its effects. The change becomes a decisive suspect (``DEPLOY_FIT_SCORE``)."""
    onsets = {svc: failure_onset(scene, svc) for svc in scene.anomalies if scene.is_anomalous(svc)}
    for change in scene.changes:
        if change.ts is None or change.kind not in CHANGE_CAUSES:
            continue
        if any(t is not None and t < change.ts for t in onsets.values()):
            continue  # the incident began before the change
        own = scene.anomalies.get(change.service, [])
        # a log template that fell carries the time its comparison window began, not when it fell: no onset
        if any(s.started_at is not None and float(s.score) >= 0.3 and _aware(s.started_at) < change.ts  # type: ignore[operator]
               and s.detector != "log.rate_drop" for s in own):
            continue
        rises = [s for s in own if s.kind == "traffic_spike" and float(s.score) >= RELEASE_LOAD_MIN
                 and s.started_at is not None
                 and change.ts <= _aware(s.started_at) <= change.ts + RELEASE_LOAD_WINDOW]  # type: ignore[operator]
        if not rises:
            continue
        rise = min(rises, key=lambda s: _aware(s.started_at))  # type: ignore[arg-type,return-value]
        began = _aware(rise.started_at)
        assert began is not None
        if any(s.kind == "traffic_spike" and float(s.score) >= RELEASE_LOAD_MIN and s.started_at is not None
               and _aware(s.started_at) <= began + ONSET_GRACE  # type: ignore[operator]
               for c in scene.callers.get(change.service, []) for s in scene.anomalies.get(c, [])):
            continue
        key = (change.service, change.kind)
        scene.load_makers.add(change.service)
        scene.decisive[key] = max(scene.decisive.get(key, 0.0), DEPLOY_FIT_SCORE)
        scene.fits[key] = _fit_evidence(change, DEPLOY_FIT_SCORE, f"then its own traffic rose: {rise.title[:160]}")


# a resource of a component the changed one calls that starts a steady climb this soon after the change (memory the
# subscriptions or buffers of the new release hold there, connections it keeps open): the release fills it
FILL_WINDOW = timedelta(minutes=5)
FILL_KINDS = frozenset({"memory_leak", "db_connection_exhaustion"})
FILL_MIN = 0.5


def _change_fills_dependency(scene: _Scene) -> None:
    """A change of a component followed within ``FILL_WINDOW`` by the start of a steady climb (a ``ramp``) of the
    memory or connections of a component it calls directly (``FILL_KINDS`` read from metrics, ``FILL_MIN`` or more),
    when nothing failed anywhere before the change and that dependency had no change of its own in the window: what
    the release now holds there fills it (docs/causes.md: a dependency's load is no alibi for a change), and the
    dependency's exhaustion, the backlog and the errors that follow are its effects. The change becomes a decisive
    suspect (``DEPLOY_FIT_SCORE``), and a load maker for dependency order."""
    onsets = {svc: failure_onset(scene, svc) for svc in scene.anomalies if scene.is_anomalous(svc)}
    for change in scene.changes:
        if change.ts is None or change.kind not in CHANGE_CAUSES:
            continue
        key = (change.service, change.kind)
        if key in scene.fits or any(t is not None and t < change.ts for t in onsets.values()):
            continue
        direct = [d for d, hops in scene.reach(change.service).items() if hops == 1]
        for dep in direct:
            if any(c.service == dep and c.ts is not None and abs(c.ts - change.ts) <= DEPLOY_FIT_WINDOW
                   for c in scene.changes):
                continue
            fills = [s for s in scene.anomalies.get(dep, [])
                     if str(s.kind) in FILL_KINDS and (s.source or "").lower().startswith("metric")
                     and s.attributes.get("shape") == "ramp" and float(s.score) >= FILL_MIN
                     and s.started_at is not None
                     and change.ts <= _aware(s.started_at) <= change.ts + FILL_WINDOW]  # type: ignore[operator]
            if not fills:
                continue
            fill = max(fills, key=lambda s: float(s.score))
            scene.load_makers.add(change.service)
            scene.decisive[key] = max(scene.decisive.get(key, 0.0), DEPLOY_FIT_SCORE)
            scene.fits[key] = _fit_evidence(change, DEPLOY_FIT_SCORE,
                                            f"then {dep}, which it calls, began to fill: {fill.title[:160]}")
            break


# what a program reports when a setting points it at something that is not there or does not answer it (a wrong
# port, a misspelt host, a credential or an address of another cluster): the failing call, the lookup, the refusal,
# and the crash or errors that follow; not its load, its memory or its disk (a lowered limit stays that limit's kind)
_WRONG_VALUE_KINDS = frozenset({
    "dependency_failure", "dns_failure", "db_down", "network_partition", "network_latency", "network_policy_block",
    "certificate_expired", "auth_failure_surge", "crash_loop", "exception_surge", "error_rate_increase",
})


def _line_of(signal: Signal) -> str:
    line = signal.attributes.get("line") if signal.attributes else None
    return " ".join([_text_of(signal), line if isinstance(line, str) else ""])


def _change_quoted_by_failure(scene: _Scene) -> None:
    """A change whose text states a value it set (``DB_PORT 5432 -> 5433``, ``DB_HOST a -> b``:
    ``bot/reasoning/change_values.py``), and a decisive failure of its own component, or one its component reports
    of a dependency, whose line quotes that new value (a refused ``:5433``, an unknown ``b``): the line was printed
    by the program running with the change, and what failed is what the change pointed it at. The change takes the
    failure's support and the failure keeps less (``_credit_change``). Only for failures a wrong setting makes
    (``_WRONG_VALUE_KINDS``), not when the blamed dependency shows a failure of its own, and only for lines printed
    after the change and within ``CHANGE_WINDOW`` (a line without a time: a change within ``CHANGE_WINDOW`` before
    the alert)."""
    for change in scene.changes:
        if change.ts is None or change.kind not in CHANGE_CAUSES:
            continue
        if scene.alert_time is not None and not change.ts <= scene.alert_time + ONSET_GRACE:
            continue
        values = new_values(_change_text(change.evidence.summary or ""))
        if not values:
            continue  # the change states no value a line could quote
        effects: list[Signal] = []
        for service, sigs in scene.anomalies.items():
            for s in sigs:
                if not dec.is_decisive(s) or str(s.kind) not in _WRONG_VALUE_KINDS:
                    continue
                reporter = s.attributes.get("reporter")
                if not (reporter == change.service or (service == change.service and not reporter)):
                    continue
                if service != change.service and _own_finding_on(scene, service):
                    continue  # the dependency fails by its own evidence: the change may only have found it so
                when = _aware(s.started_at)
                if when is not None and not change.ts - ONSET_GRACE <= when <= change.ts + CHANGE_WINDOW:
                    continue
                if when is None and scene.alert_time is not None and scene.alert_time - change.ts > CHANGE_WINDOW:
                    continue
                if quoted_new_value(values, _line_of(s)):
                    effects.append(s)
        if not effects:
            continue
        best = max(effects, key=lambda s: float(s.score))
        value = quoted_new_value(values, _line_of(best))
        scene.pointed_at.update((str(s.service), str(s.kind)) for s in effects if s.service != change.service)
        _credit_change(scene, change, effects, f"then {best.service} failed on the value it set ({value}): {best.title[:160]}")


# a change of a component's own resolver settings: how its pods find the cluster DNS (``dnsPolicy``, ``dnsConfig``,
# ``hostNetwork`` whose pods take the node's resolver unless ``ClusterFirstWithHostNet``), its ``resolv.conf``
_RESOLVER_CHANGE = re.compile(r"\bdns ?policy\b|\bdns ?config\b|\bndots\b|\bhost ?network\b|resolv\.conf|"
                              r"\bname ?servers?\b|\bsearch (?:domains?|list|path)\b|ClusterFirst", re.IGNORECASE)


def _resolver_change_fails_lookups(scene: _Scene) -> None:
    """A change of a component's own resolver settings (``_RESOLVER_CHANGE``) followed by that component's failed
    lookups (decisive ``dns_failure`` it reports of the names it asks for, or of its own): the names did not go
    away, the component stopped asking the resolver that knows them (docs/causes.md: a pod whose own DNS settings
    do not use the cluster DNS after a change). The change takes the failures' support, as for a value it set, for
    lines printed after the change and within ``CHANGE_WINDOW``; not when the looked-up name's component or the
    DNS shows a failure of its own."""
    for change in scene.changes:
        if change.ts is None or change.kind not in CHANGE_CAUSES:
            continue
        if not _RESOLVER_CHANGE.search(_change_text(change.evidence.summary or "")):
            continue
        if scene.alert_time is not None and not change.ts <= scene.alert_time + ONSET_GRACE:
            continue
        effects: list[Signal] = []
        for service, sigs in scene.anomalies.items():
            for s in sigs:
                if not dec.is_decisive(s) or str(s.kind) != "dns_failure":
                    continue
                reporter = s.attributes.get("reporter")
                if not (reporter == change.service or (service == change.service and not reporter)):
                    continue
                if service != change.service and _own_finding_on(scene, service):
                    continue
                when = _aware(s.started_at)
                if when is not None and not change.ts - ONSET_GRACE <= when <= change.ts + CHANGE_WINDOW:
                    continue
                if when is None and scene.alert_time is not None and scene.alert_time - change.ts > CHANGE_WINDOW:
                    continue
                effects.append(s)
        if not effects:
            continue
        best = max(effects, key=lambda s: float(s.score))
        scene.pointed_at.update((str(s.service), str(s.kind)) for s in effects if s.service != change.service)
        _credit_change(scene, change, effects,
                       f"then {change.service}'s lookups failed after its resolver settings changed: {best.title[:160]}")


# a change of how traffic reaches a component rather than of what it does: a Service's traffic policy (node-local
# endpoints only; the Kubernetes API's ``internalTrafficPolicy``, Terraform's ``external_traffic_policy``), its
# traffic distribution or topology-aware routing (``trafficDistribution: PreferClose``, the annotation
# ``service.kubernetes.io/topology-mode``, formerly ``topology-aware-hints``), the pod network's MTU however the CNI
# names it (Calico's ``veth_mtu``/``vethMTU``/``FELIX_VXLANMTU``/``ipipMTU``/``wireguardMTU``, Cilium's ``--mtu``,
# Flannel's ``FLANNEL_MTU``, the AWS VPC CNI's ``AWS_VPC_ENI_MTU``): its effect shows only on the callers, as failures
# to reach it
_REACH_CHANGE = re.compile(
    r"(?:internal|external)[\s_-]*traffic[\s_-]*policy|traffic[\s_-]*distribution|"
    r"topology[\s_-]*(?:mode|aware[\s_-]*hints)\b|"
    r"(?:(?<![a-z])|(?<=veth)|(?<=ipip)|(?<=vxlan)|(?<=wireguard)|(?<=tunnel))mtu(?![a-z])",
    re.IGNORECASE)
# what failing to reach a component looks like from its caller
_REACH_FAILURE_KINDS = frozenset({"dependency_failure", "network_partition", "network_latency", "packet_loss"})
REACH_FAILURE_MIN = 0.4


def _reach_change_strands_callers(scene: _Scene) -> None:
    """A change of how a component is reached (``_REACH_CHANGE``) followed, within ``CHANGE_WINDOW``, by its callers'
    failures to reach it (``_REACH_FAILURE_KINDS`` of ``REACH_FAILURE_MIN`` or more, up to ``CALLER_HOPS``) is their
    cause (docs/causes.md: a Service traffic policy that leaves callers without endpoints, an overlay MTU above what
    the encapsulation allows). Such a change shows nothing on the changed component itself, and a caller's own
    coincident change does not explain that it cannot reach the component: so neither a shift of the component nor
    the absence of callers' changes is asked for, unlike ``_change_fails_callers``. Not when the changed component
    names a failure of its own, or a caller's failure began before the change."""
    for change in scene.changes:
        if change.ts is None or change.kind not in CHANGE_CAUSES or _own_mechanism_on(scene, change.service):
            continue
        if not _REACH_CHANGE.search(_change_text(change.evidence.summary or "")):
            continue
        if scene.alert_time is not None and not change.ts <= scene.alert_time + ONSET_GRACE:
            continue
        callers = {c for c, hops in _transitive(scene.callers, change.service).items() if 0 < hops <= CALLER_HOPS}
        failures = [s for c in sorted(callers) for s in scene.anomalies.get(c, [])
                    if str(s.kind) in _REACH_FAILURE_KINDS and float(s.score) >= REACH_FAILURE_MIN]
        if any(s.started_at is not None and _aware(s.started_at) < change.ts - ONSET_GRACE  # type: ignore[operator]
               for s in failures):
            continue  # they could not reach it before it changed
        effects = [s for s in failures if s.started_at is not None
                   and _aware(s.started_at) <= change.ts + CHANGE_WINDOW]  # type: ignore[operator]
        if not effects:
            continue
        best = max(effects, key=lambda s: float(s.score))
        scene.pointed_at.update((str(s.service), str(s.kind)) for s in effects)
        _credit_change(scene, change, effects,
                       f"then {best.service}, which calls it, could not reach it: {best.title[:160]}")


SHIFT_MIN = 0.5
# what a change of a component can do to the components that call it: load them, cut their paths, break their
# calls and threads; not expire their certificates, fill their disks or break their hardware
_CHAIN_CATEGORIES = frozenset({"cpu", "memory", "network", "application", "dependency", "capacity"})
# and slow the writes of the components that store on it (a storage backend's change under a database's slow fsync)
_CHAIN_KINDS = frozenset({"disk_io_latency"})


def _change_fails_dependants(scene: _Scene) -> None:
    """A change of a component whose own evidence shifts right after it (a new log template, a metric change
    point), followed within ``DEPLOY_FIT_WINDOW`` by decisive failures of the components that call it (by the
    topology), is the cause of those failures (docs/causes.md: name the thing to fix): a route filter removed on the
    distribution routers floods the core, whose own log then tells how it fails. The change takes the callers'
    support and their findings keep less of it. Only for failures such a change can cause (``_CHAIN_CATEGORIES``:
    an expired certificate of the caller is its own); not when the component's own evidence names its own
    mechanism, when a caller has a change of its own in the window, or when a caller was failing before it."""
    for change in scene.changes:
        if change.ts is None or change.kind not in CHANGE_CAUSES or _own_mechanism_on(scene, change.service):
            continue
        end = change.ts + DEPLOY_FIT_WINDOW
        shifts = [_aware(s.started_at) for s in scene.anomalies.get(change.service, [])
                  if s.started_at is not None and float(s.score) >= SHIFT_MIN and not dec.is_decisive(s)
                  and (s.source or "").lower().startswith(("log", "metric"))
                  and change.ts <= _aware(s.started_at) <= end]  # type: ignore[operator]
        if not shifts:
            continue
        shift = min(t for t in shifts if t is not None)
        effects: list[Signal] = []
        for caller in scene.callers.get(change.service, []):
            if any(c.service == caller and c.ts is not None and change.ts - DEPLOY_FIT_WINDOW <= c.ts <= end
                   for c in scene.changes):
                continue
            # a finding read without a time of its own (a saved excerpt) is dated by its component's failure onset
            began = failure_onset(scene, caller)
            own = [s for s in scene.anomalies.get(caller, []) if dec.is_decisive(s)
                   and (s.started_at is not None or began is not None) and not s.attributes.get("reporter")
                   and (category_of(str(s.kind)).value in _CHAIN_CATEGORIES or str(s.kind) in _CHAIN_KINDS)]
            for kind in {str(s.kind) for s in own}:
                times = [_aware(s.started_at) or began for s in own if s.kind == kind]
                if all(t is not None and shift <= t <= end for t in times):
                    effects.extend(s for s in own if s.kind == kind)
        if not effects:
            continue
        best = max(effects, key=lambda s: float(s.score))
        _credit_change(scene, change, effects, f"then on {best.service}, which calls it: {best.title[:160]}")


# what the callers of a changed component show when that change broke what it gives them, naming no mechanism of
# their own: fresh errors (a new error template, a jump in the error share or an error metric), or their own identity
# failure as their callers report it (a name server that no longer answers). A decisive finding in a caller's own log
# (its crash, its full disk) is its own failure, and the change of what it calls no suspect (docs/causes.md)
CALLER_FAILURE_KINDS = frozenset({"error_rate_increase", "exception_surge"})
CALLER_FAILURE_MIN = 0.8
CALLER_HOPS = 2


def _caller_failures(scene: _Scene, caller: str, start: datetime, end: datetime) -> list[Signal]:
    """The caller's generic failures (``CALLER_FAILURE_KINDS`` at ``CALLER_FAILURE_MIN`` or more, or a decisive
    finding its callers reported of its identity) that began between ``start`` and ``end``."""
    return [
        s for s in scene.anomalies.get(caller, [])
        if s.started_at is not None and start <= _aware(s.started_at) <= end  # type: ignore[operator]
        and s.detector != ORIGIN_DETECTOR
        and ((str(s.kind) in CALLER_FAILURE_KINDS and float(s.score) >= CALLER_FAILURE_MIN and not dec.is_decisive(s))
             or (dec.is_decisive(s) and s.attributes.get("reporter")
                 and dec.name_affinity(caller, str(s.kind), scene.roles) == 1.0))
    ]


def _own_finding_on(scene: _Scene, service: str) -> bool:
    """Whether the service's own log or metrics hold a decisive finding (not one its callers reported of it)."""
    return any(dec.is_decisive(s) and not s.attributes.get("reporter") for s in scene.anomalies.get(service, []))


def _other_dependency_failed_first(scene: _Scene, caller: str, changed: str, effect: Signal,
                                   failed: dict[str, datetime]) -> bool:
    """Whether something else ``caller`` depends on (up to three hops, not ``changed``) began failing no later than
    ``effect`` (within ``ONSET_GRACE``): then the effect may be that dependency's, not the change's. A dependency
    known to fail only from what ``caller`` itself reported of it (its failed calls moved there, ``reporter`` the
    caller) is no such witness: that is the effect again, seen from the other end."""
    when = _aware(effect.started_at)
    return when is not None and any(
        dep not in (caller, changed) and hops <= 3 and dep in failed and failed[dep] <= when + ONSET_GRACE
        and not _only_reported_by(scene, dep, caller)
        for dep, hops in scene.reach(caller).items())


def _only_reported_by(scene: _Scene, service: str, reporter: str) -> bool:
    """Whether every failure signal of ``service`` is one ``reporter`` reported of it (``attributes["reporter"]``)."""
    failing = [s for s in scene.anomalies.get(service, [])
               if s.score >= 0.3 and str(s.kind or "") not in _VOLUME_KINDS and s.started_at is not None]
    return bool(failing) and all(s.attributes.get("reporter") == reporter for s in failing)


# failures a date decides, which no change of what the failing component calls can bring about: a certificate its
# callers refuse as expired (docs/causes.md: an expired one stays certificate_expired)
_DATED_KINDS = frozenset({"certificate_expired"})


def _changed_itself(scene: _Scene, service: str, change: Change, until: datetime) -> bool:
    """Whether ``service`` had a change of its own from ``DEPLOY_FIT_WINDOW`` before ``change`` up to ``until`` (its
    failures are then its own change's to explain, not the other component's)."""
    return any(o.service == service and o.ts is not None and change.ts - DEPLOY_FIT_WINDOW <= o.ts <= until  # type: ignore[operator]
               for o in scene.changes)


def _certificate_refused_after_dependency_change(scene: _Scene) -> None:
    """A certificate its callers refuse for its name or issuer (``_changed_certificate``: not for its dates) within
    ``DEPLOY_FIT_WINDOW`` after a change of the component they call directly is that change's (docs/causes.md: a
    certificate refused for its issuer or its name right after a change of the component that presents it): the
    caller only reports what the changed component now presents. Not when the finding names another component the
    incident knows, nor when the caller changed itself in the window before it."""
    for change in scene.changes:
        if change.ts is None or change.kind not in CHANGE_CAUSES:
            continue
        effects: list[Signal] = []
        for caller in scene.callers.get(change.service, []):
            for s in scene.anomalies.get(caller, []):
                culprit = str(s.attributes.get("culprit") or "")
                # a client's own refusal of what it was presented (``remote error: tls: bad certificate`` is a
                # server's log of its clients refusing its own certificate: not the callee's)
                if not (dec.is_decisive(s) and _changed_certificate(s) and s.started_at is not None
                        and s.attributes.get("rule") in _CLIENT_TLS_RULES
                        and timedelta(0) <= _aware(s.started_at) - change.ts <= DEPLOY_FIT_WINDOW):  # type: ignore[operator]
                    continue
                if culprit in scene.known and culprit not in (caller, change.service):
                    continue
                if _changed_itself(scene, caller, change, _aware(s.started_at)):  # type: ignore[arg-type]
                    continue
                effects.append(s)
        if effects:
            best = max(effects, key=lambda s: float(s.score))
            _credit_change(scene, change, effects, f"then on {best.service}, which calls it: {best.title[:160]}")


def _change_fails_callers(scene: _Scene) -> None:
    """A change of a component, followed within ``DEPLOY_FIT_WINDOW`` by the incident's first failures on the
    components that call it (up to ``CALLER_HOPS``), is their cause even without a decisive line on the changed
    component (a generator whose new release writes a broken zone that the name servers then serve, an element whose
    new configuration its peers reject). The callers' failures must name no mechanism of their own
    (``_caller_failures``; no decisive finding of their own, ``_own_mechanism_on`` false for them), none of them may
    have changed itself in the window, nothing may have failed anywhere before them since the change, and a failure
    that another dependency of the caller could explain (it failed first: ``_other_dependency_failed_first``) is not
    counted. The change takes the
    support of their decisive findings (each keeps less, ``_credit_change``); when the callers show errors only, it
    takes ``DEPLOY_FIT_SCORE`` if its own component's evidence shifted after it too (``_shifted_after``)."""
    onsets = {svc: failure_onset(scene, svc) for svc in scene.anomalies if scene.is_anomalous(svc)}
    for change in scene.changes:
        if change.ts is None or change.kind not in CHANGE_CAUSES or _own_mechanism_on(scene, change.service):
            continue
        end = change.ts + DEPLOY_FIT_WINDOW
        callers = {c for c, hops in _transitive(scene.callers, change.service).items() if 0 < hops <= CALLER_HOPS}
        failed = {svc: t for svc, t in onsets.items() if t is not None and svc != change.service}
        if not callers or not failed or any(t < change.ts for t in failed.values()):
            continue
        first = min(failed.values())
        hit = {c: failed[c] for c in sorted(callers) if c in failed and failed[c] <= end}
        # a failing caller with a finding or mechanism of its own, or a change of its own, explains what they show
        if any(_own_mechanism_on(scene, c) or _own_finding_on(scene, c) or _changed_itself(scene, c, change, began)
               for c, began in hit.items()):
            continue
        if not any(began <= first + ONSET_GRACE for began in hit.values()):
            continue  # the incident began elsewhere
        effects = [s for c in hit for s in _caller_failures(scene, c, change.ts, end)
                   if not _other_dependency_failed_first(scene, c, change.service, s, failed)
                   and str(s.kind) not in _DATED_KINDS]
        if not effects:
            continue
        key = (change.service, change.kind)
        decisive = [s for s in effects if dec.is_decisive(s)]
        best = max(effects, key=lambda s: float(s.score))
        if decisive:
            _credit_change(scene, change, decisive, f"then on {best.service}, which calls it: {best.title[:160]}")
            continue
        if not _shifted_after(scene, change, _first_start(effects)):
            continue  # errors alone on the callers: the change must show on the changed component too
        scene.decisive[key] = max(scene.decisive.get(key, 0.0), DEPLOY_FIT_SCORE)
        scene.fits[key] = _fit_evidence(change, DEPLOY_FIT_SCORE,
                                        f"then on {best.service}, which calls it: {best.title[:160]}")


def _shifted_after(scene: _Scene, change: Change, until: datetime | None) -> bool:
    """Whether the changed component's own evidence shifted (a new log template, a metric change point: ``SHIFT_MIN``
    or more, not decisive) after the change and no later than ``until`` (within ``ONSET_GRACE``)."""
    if change.ts is None or until is None:
        return False
    return any(s.started_at is not None and float(s.score) >= SHIFT_MIN and not dec.is_decisive(s)
               and (s.source or "").lower().startswith(("log", "metric"))
               and any(change.ts <= t <= until + ONSET_GRACE for t in _dates_of(s))
               for s in scene.anomalies.get(change.service, []))


def _dates_of(signal: Signal) -> list[datetime]:
    """When a signal began: its start, and for a log template also its first line in the whole log (``first_seen``:
    a template that repeats from one moment on is measured in a later window, but it is new from its first line)."""
    return [t for t in (_aware(signal.started_at), _first_seen(signal)) if t is not None]


# what a change of a component cannot do to the components it calls: cut or slow a network path, break name
# resolution, expire a certificate, break hardware, fill a disk, attack it. Their load, queries and limits it can.
_INDEPENDENT_CATEGORIES = frozenset({"network", "dns", "tls", "hardware", "storage", "security"})
DEPENDENCY_FAILURE_MIN = 0.5


def _first_start(signals: list[Signal]) -> datetime | None:
    return min((t for t in (_aware(s.started_at) for s in signals) if t is not None), default=None)


def _dependency_failed_first(scene: _Scene, service: str, effect: datetime | None) -> bool:
    """Whether a component ``service`` depends on (up to three hops) failed in a way no change of ``service`` can
    cause (``_INDEPENDENT_CATEGORIES``) no later than ``effect`` (within ``ONSET_GRACE``): then the errors that
    followed the change point at that dependency (a lossy transit path under a shop's fresh timeouts), and the change
    is no suspect by its timing alone."""
    if effect is None:
        return False
    return any(category_of(str(s.kind)).value in _INDEPENDENT_CATEGORIES and began <= effect + ONSET_GRACE
               for s, began in _dependency_failures(scene, service))


def _dependency_failures(scene: _Scene, service: str) -> Iterator[tuple[Signal, datetime]]:
    """Each dated failure (a cause kind at ``DEPENDENCY_FAILURE_MIN`` or more) of a component ``service`` depends
    on, up to three hops, with its start."""
    for dep, hops in scene.reach(service).items():
        if dep == service or hops > 3:
            continue
        for s in scene.anomalies.get(dep, []):
            began = _aware(s.started_at)
            if began is not None and float(s.score) >= DEPENDENCY_FAILURE_MIN and is_cause_kind(s.kind):
                yield s, began


def _dependency_failing_before(scene: _Scene, service: str, when: datetime) -> bool:
    """Whether a component ``service`` depends on (up to three hops) was already failing by a cause of its own (a
    cause kind at ``DEPENDENCY_FAILURE_MIN`` or more) before ``when`` (a change of ``service``, less ``ONSET_GRACE``):
    no change can have caused what began before it, so the errors that follow it are no sign of the change."""
    return any(s.kind not in CHANGE_CAUSES and began < when - ONSET_GRACE
               for s, began in _dependency_failures(scene, service))


def _own_mechanism_on(scene: _Scene, service: str, *, skip_throttle: bool = False) -> bool:
    """Whether the service's own log or metrics name how it fails (a decisive finding of its own, not one its
    callers reported, of a kind more specific than "it failed"). With ``skip_throttle`` its own rate limiting
    (``self_throttling``) is no such mechanism."""
    return any(dec.is_decisive(s) and not s.attributes.get("reporter") and s.kind not in CHANGE_CAUSES
               and s.kind not in _OWN_FAILURE_KINDS and s.kind not in _UNREACHABLE_KINDS and not _changed_certificate(s)
               and not (skip_throttle and s.kind == "rate_limited")
               for s in scene.anomalies.get(service, [])) or _specific_cause_on(scene, service, skip_throttle=skip_throttle)


def _specific_cause_on(scene: _Scene, service: str, *, skip_throttle: bool = False) -> bool:
    """Whether the service's own evidence names how it fails (a leak, throttling, a pool at its limit...): then a
    change before it is the trigger of that mechanism, and the mechanism is the answer, not the change. A count of
    restarts or errors (``_OWN_FAILURE_KINDS``) says that it fails, not how: a change before it keeps the answer;
    so does a backlog of its own (``_FALLING_BEHIND_KINDS``): it says that it falls behind. Neither does the metric ranking's origin verdict (``ORIGIN_DETECTOR``): it says that the callers' anomalies
    began with this service, and it is only given when the service's own series name no cause."""
    return any(is_cause_kind(s.kind) and s.kind not in CHANGE_CAUSES and s.kind not in _OWN_FAILURE_KINDS
               and s.kind not in _FALLING_BEHIND_KINDS
               and s.detector != ORIGIN_DETECTOR and s.score >= 0.5 and (s.source or "").startswith("metric")
               and not (skip_throttle and s.kind == "rate_limited")
               for s in scene.anomalies.get(service, []))


def _signal_services(signals: list[Signal]) -> set[str]:
    return {s.service for s in signals if s.service}


# labels by which a series names the machine it was scraped from (``instance="web-01:9100"``)
_HOST_LABELS = ("instance", "host", "hostname", "node")


def _series_hosts(metrics: Iterable[MetricSeries]) -> dict[str, str]:
    """Host (lower-case, port dropped) -> the one component whose series were scraped from it, by the series'
    ``instance``/``host`` label; a host whose series belong to several components, or that is the component, is
    left out."""
    seen: dict[str, set[str]] = defaultdict(set)
    for series in metrics:
        for label in _HOST_LABELS:
            raw = (series.labels or {}).get(label)
            if raw and series.service:
                host = raw.split("://", 1)[-1].rsplit(":", 1)[0].lower()
                if host and host != series.service.lower():
                    seen[host].add(series.service)
    return {host: next(iter(owners)) for host, owners in seen.items() if len(owners) == 1}


def logs_of_machines(context: IncidentContext) -> dict[str, str]:
    """A log named for no component of the incident (not in the topology, the metrics, the changes or the alert:
    a responder's ``web-hosts.log``), every line of which is a syslog line from machines that the metrics show as
    one component's (its series' ``instance`` labels), is that component's log: log name -> component."""
    owners = _series_hosts(context.metrics)
    if not owners:
        return {}
    named = set(context.topology) | {d for deps in context.topology.values() for d in deps} \
        | {s.service for s in context.metrics} | {e.service for e in context.events if e.service} \
        | {a.service for a in context.incident.alerts if a.service}
    out: dict[str, str] = {}
    for name, lines in context.logs.items():
        if not name or name in named:
            continue
        hosts = header_hosts(lines)
        if hosts and all(h in owners for h in hosts) and len({owners[h] for h in hosts}) == 1:
            out[name] = owners[next(iter(hosts))]
    return out


def _onto_components(signals: list[Signal], logs: dict[str, str]) -> list[Signal]:
    if not logs:
        return signals
    return [s.model_copy(update={"service": logs[s.service], "attributes": {**(s.attributes or {}), "log": s.service}})
            if s.service in logs else s for s in signals]


def build_candidates(
    *,
    context: IncidentContext,
    signals: list[Signal],
    similar: list[SimilarIncident],
    runbooks: list[tuple[Document, float]],
) -> list[Candidate]:
    machine_logs = logs_of_machines(context)
    signals = _onto_components(signals, machine_logs)
    known = (set(context.services) - set(machine_logs)) | {a.service for a in context.incident.alerts if a.service}
    signals = dec.path_metrics(signals, known)
    signals = dec.named_dependency_failures(signals, context.topology)
    roles = roles_from_logs(context.logs)  # what services are by their own lines, where names do not say it
    signals = dec.retarget(signals, known | _signal_services(signals), context.topology, roles,
                           machines_from_logs(context.logs))
    signals = dec.clock_shapes(signals)
    signals = dec.mark_late(signals, context.alert_time)
    scene = _Scene(context, signals)
    scene.roles = roles
    scene.decisive = dec.with_explanations(dec.support(signals), signals)
    _deploy_fit(scene)
    _change_explains(scene)
    _change_fails_dependants(scene)
    _change_fails_callers(scene)
    _certificate_refused_after_dependency_change(scene)
    _change_quoted_by_failure(scene)
    _resolver_change_fails_lookups(scene)
    _reach_change_strands_callers(scene)
    _change_makes_load(scene)
    _change_fills_dependency(scene)
    _change_fails_dependencies(scene)
    scene.decisive = dec.demote_late(scene.decisive, signals, early=scene.fits)
    cands: dict[tuple[str, str], Candidate] = {}

    def get(service: str, kind: str, origin: str) -> Candidate:
        key = (service, kind)
        if key not in cands:
            cands[key] = Candidate(service=service, kind=kind)
        cands[key].origins.add(origin)
        return cands[key]

    # signals on services
    for service, sigs in scene.anomalies.items():
        for sig in sigs:
            if dec.is_decisive(sig):
                get(service, str(sig.kind), "decisive").add_evidence(ev.from_signal(sig))
                continue
            if is_cause_kind(sig.kind) and sig.kind not in CHANGE_CAUSES:
                get(service, str(sig.kind), "signal").add_evidence(ev.from_signal(sig))
                continue
            hint = kind_of_metric(sig.metric) if (sig.source or "").startswith("metric") else None
            if hint is None and (sig.source or "").startswith("metric"):
                hint = dec.identity_kind(service, sig.kind, scene.roles)
            if hint:
                get(service, hint, "metric_hint").add_evidence(ev.from_signal(sig))
            if _texty(sig):
                for kind in kinds_in_text(_text_of(sig)):
                    if kind not in CHANGE_CAUSES:
                        get(service, kind, "text").add_evidence(ev.from_signal(sig))
            for kind in SYMPTOM_CAUSES.get(sig.kind or "", ()):
                get(service, kind, "symptom").add_evidence(ev.from_signal(sig))

    # blame flows from callers to dependencies: a kind several callers report points at what they share
    for kind, services in scene.kind_services.items():
        for svc in services:
            for dep, hops in scene.reach(svc, kind).items():
                if dep != svc and hops <= 3:
                    cand = get(dep, kind, "propagated")
                    for sig in scene.anomalies.get(svc, []):
                        if sig.kind == kind or kind in kinds_in_text(_text_of(sig)):
                            cand.add_evidence(e.model_copy(update={"weight": e.weight * 0.8})
                                              for e in ev.from_signal(sig))

    # a dependency that other services' error text names, with the kinds that text names
    for (named, kind), _score in sorted(scene.mention_kinds.items()):
        get(named, kind, "named")

    # changes close before the first anomaly, and every change that fits (``_deploy_fit``) whatever the first
    # anomaly was (a stray warning minutes before the change is not when its service began to fail)
    for change in scene.changes:
        lead = scene.change_lead(change)
        if lead is not None and not (-5.0 <= lead <= CHANGE_WINDOW.total_seconds() / 60.0) \
                and (change.service, change.kind) not in scene.fits:
            continue
        get(change.service, change.kind, "change").add_evidence([change.evidence])

    # similar incidents and runbooks
    known = set(context.services) | set(scene.anomalies)
    for inc in similar:
        if inc.root_cause_service and inc.root_cause_kind in ALL_KINDS and inc.root_cause_service in known:
            get(inc.root_cause_service, str(inc.root_cause_kind), "similar").add_evidence([ev.from_similar(inc)])
    for doc, score in runbooks:
        doc_services = [s for s in doc.services if s in known] or ([scene.alert_service] if scene.alert_service else [])
        for kind in doc.kinds:
            if kind in ALL_KINDS:
                for svc in doc_services:
                    if svc:
                        get(svc, kind, "runbook").add_evidence([ev.from_runbook(doc, score)])

    # the alert's own words
    if scene.alert_service:
        for kind in kinds_in_text(scene.alert_text):
            if kind not in CHANGE_CAUSES:
                get(scene.alert_service, kind, "alert")

    out = list(cands.values())
    for cand in out:
        cand.features = _features(cand, scene, similar, runbooks, signals)
        cand.features["origin_count"] = math.log1p(len(cand.origins))
        cand.features[f"kind:{cand.kind}"] = 1.0  # per-kind bias a team's feedback may learn
        if (cand.service, cand.kind) in scene.fits:
            cand.add_evidence([scene.fits[(cand.service, cand.kind)]])
        _topology_evidence(cand, scene)
        for sig in scene.alert_signals:
            if cand.service == (sig.service or scene.alert_service):
                cand.add_evidence([e.model_copy(update={"weight": min(e.weight, 0.2)}) for e in ev.from_signal(sig)])
    _relative(out)
    return out


def _features(
    cand: Candidate,
    scene: _Scene,
    similar: list[SimilarIncident],
    runbooks: list[tuple[Document, float]],
    signals: list[Signal],
) -> dict[str, float]:
    svc, kind = cand.service, cand.kind
    sigs = scene.anomalies.get(svc, [])
    direct = [s for s in sigs if s.kind == kind]
    text_hits = [s for s in sigs if _texty(s) and kind in kinds_in_text(_text_of(s))]
    naming = {s.id for s in direct} | {s.id for s in text_hits}
    event_hits = [s for s in text_hits if (s.source or "").lower() == "changes"]
    hints = [s for s in sigs if (s.source or "").startswith("metric")
             and (kind_of_metric(s.metric) or dec.identity_kind(svc, s.kind, scene.roles)) == kind]
    symptom = 0.0
    for s in sigs:
        causes = SYMPTOM_CAUSES.get(s.kind or "", ())
        if kind in causes:
            symptom = max(symptom, s.score * (1.0 - 0.12 * causes.index(kind)))

    deps = scene.graph(kind).get(svc, [])
    anomalous = scene.is_anomalous(svc)
    svc_onset = scene.onset.get(svc)
    dep_earlier = any(
        scene.is_anomalous(d) and svc_onset is not None and d in scene.onset and scene.onset[d] <= svc_onset
        for d in deps
    )
    callers = [c for c in _transitive(scene.caller_graph(kind), svc) if c != svc]
    callers_anom = sum(1 for c in callers if scene.is_anomalous(c)) / len(callers) if callers else 0.0
    reach = 0.0
    if scene.alert_service:
        hops = _transitive(scene.topology, scene.alert_service)
        if svc in hops:
            reach = 1.0 / (1.0 + hops[svc])

    is_change = kind in CHANGE_CAUSES
    change_before = 0.0
    proximity = 0.0
    change_on_service = 0.0
    for change in scene.changes:
        if change.service != svc:
            continue
        lead = scene.change_lead(change)
        if lead is None:
            continue
        near = math.exp(-max(lead, 0.0) / 20.0) if -5.0 <= lead <= 120.0 else 0.0
        if change.kind == kind:
            proximity = max(proximity, near)
            if 0.0 <= lead <= 120.0:
                change_before = 1.0
        if not is_change and 0.0 <= lead <= 120.0:
            change_on_service = max(change_on_service, near)

    sim_exact = max((s.score for s in similar if s.root_cause_service == svc and s.root_cause_kind == kind), default=0.0)
    sim_kind = max((s.score for s in similar if s.root_cause_kind == kind), default=0.0)
    rb_kind = max((sc for d, sc in runbooks if kind in d.kinds), default=0.0)
    rb_exact = max((sc for d, sc in runbooks if kind in d.kinds and svc in d.services), default=0.0)
    n_order = scene.onset_rank.get(svc)
    own_decisive = scene.decisive.get((svc, kind), 0.0)
    # the origin in dependency order: a finding on a caller that began failing no earlier than this service
    # (whose own dependencies are healthy) describes the caller's symptom, and is no rival of its cause
    victims = downstream_victims(scene, svc, kind)
    top_decisive = max((v for (s, _k), v in scene.decisive.items() if s not in victims), default=0.0)
    return {
        "decisive_score": own_decisive,
        "decisive_rel": own_decisive / top_decisive if top_decisive > 0 else 0.0,
        "decisive_gap": own_decisive - top_decisive,
        "dependency_origin": 1.0 if victims else 0.0,
        # the alert names this kind on this service and a detector of its own evidence names it too
        "alert_confirms": 1.0 if svc == scene.alert_service and kind in kinds_in_text(scene.alert_text)
        and (direct or text_hits or hints) else 0.0,
        # the service the metric ranking names the origin (its callers' anomalies follow from its own), for
        # every kind on it: which kind it is stays the evidence's call
        "metric_origin": scene.metric_origin.get(svc, 0.0),
        "direct_score": max((s.score for s in direct), default=0.0),
        "direct_count": math.log1p(len(direct)),
        "direct_logs": 1.0 if any((s.source or "").startswith("log") for s in direct) else 0.0,
        "direct_metrics": 1.0 if any((s.source or "").startswith("metric") for s in direct) else 0.0,
        "text_match": max((s.score for s in text_hits), default=0.0),
        "metric_hint": max((s.score for s in hints), default=0.0),
        "symptom_score": symptom,
        "svc_anomaly": scene.anomaly_score.get(svc, 0.0),
        "svc_signal_share": len(sigs) / scene.total_signals,
        "svc_earliest": 1.0 if n_order == 0 else 0.0,
        "onset_order": 1.0 / (1.0 + n_order) if n_order is not None else 0.0,
        "deps_healthy": 1.0 if anomalous and not any(scene.is_anomalous(d) for d in deps) else 0.0,
        "dep_earlier": 1.0 if dep_earlier else 0.0,
        "callers_anomalous": callers_anom,
        "alert_service": 1.0 if svc == scene.alert_service else 0.0,
        "alert_reach": reach,
        "alert_text_match": 1.0 if kind in kinds_in_text(scene.alert_text) else 0.0,
        "is_change_kind": 1.0 if is_change else 0.0,
        "change_before_onset": change_before,
        "change_proximity": proximity,
        "change_on_service": change_on_service,
        "similar_exact": float(sim_exact),
        "similar_kind": float(sim_kind),
        "runbook_kind": float(rb_kind),
        "runbook_exact": float(rb_exact),
        "only_symptom": 1.0 if cand.origins <= {"symptom"} else 0.0,
        "direct_rel": 0.0,
        "anomaly_rel": 0.0,
        "no_anomaly": 0.0 if sigs else 1.0,
        "kind_share": len(naming) / len(sigs) if sigs else 0.0,
        "event_match": max((s.score for s in event_hits), default=0.0),
        "named_by_others": len(scene.mentions.get(svc, {})) / max(1, len(scene.anomalies)),
        "named_kind_by_others": scene.mention_kinds.get((svc, kind), 0.0),
        **_propagation(svc, kind, scene),
    }


# request volume at a component follows its callers (fewer or more requests sent to it): no failure of its own
_VOLUME_KINDS = frozenset({"traffic_drop", "traffic_spike"})


def failure_onset(scene: _Scene, svc: str) -> datetime | None:
    """When ``svc`` began failing: its earliest anomalous signal other than a change in request volume."""
    times = [t for t in (_aware(s.started_at) for s in scene.anomalies.get(svc, [])
                         if s.score >= 0.3 and str(s.kind or "") not in _VOLUME_KINDS) if t is not None]
    return min(times, default=None)


# Kinds whose origin dependency order cannot tell: a queue's backlog grows when the consumers that read it fall
# behind or the producers that fill it surge, and both are the queue's callers here; their slowness is the
# cause, not a symptom of the queue.
NO_ORIGIN_BY_ORDER = frozenset({"queue_backlog"})


def downstream_victims(scene: _Scene, svc: str, kind: str) -> set[str]:
    """The failing callers of ``svc`` (up to three hops) when ``svc`` is the origin in dependency order: it fails
    (more than a change in request volume, ``failure_onset``), its own dependencies are healthy, and none of
    those callers began failing before it (within ``ONSET_GRACE``). What they show then (their errors, their
    decisive findings, the alert on them) follows from ``svc``. Empty when ``svc`` is no such origin: a caller
    that failed first may have caused it (its deploy, its load), a failure a caller's change pointed it at
    (``_change_quoted_by_failure``) is that change's, so is the load of a caller whose change made its own traffic
    rise (``_change_makes_load``), and a failing dependency of its own may be the cause of both."""
    if kind in NO_ORIGIN_BY_ORDER or (svc, kind) in scene.pointed_at:
        return set()
    start = failure_onset(scene, svc)
    if start is None or not scene.topology:
        return set()
    if scene.metric_origin and svc not in scene.metric_origin:
        return set()  # the metric ranking named a clear origin elsewhere: its finer reading of the onsets decides
    if any(scene.is_anomalous(d) for d in scene.graph(kind).get(svc, [])):
        return set()
    callers = {c for c, hops in _transitive(scene.caller_graph(kind), svc).items() if c != svc and hops <= 3}
    if callers & scene.load_makers:
        return set()  # a caller's change made the load it carries
    onsets = {c: failure_onset(scene, c) for c in callers}
    failing = {c: t for c, t in onsets.items() if t is not None}
    if any(t < start - ONSET_GRACE for t in failing.values()):
        return set()
    return set(failing)


def _propagation(svc: str, kind: str, scene: _Scene) -> dict[str, float]:
    reporters = scene.kind_services.get(kind, {})
    if not reporters:
        share, best = 0.0, 0.0
    else:
        behind = [r for r in reporters if svc in scene.reach(r, kind)]
        share = len(behind) / len(reporters)
        best = max((reporters[r] for r in behind if r != svc), default=0.0)
    # other services reporting this kind whose requests pass through svc, and whether svc's own
    # dependencies report it too (then the blame may lie deeper, or svc may be the one a shared host hurts)
    front = [r for r in reporters if r != svc and svc in scene.reach(r, kind)]
    deps = scene.graph(kind).get(svc, [])
    return {
        "front_reporters": math.log1p(len(front)),
        "dep_reports_kind": max((reporters.get(d, 0.0) for d in deps), default=0.0),
        f"category:{category_of(kind).value}": 1.0,
        "dep_share": share,
        "kind_spread": math.log1p(len(reporters)),
        "propagated_score": best,
        "name_affinity": dec.name_affinity(svc, kind, scene.roles),
        "is_leaf": 1.0 if scene.topology and not scene.topology.get(svc) else 0.0,
    }


def _relative(cands: list[Candidate]) -> None:
    top_direct = max((c.features["direct_score"] + c.features["text_match"] for c in cands), default=0.0)
    top_anom = max((c.features["svc_anomaly"] for c in cands), default=0.0)
    # how this kind's direct support compares with the other explanations of the same service
    best_on_svc: dict[str, float] = defaultdict(float)
    for c in cands:
        if c.kind not in CHANGE_CAUSES:
            d = c.features["direct_score"] + c.features["text_match"] + c.features["metric_hint"]
            best_on_svc[c.service] = max(best_on_svc[c.service], d)
    for c in cands:
        d = c.features["direct_score"] + c.features["text_match"]
        c.features["direct_rel"] = d / top_direct if top_direct > 0 else 0.0
        c.features["anomaly_rel"] = c.features["svc_anomaly"] / top_anom if top_anom > 0 else 0.0
        own = d + c.features["metric_hint"]
        best = best_on_svc.get(c.service, 0.0)
        c.features["svc_kind_rel"] = own / best if best > 0 else 0.0
        c.features["svc_kind_best"] = 1.0 if best > 0 and own >= best else 0.0


def _topology_evidence(cand: Candidate, scene: _Scene) -> None:
    svc = cand.service
    if svc not in scene.onset or not scene.topology:
        return
    callers = [c for c in _transitive(scene.caller_graph(cand.kind), svc) if c != svc and scene.is_anomalous(c)]
    deps_bad = [d for d in scene.graph(cand.kind).get(svc, []) if scene.is_anomalous(d)]
    if not callers and not deps_bad:
        return
    parts = [f"{svc} anomalous since {scene.onset[svc]:%H:%M:%S}"]
    if callers:
        parts.append(f"callers also anomalous: {', '.join(sorted(callers))}")
    parts.append("its dependencies are healthy" if not deps_bad else f"dependencies anomalous: {', '.join(deps_bad)}")
    cand.add_evidence(
        [
            Evidence(
                id=f"topology:{svc}",
                type=EvidenceType.TOPOLOGY,
                summary="; ".join(parts),
                service=svc,
                ts=scene.onset[svc],
                weight=0.3 if not deps_bad else 0.1,
            )
        ]
    )
