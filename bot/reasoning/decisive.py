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
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from bot.domain import Signal, category_of, is_cause_kind
from bot.domain.models import aware
from bot.domain.roles import DATABASE, DNS, NETWORK
from bot.domain.workloads import workload_of_pod
from bot.reasoning.keywords import kinds_in_text
from detectors.kubernetes.lines import node_named

_CLUSTER_SUFFIX = re.compile(r"(\.svc)?(\.cluster\.local)?\.?$")
REPORTER_SYMPTOM = "error_rate_increase"


# registrars and registries that hold domains' delegations, as a component of the incident may be named after them
REGISTRARS = ("godaddy", "namecheap", "gandi", "tucows", "enom", "markmonitor", "porkbun", "verisign", "identity-digital",
              "donuts", "csc-?corporate", "network-?solutions", "name-?com", "ionos")
# what a component's name says it is, and the categories of fault that live in such a component
_AFFINITY: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"db|sql|postgres|mongo|maria|oracle|database|redis|memcache|cassandra"), ("database",)),
    # resolvers and name servers by what they are called (Route 53, unbound, BIND's named, a "resolver" fleet), and
    # the registrar that holds a domain's delegation, by that word or by the name of a registrar or registry
    # (``REGISTRARS``)
    (re.compile(r"dns|route-?53|resolver|unbound|nameserver|(?<![a-z])named(?![a-z])|registrar|registry-?operator|"
                r"(?<![a-z])(?:" + "|".join(REGISTRARS) + r")(?![a-z])"), ("dns",)),
    # storage arrays and volumes (a SAN, a NAS, EBS, Ceph): their slowness is disk I/O, their fullness disk space
    (re.compile(r"(?<![a-z])(?:san|nas|storage|array|3par|netapp|ebs|volume|nfs|ceph|iscsi|gluster|lun)(?![a-z])"),
     ("storage", "hardware")),
    # network devices and links
    (re.compile(r"(?<![a-z])(?:rtr|router|switch|backbone|spine|leaf|transit|firewall|fw|vpn|wan|mpls)(?![a-z])"),
     ("network",)),
    (re.compile(r"^ip-|node|host|vm-|worker-\d"), ("hardware", "storage", "network")),
    (re.compile(r"rabbit|kafka|queue|mq|broker|nats"), ("capacity", "storage")),
    (re.compile(r"provider|external|third|partner|vendor|cdn"), ("dependency", "tls")),
    (re.compile(r"gateway|proxy|edge|ingress|lb|nginx|envoy"), ("security", "network", "tls", "capacity")),
)


# what a component's own log lines say it is (``bot.domain.roles``) -> the categories of fault that live in it
_ROLE_CATEGORIES: dict[str, tuple[str, ...]] = {DATABASE: ("database",), NETWORK: ("network",), DNS: ("dns",)}
Roles = dict[str, str]  # service -> role read from its own lines (``roles_from_logs``)


def name_affinity(service: str, kind: str, roles: Roles | None = None) -> float:
    """1 when the service's name suggests a component that this kind of fault lives in, 0 when it suggests
    another kind of component, 0.5 when the name says nothing. A name that says nothing gives way to what the
    service's own lines say it is (``roles``): 1 when this kind of fault lives in such a component; else still
    0.5, since the lines show what runs there, not that the machine under it cannot fill its disk or its CPU."""
    category = category_of(kind).value
    low = service.lower()
    for pattern, categories in _AFFINITY:
        if pattern.search(low):
            return 1.0 if category in categories else 0.0
    return 1.0 if _role_fits(service, kind, roles) else 0.5


# what a symptom means on a component whose name says what it is: a storage array's slowness is disk I/O, a
# database's is its queries, a router's lost traffic is the network's
_IDENTITY_SYMPTOMS: dict[tuple[str, str], str] = {
    ("storage", "latency_increase"): "disk_io_latency",
    ("database", "latency_increase"): "db_slow_query",
    ("network", "latency_increase"): "network_latency",
    ("network", "traffic_drop"): "network_partition",
    ("dns", "error_rate_increase"): "dns_failure",
    ("dns", "traffic_drop"): "dns_failure",
}


def identity_kind(service: str | None, symptom: str | None, roles: Roles | None = None) -> str | None:
    """The cause a symptom stands for on a component whose name gives its role (``_AFFINITY``'s first category),
    or, when the name says nothing, whose own lines do (``roles``)."""
    if not service or not symptom:
        return None
    low = service.lower()
    for pattern, categories in _AFFINITY:
        if pattern.search(low):
            return _IDENTITY_SYMPTOMS.get((categories[0], symptom))
    role = (roles or {}).get(service)
    if role in _ROLE_CATEGORIES:
        return _IDENTITY_SYMPTOMS.get((_ROLE_CATEGORIES[role][0], symptom))
    return None


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


_AS_NUMBER = re.compile(r"as\d{1,10}")


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
    # a host by its short name that the incident knows by its full one (ip-10-4-7-21 for
    # ip-10-4-7-21.eu-central-1.compute.internal), or a host named for its address under another domain
    # (ip-10-4-7-21.ec2.internal): the one known name whose first label it is
    if len(labels) == 1 or _ADDRESS_HOST.match(labels[0]):
        full = [k for k in known_lower if "." in k and k.split(".", 1)[0] == labels[0]]
        if len(full) == 1:
            return known_lower[full[0]]
    # a cloud region or zone (sa-east-1, europe-west4, us-east-1a): the one known name that holds it, else its
    # region, as whole hyphen parts (aws-sa-east-1, gcp-europe-west4), the part of the provider the incident knows
    region = _REGION.fullmatch(host)
    if region:
        for part in dict.fromkeys((host, region.group("region"))):
            holders = [k for k in known_lower if re.search(rf"(?<![a-z0-9]){re.escape(part)}(?![a-z0-9])", k)]
            if len(holders) == 1:
                return known_lower[holders[0]]
    owner = workload_of_pod(labels[0])  # a pod's own DNS name (mongo-1.mongo.ns.svc) -> its workload
    if owner != labels[0] and owner in known_lower:
        return known_lower[owner]
    member = _MEMBER_NUMBER.sub("", labels[0])  # one numbered host of a fleet (ny-lb05, web-3) -> the fleet
    if member != labels[0] and member in known_lower:
        return known_lower[member]
    # ... or the fleet known by its product's full name, the stem plus a product suffix (rabbit-2 -> rabbitmq,
    # mongo-1 -> mongodb, postgres-3 -> postgresql): the one known name that is the stem and such a suffix
    product = [k for k in known_lower if re.fullmatch(rf"{re.escape(member)}(?:{_PRODUCT_SUFFIXES})", k)] \
        if re.search(r"-\d+$", labels[0]) and len(member) >= 4 else []
    if len(product) == 1:
        return known_lower[product[0]]
    # an autonomous system by its number (AS3491): the one known name that holds that number as a whole part
    # (as3491-pccw, pccw-as3491), the network the incident knows it as
    if _AS_NUMBER.fullmatch(host):
        holders = [k for k in known_lower if host in re.split(r"[^a-z0-9]+", k)]
        if len(holders) == 1:
            return known_lower[holders[0]]
    # a known service inside the first label (orders-db-primary -> orders-db), the longest one
    inside = [k for k in known_lower if len(k) >= 3 and re.search(rf"(?<![a-z0-9]){re.escape(k)}(?![a-z0-9])", member)]
    if inside:
        return known_lower[max(inside, key=len)]
    # a numbered member of a fleet the incident knows under a longer name that ends with the fleet's
    # (a balancer's server backend-3 -> objstore-backend): the one known name that does
    suffixed = [k for k in known_lower if k.endswith("-" + member)] if member != labels[0] and len(member) >= 3 else []
    if len(suffixed) == 1:
        return known_lower[suffixed[0]]
    # a provider's endpoint names the customer first and the provider's service after it
    # (acme-prod.mq-vendor.net, shop.redis.cache.example.net): the one known service that is a whole later label.
    # Not in a cluster-local name, whose second label is a namespace (ledger.payments.svc.cluster.local)
    later = [known_lower[label] for label in labels[1:] if label in known_lower] if short == host else []
    if len(set(later)) == 1:
        return later[0]
    # a known name whose parts are all labels of the host (auth.teams.internal -> teams-auth)
    parts = [k for k in known_lower if "-" in k and set(k.split("-")) <= set(labels)]
    if len(parts) == 1:
        return known_lower[parts[0]]
    if short != host or len(labels) == 1:
        return labels[0]  # a cluster-local name (svc.cluster.local): its service
    return ".".join(labels)  # another host (a registry, a provider): as the evidence names it


