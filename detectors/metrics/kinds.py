"""Which cause or symptom kind a metric points at, read from its name (a table kept as data).

Each rule is ``(pattern, kind_when_up, kind_when_down)``: the first rule whose regular expression
matches the metric name (lower-cased, with ``.``/``-`` turned into ``_``) decides. ``None`` means the
direction is not a problem for that metric (a latency that falls). The ``shape`` refinements
(memory leak vs OOM kill, pool exhaustion) live in :func:`kind_for`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class KindRule:
    pattern: str
    up: str | None
    down: str | None
    family: str  # what the metric measures: latency, errors, traffic, cpu, memory, disk, pool, ...


# Order matters: specific names before generic ones.
KIND_RULES: tuple[KindRule, ...] = (
    # limits and capacities (a pool's max, a volume's size) are context for other series, not signals
    KindRule(r"(_max|_limit|_capacity|_size_bytes|_total_bytes)$", None, None, "limit"),
    KindRule(r"throttl", "cpu_throttling", None, "cpu"),
    KindRule(r"oom|out_of_memory", "oom_kill", None, "memory"),
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
        r"(disk|io|fs|filesystem|volume).*(wait|latency|await|svctm|time)|iowait",
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
    KindRule(r"(disk|filesystem|fs|volume|storage).*(free|avail)", None, "disk_full", "disk"),
    KindRule(r"mem|rss|heap|working_set", "memory_leak", None, "memory"),
    KindRule(r"cpu|load_?avg|load1|load5", "cpu_saturation", None, "cpu"),
    KindRule(r"packet.*(loss|drop)|dropped_packets|retransmi", "packet_loss", None, "network"),
    KindRule(r"dns", "dns_failure", None, "dns"),
    KindRule(r"(net|network|rtt|ping).*(latency|rtt|delay)", "network_latency", None, "latency"),
    KindRule(r"rate_limit|ratelimit|429|too_many", "rate_limited", None, "errors"),
    KindRule(r"auth.*fail|login.*fail|401|403|unauthori", "auth_failure_surge", None, "errors"),
    KindRule(r"quota", "resource_quota", None, "quota"),
    KindRule(r"availability|success_rate|uptime|up$|healthy", None, "error_rate_increase", "availability"),
    KindRule(r"err|5xx|fail|exception|fault", "error_rate_increase", None, "errors"),
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
    if rule.up is not None or rule.family == "memory":
        out.append(1)
    if rule.down is not None:
        out.append(-1)
    return tuple(out) or (1,)
