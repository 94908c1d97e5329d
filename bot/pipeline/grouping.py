"""Correlation rules: which open incident a new alert belongs to (pure functions, no I/O).

An alert joins the best-scoring open incident:

1. same entity: the same service, or the same host/node, and the incident's last alert within
   ``window`` of this one                                                          -> score 1.0
2. topology: its service calls, or is called by, a service of the incident (settings or learned),
   and it fired within ``cascade_window`` of the incident's first alert             -> 0.8
3. similar labels: share of the alert's identifying labels that the incident already has, at least
   ``label_similarity`` (labels every alert shares, like ``env`` or ``cluster``, do not count), within
   ``cascade_window`` of the incident's first alert                                 -> 0.7 x share

Services and hosts are scoped by the alert's ``cluster``/``region``/``datacenter`` labels: ``checkout``
in ``eu-1`` is not ``checkout`` in ``us-1``. The cascade window is short because the alerts of one failure
spread along dependencies within minutes; a neighbour alerting much later is most often another problem.

With no candidate above zero the alert opens an incident. The rules never look at text that varies
between notifications (summaries, values), only at labels and services.
"""

from __future__ import annotations

from collections.abc import Iterable
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

    def is_news(self, alert: Alert) -> bool:
        """Does this alert change the picture (a new service or a new kind of alert), or repeat it on
        another pod/instance? Only news is worth a re-analysis."""
        service = f"{alert.service}@{scope_of(alert)}" if alert.service else None
        return (service is not None and service not in self.services) or alert.name not in self.names

    def add(self, alert: Alert, policy: GroupingPolicy) -> None:
        if alert.name and len(self.names) < 200:
            self.names.add(alert.name)
        if alert.service:
            self.services.add(f"{alert.service}@{scope_of(alert)}")
        self.entities.update(entities_of(alert))
        if len(self.labels) < 500:
            self.labels.update(identifying_labels(alert, policy))
        self.first_at = min(self.first_at, alert.starts_at)
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
    return out


def identifying_labels(alert: Alert, policy: GroupingPolicy) -> set[str]:
    return {f"{k}={v}" for k, v in alert.labels.items() if k not in policy.ignored_labels and v and k != "value"}


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


@dataclass
class AlertFeatures:
    """What correlation looks at in one alert, computed once per alert."""

    scope: str
    entities: set[str]
    labels: set[str]
    adjacent: set[str]  # services one hop away in the topology

    @classmethod
    def of(cls, alert: Alert, policy: GroupingPolicy, topology: dict[str, list[str]]) -> AlertFeatures:
        adjacent = neighbours(topology, [alert.service]) if alert.service else set()
        return cls(scope=scope_of(alert), entities=entities_of(alert), labels=identifying_labels(alert, policy),
                   adjacent=adjacent)


def score(alert: Alert, group: GroupProfile, policy: GroupingPolicy, topology: dict[str, list[str]],
          features: AlertFeatures | None = None) -> float:
    if alert.starts_at > group.last_at + policy.window or alert.starts_at < group.first_at - policy.window:
        return 0.0
    f = features or AlertFeatures.of(alert, policy, topology)
    if f.entities & group.entities:
        return 1.0
    if alert.starts_at > group.first_at + policy.cascade_window:
        return 0.0
    if f.adjacent and any(f"{name}@{f.scope}" in group.services for name in f.adjacent):
        return 0.8
    if not f.labels:
        return 0.0
    shared = len(f.labels & group.labels)
    share = shared / len(f.labels)
    if shared >= min(2, len(f.labels)) and share >= policy.label_similarity:
        return 0.7 * share
    return 0.0


def best_group(alert: Alert, groups: Iterable[GroupProfile], policy: GroupingPolicy,
               topology: dict[str, list[str]]) -> GroupProfile | None:
    features = AlertFeatures.of(alert, policy, topology)
    best: tuple[float, datetime] | None = None
    chosen: GroupProfile | None = None
    for group in groups:
        s = score(alert, group, policy, topology, features)
        if s <= 0.0:
            continue
        key = (s, group.last_at)
        if best is None or key > best:
            best, chosen = key, group
    return chosen


def merge_topology(*graphs: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, set[str]] = {}
    for graph in graphs:
        for service, deps in graph.items():
            out.setdefault(service, set()).update(deps)
    return {k: sorted(v) for k, v in out.items()}