_MEMBER_NUMBER = re.compile(r"-?\d+[a-z]?$")
# a cloud provider's region (AWS ``sa-east-1``, ``us-gov-west-1``; GCP ``europe-west4``), with a zone's letter
_REGION = re.compile(r"(?P<region>[a-z]{2,}(?:-gov)?-(?:north|south|east|west|central)(?:east|west)?-?\d{1,2})[a-z]?")
_PRODUCT_SUFFIXES = "mq|db|sql|ql"  # what a product's full name adds to its short one (rabbitmq, mongodb, postgresql)


def _host_owner(sig: Signal, target: str, names: list[str], topology: dict[str, list[str]], roles: Roles | None,
                machines: Mapping[str, str]) -> str:
    """A peer's host that names no known component: the component whose own log shows that host as its machine
    (``auth1`` heads ``authsvc``'s syslog lines, so ``cannot connect to authsvc at auth1:8443`` blames authsvc);
    else, for a one-label host name nobody is called (``Can't connect to MySQL server on 'db1'``), the caller's one
    dependency that this kind of fault lives in, as for a bare address (``_name_for_address``). A device's own
    syslog host (``culprit_device``: a kernel or hardware line) is the machine itself and stays."""
    if target in names or sig.attributes.get("culprit_device"):
        return target
    owner = machines.get(target.lower())
    if owner is not None:
        return owner
    raw = str(sig.attributes.get("culprit") or "")
    if sig.attributes.get("blame") != "peer" or "." in raw or "." in target or ":" in target or _is_ip(target):
        return target  # a domain name (a cluster service, an external endpoint) names itself
    named = _name_for_address(target, str(sig.kind), sig.service, names, topology, roles=roles)
    fits = named != target and named in topology.get(sig.service or "", []) \
        and name_affinity(named, str(sig.kind), roles) == 1.0
    return named if fits else target


def _role_fits(service: str, kind: str, roles: Roles | None) -> bool:
    """Whether the service's own lines show it to be a component this kind of fault lives in."""
    role = (roles or {}).get(service)
    return role in _ROLE_CATEGORIES and category_of(kind).value in _ROLE_CATEGORIES[role]
# names of network devices and of the fleets that carry traffic: a device's own syslog line is theirs
_NETWORK_DEVICE = re.compile(r"rtr|router|switch|(?<![a-z])sw(?![a-z])|backbone|spine|leaf|(?<![a-z])core|firewall|"
                             r"(?<![a-z])fw(?![a-z])|(?<![a-z])lb(?![a-z])|balancer|edge|gateway|haproxy|nginx|envoy")
_AUXILIARY = re.compile(r"backup|migrat|cron|exporter|dump|restore|proxy|sidecar|operator|job")


# faults any component can show to its caller (not a database's or a provider's own): a bare address a caller with
# one dependency failed to reach this way is that dependency
_ANY_DEPENDENCY_KINDS = frozenset({"dependency_failure"})


def _name_for_address(address: str, kind: str, reporter: str | None, names: list[str],
                      topology: dict[str, list[str]], failing: frozenset[str] = frozenset(),
                      roles: Roles | None = None) -> str:
    """A bare IP address names no service: the reporter's (or else the incident's) one dependency that fits this
    kind of fault, by its name or by its own lines (``roles``), stands for it (``10.16.9.204:5432`` refused -> the
    database the caller uses); helpers around a component (backups, exporters, migrations) do not count when the
    component is there, nor, among several that fit, those whose own lines do not show them to be such a
    component (a backup job named after its database next to the database writing its server log)."""
    deps = [d for d in topology.get(reporter or "", []) if d != reporter]
    for pool in (deps, [n for n in names if n != reporter]):
        fitting = [n for n in pool if name_affinity(n, kind, roles) == 1.0]
        main = [n for n in fitting if not _AUXILIARY.search(n.lower())]
        own = [n for n in fitting if _role_fits(n, kind, roles)]
        for group in (fitting, main, own):
            if len(group) == 1:
                return group[0]
        if pool is deps and len(deps) == 1 and kind in _ANY_DEPENDENCY_KINDS:
            return deps[0]  # a caller with one dependency reached that one, whatever its name says
    down = [d for d in deps if d in failing]  # else the one dependency failing on its own evidence
    return down[0] if len(down) == 1 else address


def _owner_is_failing(sig: Signal, names: list[str], failing: set[str]) -> str | None:
    """For a name that did not resolve: the known service the name belongs to, when that service has a decisive
    finding of its own (the name is gone because its pods are, not because the resolver failed). The reporter
    may be that service itself: a replica set member that cannot look up its peer ``mongo-1.mongo.svc`` while
    mongo's own volumes fail to attach."""
    looked_up = sig.attributes.get("looked_up")
    if sig.kind != "dns_failure" or not isinstance(looked_up, str) or not looked_up.strip():
        return None
    owner = resolve_culprit(looked_up, names)
    return owner if owner in failing else None


# Kinds whose fault lives in the component that answered, not in the caller that logged it (docs/causes.md:
# a provider's throttling reply is ``rate_limited`` on the provider, a slow query is the database's). Not a
# connection pool: an exhausted pool is the caller's own (``db_connection_exhaustion`` on the app).
_ANSWERER_KINDS: frozenset[str] = frozenset(
    {"rate_limited", "dependency_failure", "db_down", "db_slow_query", "db_lock_contention", "db_replication_lag",
     "certificate_expired"}
)


_SUBJECT = re.compile(r"\bCN=([^,)'\"]+)", re.IGNORECASE)
# what a certificate check names as the thing checked: a quoted name (``for software module 'orders-ctrl'``)
_QUOTED = re.compile(r"'([\w.-]+)'|\"([\w.-]+)\"")


