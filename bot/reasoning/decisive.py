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
from datetime import UTC, datetime, timedelta

from bot.domain import Signal, category_of, is_cause_kind
from bot.domain.workloads import workload_of_pod

_CLUSTER_SUFFIX = re.compile(r"(\.svc)?(\.cluster\.local)?\.?$")
REPORTER_SYMPTOM = "error_rate_increase"


# what a component's name says it is, and the categories of fault that live in such a component
_AFFINITY: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"db|sql|postgres|mongo|maria|oracle|database|redis|cassandra"), ("database",)),
    (re.compile(r"dns"), ("dns",)),
    (re.compile(r"^ip-|node|host|vm-|worker-\d"), ("hardware", "storage", "network")),
    (re.compile(r"rabbit|kafka|queue|mq|broker|nats"), ("capacity", "storage")),
    (re.compile(r"provider|external|third|partner|vendor|cdn"), ("dependency", "tls")),
    (re.compile(r"gateway|proxy|edge|ingress|lb|nginx|envoy"), ("security", "network", "tls", "capacity")),
)


def name_affinity(service: str, kind: str) -> float:
    """1 when the service's name suggests a component that this kind of fault lives in, 0 when it suggests
    another kind of component, 0.5 when the name says nothing."""
    category = category_of(kind).value
    low = service.lower()
    for pattern, categories in _AFFINITY:
        if pattern.search(low):
            return 1.0 if category in categories else 0.0
    return 0.5


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# a source position (``controller.go:326``, ``app.py:88``) is not a host:port
_SOURCE_FILE = re.compile(r"\.(go|py|java|js|ts|rb|rs|c|cc|cpp|h|scala|kt|cs|php|ex|exs|erl|clj|swift)(:\d+)?$", re.I)
LATE_GRACE = timedelta(minutes=15)
LATE_FACTOR = 0.6


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
    if _is_ip(host):
        return host
    short = _CLUSTER_SUFFIX.sub("", host)
    labels = [label for label in short.split(".") if label]
    if not labels:
        return host
    if labels[0] in known_lower:
        return known_lower[labels[0]]
    owner = workload_of_pod(labels[0])  # a pod's own DNS name (mongo-1.mongo.ns.svc) -> its workload
    if owner != labels[0] and owner in known_lower:
        return known_lower[owner]
    # a known service inside the first label (orders-db-primary -> orders-db), the longest one
    inside = [k for k in known_lower if len(k) >= 3 and re.search(rf"(?<![a-z0-9]){re.escape(k)}(?![a-z0-9])", labels[0])]
    if inside:
        return known_lower[max(inside, key=len)]
    if short != host or len(labels) == 1:
        return labels[0]  # a cluster-local name (svc.cluster.local): its service
    return ".".join(labels)  # another host (a registry, a provider): as the evidence names it


_AUXILIARY = re.compile(r"backup|migrat|cron|exporter|dump|restore|proxy|sidecar|operator|job")


def _name_for_address(address: str, kind: str, reporter: str | None, names: list[str],
                      topology: dict[str, list[str]]) -> str:
    """A bare IP address names no service: the reporter's (or else the incident's) one dependency whose name
    fits this kind of fault stands for it (``10.16.9.204:5432`` refused -> the database the caller uses);
    helpers around a component (backups, exporters, migrations) do not count when the component is there."""
    deps = [d for d in topology.get(reporter or "", []) if d != reporter]
    for pool in (deps, [n for n in names if n != reporter]):
        fitting = [n for n in pool if name_affinity(n, kind) == 1.0]
        main = [n for n in fitting if not _AUXILIARY.search(n.lower())]
        for group in (fitting, main):
            if len(group) == 1:
                return group[0]
    return address


def _owner_is_failing(sig: Signal, names: list[str], failing: set[str]) -> str | None:
    """For a name that did not resolve: the known service the name belongs to, when that service has a decisive
    finding of its own (the name is gone because its pods are, not because the resolver failed)."""
    looked_up = sig.attributes.get("looked_up")
    if sig.kind != "dns_failure" or not isinstance(looked_up, str) or not looked_up.strip():
        return None
    owner = resolve_culprit(looked_up, names)
    return owner if owner in failing and owner != sig.service else None


CLUSTER_DNS = "coredns"  # the cluster's resolver when the evidence names none (CoreDNS, the kube-dns Service)
_CLUSTER_LOCAL = re.compile(r"\.svc(\.cluster\.local)?\.?$|\.cluster\.local\.?$")


def _name_for_lookup(sig: Signal, names: list[str]) -> str | None:
    """A failed lookup whose resolver the incident does not know: a cluster-local name blames the cluster's
    DNS; any other name blames whoever serves that name (a provider's record that vanished, a zone that stopped
    answering), named as the evidence names it."""
    looked_up = sig.attributes.get("looked_up")
    if not isinstance(looked_up, str) or not looked_up.strip():
        return None
    host = looked_up.strip().lower().rstrip(".")
    if _CLUSTER_LOCAL.search(host):
        resolvers = [n for n in names if re.search(r"coredns|kube-dns|dns", n.lower())]
        return resolvers[0] if len(resolvers) == 1 else CLUSTER_DNS
    return resolve_culprit(host, names)


