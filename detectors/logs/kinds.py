"""Which root-cause kind a log message names, when it names one clearly.

The mapping is data: (kind, regex) rows checked in order, first match wins. Keep rows generic (words
any system would log), never tuned to one fixture. A message matching no row gets no cause kind; the
detector then reports a symptom kind instead.
"""

from __future__ import annotations

import re

from detectors.logs.anchors import required_literals

KIND_PATTERNS: tuple[tuple[str, str], ...] = (
    # a thread limit, before "OutOfMemoryError": the JVM names it so, but the heap is not full
    ("thread_pool_exhaustion", r"unable to create (?:new )?native thread|pthread_create failed|"
                               r"failed to create new OS thread|can't create new thread|can't start new thread|"
                               r"(?:thread|pthread|clone).{0,60}Resource temporarily unavailable|"
                               r"Resource temporarily unavailable.{0,60}thread"),
    ("oom_kill", r"OutOfMemoryError|out of memory|OOMKilled|oom[-_ ]?kill|killed process \d+|memory cgroup out of memory|"
                 r"Cannot allocate memory|MemoryError|std::bad_alloc|heap out of memory|exit code 137"),
    ("disk_full", r"No space left on device|disk (?:is )?full|ENOSPC|insufficient disk space|disk quota exceeded|"
                  r"filesystem (?:is )?full|DiskPressure"),
    ("certificate_expired", r"certificate (?:has )?expired|x509: certificate|certificate verify failed|"
                            r"CERT_HAS_EXPIRED|SSL(?:Handshake)?Exception.*expired|tls: .*expired|cert.*not valid after"),
    # a time bug is the application's (docs/causes.md), even in a DNS server's own log
    ("exception_surge", r"time went backwards|clock (?:moved|went|jumped) backwards|negative (?:duration|time)|"
                        r"leap second"),
    ("dns_failure", r"no such host|NXDOMAIN|Name or service not known|Temporary failure in name resolution|"
                    r"UnknownHostException|getaddrinfo (?:ENOTFOUND|EAI_AGAIN)|could not resolve host|"
                    r"DNS (?:lookup|resolution) fail|server misbehaving|SERVFAIL"),
    ("db_connection_exhaustion", r"too many (?:client |database )?connections|connection pool (?:is )?exhausted|"
                                 r"remaining connection slots|max_connections|unable to acquire (?:a )?(?:JDBC )?connection|"
                                 r"Cannot get a connection, pool|pool timeout|ConnectionPool.*(?:full|exhausted)|"
                                 r"QueuePool limit|HikariPool.*(?:timed out|not available)|"
                                 r"timed out waiting for (?:a |an )?(?:pooled|free|idle|available) connection|"
                                 r"(?:timed out|timeout) acquiring (?:a |an )?(?:connection|client) from (?:the )?pool"),
    # a database's own deadlock report is lock contention in the database, not an application deadlock
    ("db_lock_contention", r"ERROR:\s+deadlock detected|Deadlock found when trying to get lock|deadlock victim"),
    ("deadlock", r"deadlock|\[semacquire\b|\[sync\.(?:RW)?Mutex\.R?Lock|sync\.\(\*(?:RW)?Mutex\)\.R?Lock|waiting to lock (?:monitor|<)|BLOCKED \(on object monitor\)|all goroutines are asleep|"
                 r"blocked\b.{0,60}\b(?:lock|mutex|monitor)\b.{0,30}\bheld by|"
                 r"(?:thread|goroutine|handler)s? (?:\w+ )?blocked (?:for \S+ )?on (?:a |the )?(?:mutex|lock|monitor)|"
                 r"blocked (?:for \S+ )?awaiting (?:a |the )?lock|lock (?:order(?:ing)? )?(?:inversion|cycle)"),
    ("db_lock_contention", r"lock wait timeout|could not obtain lock|LockTimeout|waiting for (?:table |row )?lock|"
                           r"lock contention"),
    # a volume that stalls writers: the kernel's hung-task warning, slow fsync/WAL writes (Redis, etcd, databases)
    ("disk_io_latency", r"task \S+ blocked for more than \d+ seconds|(?:fsync|fdatasync|disk (?:write|read)|WAL (?:write|sync)) "
                        r"took \d+|slow (?:disk|fsync|fdatasync|I/O)|AOF fsync is taking too long|disk is busy|"
                        r"I/O (?:latency|wait) (?:is )?(?:high|above)"),
    ("db_slow_query", r"slow query|query took|statement timeout|canceling statement due to statement timeout"),
    ("db_replication_lag", r"replication lag|replica (?:is )?lagging|seconds behind master|replication delay"),
    ("db_down", r"database (?:is )?(?:down|unavailable|not available)|the database system is (?:starting|shutting) |"
                r"could not connect to (?:the )?(?:database|server: Connection refused)|ECONNREFUSED.*:(?:5432|3306|27017)|"
                r"Communications link failure"),
    # the kernel and NICs dropping packets, before "rate limit" (``net_ratelimit`` is printk's own limiter)
    ("packet_loss", r"table full, dropping packet|dropping packets?|packets? dropped|dropped \d+ packets|"
                    r"(?:rx|tx)_(?:dropped|missed|fifo)|ring buffer (?:full|overflow)|\b[1-9]\d* input errors|"
                    r"CRC errors?\b"),
    # router link and routing-protocol messages, a primary that the network lost
    ("network_partition", r"%BGP-\d-ADJCHANGE|%ADJCHANGE: neighbor .{0,60}\bDown\b|BGP_NOTIFICATION|"
                          r"Hold Timer Expired|hold time expired|changed state from Established|old state Established|"
                          r"%OSPF(?:V3)?-\d-ADJCHG: .{0,160}from FULL to|state changed from Full to|RPD_OSPF_NBRDOWN|"
                          r"Full -> (?:Deleted|Down)|%CLNS-\d-ADJCHANGE: .{0,120}\bDown\b|RPD_ISIS_ADJDOWN|"
                          r"%LINK-\d-UPDOWN: .{0,80}changed state to down|%LINEPROTO-\d-UPDOWN: .{0,100}changed state "
                          r"to down|NIC Link is Down|\bLink is Down\b|NETDEV WATCHDOG|SNMP_TRAP_LINK_DOWN|"
                          r"(?:primary|master|leader) \S+ (?:is )?unreachable|(?:primary|master|leader) (?:is )?unreachable"),
    ("ddos", r"possible SYN flooding|SYN flood|limiting (?:requests|connections)(?:, excess)?[:,]? .*by zone|"
             r"denial[- ]of[- ]service|\bDDoS\b"),
    # a CPU quota's throttling (a cgroup's ``nr_throttled``, an agent's ``cpu_throttled=true``), before the throttling
    # replies of a provider below: the process is held back by its own CPU limit, no one refused its requests
    ("cpu_throttling", r"cpu[_ .-]?throttl|throttl(?:ed|ing)[_ ](?:cpu|cfs)|CFS throttl|nr_throttled|"
                       r"throttled_(?:time|periods|usec|seconds)|CPUThrottlingHigh"),
    ("rate_limited", r"(?:HTTP|status|code|error)[ =:/\"']*429\b|\b429 Too Many|(?<!net_)rate[- ]?limit(?:ed|ing)?|"
                     r"too many requests|throttl(?:ed|ing)|quota exceeded|RequestLimitExceeded|SlowDown|"
                     r"reduce your request rate|ProvisionedThroughputExceeded|ThrottlingException|Rate exceeded|ServerBusy"),
    ("crash_loop", r"CrashLoopBackOff|Back-off restarting failed container|restarting failed container|crash ?loop"),
    ("thread_pool_exhaustion", r"thread ?pool (?:is )?(?:exhausted|full|saturated)|RejectedExecutionException|"
                               r"no (?:idle|available|free) (?:worker )?threads|worker pool (?:is )?(?:exhausted|full|saturated)|"
                               r"max(?:imum)? threads reached|maxThreads|all (?:worker |request )?threads (?:\(\d+\) )?"
                               r"(?:are )?(?:currently )?busy|\d+/\d+ workers busy|can't start new thread|"
                               r"worker pool at \d+/\d+|listen queue of socket .* full|thread starvation|"
                               r"Task (?:\S+ )?rejected from"),
    ("queue_backlog", r"queue (?:is )?full|queue backlog|backlog (?:is )?growing|consumer lag|message queue .*(?:full|overflow)"),
    ("resource_quota", r"exceeded quota|forbidden: exceeded quota|ResourceQuota|LimitRange"),
    ("cpu_throttling", r"cpu throttl|CFS throttl"),
    ("auth_failure_surge", r"authentication fail|invalid credentials|unauthori[sz]ed|(?:HTTP|status|code)[ =:/]*401\b|login failed|"
                           r"invalid (?:token|password)|permission denied \(publickey"),
    ("network_policy_block", r"NetworkPolicy|blocked by (?:network )?policy|connection (?:blocked|dropped) by firewall"),
    ("packet_loss", r"packet loss|packets? dropped|retransmi(?:t|ssion)"),
    ("network_partition", r"network (?:is )?unreachable|no route to host|partition(?:ed)? (?:detected|from)|split[- ]brain|"
                          r"(?:error updating node status|failed to (?:update|renew) (?:node )?lease|"
                          r"unable to register node|error getting node)\b.*(?:i/o timeout|timed out|deadline exceeded)"),
    ("network_latency", r"(?:read|connect|request|gateway|upstream) time(?:d)? ?out|timed out while|deadline exceeded|"
                        r"context deadline exceeded|ETIMEDOUT|high latency"),
    ("dependency_failure", r"connection refused|ECONNREFUSED|upstream (?:connect )?error|(?:HTTP|status|code)[ =:/]*50[234]\b|bad gateway|"
                           r"service unavailable|circuit (?:breaker )?(?:is )?open|connection reset by peer"),
    ("hardware_error", r"machine check|ECC error|hardware error|parity error|I/O error|disk failure"),
    ("node_failure", r"node (?:is )?not ?ready|NodeNotReady|kernel panic|node (?:lost|down|failure)"),
    ("config_change", r"configuration (?:reloaded|changed)|config (?:reloaded|changed)|invalid configuration"),
    ("bad_deploy", r"ImagePullBackOff|ErrImagePull|rollout .*failed|deployment failed"),
    ("exception_surge", r"Traceback \(most recent call last\)|\bException\b|[A-Z]\w+Exception\b|panic:|segfault|"
                        r"segmentation fault|NullPointer|unhandled (?:exception|rejection)|nil pointer dereference|"
                        r"\b(?:Type|Key|Value|Attribute|Index|ZeroDivision|Assertion|Validation|Reference|Syntax|Range|"
                        r"NoMethod|Name|Argument)Error\b|validation error|cannot unmarshal|cannot deserialize|"
                        r"Unexpected token \S+ in JSON"),
)

# each row's regex, and the lower-case literals one of which every match holds (``anchors.required_literals``):
# a substring test of those costs far less than the case-insensitive search, and most texts hold none
_COMPILED: tuple[tuple[str, re.Pattern[str], frozenset[str] | None], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE), required_literals(pattern) if pattern.isascii() else None)
    for kind, pattern in KIND_PATTERNS
)


def kind_of(text: str) -> str | None:
    """The vocabulary kind the text names, or None."""
    head = text[:2000]
    # the literal shortcut only on ASCII text: case-insensitive matching also takes a few other letters for ASCII
    # ones (the Kelvin sign for k, the long s for s), which lower-casing does not turn into them
    lower = head.lower() if head.isascii() else None
    for kind, regex, literals in _COMPILED:
        if lower is not None and literals is not None and not any(word in lower for word in literals):
            continue
        if regex.search(head):
            return kind
    return None
