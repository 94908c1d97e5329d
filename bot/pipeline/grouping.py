"""Correlation rules: which open incident a new alert belongs to (pure functions, no I/O).

An alert joins the open incident with the best JOIN SCORE, when that score reaches ``join_threshold``;
otherwise it opens an incident. The score is a relation (how the alert is tied to the incident) times a
recency (how close it fired to the incident's RECENT activity, not to its start):

relation
  1.0  same host/node (a node alert and anything on that node; two workloads merely sharing a node do
       not count), or the same alert name already firing on the same service (another pod of it)
  0.8  same service, another alert name
  0.7  topology, root-cause neighbourhood only: the alert's service calls (up to 3 hops) one of the
       incident's roots, or is a direct dependency of a root (the real cause alerting late). A root is a
       member service none of whose dependencies is a member. A neighbour of a mere symptom does not count:
       a database behind a slow API is not explained by a cache failure that also slowed that API.
       +0.2 when the alert's service is itself a member and also calls a root (explained twice)
  0.7 x share  similar identifying labels (``label_similarity``; ``env``/``cluster``-like labels ignored)
recency
  1.0 within a third of the horizon after the incident's latest new alert, then falling linearly to 0 at
  the horizon; the horizon is ``window`` for same host/service, ``cascade_window`` for topology and labels.

Ties go to the incident active most recently. Services and hosts are scoped by the alert's
``cluster``/``region``/``datacenter`` labels: ``checkout`` in ``eu-1`` is not ``checkout`` in ``us-1``. The
rules never look at text that varies between notifications (summaries, values), only at labels and services.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain import Alert

ENTITY_LABELS = ("node", "host", "hostname", "nodename", "kubernetes_node", "node_name")
SCOPE_LABELS = ("cluster", "region", "datacenter", "dc")
# Labels that name a place or a pipeline rather than the thing that broke: shared by unrelated alerts.
DEFAULT_IGNORED_LABELS = frozenset({
    "alertname", "severity", "priority", "urgency", "env", "environment", "cluster", "region", "zone",
    "datacenter", "dc", "prometheus", "monitor", "receiver", "team", "tier", "namespace", "job",
    "alertstate", "__name__", "grafana_folder", "scope", "monitor_id", "pagerduty_incident", "alias",
})
# Label pairs that state a dependency edge: (caller label, callee label).
EDGE_LABELS = (("source_service", "destination_service"), ("source_workload", "destination_workload"),
               ("client", "server"), ("caller", "callee"), ("service", "upstream"), ("service", "dependency"),
               ("service", "peer_service"), ("service", "depends_on"))


@dataclass
class GroupingPolicy:
    window: timedelta = timedelta(minutes=30)
    cascade_window: timedelta = timedelta(minutes=10)
    flap_window: timedelta = timedelta(minutes=10)
    flap_threshold: int = 3
    label_similarity: float = 0.6
    ignored_labels: frozenset[str] = DEFAULT_IGNORED_LABELS
    topology: dict[str, list[str]] = field(default_factory=dict)  # service -> its dependencies
    learn_topology: bool = True
    join_threshold: float = 0.5

    @classmethod
    def from_settings(cls, intake: object, *, topology: dict[str, list[str]] | None = None) -> GroupingPolicy:
        """From ``settings.intake`` (duck-typed so this module imports nothing of config); ``topology`` (the
        top-level ``settings.topology``) is merged with ``intake.topology``."""
        g = getattr
        merged = merge_topology(topology or {}, g(intake, "topology", None) or {})
        return cls(
            window=timedelta(minutes=g(intake, "group_window_minutes", 30)),
            cascade_window=timedelta(minutes=g(intake, "cascade_window_minutes", 10)),
            flap_window=timedelta(minutes=g(intake, "flap_window_minutes", 10)),
            flap_threshold=g(intake, "flap_threshold", 3),
            label_similarity=g(intake, "label_similarity", 0.6),
            ignored_labels=frozenset(g(intake, "ignored_labels", None) or DEFAULT_IGNORED_LABELS),
            topology=merged,
            learn_topology=g(intake, "learn_topology", True),
            join_threshold=g(intake, "join_threshold", 0.5),
        )


@dataclass
class GroupProfile:
    """What an open incident is about, for correlation: its services, hosts and label pairs."""

    incident_id: str
    first_at: datetime
    last_at: datetime
    services: set[str] = field(default_factory=set)
    entities: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)
    flaps: dict[str, int] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)  # alert names seen
    kinds: set[str] = field(default_factory=set)  # "alertname|service@scope" seen

    def is_news(self, alert: Alert) -> bool:
        """Does this alert change the picture (a new service or a new kind of alert), or repeat it on
        another pod/instance? Only news is worth a re-analysis."""
        service = f"{alert.service}@{scope_of(alert)}" if alert.service else None
        return (service is not None and service not in self.services) or alert.name not in self.names

    def add(self, alert: Alert, policy: GroupingPolicy, *, new: bool = True) -> None:
        """Record ``alert``; only a ``new`` alert (not a repeat or a flap of one already in) counts as the
        incident's latest activity."""
        if alert.name and len(self.names) < 200:
            self.names.add(alert.name)
        if alert.service:
            self.services.add(f"{alert.service}@{scope_of(alert)}")
            if len(self.kinds) < 500:
                self.kinds.add(f"{alert.name}|{alert.service}@{scope_of(alert)}")
        self.entities.update(entities_of(alert))
        if len(self.labels) < 500:
            self.labels.update(identifying_labels(alert, policy))
        self.first_at = min(self.first_at, alert.starts_at)
        if new:
            self.last_at = max(self.last_at, alert.starts_at)