# a component's own crash, read in its own words: a database whose pods crash-loop is a database that is down
_COMPONENT_KINDS: tuple[tuple[str, str, str], ...] = (("crash_loop", "db_down", "database"),)


def _component_kinds(signals: list[Signal]) -> list[Signal]:
    extra: list[Signal] = []
    for sig in signals:
        for kind, as_kind, category in _COMPONENT_KINDS:
            if is_decisive(sig) and sig.kind == kind and sig.service and name_affinity(sig.service, as_kind) == 1.0 \
                    and category_of(as_kind).value == category:
                extra.append(sig.model_copy(update={"id": f"{sig.id}:{as_kind}", "kind": as_kind}))
    return extra


def retarget(signals: list[Signal], known: Iterable[str], topology: dict[str, list[str]] | None = None) -> list[Signal]:
    """Move each decisive finding to the component it blames; the reporter keeps a symptom of it."""
    names = sorted({k for k in known if k})
    failing = {s.service for s in signals if is_decisive(s) and s.service and s.kind != "dns_failure"}
    out: list[Signal] = []
    for sig in [*signals, *_component_kinds(signals)]:
        owner = _owner_is_failing(sig, names, failing) if is_decisive(sig) else None
        if owner is not None:
            out.append(sig.model_copy(update={"service": owner, "kind": REPORTER_SYMPTOM,
                                              "attributes": {**sig.attributes, "decisive": False, "blames": owner}}))
            continue
        culprit = sig.attributes.get("culprit") if sig.attributes else None
        if not is_decisive(sig) or not isinstance(culprit, str) or not culprit.strip() \
                or _SOURCE_FILE.search(culprit.strip()):
            out.append(sig)
            continue
        target = resolve_culprit(culprit, names)
        if sig.kind == "dns_failure" and target not in names:
            target = _name_for_lookup(sig, names) or target
        if _is_ip(target):
            target = _name_for_address(target, str(sig.kind), sig.service, names, topology or {})
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


# (cause, effect): when a service shows the cause on its own evidence (a detector named it) and a decisive
# finding of the effect, the cause explains the effect, inherits its support and the effect keeps less of it: a heap that grew for hours
# before the OOM kill is a leak, not just an OOM; threads blocked on each other's locks are why a liveness probe times
# out; a node whose own NIC link went down is NotReady because it is cut off.
EXPLAINS: tuple[tuple[str, str], ...] = (
    ("memory_leak", "oom_kill"), ("deadlock", "thread_pool_exhaustion"), ("network_partition", "node_failure"))


def with_explanations(best: dict[tuple[str, str], float], signals: Iterable[Signal]) -> dict[tuple[str, str], float]:
    """``best`` (from ``support``) plus the support that causes inherit from the effects they explain."""
    named = {(s.service, str(s.kind)) for s in signals if s.service and is_cause_kind(s.kind) and s.score >= 0.3}
    out = dict(best)
    for cause, effect in EXPLAINS:
        for (service, kind), score in best.items():
            if kind == effect and (service, cause) in named:
                out[(service, cause)] = max(out.get((service, cause), 0.0), score)
                out[(service, effect)] = round(score * 0.7, 4)  # explained: still evidence, no longer the cause
    return out


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def mark_late(signals: list[Signal], alert_time: datetime | None) -> list[Signal]:
    """Mark decisive findings that first appear well after the alert fired (``LATE_GRACE``). A time days away
    from the alert is a misread clock (a syslog line has no year), not lateness."""
    if alert_time is None:
        return signals
    limit = _aware(alert_time) + LATE_GRACE
    far = _aware(alert_time) + timedelta(days=2)
    out: list[Signal] = []
    for sig in signals:
        if is_decisive(sig) and sig.started_at is not None and limit < _aware(sig.started_at) < far:
            sig = sig.model_copy(update={"attributes": {**sig.attributes, "late": True}})
        out.append(sig)
    return out


def demote_late(best: dict[tuple[str, str], float], signals: Iterable[Signal],
                early: Iterable[tuple[str, str]] = ()) -> dict[tuple[str, str], float]:
    """A cause whose decisive findings all came late, while another cause's finding (or a change that fits,
    ``early``) was there before, came with the incident or its recovery (throttling while everything restarts):
    its support is scaled down by ``LATE_FACTOR``."""
    decisive = [s for s in signals if is_decisive(s) and s.service]
    timely = {(str(s.service), str(s.kind)) for s in decisive if not s.attributes.get("late")}
    late_only = {(str(s.service), str(s.kind)) for s in decisive if s.attributes.get("late")} - timely
    first = (set(best) - late_only) | set(early)
    out = dict(best)
    for key in late_only & set(best):
        if first - {key}:
            out[key] = round(best[key] * LATE_FACTOR, 4)
    return out