def _flat(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _own_certificate(sig: Signal, deps: list[str] | None = None) -> bool:
    """Whether an expired certificate's subject (``CN=...``), or the name the check quotes as what it checked
    (``software module 'orders-ctrl'``), names the reporter itself: its own certificate (a software module's, a
    server's), not one a dependency presented. A quoted name that holds a dependency's name is that dependency's
    (``'orders-db'`` in ``orders``' log)."""
    line = str(sig.attributes.get("line") or "")
    name = _flat(str(sig.service or ""))
    if not name:
        return False
    if any(name in _flat(m.group(1)) for m in _SUBJECT.finditer(line)):
        return True
    others = [_flat(d) for d in deps or [] if d and d != sig.service]
    quoted = [_flat(m.group(1) or m.group(2)) for m in _QUOTED.finditer(line)]
    return any(name in q and not any(o and o in q for o in others) for q in quoted)


def _answerer(sig: Signal, topology: dict[str, list[str]], roles: Roles | None = None) -> str | None:
    """For a decisive finding that names no culprit, of a kind that lives in the component that answered: the
    reporter's one downstream dependency that can be it. A caller whose own name fits the kind (a database
    logging its own slow queries) keeps it; so does one with several candidates (the evidence must choose)."""
    if sig.kind not in _ANSWERER_KINDS or not sig.service or name_affinity(sig.service, str(sig.kind), roles) == 1.0:
        return None
    deps = [d for d in topology.get(sig.service, []) if d and d != sig.service]
    if sig.kind == "certificate_expired" and _own_certificate(sig, deps):
        return None
    if str(sig.kind).startswith("db_"):
        deps = [d for d in deps if name_affinity(d, str(sig.kind), roles) == 1.0]
    else:
        deps = [d for d in deps if name_affinity(d, str(sig.kind), roles) > 0.0 and not _AUXILIARY.search(d.lower())]
    return deps[0] if len(deps) == 1 else None


def _relayed_answerer(sig: Signal, signals: list[Signal], topology: dict[str, list[str]],
                      roles: Roles | None = None) -> str | None:
    """``_answerer``, followed down a chain of relays: when the answerer reports the same fault, naming no culprit,
    in its own evidence (a verifier failing because what it checks against failed), the fault lives further down,
    in that answerer's own answerer (at most three hops)."""
    target = _answerer(sig, topology, roles)
    seen = {sig.service}
    for _ in range(3):
        if target is None or target in seen:
            break
        relay = next((s for s in signals if s.service == target and s.kind == sig.kind and is_decisive(s)
                      and not (s.attributes.get("culprit") or "")), None)
        further = _answerer(relay, topology, roles) if relay is not None else None
        if further is None:
            break
        seen.add(target)
        target = further
    return target


def dns_relay(resolver: str, signals: list[Signal]) -> str | None:
    """The component a resolver's own lines blame for the lookups it could not answer (CoreDNS whose forwards to
    its upstream time out: that upstream), so that its callers' failed lookups go there too; None when the
    resolver's own evidence blames nothing further down."""
    for sig in signals:
        if sig.kind == "dns_failure" and is_decisive(sig) and sig.service and sig.service != resolver \
                and sig.attributes.get("seen_on") == resolver:
            return str(sig.service)
    return None


CLUSTER_DNS = "coredns"  # the cluster's resolver when the evidence names none (CoreDNS, the kube-dns Service)
_CLUSTER_LOCAL = re.compile(r"\.svc(\.cluster\.local)?\.?$|\.cluster\.local\.?$")


# a lookup the resolver itself did not answer (Go: ``lookup x on 169.254.169.253:53: read udp ...: i/o timeout``,
# ``dial udp 10.0.0.2:53: connect: connection refused``): the resolver failed, not whoever serves the name
_RESOLVER_UNANSWERED = re.compile(r"\bon \S+:53: .{0,100}(?:i/o timeout|connection refused)|\bdial udp \S+:53: ",
                                  re.IGNORECASE)


# a name the local resolver (or the service discovery behind it) is itself authoritative for: Consul's
# ``*.service.consul``, a private zone's ``*.internal``. Kubernetes' cluster-local names have their own row.
_DISCOVERY_NAME = re.compile(r"\.(?:consul|internal)\.?$", re.IGNORECASE)
# the resolver answered with a failure of its own (SERVFAIL; Go prints ``server misbehaving``)
_RESOLVER_FAILED = re.compile(r"server misbehaving|SERVFAIL", re.IGNORECASE)


def resolver_failed_own_name(sig: Signal) -> bool:
    """Whether a failed lookup is the resolver's own failure: it left the lookup unanswered (a timeout, a refusal on
    port 53), or it answered SERVFAIL for a name it is itself authoritative for (``api.service.consul``): the name's
    owner is not at fault, what answers for it is."""
    line = sig.attributes.get("line")
    if not isinstance(line, str):
        return False
    if _RESOLVER_UNANSWERED.search(line):
        return True
    looked_up = sig.attributes.get("looked_up")
    return bool(isinstance(looked_up, str) and _DISCOVERY_NAME.search(looked_up.strip())
                and _RESOLVER_FAILED.search(line))


DELEGATION_RULES = frozenset({"dns.delegation_changed"})


def _registrar_for(sig: Signal, names: list[str], topology: dict[str, list[str]], roles: Roles | None = None) -> str | None:
    """For a domain's delegation changed (``DELEGATION_RULES``) seen by a component that does not hold it (a domain
    monitor, a prober): the reporter's one dependency whose name says it holds names (a registrar, a DNS provider);
    for a reporter the topology does not place, the incident's one such component. A reporter that holds it (the
    registrar's own log) keeps it; several candidates choose nothing."""
    if sig.attributes.get("rule") not in DELEGATION_RULES or not sig.service \
            or name_affinity(sig.service, "dns_failure", roles) == 1.0:
        return None
    deps = [d for d in topology.get(sig.service, []) if d and d != sig.service]
    placed = bool(deps) or any(sig.service in d for d in topology.values())
    pool = deps if placed else [n for n in names if n != sig.service]
    holders = [d for d in pool if name_affinity(d, "dns_failure", roles) == 1.0]
    return holders[0] if len(holders) == 1 else None


def _resolver_answered_failure(sig: Signal) -> bool:
    """Whether a failed lookup's line says the resolver answered with a failure of its own (SERVFAIL, Go's ``server
    misbehaving``), not that the name does not exist."""
    line = sig.attributes.get("line")
    return isinstance(line, str) and _RESOLVER_FAILED.search(line) is not None


def _resolver_for(sig: Signal, topology: dict[str, list[str]]) -> str | None:
    """For a lookup its resolver left unanswered (or failed for a name it serves itself,
    ``resolver_failed_own_name``): the reporter's one dependency that is a resolver; for a failed
    answer that names no looked-up host (a probe's ``rcode=SERVFAIL``), the reporter's one dependency whose name
    does not say it is something else (the DNS provider a prober checks); else None."""
    if sig.kind != "dns_failure":
        return None
    deps = [d for d in topology.get(sig.service or "", []) if d and d != sig.service]
    if resolver_failed_own_name(sig):
        resolvers = [d for d in deps if name_affinity(d, "dns_failure") == 1.0]
        return resolvers[0] if len(resolvers) == 1 else _shared_resolver(sig, deps, topology)
    if sig.attributes.get("looked_up") and _resolver_answered_failure(sig):
        # SERVFAIL for a name (Go: "server misbehaving"): the resolving path produced no answer; when the reporter
        # relies on one name server the topology names as such, and on nothing else that could be one, that is what
        # failed to answer (its DNS provider)
        able = [d for d in deps if name_affinity(d, "dns_failure") > 0.0 and not _AUXILIARY.search(d.lower())]
        if len(able) == 1 and name_affinity(able[0], "dns_failure") == 1.0:
            return able[0]
    if not sig.attributes.get("looked_up"):
        able = [d for d in deps if name_affinity(d, "dns_failure") > 0.0 and not _AUXILIARY.search(d.lower())]
        return able[0] if len(able) == 1 else None
    return None


def _shared_resolver(sig: Signal, deps: list[str], topology: dict[str, list[str]]) -> str | None:
    """A lookup the resolver left unanswered, when no dependency is named as a resolver: the reporter's one
    dependency that every caller in the topology uses (name resolution is what all of them need), that is not
    the name that failed to resolve and whose name does not say it is something else (a shared database or
    broker). Two callers at least, or "shared" says nothing."""
    callers = [c for c, d in topology.items() if c and d]
    if len(callers) < 2:
        return None
    looked_up = sig.attributes.get("looked_up")
    owner = resolve_culprit(looked_up, deps) if isinstance(looked_up, str) and looked_up.strip() else ""
    shared = [d for d in deps if d != owner and all(d in topology[c] for c in callers if c != d)
              and name_affinity(d, "dns_failure") > 0.0 and not _AUXILIARY.search(d.lower())]
    return shared[0] if len(shared) == 1 else None


# lookups answered "no such name" (NXDOMAIN, ENOTFOUND): an answer, not a resolver that failed to give one
NO_SUCH_NAME_RULES = frozenset({"dns.nxdomain"})


def _name_for_lookup(sig: Signal, names: list[str]) -> str | None:
    """A failed lookup whose resolver the incident does not know: a cluster-local name blames the cluster's
    DNS, unless the answer was that the name does not exist (``NO_SUCH_NAME_RULES``) and the name is a Service of a
    workload the incident knows: the resolver answered, the Service is gone, and that workload is where to look;
    any other name blames whoever serves that name (a provider's record that vanished, a zone that stopped
    answering), named as the evidence names it."""
    looked_up = sig.attributes.get("looked_up")
    if not isinstance(looked_up, str) or not looked_up.strip():
        return None
    host = looked_up.strip().lower().rstrip(".")
    if _CLUSTER_LOCAL.search(host) and sig.attributes.get("rule") in NO_SUCH_NAME_RULES:
        owner = resolve_culprit(host, names)
        if owner in names and owner != sig.service and name_affinity(owner, "dns_failure") < 1.0:
            return owner
    if _CLUSTER_LOCAL.search(host):
        resolvers = [n for n in names if re.search(r"coredns|kube-dns|dns", n.lower())]
        return resolvers[0] if len(resolvers) == 1 else CLUSTER_DNS
    return resolve_culprit(host, names)


# a StatefulSet member's per-pod name (``kafka-1.kafka-headless.ns.svc.cluster.local``): ordinal, then the Service
_PEER_NAME = re.compile(r"^(?P<set>[a-z0-9]([a-z0-9-]*[a-z0-9])?)-\d+\.[a-z0-9-]+\.")


def _own_peer_names_missing(sig: Signal, names: list[str]) -> bool:
    """A workload told that its own members' per-pod names do not exist (NXDOMAIN for ``<itself>-N.<service>...``
    in the cluster's domain): the DNS answered, and those names exist only while the workload's governing headless
    Service fits it (its ``serviceName``, ``publishNotReadyAddresses`` when the members must find each other before
    they are ready). The workload's own spec is what to fix, not the DNS (docs/causes.md). Not when the workload
    fails otherwise too (``retarget``'s ``held_back``: a member whose volume cannot attach has no name either)."""
    if sig.kind != "dns_failure" or sig.attributes.get("rule") not in NO_SUCH_NAME_RULES or not sig.service:
        return False
    looked_up = sig.attributes.get("looked_up")
    if not isinstance(looked_up, str):
        return False
    host = looked_up.strip().lower().rstrip(".")
    found = _PEER_NAME.match(host)
    return bool(found and _CLUSTER_LOCAL.search(host) and found.group("set") == sig.service.lower())


# a component's own crash, read in its own words: a database whose pods crash-loop is a database that is down
_COMPONENT_KINDS: tuple[tuple[str, str, str], ...] = (("crash_loop", "db_down", "database"),)


def _component_kinds(signals: list[Signal], roles: Roles | None = None) -> list[Signal]:
    extra: list[Signal] = []
    for sig in signals:
        for kind, as_kind, category in _COMPONENT_KINDS:
            if is_decisive(sig) and sig.kind == kind and sig.service and name_affinity(sig.service, as_kind, roles) == 1.0 \
                    and category_of(as_kind).value == category:
                extra.append(sig.model_copy(update={"id": f"{sig.id}:{as_kind}", "kind": as_kind}))
    return extra


def _quoted_database_error(sig: Signal, topology: dict[str, list[str]], roles: Roles | None = None) -> Signal:
    """A client's log quoting its database's error without naming the database (``The table 'x' is full``) is
    decisive for that database when the topology gives the client exactly one."""
    if sig.attributes.get("culprit_role") != "database" or sig.attributes.get("decisive") or not sig.service:
        return sig
    deps = [d for d in topology.get(sig.service, []) if d != sig.service and name_affinity(d, "db_down", roles) == 1.0]
    if len(deps) != 1:
        return sig
    return sig.model_copy(update={"score": round(min(0.97, float(sig.score) / 0.7), 4),
                                  "attributes": {**sig.attributes, "decisive": True, "culprit": deps[0]}})


def _device_target(sig: Signal, target: str, names: list[str], roles: Roles | None = None,
                   fleets: dict[str, set[str]] | None = None) -> str:
    """A syslog host that names no known component: a device of the fleet whose log this is (``bb1-ash6`` in
    the backbone routers' log) when that log is a network device's or fleet's, by its name or by its lines
    (device syslog: ``roles``), when the host is named after that log's service, or when it is one of several
    numbered members of one fleet that the same log shows failing the same way (``fleets``: ``app-3``, ``app-5``
    in ``altea``'s log are that service's machines, not two components of their own); else the host itself."""
    if target in names or not sig.attributes.get("culprit_device") or not sig.service:
        return target
    device = _NETWORK_DEVICE.search(sig.service.lower()) or (roles or {}).get(sig.service) == NETWORK
    fleet = (fleets or {}).get(sig.service, set())
    return sig.service if device or _member_of(target, sig.service) or _named_for(target, sig.service) \
        or _stem(target) in fleet else target


def _stem(host: str) -> str:
    """A numbered host's fleet stem (``alt-app-3`` -> ``alt-app``); empty for a host without a number or one
    named for its address (``ip-10-0-3-17``), which is one machine."""
    name = host.split(".", 1)[0].lower()
    if _ADDRESS_HOST.match(name):
        return ""
    stem = _MEMBER_NUMBER.sub("", name).rstrip("-")
    return stem if stem != name and len(stem) >= 2 else ""


FLEET_MEMBERS_MIN = 2


def _log_fleets(signals: list[Signal], names: list[str]) -> dict[str, set[str]]:
    """Per service, the fleet stems of which at least ``FLEET_MEMBERS_MIN`` distinct numbered hosts, none a known
    component, report decisive findings of one kind in that service's log: a failure the same log shows on
    several members of one fleet is the fleet's (the service's), not one machine's."""
    hosts: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    known = {n.lower() for n in names}
    for sig in signals:
        culprit = sig.attributes.get("culprit") if sig.attributes else None
        if not (is_decisive(sig) and sig.service and sig.attributes.get("culprit_device") and isinstance(culprit, str)):
            continue
        stem = _stem(culprit)
        if stem and culprit.lower() not in known:
            hosts[(sig.service, str(sig.kind), stem)].add(culprit.lower())
    out: dict[str, set[str]] = defaultdict(set)
    for (service, _kind, stem), members in hosts.items():
        if len(members) >= FLEET_MEMBERS_MIN:
            out[service].add(stem)
    return out


def _member_of(host: str, service: str) -> bool:
    """Whether a host is a numbered member named after the service whose log it writes in (``edge1`` in
    ``phl-edge``'s log, ``web03`` in ``shop-web``'s): its name less the number is one of the service's words."""
    stem = _MEMBER_NUMBER.sub("", host.split(".", 1)[0].lower())
    return stem != host.split(".", 1)[0].lower() and len(stem) >= 2 and stem in service.lower().split("-")


def _named_for(host: str, service: str) -> bool:
    """Whether the service whose log it writes in is named for the host and what runs there (``git`` in
    ``git-server``'s log, ``mail`` in ``mail-relay``'s): the service's name is the host's and more words."""
    name = host.split(".", 1)[0].lower()
    return len(name) >= 2 and service.lower().startswith(name + "-")


# what a caller can say of a component it cannot reach: that it failed, not how. The component's own evidence says how.
_GENERIC_FAILURE = "dependency_failure"
_OWN_MECHANISM_MIN = 0.7


def _own_mechanism(moved: Signal, signals: list[Signal]) -> Signal:
    """A caller's "X is down / failing" moved to X becomes X's own mechanism when X's own evidence names one
    strongly (a load balancer marking web servers DOWN while their CPU is pegged: ``cpu_saturation`` on web)."""
    if moved.kind != _GENERIC_FAILURE or not moved.service:
        return moved
    own = [s for s in signals if s.service == moved.service and s.kind and is_cause_kind(s.kind)
           and s.kind != _GENERIC_FAILURE and category_of(s.kind).value != "dependency"
           and float(s.score) >= _OWN_MECHANISM_MIN and not s.attributes.get("reporter")]
    if not own:
        return moved
    best = max(own, key=lambda s: float(s.score))
    return moved.model_copy(update={
        "kind": best.kind, "score": round(min(float(moved.score), float(best.score)), 4),
        "attributes": {**moved.attributes, "reported_as": _GENERIC_FAILURE, "mechanism_from": best.id},
    })


# a measurement of the path through another component, taken where the probe runs (``loss_percent_via_level3`` on
# our edge router): the loss or delay is that component's when the incident knows it by that name
_VIA = re.compile(r"(?:^|[_.\-])via[_.\-](?P<name>[a-z0-9][a-z0-9_.\-]*)$", re.IGNORECASE)
_PATH_KINDS = frozenset({"packet_loss", "network_latency", "network_partition"})


def path_metrics(signals: list[Signal], known: Iterable[str]) -> list[Signal]:
    """Move each network-path metric named ``..._via_<component>`` to that component (``transit_a`` -> ``transit-a``);
    the service it was measured on is kept as ``measured_on``."""
    lower = {k.lower(): k for k in known if k}
    out: list[Signal] = []
    for sig in signals:
        match = _VIA.search(sig.metric or "") if sig.kind in _PATH_KINDS else None
        name = match.group("name").lower() if match else ""
        target = lower.get(name) or lower.get(name.replace("_", "-")) if name else None
        if target and target != sig.service:
            out.append(sig.model_copy(update={"service": target,
                                              "attributes": {**sig.attributes, "measured_on": sig.service}}))
        else:
            out.append(sig)
    return out


# A caller's failures that all concern one dependency it names (``cosmosdb_eastus_error_ratio``, a new error template
# ``monitor=azure_cosmosdb ... result=error status=400``, ``filtered_att_per_min``) are that dependency's failure
# (docs/causes.md: the component that answered), when the dependency has no evidence of its own to say how.
_FAILURE_METRIC = re.compile(r"error|fail|filter|reject|denied|5xx|timeout|undeliver", re.IGNORECASE)
_NAMED_MIN = 0.8
NAMED_FACTOR = 0.7
_NAMED_HOPS = 2
_GENERIC_NAMED = frozenset({"dependency_failure", "exception_surge", "error_rate_increase"})
_CALLER_CHANGES = frozenset({"deploy", "config", "feature_flag", "flag", "bad_deploy", "config_change"})
_CALLER_CHANGE_WINDOW = timedelta(minutes=30)
_THAT_IT_FAILS = frozenset({"traffic_drop"})


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", text.lower()) if t]


def _named_in(text: str, names: Iterable[str]) -> set[str]:
    """The names whose tokens appear, in a row, among the text's tokens (``azure_cosmosdb`` names ``cosmosdb``)."""
    joined = f" {' '.join(_tokens(text))} "
    found: set[str] = set()
    for name in names:
        parts = _tokens(name)
        if parts and len("".join(parts)) >= 3 and f" {' '.join(parts)} " in joined:
            found.add(name)
    return found


def _below(service: str, topology: dict[str, list[str]], hops: int = 2) -> set[str]:
    """What ``service`` depends on, ``hops`` levels down, without the service itself."""
    found: set[str] = set()
    frontier = [service]
    for _ in range(hops):
        frontier = [d for f in frontier for d in topology.get(f, []) if d and d != service and d not in found]
        found.update(frontier)
    return found


def named_dependency_failures(signals: list[Signal], topology: dict[str, list[str]] | None) -> list[Signal]:
    """The signals plus, for each strong failure signal of a caller (an error metric's change point, a new error
    template) that names exactly one component below it in the topology (two levels), a decisive
    ``dependency_failure`` on that component (``reporter`` the caller) when that component has no signal of its own.
    Not when the text names a more specific failure (a lookup, a refused connection: the rules that read those
    decide), when the caller has a decisive finding of its own, or when the caller itself was changed (deploy, config,
    flag) within ``_CALLER_CHANGE_WINDOW`` before: its new requests may be what the dependency refuses."""
    topology = topology or {}
    # a dependency whose only own signal is that it serves less (its throughput fell, which its callers' failing calls
    # would show as well) does not speak for itself: the caller's naming still points at it
    speaking = {s.service for s in signals if s.service and s.source != "changes" and float(s.score) >= 0.3
                and str(s.kind) not in _THAT_IT_FAILS}
    explained = {s.service for s in signals if is_decisive(s)}  # a caller whose own lines already say what failed
    # a caller changed shortly before may be sending what its dependency now refuses: its change is the suspect
    changed = [(s.service, aware(s.started_at)) for s in signals if s.source == "changes" and s.started_at
               and str(s.kind) in _CALLER_CHANGES]
    out = list(signals)
    for sig in signals:
        if not sig.service or float(sig.score) < _NAMED_MIN or sig.attributes.get("decisive") \
                or sig.service in explained:
            continue
        source = (sig.source or "").lower()
        if source.startswith("metric") and sig.metric and (
                sig.kind == "error_rate_increase" or (sig.kind == "saturation" and _FAILURE_METRIC.search(sig.metric))):
            text = sig.metric
        elif sig.detector == "log.new_template" and sig.kind == "error_rate_increase":
            template = sig.attributes.get("template")
            text = template if isinstance(template, str) else sig.title
        else:
            continue
        # a structured line names what it failed on in its other fields (``"upstream": "edge-fn.provider.net"``,
        # ``host=...``), not only in its message: the names are read in the whole example line too
        example = sig.evidence[0].summary if sig.detector == "log.new_template" and sig.evidence else ""
        start = aware(sig.started_at) if sig.started_at else None
        if start is not None and any(service == sig.service and timedelta(0) <= start - when <= _CALLER_CHANGE_WINDOW
                                     for service, when in changed):
            continue
        if set(kinds_in_text(text)) - _GENERIC_NAMED:  # the text names how it failed (a lookup, a refusal...)
            continue
        named = _named_in(f"{text}\n{example}", _below(sig.service, topology, _NAMED_HOPS))
        if len(named) != 1:
            continue
        target = named.pop()
        if target in speaking:
            continue
        out.append(sig.model_copy(update={
            "id": f"{sig.id}:named", "service": target, "kind": "dependency_failure",
            "score": round(float(sig.score) * NAMED_FACTOR, 4),
            "attributes": {**sig.attributes, "decisive": True, "reporter": sig.service, "culprit": target,
                           "named_in": text},
        }))
    return out


_ADDRESS_HOST = re.compile(r"^ip-\d+-\d+-\d+-\d+")  # a host named for its address (ip-10-20-3-41) is one host


# the parts a chart gives the workloads of one release (``kyverno-admission-controller``, ``argocd-repo-server``,
# ``gatekeeper-controller-manager``): a closed vocabulary of roles, never a service of its own
_RELEASE_PARTS = re.compile(
    r"-(?:(?:admission|background|cleanup|reports|application|applicationset|notifications)-controller|"
    r"controller(?:-manager)?|operator|webhook|admission|repo-server|server|agent|cainjector)$")


def _known_as(name: str, fleets: dict[str, str]) -> str:
    """The topology's name for a component the finding names another way: a host by its short name when the
    topology knows it fully qualified (``ip-10-4-7-21`` -> ``ip-10-4-7-21.eu-central-1.compute.internal``, the one
    such name), and one part of a release by the release when the topology knows only that (``kyverno-admission-
    controller`` -> ``kyverno``). Empty when neither holds."""
    if "." not in name and (qualified := node_named(name, list(fleets))) != name:
        return qualified
    release = _RELEASE_PARTS.sub("", name)
    return release if release != name and release in fleets else ""


def fleet_members(signals: list[Signal], topology: dict[str, list[str]] | None) -> list[Signal]:
    """A finding on one numbered member of a fleet the topology knows (``kafka-3`` when the topology has ``kafka``)
    is the fleet's (docs/causes.md: a numbered member of a fleet by the fleet's name); the host is kept as
    ``member``. A name the topology knows itself stays; one it knows another way is named its way (``_known_as``)."""
    fleets = {n.lower(): n for n in {*(topology or {}), *(d for deps in (topology or {}).values() for d in deps)} if n}
    out: list[Signal] = []
    for sig in signals:
        name = (sig.service or "").lower()
        fleet = _MEMBER_NUMBER.sub("", name) if name and name not in fleets and not _ADDRESS_HOST.match(name) else name
        if name and name not in fleets and fleet not in fleets:
            fleet = _known_as(name, fleets) or fleet
        if fleet != name and fleet in fleets:
            out.append(sig.model_copy(update={"service": fleets[fleet],
                                              "attributes": {**sig.attributes, "member": sig.service}}))
        else:
            out.append(sig)
    return out


# A decisive line printed long before the alert is set aside as older than the incident (detectors/logs/decisive.py
# ``_aged``: ``predates_alert``). Alerts often fire half an hour or more after a failure began, though: when the
# incident's measured change (metric change points on any component, or a component that stopped reporting:
# detectors/logs/silence.py) starts right after that line, and not before it, the line is where the incident began,
# and it is decisive again.
INCIDENT_START_WINDOW = timedelta(minutes=15)
_START_SLACK = timedelta(minutes=2)
_AGED_FACTOR = 0.6  # detectors/logs/decisive.py OLD_FACTOR
_START_MIN = 0.5
_OWN_START_MIN = 0.1
SILENCE_DETECTOR = "log.silence"


def _measured_change(signal: Signal) -> bool:
    """A change the detectors measured: a metric's change point, or a stream that went silent."""
    return ((signal.source or "").startswith("metric") or signal.detector == SILENCE_DETECTOR) \
        and signal.started_at is not None and float(signal.score) >= _START_MIN and signal.kind is not None


def _own_step(signal: Signal, service: str | None, began: datetime) -> bool:
    """A metric of the finding's own component that changed when the finding's line began (within ``_START_SLACK``):
    a measurement of its own that dates the failure, however modest its score (``_OWN_START_MIN``)."""
    return (signal.source or "").startswith("metric") and signal.service == service and service is not None \
        and signal.started_at is not None and signal.kind is not None and float(signal.score) >= _OWN_START_MIN \
        and abs(aware(signal.started_at) - began) <= _START_SLACK


def revive_incident_start(signals: list[Signal]) -> list[Signal]:
    """Make a decisive finding set aside for predating the alert decisive again when the incident's measured change
    (``_measured_change``) begins within ``INCIDENT_START_WINDOW`` after it and none began before it. A metric of the
    finding's own component that stepped the minute its line began (``_own_step``: a mail server's error count jumping
    with its ``Too many open files``) is such a change even when its score is low: the failure began there, an hour
    before a probe noticed it."""
    changes = [aware(s.started_at) for s in signals if _measured_change(s)]  # type: ignore[arg-type]
    aged = [s for s in signals if s.attributes.get("predates_alert")]
    if not changes and not aged:
        return signals
    out: list[Signal] = []
    for sig in signals:
        if sig.attributes.get("predates_alert") and sig.started_at is not None and is_cause_kind(sig.kind) \
                and not sig.attributes.get("semantic"):
            began = aware(sig.started_at)
            own = [aware(s.started_at) for s in signals if _own_step(s, sig.service, began)]  # type: ignore[arg-type]
            if not changes and not own:
                out.append(sig)
                continue
            first_change = min(changes + own)
            if began - _START_SLACK <= first_change <= began + INCIDENT_START_WINDOW:
                sig = sig.model_copy(update={
                    "score": round(min(0.97, float(sig.score) / _AGED_FACTOR), 4),
                    "attributes": {**sig.attributes, "decisive": True, "predates_alert": False,
                                   "incident_start": True},
                })
        out.append(sig)
    return out


# An operator shutting a session or an interface down on purpose (``net.admin_down``) makes that device's session and
# link counts fall at that moment: the fall is the operator's doing (a mitigation, maintenance), not a partition.
_REQUESTED_RULES = frozenset({"net.admin_down"})
_REQUESTED_SPAN = timedelta(minutes=3)
REQUESTED_FACTOR = 0.3


def requested_drops(signals: list[Signal]) -> list[Signal]:
    """Scale down (``REQUESTED_FACTOR``) each measured ``network_partition`` of a device that began within
    ``_REQUESTED_SPAN`` of an operator's shutdown the same device logged, and say so (``operator_requested``)."""
    downs: dict[str, list[datetime]] = defaultdict(list)
    for sig in signals:
        if sig.attributes.get("rule") in _REQUESTED_RULES and sig.service and sig.started_at is not None:
            downs[sig.service].append(aware(sig.started_at))
    if not downs:
        return signals
    out: list[Signal] = []
    for sig in signals:
        began = aware(sig.started_at) if sig.started_at is not None else None
        if sig.kind == "network_partition" and (sig.source or "").startswith("metric") and began is not None \
                and any(abs(began - at) <= _REQUESTED_SPAN for at in downs.get(sig.service or "", [])):
            sig = sig.model_copy(update={"score": round(float(sig.score) * REQUESTED_FACTOR, 4),
                                         "attributes": {**sig.attributes, "operator_requested": True}})
        out.append(sig)
    return out


# The kernel OOM-kills a process on a host; the host's log names the program. When the program is a known server's
# (``redis-server``, ``mysqld``, ``ceph-osd``: the product a component of the incident is named after), the kill is that
# component's ``oom_kill``, not the host's (docs/causes.md OOM kills): its callers' refused connections follow from it.
# Programs that run many things (``java``, ``python``, ``node``) or the node's own agents (``kubelet``) name no component.
DAEMON_PRODUCTS: dict[str, str] = {
    "redis-server": "redis",
    "mysqld": "mysql",
    "mariadbd": "mariadb",
    "postgres": "postgres",
    "postmaster": "postgres",
    "mongod": "mongo",
    "memcached": "memcached",
    "ceph-osd": "ceph",
    "ceph-mon": "ceph",
    "beam.smp": "rabbitmq",
    "etcd": "etcd",
    "haproxy": "haproxy",
    "envoy": "envoy",
    "nginx": "nginx",
    "clickhouse-serv": "clickhouse",  # the kernel's 15-character process name of clickhouse-server
    "influxd": "influx",
    "consul": "consul",
}


def daemon_owner(program: str, names: Iterable[str]) -> str | None:
    """The one known component a server program belongs to: named as its product (``redis``), with the product as a
    part of its name (``redis-cache``, ``orders-redis``) or as its start (``mongodb``); None when none or several."""
    product = DAEMON_PRODUCTS.get(program.lower())
    if product is None:
        return None
    fits = sorted({n for n in names if n.lower() == product or product in re.split(r"[-_.]", n.lower())
                   or n.lower().startswith(product)})
    exact = [n for n in fits if n.lower() == product]
    if exact:
        return exact[0]
    return fits[0] if len(fits) == 1 else None


def _killed_daemon(sig: Signal, names: list[str]) -> Signal:
    """A kernel OOM kill whose victim is a known component's server program blames that component."""
    program = sig.attributes.get("killed_program") if sig.attributes else None
    if not isinstance(program, str) or sig.attributes.get("culprit") or not is_decisive(sig):
        return sig
    owner = daemon_owner(program, names)
    if owner is None or owner == sig.service:
        return sig
    return sig.model_copy(update={"attributes": {**sig.attributes, "culprit": owner}})


def retarget(signals: list[Signal], known: Iterable[str], topology: dict[str, list[str]] | None = None,
             roles: Roles | None = None, machines: Mapping[str, str] | None = None) -> list[Signal]:
    """Move each decisive finding to the component it blames; the reporter keeps a symptom of it. ``roles``: what
    services are by their own lines (``bot.domain.roles``), used where a name does not say it; ``machines``: host ->
    the service whose own log shows it as its machine (``detectors.logs.machines``)."""
    signals = fleet_members(revive_incident_start(requested_drops(signals)), topology)
    names = sorted({k for k in known if k})
    signals = [_killed_daemon(_quoted_database_error(s, topology or {}, roles), names) for s in signals]
    failing = {s.service for s in signals if is_decisive(s) and s.service and s.kind != "dns_failure"}
    fleets = _log_fleets(signals, names)
    # workloads with a failure of their own beside their lookups and their probes (a volume that cannot attach): a
    # member that is not running has no name, and that failure, not the Service, is why
    held_back = {s.service for s in signals if is_decisive(s) and s.kind != "dns_failure"
                 and not str(s.attributes.get("rule", "")).startswith("probe.")}
    out: list[Signal] = []
    for sig in [*signals, *_component_kinds(signals, roles)]:
        if _own_peer_names_missing(sig, names) and sig.service not in held_back:
            out.append(sig.model_copy(update={"kind": "config_change",
                                              "attributes": {**sig.attributes, "own_peer_names": True}}))
            continue
        owner = _owner_is_failing(sig, names, failing) if is_decisive(sig) else None
        if owner is not None:
            out.append(sig.model_copy(update={"service": owner, "kind": REPORTER_SYMPTOM,
                                              "attributes": {**sig.attributes, "decisive": False, "blames": owner}}))
            continue
        culprit = sig.attributes.get("culprit") if sig.attributes else None
        if is_decisive(sig) and (not isinstance(culprit, str) or not culprit.strip()):
            culprit = _registrar_for(sig, names, topology or {}, roles) \
                or _relayed_answerer(sig, signals, topology or {}, roles) or _resolver_for(sig, topology or {})
        if not is_decisive(sig) or not isinstance(culprit, str) or not culprit.strip() \
                or _SOURCE_FILE.search(culprit.strip()):
            out.append(sig)
            continue
        target = _device_target(sig, resolve_culprit(culprit, names), names, roles, fleets)
        if sig.attributes.get("named_part") and target not in names:
            # a part of what the line is about (a provider's region) that the incident knows no component by: the
            # finding stays the log's own
            out.append(sig.model_copy(update={"attributes": {k: v for k, v in sig.attributes.items()
                                                             if k not in ("culprit", "named_part")}}))
            continue
        target = _host_owner(sig, target, names, topology or {}, roles, machines or {})
        if sig.kind == "dns_failure" and target not in names:
            target = _resolver_for(sig, topology or {}) or _name_for_lookup(sig, names) or target
        if sig.kind == "dns_failure":
            target = dns_relay(target, signals) or target
        if _is_ip(target):
            target = _name_for_address(target, str(sig.kind), sig.service, names, topology or {}, frozenset(failing),
                                       roles)
        if target == sig.service:
            out.append(sig)
            continue
        out.append(_own_mechanism(sig.model_copy(update={
            "service": target,
            "attributes": {**sig.attributes, "reporter": sig.service, "culprit": target},
        }), signals))
        if sig.service:
            out.append(sig.model_copy(update={
                "id": f"{sig.id}:reporter",
                "kind": REPORTER_SYMPTOM,
                "score": round(float(sig.score) * 0.8, 4),
                "attributes": {**sig.attributes, "decisive": False, "blames": target},
            }))
    return busy_refusals(triggers_to_limits(load_explains_own_saturation(
        slow_listeners(consequences_to_mechanism(out, topology, roles))), topology))


# A time-handling fault (``app.clock``: a leap second inserted, time went backwards) is the application's, named by
# its shape (docs/causes.md): when the same component's CPU saturates from that moment (a clock step that sets
# sleeping threads spinning), the shape is ``cpu_saturation``; else it stays an exception surge.
CLOCK_RULES = frozenset({"app.clock"})
CLOCK_SHAPE_WINDOW = timedelta(minutes=5)
CLOCK_CPU_MIN = 0.6


def clock_shapes(signals: list[Signal]) -> list[Signal]:
    """Clock findings re-kinded ``cpu_saturation`` on a component whose CPU saturated within
    ``CLOCK_SHAPE_WINDOW`` of the first such line."""
    out: list[Signal] = []
    for sig in signals:
        if sig.attributes.get("rule") in CLOCK_RULES and is_decisive(sig) and sig.started_at is not None:
            spun = any(o.service == sig.service and o.kind == "cpu_saturation" and float(o.score) >= CLOCK_CPU_MIN
                       and o.started_at is not None
                       and abs(aware(o.started_at) - aware(sig.started_at)) <= CLOCK_SHAPE_WINDOW
                       for o in signals)
            if spun:
                sig = sig.model_copy(update={"kind": "cpu_saturation",
                                             "attributes": {**sig.attributes, "shape_of": "cpu_saturation"}})
        out.append(sig)
    return out


# The kernel's "Possible SYN flooding on port N. Sending cookies." says that a listening socket's queue of half-open
# connections overflowed: a flood fills it, and so does a listener too busy to accept. When the host's own CPU was
# saturated before the first such line (it could not keep up before the queue overflowed), the line is that
# saturation's symptom, not an attack (docs/causes.md).
_SYN_RULES = frozenset({"kernel.syn_flood"})
_LISTENER_LEAD = timedelta(minutes=2)


def slow_listeners(signals: list[Signal]) -> list[Signal]:
    """Rewrite a SYN-flood finding as ``cpu_saturation`` of the same host when that host's CPU saturation
    (``_LIMIT_MIN`` or more) began at least ``_LISTENER_LEAD`` before it."""
    out: list[Signal] = []
    for sig in signals:
        if not is_decisive(sig) or sig.attributes.get("rule") not in _SYN_RULES or sig.started_at is None:
            out.append(sig)
            continue
        began = aware(sig.started_at)
        busy = [s for s in signals if s.service == sig.service and s.kind == "cpu_saturation"
                and float(s.score) >= _LIMIT_MIN and s.started_at is not None
                and aware(s.started_at) <= began - _LISTENER_LEAD]
        if not busy:
            out.append(sig)
            continue
        out.append(sig.model_copy(update={
            "kind": "cpu_saturation", "score": round(min(float(sig.score), max(float(s.score) for s in busy)), 4),
            "attributes": {**sig.attributes, "reported_as": sig.kind, "mechanism_from": busy[0].id},
        }))
    return out


# A component that answers "429 / too many requests / overloaded, shedding load" while its own CPU is saturated or its
# own worker pool full sheds load because it is at its ceiling: that limit is the fault, not a quota (docs/causes.md).
# The refusal must be the component's own answer (its own line says it refuses, or a caller's quote was moved to it),
# and a refusal that names a quota or a plan stays ``rate_limited``.
REFUSAL_KINDS = frozenset({"rate_limited"})
CEILING_KINDS = ("cpu_saturation", "thread_pool_exhaustion")
_CEILING_AFTER = timedelta(minutes=5)  # a limit begun this long after the first refusal is not why it refused
_ANSWERS_REFUSAL = re.compile(
    r"\b(?:respond(?:ing|ed|s)?|repl(?:y|ying|ied|ies)|answer(?:ing|ed|s)?|return(?:ing|ed|s)?|send(?:ing|s)?)"
    r"(?: with)?(?: (?:an? |HTTP |status |code )*)?(?:429|503|<\*>)(?!\w)|\bshed(?:ding|s)? (?:load|requests|traffic)\b|"
    r"\bload[- ]shedding\b|\boverloaded\b|\brejecting (?:new )?(?:requests|calls|connections|work)\b",
    re.IGNORECASE)
_POLICY_LIMIT = re.compile(r"\bquota|\bplan\b|\bbilling|\bsubscription|\btier\b|\bpolicy", re.IGNORECASE)


def _signal_text(sig: Signal) -> str:
    return " ".join([sig.title or "", *(e.summary or "" for e in sig.evidence)])


def _own_refusal(sig: Signal) -> bool:
    """Whether a throttling finding is the component's own answer: a caller's line moved to it, or its own line
    saying that it refuses; never one whose text names a quota or a plan."""
    text = _signal_text(sig)
    if _POLICY_LIMIT.search(text):
        return False
    return bool(sig.attributes.get("reporter")) or bool(_ANSWERS_REFUSAL.search(text))


def busy_refusals(signals: list[Signal]) -> list[Signal]:
    """Rewrite a component's own throttling replies (``REFUSAL_KINDS``) as its CPU saturation or full worker pool
    (``CEILING_KINDS``, its own evidence, ``_LIMIT_MIN`` or more) when that limit began before the first refusal or
    within ``_CEILING_AFTER`` of it. With no such limit, or a quota named, the finding stays as it is."""
    out: list[Signal] = []
    for sig in signals:
        if str(sig.kind) not in REFUSAL_KINDS or not sig.service or sig.started_at is None or not _own_refusal(sig):
            out.append(sig)
            continue
        began = aware(sig.started_at)
        limits = [s for s in signals if s.service == sig.service and str(s.kind) in CEILING_KINDS
                  and float(s.score) >= _LIMIT_MIN and s.started_at is not None and not s.attributes.get("reporter")
                  and aware(s.started_at) <= began + _CEILING_AFTER]
        if not limits:
            out.append(sig)
            continue
        limit = max(limits, key=lambda s: (float(s.score), CEILING_KINDS.index(str(s.kind)) == 0))
        out.append(sig.model_copy(update={
            "kind": limit.kind, "score": round(min(float(sig.score), float(limit.score)), 4),
            "attributes": {**sig.attributes, "reported_as": sig.kind, "mechanism_from": limit.id},
        }))
    return out


# A rise in requests is a trigger, not a failure, when something below the service that received it reached its
# own limit under that load (docs/causes.md, "a capacity limit hit after a benign trigger"): the dependency's
# saturated CPU, refused scale-out or full worker pool is what broke, and the caller's traffic is only why now.
TRIGGER_KINDS = frozenset({"traffic_spike"})
LIMIT_KINDS = frozenset({"cpu_saturation", "resource_quota", "thread_pool_exhaustion"})
_LIMIT_MIN = 0.5
_LIMIT_LEAD = timedelta(minutes=2)  # a limit already reached well before the traffic rose is not its consequence


# A service's own CPU saturated by a rise in the requests it receives, begun no later than the saturation, is that
# rise's story (docs/causes.md: a rise with no limit below it stays ``traffic_spike`` on the service that received it,
# whose own saturation is part of the same story): the busy CPU is read as the surge that drove it.
OWN_LOAD_MIN = 0.7
_OWN_LOAD_LEAD = timedelta(minutes=1)  # a saturation that began well before the rise is not the rise's


def load_explains_own_saturation(signals: list[Signal]) -> list[Signal]:
    """Rewrite a service's ``cpu_saturation`` as ``traffic_spike`` when the same service's requests rose strongly
    (``OWN_LOAD_MIN``) no later than its CPU (within ``_OWN_LOAD_LEAD``); other signals stay as they are."""
    rises: dict[str, datetime] = {}
    for s in signals:
        if str(s.kind) in TRIGGER_KINDS and s.service and s.started_at is not None \
                and float(s.score) >= OWN_LOAD_MIN and not s.attributes.get("reporter"):
            start = aware(s.started_at)
            rises[s.service] = min(start, rises.get(s.service, start))
    out: list[Signal] = []
    for sig in signals:
        rise = rises.get(sig.service or "")
        if str(sig.kind) == "cpu_saturation" and rise is not None and sig.started_at is not None \
                and rise <= aware(sig.started_at) + _OWN_LOAD_LEAD and not sig.attributes.get("reporter"):
            sig = sig.model_copy(update={"kind": "traffic_spike",
                                         "attributes": {**sig.attributes, "reported_as": "cpu_saturation"}})
        out.append(sig)
    return out


# A consumer that falls behind (a backlog on the service that works the queue) while something it writes to or reads
# from reached its own limit first is slowed by that limit (docs/causes.md): the backlog is how the saturated
# database or dependency shows on its callers, as a retry of a slow sink does. The limit must have begun before the
# backlog (or with it, ``_LIMIT_LEAD``), and not so long before that it is the service's usual state.
BACKLOG_KINDS = frozenset({"queue_backlog"})
_BACKLOG_HORIZON = timedelta(minutes=30)


def _limit_behind(sig: Signal, signals: list[Signal], below: set[str]) -> list[Signal]:
    """The limits below ``sig.service`` that explain it: for a traffic rise, limits reached no earlier than the
    rise; for a backlog, limits reached before it (within ``_BACKLOG_HORIZON``) or with it."""
    began = aware(sig.started_at) if sig.started_at is not None else None
    if began is None:
        return []
    found = []
    for s in signals:
        if s.service not in below or str(s.kind) not in LIMIT_KINDS or float(s.score) < _LIMIT_MIN \
                or s.started_at is None or s.attributes.get("reporter"):
            continue
        start = aware(s.started_at)
        if str(sig.kind) in TRIGGER_KINDS and start >= began - _LIMIT_LEAD:
            found.append(s)
        elif str(sig.kind) in BACKLOG_KINDS and began - _BACKLOG_HORIZON <= start <= began + _LIMIT_LEAD:
            found.append(s)
    return found


def triggers_to_limits(signals: list[Signal], topology: dict[str, list[str]] | None = None) -> list[Signal]:
    """Rewrite each traffic rise on a caller as the capacity limit a dependency reached under it, when that
    dependency's own evidence names the limit (``LIMIT_KINDS``) and the limit began no earlier than the rise:
    the limit is what failed, the traffic only its trigger. A backlog on a consumer whose dependency reached its
    limit first is rewritten the same way (``BACKLOG_KINDS``). With no such dependency the signal stays as it is."""
    graph = topology or {}
    out: list[Signal] = []
    for sig in signals:
        if str(sig.kind) not in TRIGGER_KINDS | BACKLOG_KINDS or not sig.service or sig.started_at is None:
            out.append(sig)
            continue
        limits = _limit_behind(sig, signals, _below(sig.service, graph))
        if not limits:
            out.append(sig)
            continue
        limit = max(limits, key=lambda s: (float(s.score), s.service or ""))
        out.append(sig.model_copy(update={
            "service": limit.service, "kind": limit.kind,
            "score": round(min(float(sig.score), float(limit.score)), 4),
            "attributes": {**sig.attributes, "reported_as": sig.kind, "trigger_on": sig.service,
                           "limit_from": limit.id},
        }))
    return out


# A pool that ran dry is what a slow or locked database looks like from its clients (docs/causes.md: sessions queued
# behind a lock are db_lock_contention even when connections then run out; slow queries are db_slow_query); an edge
# under attack drops packets (conntrack full, NIC misses) because of the flood its own log names (ddos); a component
# that cannot be reached, or whose pool ran dry, because the machines below it went away (a site's or provider's
# count of live hosts collapsing) is those machines' node_failure; a device that lost its sessions or tunnels to
# something below it whose own evidence says that it is disrupted (a provider's status notice) reports that
# dependency's failure, not a partition of its own. A partition the node reports of itself (its NIC link down) is
# not its own NotReady's consequence but its cause (``EXPLAINS``): machines gone are looked for under it only.
# Each row: the consequence kind -> the mechanisms
# that explain it, strongest first, each with where it may be found: "self" (the reporter), "databases" (the
# reporter and its databases, by the topology), "below" (the reporter and what it depends on, two levels down),
# "under" (what it depends on, two levels down, without the reporter).
_CONSEQUENCE_OF: dict[str, tuple[tuple[str, str], ...]] = {
    "db_connection_exhaustion": (("db_lock_contention", "databases"), ("db_slow_query", "databases"),
                                 ("node_failure", "below")),
    "packet_loss": (("ddos", "self"),),
    "network_partition": (("node_failure", "under"), ("dependency_failure", "under")),
    "dependency_failure": (("node_failure", "below"),),
}
# A caller's report that it lost its path to a peer (``no route to host`` to the address the line names) is no partition
# the peer reports of itself: when the peer's own evidence says that it went down (a kernel panic, a lockup), that
# machine's failure is the mechanism, looked for on the peer too ("below" instead of "under").
_CONSEQUENCE_OF_PEER: dict[str, tuple[tuple[str, str], ...]] = {
    "network_partition": (("node_failure", "below"), ("dependency_failure", "under")),
}
_MECHANISM_MIN = 0.5


def _places(service: str, scope: str, topology: dict[str, list[str]], roles: Roles | None = None) -> set[str]:
    if scope == "databases":
        return {service, *[d for d in topology.get(service, []) if name_affinity(d, "db_down", roles) == 1.0]}
    if scope in ("below", "under"):
        first = [d for d in topology.get(service, []) if d]
        under = {*first, *[d for f in first for d in topology.get(f, []) if d]} - {service}
        return under if scope == "under" else {service, *under}
    return {service}


def _mechanism_behind(sig: Signal, signals: list[Signal], topology: dict[str, list[str]],
                      roles: Roles | None = None) -> Signal | None:
    """The mechanism that explains a decisive consequence finding: a signal of a mechanism kind, from that
    component's own evidence, where its row of ``_CONSEQUENCE_OF`` allows (the reporter, its databases, below)."""
    rows = _CONSEQUENCE_OF.get(str(sig.kind))
    if sig.attributes.get("blame") == "peer":
        rows = _CONSEQUENCE_OF_PEER.get(str(sig.kind), rows)
    if not rows or not sig.service:
        return None
    for mechanism, scope in rows:
        places = _places(sig.service, scope, topology, roles)
        found = [s for s in signals if s.service in places and s.kind == mechanism and float(s.score) >= _MECHANISM_MIN
                 and not s.attributes.get("reporter")]
        if found:
            return max(found, key=lambda s: float(s.score))
    return None


def consequences_to_mechanism(signals: list[Signal], topology: dict[str, list[str]] | None = None,
                              roles: Roles | None = None) -> list[Signal]:
    """Rewrite each decisive consequence finding (an exhausted connection pool) as the database mechanism that
    explains it, on that database, when the database's own evidence names one; the reporter keeps a symptom."""
    out: list[Signal] = []
    for sig in signals:
        best = _mechanism_behind(sig, signals, topology or {}, roles) if is_decisive(sig) else None
        if best is None:
            out.append(sig)
            continue
        out.append(sig.model_copy(update={
            "service": best.service, "kind": best.kind,
            "score": round(min(float(sig.score), max(float(best.score), _MECHANISM_MIN)), 4),
            "attributes": {**sig.attributes, "reported_as": sig.kind, "mechanism_from": best.id},
        }))
        if sig.service != best.service:
            out.append(sig.model_copy(update={"id": f"{sig.id}:reporter", "kind": REPORTER_SYMPTOM,
                                              "score": round(float(sig.score) * 0.8, 4),
                                              "attributes": {**sig.attributes, "decisive": False, "blames": best.service}}))
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
# out; a node whose own NIC link went down is NotReady because it is cut off (and one whose kernel reports its
# CPUs or tasks stuck because of that); a database that reached a limit of its
# own host (its open-file table, a quota) and then aborted and restarted is down because of that limit; a process
# whose volume is full cannot write and exits, so a full disk is why it crash-loops (or, for a database, is down).
# The cause may also be named by the words of an alert on that service (its monitoring measured it: a volume-filling
# alert on the database that then crash-loops), not only by a detector.
EXPLAINS: tuple[tuple[str, str], ...] = (
    ("memory_leak", "oom_kill"), ("deadlock", "thread_pool_exhaustion"), ("network_partition", "node_failure"),
    ("oom_kill", "node_failure"), ("hardware_error", "node_failure"),
    ("resource_quota", "db_down"), ("disk_full", "crash_loop"), ("disk_full", "db_down"),
    # a name server OOM-killed stops answering: what its callers report of it (lookups timing out) is the kill's
    ("oom_kill", "dns_failure"))


def with_explanations(best: dict[tuple[str, str], float], signals: Iterable[Signal]) -> dict[tuple[str, str], float]:
    """``best`` (from ``support``) plus the support that causes inherit from the effects they explain."""
    signals = list(signals)
    named = {(s.service, str(s.kind)) for s in signals if s.service and is_cause_kind(s.kind) and s.score >= 0.3}
    named |= {(s.service, kind) for s in signals if s.source == "alert" and s.service and s.kind is None
              for kind in kinds_in_text(s.title or "") if is_cause_kind(kind)}
    out = dict(best)
    for cause, effect in EXPLAINS:
        for (service, kind), score in best.items():
            if (cause, effect) == ("memory_leak", "oom_kill") and name_affinity(service, "db_down") == 1.0:
                continue  # a datastore's memory grows with what it stores: no leak, the kill is its own (docs/causes.md)
            if kind == effect and (service, cause) in named:
                out[(service, cause)] = max(out.get((service, cause), 0.0), score)
                out[(service, effect)] = round(score * 0.7, 4)  # explained: still evidence, no longer the cause
    # a finding that names what it causes elsewhere (a CronJob's piled-up runs exhaust the connections of the
    # database they share: ``attributes["explains"]``) takes the support of those effects the same way
    for sig in signals:
        effects = sig.attributes.get("explains") if is_decisive(sig) and sig.service else None
        if not isinstance(effects, list | tuple):
            continue
        for (service, kind), score in best.items():
            if kind in effects and service != sig.service:
                key = (str(sig.service), str(sig.kind))
                out[key] = max(out.get(key, 0.0), score)
                out[(service, kind)] = round(min(out.get((service, kind), score), score * 0.7), 4)
    return out


def mark_late(signals: list[Signal], alert_time: datetime | None) -> list[Signal]:
    """Mark decisive findings that first appear well after the alert fired (``LATE_GRACE``). A time days away
    from the alert is a misread clock (a syslog line has no year), not lateness."""
    if alert_time is None:
        return signals
    limit = aware(alert_time) + LATE_GRACE
    far = aware(alert_time) + timedelta(days=2)
    out: list[Signal] = []
    for sig in signals:
        if is_decisive(sig) and sig.started_at is not None and limit < aware(sig.started_at) < far:
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