def scope_of(alert: Alert) -> str:
    return ",".join(f"{k}={alert.labels[k]}" for k in SCOPE_LABELS if alert.labels.get(k))


def entities_of(alert: Alert) -> set[str]:
    scope = scope_of(alert)
    out = {f"service={alert.service}@{scope}"} if alert.service else set()
    for key in ENTITY_LABELS:
        value = alert.labels.get(key)
        if value:
            out.add(f"host={value.split(':', 1)[0]}@{scope}")
            if not alert.service:  # about the machine itself, not a workload that happens to run there
                out.add(f"node-alert={value.split(':', 1)[0]}@{scope}")
    return out


def identifying_labels(alert: Alert, policy: GroupingPolicy) -> set[str]:
    """``key=value@scope`` pairs: the same labels in another cluster/region are another thing."""
    scope = scope_of(alert)
    return {f"{k}={v}@{scope}" for k, v in alert.labels.items()
            if k not in policy.ignored_labels and v and k != "value"}


def edges_from_labels(alert: Alert) -> list[tuple[str, str]]:
    """Dependency edges an alert states in its labels (service-mesh and tracing labels)."""
    out: list[tuple[str, str]] = []
    for caller_key, callee_key in EDGE_LABELS:
        caller = alert.labels.get(caller_key) or (alert.service if caller_key == "service" else None)
        callee = alert.labels.get(callee_key)
        if caller and callee and caller != callee:
            out.append((caller, callee))
    return out


def neighbours(topology: dict[str, list[str]], services: Iterable[str]) -> set[str]:
    """Services one hop away (dependencies and dependents) from any of ``services``."""
    wanted = set(services)
    out: set[str] = set()
    for service, deps in topology.items():
        if service in wanted:
            out.update(deps)
        if wanted.intersection(deps):
            out.add(service)
    return out - wanted


ROOT_HOPS = 3  # symptoms climb this many callers from the failing component


@dataclass
class AlertFeatures:
    """What correlation looks at in one alert, computed once per alert."""

    scope: str
    entities: set[str]
    labels: set[str]
    reach: set[str]  # what the alert's service calls, up to ROOT_HOPS away (the causes it could show)
    kind: str | None  # "alertname|service@scope"

    @classmethod
    def of(cls, alert: Alert, policy: GroupingPolicy, topology: dict[str, list[str]]) -> AlertFeatures:
        scope = scope_of(alert)
        return cls(scope=scope, entities=entities_of(alert), labels=identifying_labels(alert, policy),
                   reach=dependencies_within(topology, alert.service, ROOT_HOPS) if alert.service else set(),
                   kind=f"{alert.name}|{alert.service}@{scope}" if alert.service else None)


def dependencies_within(topology: dict[str, list[str]], service: str, hops: int) -> set[str]:
    out: set[str] = set()
    frontier = {service}
    for _ in range(hops):
        frontier = {dep for s in frontier for dep in topology.get(s, ())} - out - {service}
        if not frontier:
            break
        out |= frontier
    return out


def roots(group: GroupProfile, topology: dict[str, list[str]], scope: str) -> set[str]:
    """The incident's members in ``scope`` (services and hosts) none of whose dependencies is a member."""
    suffix = f"@{scope}"
    members = {m[: -len(suffix)] for m in group.services if m.endswith(suffix)}
    members |= {e[len("host="): -len(suffix)] for e in group.entities if e.startswith("host=") and e.endswith(suffix)}
    return {m for m in members if not members.intersection(topology.get(m, ()))}


def recency(alert: Alert, group: GroupProfile, horizon: timedelta) -> float:
    """1.0 close to the incident's latest activity, falling to 0 at ``horizon`` from it."""
    if alert.starts_at >= group.last_at:
        gap = alert.starts_at - group.last_at
    elif alert.starts_at >= group.first_at:
        gap = timedelta(0)
    else:
        gap = group.first_at - alert.starts_at
    grace = horizon / 3
    if gap <= grace:
        return 1.0
    return max(0.0, 1.0 - (gap - grace) / (horizon - grace))


