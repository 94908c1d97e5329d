"""Words that point at a root-cause kind, and symptom -> cause mappings.

Used to read alert names, log templates and runbook text when a detector did not name a kind, and by
the categoriser. These are hints (features the learned scorer weighs), never a verdict on their own.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.domain import ALL_KINDS

# kind -> regular expression over lower-cased text
KIND_PATTERNS: dict[str, str] = {
    "cpu_saturation": r"\bcpu\b.*(high|saturat|100|usage|load)|high ?cpu|cpu ?(usage|load|saturation)|load average",
    "cpu_throttling": r"throttl(ed|ing).*cpu|cpu.*throttl|cfs.?(quota|throttl)",
    "memory_leak": r"memory leak|heap (usage|growth|grow)|memory (usage|growth) (climb|grow|increas)|rss grow|leak",
    # a thread-limit error is not memory: "OutOfMemoryError: unable to create native thread: possibly out of memory"
    "oom_kill": r"\boom\b|oomkilled|(?<!possibly )out of memory|oomkill|oom.?killed|memory limit exceeded|"
    r"java\.lang\.outofmemory(?!error: unable to create)|memory ?pressure|stalls? waiting for memory",
    # and the alerts of a volume or filesystem about to fill (Kubernetes' and node exporters' "...FillingUp",
    # "...AlmostOutOfSpace" rules)
    "disk_full": r"disk (full|space)|no space left|filesystem.*(full|100%)|volume full|enospc|inodes|"
    r"(?:volume|filesystem|disk) ?(?:space ?)?filling ?up|almost ?out ?of ?(?:disk ?)?space|disk used ratio",
    "disk_io_latency": r"(disk|io|i/o) (latency|wait|slow)|iowait|slow (disk|io|fsync)|fsync (took|is taking)|"
    r"blocked for more than \d+ seconds|disk (write|read) took",
    "db_connection_exhaustion": r"(connection )?pool (exhausted|timeout|is full)|too many (connections|clients)|"
    r"connection pool|max_connections|could not obtain (a )?connection|remaining connection slots",
    "db_slow_query": r"slow (query|queries)|query (took|timeout|latency)|statement timeout|full table scan",
    "db_lock_contention": r"lock (wait|contention|timeout)|deadlock found|deadlock detected|waiting for lock|row lock|"
    r"could not obtain lock",
    "db_replication_lag": r"replication lag|replica (lag|behind)|seconds_behind_master|standby (lag|delay)",
    "db_down": r"database (down|unavailable|unreachable)|db (down|unreachable)|connection refused.*(5432|3306|db)|"
    r"could not connect to (the )?(database|server)",
    "network_latency": r"network latency|high latency between|rtt|round.?trip|network (slow|delay)",
    "packet_loss": r"packet loss|dropped packets|packets? dropped|dropping packets?|retransmi|conntrack|"
    r"table full, dropping|(?:rx|tx)_(?:dropped|missed|fifo)|ring buffer (?:full|overflow)|crc errors?|"
    r"\b[1-9]\d* input errors",
    # "partition" alone is the network's only when it does not name a data partition: a topic's or table's
    # partition by its number or key (`partition=3`, `topic-partition`, `partition DC2-P6`, `partition rebalance`)
    "network_partition": r"network partition|split.?brain|unreachable (host|network)|no route to host|"
    r"(?<![a-z_-])partition(?:ed)?(?![a-z_=:-])(?! ?[=:])(?! (?:[\w-]*\d|<\*>))(?! (?:keys?|ids?|leaders?|offsets?|"
    r"rebalanc\w*|reassign\w*|assign\w*|counts?|tables?|schemes?|maps?|replicas?|lag)\b)|"
    r"%bgp-\d-adjchange|adjchange|adjchg|bgp[ _](?:notification|hold)|hold time(?:r)? expired|"
    r"changed state from established|old state established|ospf.{0,80}(?:full to down|from full|nbrdown)|"
    r"full -> (?:deleted|down)|is-?is.{0,60}adjacency.{0,40}down|(?:bgp|ospf|is-is) (?:session|neighbou?r|peer)"
    r".{0,60}\bdown\b|%link-\d-updown|%lineproto-\d-updown|changed state to down|nic link is down|link is down|"
    r"link down|(?:primary|master|leader) \S*\s?(?:is )?unreachable|lost contact with (?:the )?(?:primary|master)",
    "network_policy_block": r"network ?policy|firewall|security group|connection (blocked|denied)|egress (denied|blocked)",
    # failures of resolution, not the word "dns" (a DNS server's own time bug is not a DNS failure) nor
    # "resolved" (an incident's status)
    "dns_failure": r"dns (?:lookup|resolution|query|queries|request)s? (?:fail|error|time)|dns (?:failure|error|outage)|"
    r"nxdomain|name resolution|could not resolve|couldn't resolve|unable to resolve|failed to resolve|servfail|"
    r"no such host|unknownhostexception|getaddrinfo|enotfound|eai_again|name or service not known|"
    r"resolv\.conf|resolver (?:fail|error|time)|coredns.{0,40}(?:fail|error|timeout|crash)",
    "certificate_expired": r"certificate (has )?expired|cert(ificate)? expir|x509|tls handshake|ssl (handshake|error)",
    "bad_deploy": r"\bdeploy(ed|ment)?\b|rollout|new version|release|rolled out|canary",
    "config_change": r"config(uration)? (change|push|update)|bad config|misconfig|changed (setting|config)",
    "feature_flag": r"feature.?flag|flag (enabled|flipped|turned on|toggle)|toggle",
    "dependency_failure": r"upstream|downstream|dependency|third.?party|503 from|bad gateway|502|circuit (breaker )?open",
    # a provider's throttling reply; not the kernel's own printk limiter ("net_ratelimit: N callbacks suppressed")
    "rate_limited": r"(?<!net_)rate.?limit|\b429\b|too many requests|quota exceeded|throttled by|\(slowdown\)|code[>:= ]+slowdown|503 slow ?down|"
    r"reduce your request rate|throttlingexception|provisionedthroughputexceeded|requestlimitexceeded|"
    r"rate exceeded|requests? (?:were |was |are |is )?throttled|throttling (?:error|exception|reply)|serverbusy",
    "traffic_spike": r"traffic (spike|surge|increase)|request (spike|surge)|spike in (traffic|requests)|load spike",
    "queue_backlog": r"queue (backlog|depth|lag|length)|consumer lag|backlog|messages (pile|pending)",
    "resource_quota": r"quota|resourcequota|limit ?range|exceeded quota|insufficient (cpu|memory)|unschedulable",
    "crash_loop": r"crash ?loop|crashloopbackoff|restart(ing|s)? (loop|repeatedly)|back-?off restarting",
    "exception_surge": r"exception|traceback|stack ?trace|nullpointer|error rate|unhandled|"
    r"time went backwards|clock (?:moved|went|jumped) backwards|negative (?:duration|time)|leap second|"
    r"clock skew|(?:date|time|counter) (?:rollover|overflow)",
    "thread_pool_exhaustion": r"thread ?pool|worker (pool|threads) (exhausted|full|saturated|busy)|rejected ?execution|"
    r"workers busy|threads (are )?(currently )?busy|can't start new thread|worker pool (at|saturated)|"
    r"unable to create (?:new )?native thread|pthread_create failed|failed to create new os thread|"
    r"can't create new thread|(?:thread|pthread|clone).{0,60}resource temporarily unavailable|"
    r"resource temporarily unavailable.{0,60}thread",
    # thread and goroutine dumps: threads BLOCKED on monitors, goroutines parked in semacquire / Mutex.Lock
    "deadlock": r"(?<!\berror:  )(?<!\berror: )\bdeadlock\b(?! found when trying)|threads? (blocked|stuck)|lock cycle|"
    r"waiting to lock|blocked on mutex|awaiting lock|lock held by|thread\.state: blocked|"
    r"goroutine \d+ \[(?:semacquire|sync\.(?:rw)?mutex\.r?lock)|sync\.\(\*(?:rw)?mutex\)\.r?lock|"
    r"all goroutines are asleep",
    "auth_failure_surge": r"auth(entication)? fail|login fail|invalid (token|credentials)|401|unauthori[sz]ed",
    "ddos": r"\bddos\b|denial of service|syn flood|bot traffic|attack|limiting (requests|connections), excess|"
    r"request flood",
    "node_failure": r"node ?(down|failure|notready|not ready|lost)|host (down|unreachable)|kubelet|soft lockup",
    "hardware_error": r"hardware|ecc|disk failure|smart error|power (loss|failure)|nic (failure|error)",
}

# what each symptom suggests, most likely first
SYMPTOM_CAUSES: dict[str, tuple[str, ...]] = {
    "latency_increase": ("db_slow_query", "cpu_saturation", "network_latency", "dependency_failure",
                         "thread_pool_exhaustion", "disk_io_latency"),
    "error_rate_increase": ("exception_surge", "dependency_failure", "bad_deploy", "db_connection_exhaustion"),
    "traffic_drop": ("network_partition", "dns_failure", "dependency_failure", "crash_loop"),
    "saturation": ("cpu_saturation", "thread_pool_exhaustion", "resource_quota", "memory_leak"),
    "log_anomaly": ("exception_surge", "crash_loop"),
}

# metric name fragments that point at a kind when a metric detector gives only a symptom
METRIC_HINTS: dict[str, str] = {
    "cpu": "cpu_saturation",
    "throttl": "cpu_throttling",
    "mem": "memory_leak",
    "heap": "memory_leak",
    "disk_used": "disk_full",
    "disk_free": "disk_full",
    "fs_": "disk_full",
    "iowait": "disk_io_latency",
    "db_conn": "db_connection_exhaustion",
    "pool": "db_connection_exhaustion",
    "connections": "db_connection_exhaustion",
    "replication": "db_replication_lag",
    "queue": "queue_backlog",
    "lag": "queue_backlog",
    "requests": "traffic_spike",
    "rps": "traffic_spike",
    "restart": "crash_loop",
    "thread": "thread_pool_exhaustion",
}

CHANGE_KINDS: dict[str, str] = {
    "deploy": "bad_deploy",
    "deployment": "bad_deploy",
    "rollout": "bad_deploy",
    "release": "bad_deploy",
    "config": "config_change",
    "config_change": "config_change",
    "configmap": "config_change",
    "feature_flag": "feature_flag",
    "flag": "feature_flag",
    # a change-log entry typed only as a change (``kind: change``, no flag or setting named: those are typed by
    # ``detectors.changes.normalise_kind``): an operator changed how the component is set up (its hosts' instance
    # type, a plan, a peering); an engineer calls it a configuration change, and a new version in its text makes it
    # no deploy (``change_rules.kind_by_what_changed`` keeps only a package upgrade of its own program as one)
    "change": "config_change",
}


@lru_cache(maxsize=1)
def _compiled() -> dict[str, re.Pattern[str]]:
    return {kind: re.compile(pattern) for kind, pattern in KIND_PATTERNS.items() if kind in ALL_KINDS}


def kinds_in_text(text: str) -> dict[str, int]:
    """Kinds whose words appear in ``text``, with the number of matches."""
    return dict(_kinds_in_text(text))


# the counts a log detector prints in its titles (``new log template (0 -> 401)``): numbers of lines, never a status
# code or an error number the words could mean
_COUNTS = re.compile(r"\(\d+ -> \d+\)")


@lru_cache(maxsize=8192)
def _kinds_in_text(text: str) -> tuple[tuple[str, int], ...]:
    # the ranker reads the same signal texts once per candidate: remember the answers
    low = _COUNTS.sub(" ", text.lower())
    found: list[tuple[str, int]] = []
    for kind, pattern in _compiled().items():
        n = len(pattern.findall(low))
        if n:
            found.append((kind, n))
    return tuple(found)


def kind_of_metric(metric: str | None) -> str | None:
    if not metric:
        return None
    low = metric.lower()
    for fragment, kind in METRIC_HINTS.items():
        if fragment in low:
            return kind
    return None


def change_kind(kind: str | None) -> str | None:
    """The cause kind a change event stands for (deploy -> bad_deploy), None for other events."""
    if not kind:
        return None
    low = kind.lower()
    if low in ALL_KINDS and low in ("bad_deploy", "config_change", "feature_flag"):
        return low
    return CHANGE_KINDS.get(low)
