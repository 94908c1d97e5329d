"""Which cause or symptom kind a metric points at, read from its name (a table kept as data).

Each rule is ``(pattern, kind_when_up, kind_when_down)``: the first rule whose regular expression
matches the metric name (lower-cased, with ``.``/``-`` turned into ``_``) decides. ``None`` means the
direction is not a problem for that metric (a latency that falls). The ``shape`` refinements
(memory leak vs OOM kill, pool exhaustion) live in :func:`kind_for`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class KindRule:
    pattern: str
    up: str | None
    down: str | None
    family: str  # what the metric measures: latency, errors, traffic, cpu, memory, disk, pool, ...


# Order matters: specific names before generic ones.
KIND_RULES: tuple[KindRule, ...] = (
    # limits and capacities (a pool's max, a volume's size) are context for other series, not signals
    KindRule(r"(_max|_limit|_limits|_limit_bytes|_capacity|_size_bytes|_total_bytes|memtotal(_bytes)?|_cores)$", None, None, "limit"),
    KindRule(r"max_fds|fd_limit|nofile_limit", None, None, "limit"),
    KindRule(r"throttl", "cpu_throttling", None, "cpu"),
    # a process's open file descriptors climbing to its limit (process_open_fds, node_filefd_allocated)
    KindRule(r"open_fds|file_descriptors|filefd_allocated|(^|_)fds_(used|open|in_use)", "resource_quota", None, "fds"),
    # a clock away from true time either way (node_timex_offset_seconds, chrony/NTP offsets)
    KindRule(r"clock.*(offset|skew|drift)|timex_offset|ntp.*(offset|drift)|time_offset", "exception_surge",
             "exception_surge", "clock"),
    # routing sessions: fewer established BGP sessions or peers is a partition
    KindRule(r"bgp.*(session|peer|neighbou?r|established)", None, "network_partition", "network"),
    # PostgreSQL transaction-ID age: at the wraparound limit the database refuses writes
    KindRule(r"xid|wraparound|frozenxid", "db_down", None, "db"),
    KindRule(r"oom|out_of_memory", "oom_kill", None, "oom"),
    # pressure stall information (node_pressure_*_seconds_total, as a rate: share of time stalled)
    KindRule(r"pressure.*mem|mem.*pressure|psi.*mem", "oom_kill", None, "memory_pressure"),
    KindRule(r"pressure.*cpu|cpu.*pressure|psi.*cpu", "cpu_saturation", None, "cpu"),
    KindRule(r"pressure.*io|io.*pressure|psi.*io", "disk_io_latency", None, "disk_io"),
    # Kubernetes object states (kube-state-metrics)
    KindRule(r"node.*(not_?ready|ready_false|unreachable)", "node_failure", None, "node"),
    KindRule(r"node.*disk_?pressure", "disk_full", None, "node"),
    # a count of live machines of a site, provider or fleet (hosts_up, hosts_reachable, instances_running) falling:
    # the machines went away (power, fire, reboots). Not a load balancer's view of its backends or a replica
    # set's members, which say nothing of the machines
    KindRule(r"(^|_)(hosts?|nodes?|instances?|machines?)_(up|reachable|running|alive|online)$"
             r"|(^|_)(up|reachable|running|alive|online)_(hosts|nodes|instances|machines)$", None, "node_failure", "node"),
    KindRule(r"pod.*pending|pending_pods|unschedulable", "resource_quota", None, "scheduling"),
    KindRule(r"replicas_unavailable|unavailable_replicas", "error_rate_increase", None, "availability"),
    # "available" / "free" / "idle" / "remaining" series are bad when they FALL
    KindRule(r"(disk|filesystem|fs|volume|storage|pvc).*(free|avail|remaining)", None, "disk_full", "disk"),
    # "mem" is memory, not a member (cluster_members, member_removals_per_min)
    KindRule(r"memavailable|memfree|mem(?!ber).*(avail|free)|memory.*(avail|free)", None, "oom_kill", "memory"),
    KindRule(r"cpu.*idle|idle.*cpu|cpu_seconds_total_idle", None, "cpu_saturation", "cpu"),
    KindRule(r"restart|crash", "crash_loop", None, "restarts"),
    KindRule(r"cert.*(expir|ttl|remaining)|ssl.*expir|tls.*expir", None, "certificate_expired", "tls"),
    KindRule(r"replica.*lag|replication.*(lag|delay)|slave.*lag", "db_replication_lag", None, "db"),
    KindRule(
        r"(db|database|sql|pg|mysql).*(lock|deadlock)|lock_wait|lock_contention",
        "db_lock_contention",
        None,
        "db",
    ),
    KindRule(r"slow_quer|query.*(duration|time|latency)", "db_slow_query", None, "latency"),
    KindRule(
        r"(conn|connection).*(pool|in_use|inuse|active|used|usage|wait|saturat|max)|pool.*(conn|in_use|usage|active|wait)",
        "db_connection_exhaustion",
        None,
        "pool",
    ),
    KindRule(
        r"thread.*(pool|busy|active|queue)|worker.*(busy|saturat)", "thread_pool_exhaustion", None, "threads"
    ),
    KindRule(
        r"queue.*(depth|size|length|len|backlog|lag|messages)|consumer.*lag|backlog|messages_ready",
        "queue_backlog",
        None,
        "queue",
    ),
    KindRule(
        # a device busy all the time (iostat's busy share, atop's "busy") is slow, not full; a disk's or device's
        # "util" is that busy share too (iostat's %util), while a filesystem's or volume's stays its space
        r"(disk|io|fs|filesystem|volume).*(wait|latency|await|svctm|time|busy)|iowait|(disk|dev|device|io)[_.\-]?util",
        "disk_io_latency",
        None,
        "disk_io",
    ),
    KindRule(
        r"(disk|filesystem|fs|volume|storage|pvc).*(used|usage|util|full|bytes|ratio|percent|size)",
        "disk_full",
        None,
        "disk",
    ),
    KindRule(r"mem(?!ber)|rss|heap|working_set", "memory_leak", None, "memory"),
    KindRule(r"cpu|load_?avg|load1|load5|load15|load_per_core", "cpu_saturation", None, "cpu"),
    KindRule(
        r"packet.*(loss|drop)|dropped_packets|retransmi|network.*(drop|err)|(receive|transmit)_(drop|errs)|"
        r"(^|_)loss(_|$)",
        "packet_loss",
        None,
        "network",
    ),
    KindRule(r"dns", "dns_failure", None, "dns"),
    KindRule(r"(net|network|rtt|ping).*(latency|rtt|delay)", "network_latency", None, "latency"),
    KindRule(r"rate_limit|ratelimit|429|too_many", "rate_limited", None, "errors"),
    KindRule(r"auth.*fail|login.*fail|fail(ed|ure)?_?(login|auth|sign_?in)|401|403|unauthori", "auth_failure_surge", None,
             "errors"),
    KindRule(r"quota", "resource_quota", None, "quota"),
    KindRule(r"availability|success_rat(e|io)|uptime|up$|healthy|reachab", None, "error_rate_increase", "availability"),
    # an HTTP server-error code named where a status is counted (``upstream_503_ratio``, ``http_502_per_min``)
    KindRule(r"err|5xx|fail|exception|fault|(?:http|status|code|upstream|response|backend|gateway|lb)[_.\-]?5\d\d(?!\d)",
             "error_rate_increase", None, "errors"),
    KindRule(
        r"latenc|duration|response_time|resp_time|p9\d|p50|_ms$|_seconds$|elapsed|rtt",
        "latency_increase",
        None,
        "latency",
    ),
    KindRule(
        r"request|rps|qps|tps|traffic|throughput|hits|calls|invocations|sessions|connections",
        "traffic_spike",
        "traffic_drop",
        "traffic",
    ),
    KindRule(r"saturat|util|usage|percent|ratio", "saturation", None, "saturation"),
)

_COMPILED = tuple((re.compile(r.pattern), r) for r in KIND_RULES)


def normalise_name(metric: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", metric.lower()).strip("_")


def series_name(metric: str, labels: dict[str, str] | None = None) -> str:
    """The name a series is read by: a raw ``node_cpu_seconds_total`` carries its meaning in the
    ``mode`` label (``idle`` falling is a busy CPU; ``iowait`` rising is slow disks), so it is named
    ``node_cpu_seconds_total_<mode>``; other names are unchanged."""
    mode = (labels or {}).get("mode")
    if mode and normalise_name(metric).startswith("node_cpu_seconds"):
        return f"{metric}_{mode}"
    return metric


# Units read from the name (Prometheus naming conventions): how a value is printed and what its
# exhaustion point is. A ratio is 0..1, a percent 0..100; bytes are printed as GiB/MiB.
_UNIT_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"(ratio|fraction|share|utili[sz]ation)$|_ratio_|busy_ratio", "ratio"),
    (r"percent|pct|_perc$", "percent"),
    (r"bytes", "bytes"),
    (r"_ms$|_millis", "ms"),
    (r"seconds$|_seconds_|_s$", "seconds"),
)


def unit_of(metric: str) -> str | None:
    """``ratio``, ``percent``, ``bytes``, ``ms``, ``seconds`` or None, from the metric name."""
    name = normalise_name(metric)
    for pattern, unit in _UNIT_PATTERNS:
        if re.search(pattern, name):
            return unit
    return None


def is_falling_bad(metric: str) -> bool:
    """True for series that are bad when they FALL (available, free, idle, remaining, success)."""
    rule = rule_for(metric)
    return rule is not None and rule.down is not None and rule.up is None


@lru_cache(maxsize=8192)
def rule_for(metric: str) -> KindRule | None:
    name = normalise_name(metric)
    for regex, rule in _COMPILED:
        if regex.search(name):
            return rule
    return None


def kind_for(metric: str, *, direction: int, shape: str) -> str | None:
    """The kind for a change of ``direction`` (+1 up, -1 down) and ``shape``.

    ``shape`` is one of ``step``, ``ramp`` (steady growth), ``drop_after_high`` (sawtooth reset),
    ``plateau_at_max``. Returns ``None`` when the change is not a problem (a latency that falls).
    """
    rule = rule_for(metric)
    if rule is None:
        return "saturation" if direction > 0 else None
    if rule.family == "memory":
        if shape == "drop_after_high":
            return "oom_kill"
        if rule.down is not None:  # available memory: a steady fall is a leak, a held low is pressure
            return None if direction > 0 else ("memory_leak" if shape == "ramp" else "oom_kill")
        if direction > 0:
            return "memory_leak" if shape == "ramp" else (rule.up if rule.up == "oom_kill" else "saturation")
        return None
    if rule.family == "pool" and direction > 0:
        return "db_connection_exhaustion"
    return rule.up if direction > 0 else rule.down


def bad_directions(metric: str) -> tuple[int, ...]:
    """Directions of change that are a problem for this metric (+1, -1 or both)."""
    rule = rule_for(metric)
    if rule is None:
        return (1,)
    out: list[int] = []
    if rule.up is not None or (rule.family == "memory" and rule.down is None):
        out.append(1)
    if rule.down is not None:
        out.append(-1)
    return tuple(out) or (1,)