def score(alert: Alert, group: GroupProfile, policy: GroupingPolicy, topology: dict[str, list[str]],
          features: AlertFeatures | None = None) -> float:
    """The join score of ``alert`` for ``group`` (0 when unrelated); see the module documentation."""
    f = features or AlertFeatures.of(alert, policy, topology)
    near = recency(alert, group, policy.window)
    if near <= 0.0:
        return 0.0
    best = 0.0
    same_service = f.kind is not None and f"{alert.service}@{f.scope}" in group.services
    hosts = {e for e in f.entities & group.entities if e.startswith("host=")}
    # a shared host ties a node alert to anything on that node, and a workload alert to the node's alerts;
    # two workloads that merely share a node are not tied by it
    host_tie = bool(hosts) and (not alert.service or any(f"node-alert={h[5:]}" in group.entities for h in hosts))
    if host_tie or f.kind in group.kinds:
        best = near  # same host, or this alert name already on this service
    elif same_service:
        best = 0.8 * near
    cascade = recency(alert, group, policy.cascade_window)
    if cascade > 0.0 and alert.service:
        group_roots = roots(group, topology, f.scope)
        upstream = bool(f.reach & group_roots)
        cause = any(alert.service in topology.get(r, ()) for r in group_roots)
        if same_service and upstream:
            best = max(best, min(1.0, 0.8 * near + 0.2 * cascade))
        elif upstream or cause:
            best = max(best, 0.7 * cascade)
    if best < policy.join_threshold and f.labels and cascade > 0.0:
        shared = len(f.labels & group.labels)
        share = shared / len(f.labels)
        if shared >= min(2, len(f.labels)) and share >= policy.label_similarity:
            best = max(best, 0.7 * share * cascade)
    return best


def best_group(alert: Alert, groups: Iterable[GroupProfile], policy: GroupingPolicy,
               topology: dict[str, list[str]], index: GroupIndex | None = None) -> GroupProfile | None:
    """The group ``alert`` joins (best score, then latest activity), or None. With an ``index`` of ``groups``,
    only the groups that share a token with the alert are scored: the same answer, without scoring every
    open incident for every alert (a storm of unrelated alerts is otherwise quadratic)."""
    features = AlertFeatures.of(alert, policy, topology)
    if index is not None and policy.join_threshold > 0.0:
        wanted = index.candidates(alert, features, topology)
        groups = [g for g in groups if g.incident_id in wanted]  # the caller's order: ties resolve the same
    best: tuple[float, datetime] | None = None
    chosen: GroupProfile | None = None
    for group in groups:
        s = score(alert, group, policy, topology, features)
        if s < policy.join_threshold:
            continue
        key = (round(s, 6), group.last_at)
        if best is None or key > best:
            best, chosen = key, group
    return chosen


def merge_topology(*graphs: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, set[str]] = {}
    for graph in graphs:
        for service, deps in graph.items():
            out.setdefault(service, set()).update(deps)
    return {k: sorted(v) for k, v in out.items()}


class GroupIndex:
    """Open incidents by the tokens a join can rest on, so ``best_group`` scores only possible matches.

    ``score`` is above 0 only through a shared host (``host=...``), the alert's kind or service already in the
    incident, a topology tie between the alert's service and one of the incident's members (services and
    hosts), or at least one shared identifying label. A group sharing none of those tokens scores 0, below
    any ``join_threshold`` (which is > 0). Tokens are only added: a group's sets only grow, and a stale
    token merely adds a candidate that ``score`` then rejects.
    """

    def __init__(self, groups: Iterable[GroupProfile] = ()) -> None:
        self._by_token: dict[str, set[str]] = {}
        self.ids: set[str] = set()  # incidents indexed (open or since resolved)
        for group in groups:
            self.add(group)

    def add(self, group: GroupProfile) -> None:
        """Index every token of ``group`` (a group new to the index)."""
        iid = group.incident_id
        self.ids.add(iid)
        for token in _group_tokens(group):
            self._by_token.setdefault(token, set()).add(iid)

    def add_alert(self, group: GroupProfile, alert: Alert, policy: GroupingPolicy) -> None:
        """Index what ``alert`` added to ``group`` (after ``group.add(alert)``)."""
        one = GroupProfile(incident_id=group.incident_id, first_at=alert.starts_at, last_at=alert.starts_at)
        one.add(alert, policy)
        self.add(one)

    def candidates(self, alert: Alert, features: AlertFeatures, topology: dict[str, list[str]]) -> set[str]:
        out: set[str] = set()
        for token in _alert_tokens(alert, features, topology):
            out |= self._by_token.get(token, set())
        return out


def _group_tokens(group: GroupProfile) -> Iterator[str]:
    for entity in group.entities:
        if entity.startswith("host="):
            yield "e:" + entity
            yield "m:" + entity[len("host="):]  # a host is a member for topology ties
    for kind in group.kinds:
        yield "k:" + kind
    for service in group.services:
        yield "m:" + service  # "name@scope": same service, and topology ties
    for label in group.labels:
        yield "l:" + label


def _alert_tokens(alert: Alert, f: AlertFeatures, topology: dict[str, list[str]]) -> Iterator[str]:
    for entity in f.entities:
        if entity.startswith("host="):
            yield "e:" + entity
    if f.kind is not None:
        yield "k:" + f.kind
    if alert.service:
        yield f"m:{alert.service}@{f.scope}"
        callers = {s for s, deps in topology.items() if alert.service in deps}  # roots it could be the cause of
        for member in f.reach | callers:
            yield f"m:{member}@{f.scope}"
    for label in f.labels:
        yield "l:" + label
