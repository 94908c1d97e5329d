"""Simulated incident histories in which some incidents recur with different wording and values.

Each kind of root cause has several independent ways to name it, to describe its symptoms in a
postmortem, to alert on it, to show it in logs and to fix it. A past incident is written from one
random choice of each; its recurrence (an open incident: alert, signals, log templates) is written
from *other* choices, with other numbers, so a retriever cannot match it by copying words. Every
history also holds near misses: the same kind on other services and other kinds on the same service.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain import Alert, Document, DocumentType, Incident, Severity, Signal, category_of

SERVICES = (
    "checkout",
    "payments",
    "cart",
    "search",
    "auth",
    "inventory",
    "shipping",
    "notifications",
    "catalog",
    "recommendations",
    "billing",
    "gateway",
    "orders",
    "profile",
    "reporting",
    "ledger",
)


@dataclass(frozen=True)
class KindText:
    names: tuple[str, ...]  # what responders call the cause
    postmortem: tuple[str, ...]  # symptom sentences written after the fact ({s} service, {n} number)
    alerts: tuple[str, ...]  # alert names / summaries
    logs: tuple[str, ...]  # log templates
    fixes: tuple[str, ...]


KINDS: dict[str, KindText] = {
    "db_connection_exhaustion": KindText(
        ("database connection pool exhausted", "ran out of DB connections", "connection pool starvation"),
        (
            "requests to {s} queued waiting for a database connection for up to {n} seconds",
            "{s} threads blocked acquiring a JDBC connection and the API returned 503s",
        ),
        (
            "{s} DB pool saturation: active connections at max ({n}/{n})",
            "{s} high latency, waiting on datasource",
        ),
        (
            "HikariPool-1 - Connection is not available, request timed out after {n}ms",
            "FATAL: remaining connection slots are reserved for non-replication superuser connections",
            "sqlalchemy.exc.TimeoutError: QueuePool limit of size {n} overflow 10 reached",
        ),
        ("raised the pool size and fixed a connection leak", "restarted pods and closed leaked sessions"),
    ),
    "db_slow_query": KindText(
        ("slow database query", "expensive query without an index", "query plan regression"),
        (
            "a report query scanned {n} million rows and pinned the primary at full CPU",
            "p99 of {s} read endpoints climbed to {n} seconds because of a missing index",
        ),
        ("{s} p99 latency above {n}ms on read path", "{s} database CPU high, slow statements"),
        (
            "duration: {n} ms  statement: SELECT * FROM orders WHERE customer_id = $1",
            "slow query log: Query_time: {n}  Rows_examined: 9000000",
        ),
        ("added a composite index", "rewrote the query and analysed the table"),
    ),
    "db_lock_contention": KindText(
        ("lock contention in the database", "row lock waits", "blocking transactions"),
        (
            "writes in {s} piled up behind a long transaction holding row locks for {n} seconds",
            "a migration took an exclusive table lock and every update to {s} waited",
        ),
        ("{s} transactions waiting on locks", "{s} write latency spike, lock waits {n}"),
        (
            "ERROR: deadlock detected; Process {n} waits for ShareLock on transaction",
            "Lock wait timeout exceeded; try restarting transaction",
        ),
        ("killed the blocking session and split the migration", "shortened transactions and added retry"),
    ),
    "db_replication_lag": KindText(
        ("replica lag", "replication falling behind", "stale read replicas"),
        (
            "read replicas behind the primary by {n} seconds so {s} served stale data",
            "users of {s} saw old values because the standby could not keep up with WAL",
        ),
        ("{s} replica delay {n}s over threshold", "{s} replication lag high"),
        ("replica lag: seconds_behind_master={n}", "standby: WAL receiver too slow, replay delayed by {n}s"),
        ("throttled the bulk job and let replicas catch up", "moved reads to the primary temporarily"),
    ),
    "db_down": KindText(
        ("database outage", "primary database unavailable", "DB host down"),
        (
            "the primary database of {s} stopped accepting connections for {n} minutes",
            "{s} could not reach its Postgres cluster after the primary crashed",
        ),
        ("{s} database unreachable", "{s} DB health check failing"),
        (
            "could not connect to server: Connection refused  Is the server running on host",
            "psycopg.OperationalError: connection to server failed: No route to host",
        ),
        ("failed over to the standby", "restarted the database host and restored service"),
    ),
    "cpu_saturation": KindText(
        ("CPU saturation", "processors pegged at 100%", "compute exhausted"),
        (
            "{s} nodes ran at {n}% CPU and request latency tripled",
            "a hot loop in {s} consumed every core after the traffic peak",
        ),
        ("{s} CPU usage above {n}%", "{s} high load average"),
        ("load average: {n}.0, {n}.5, {n}.9", "worker busy: event loop lag {n}ms"),
        ("scaled out and fixed the hot loop", "added instances and profiled the regression"),
    ),
    "cpu_throttling": KindText(
        ("CPU throttling by cgroup limits", "container CPU quota throttled", "CFS throttling"),
        (
            "{s} containers hit their CPU limit and were throttled {n}% of periods",
            "the kernel throttled {s} pods so requests stalled although nodes were idle",
        ),
        ("{s} container_cpu_cfs_throttled ratio {n}%", "{s} CPU throttling high"),
        ("nr_throttled {n} throttled_time {n}000000", "GC pause {n}ms under throttled CPU quota"),
        ("raised CPU limits", "removed the CPU limit and set requests properly"),
    ),
    "memory_leak": KindText(
        ("memory leak", "heap growth that never came down", "unbounded cache growth"),
        (
            "resident memory of {s} grew steadily by {n} MB per hour until it swapped",
            "{s} heap kept rising across deploys and GC could not reclaim it",
        ),
        ("{s} memory usage growing {n}% per hour", "{s} heap usage high"),
        ("java.lang.OutOfMemoryError: Java heap space", "GC overhead limit exceeded, heap {n}MB"),
        ("fixed the cache eviction and restarted", "patched the leaking listener registration"),
    ),
    "oom_kill": KindText(
        ("OOM kills", "containers killed for exceeding memory limits", "out-of-memory killer"),
        (
            "{s} pods were OOMKilled {n} times and restarted in a loop",
            "the kernel killed {s} processes after they crossed the memory limit",
        ),
        ("{s} container restarts: OOMKilled", "{s} pod memory limit reached"),
        (
            "Memory cgroup out of memory: Killed process {n} (java)",
            "Last State: Terminated Reason: OOMKilled Exit Code: 137",
        ),
        ("raised memory limits and reduced batch sizes", "lowered the heap size below the limit"),
    ),
    "disk_full": KindText(
        ("disk full", "no space left on the volume", "filesystem at capacity"),
        (
            "the data volume of {s} reached 100% and writes failed for {n} minutes",
            "{s} could not write temp files because log files filled the disk",
        ),
        ("{s} filesystem free space below {n}%", "{s} disk usage critical"),
        (
            "OSError: [Errno 28] No space left on device",
            "could not extend file: wrote only {n} of 8192 bytes",
        ),
        ("deleted old logs and enabled rotation", "expanded the volume and added an alert at 80%"),
    ),
    "disk_io_latency": KindText(
        ("slow disk I/O", "storage latency", "IOPS exhaustion"),
        (
            "{s} volume latency rose to {n} ms per operation as IOPS credits ran out",
            "fsync calls in {s} took seconds on a degraded EBS volume",
        ),
        ("{s} disk await above {n}ms", "{s} high iowait"),
        ("fsync took {n}ms, WAL write slow", "blk_update_request: I/O error, dev sdb, sector {n}"),
        ("moved to provisioned IOPS", "replaced the degraded volume"),
    ),
    "network_latency": KindText(
        ("network latency", "slow network between zones", "high round-trip times"),
        (
            "calls from {s} to its peers took {n} ms longer across availability zones",
            "a congested link added latency to every request {s} made",
        ),
        ("{s} upstream RTT above {n}ms", "{s} network latency high"),
        ("upstream response time {n}ms exceeds budget", "TCP retransmit timeout, rtt={n}ms"),
        ("shifted traffic away from the congested link", "pinned replicas in the same zone"),
    ),
    "packet_loss": KindText(
        ("packet loss", "dropped packets", "lossy network interface"),
        (
            "{n}% of packets to {s} were dropped by a faulty switch port",
            "{s} saw TCP retransmissions and resets from a flapping NIC",
        ),
        ("{s} packet drop rate {n}%", "{s} TCP retransmits high"),
        ("nf_conntrack: table full, dropping packet", "eth0: {n} rx_dropped, link flapping"),
        ("replaced the switch port", "drained the host with the bad NIC"),
    ),
    "network_partition": KindText(
        ("network partition", "split brain between zones", "zones cut off from each other"),
        (
            "half of the {s} cluster could not reach the other half for {n} minutes",
            "{s} nodes in one zone lost connectivity to the quorum",
        ),
        ("{s} cluster members unreachable", "{s} quorum lost"),
        (
            "raft: heartbeat timeout reached, starting election term {n}",
            "gossip: node suspected, no route to host",
        ),
        ("restored the inter-zone route", "rejoined the isolated nodes after the routing fix"),
    ),
    "network_policy_block": KindText(
        ("network policy blocked traffic", "firewall rule denied connections", "security group change"),
        (
            "a new NetworkPolicy denied ingress to {s} and {n}% of calls failed",
            "{s} could not reach its dependency after a firewall rule change",
        ),
        ("{s} connection refused from peers", "{s} connect timeouts to dependency"),
        ("dial tcp 10.0.{n}.4:5432: i/o timeout", "connection refused by policy deny-all"),
        ("rolled back the policy", "added the missing allow rule"),
    ),
    "dns_failure": KindText(
        ("DNS resolution failure", "name lookups failing", "resolver outage"),
        (
            "{s} could not resolve its dependencies' hostnames for {n} minutes",
            "CoreDNS pods were overloaded and {s} lookups timed out",
        ),
        ("{s} DNS lookup errors", "{s} NXDOMAIN and SERVFAIL rate high"),
        (
            "getaddrinfo ENOTFOUND db.internal",
            "dial tcp: lookup api.internal on 10.96.0.10:53: server misbehaving",
        ),
        ("scaled CoreDNS and added node-local cache", "fixed the broken resolver config"),
    ),
    "certificate_expired": KindText(
        ("expired TLS certificate", "certificate past its validity date", "cert renewal missed"),
        (
            "clients of {s} failed TLS handshakes because the certificate expired",
            "the automated renewal for {s} silently failed {n} days earlier",
        ),
        ("{s} TLS handshake failures", "{s} certificate expiry check failing"),
        (
            "x509: certificate has expired or is not yet valid",
            "SSL routines:ssl3_read_bytes:sslv3 alert certificate expired",
        ),
        ("renewed and deployed the certificate", "fixed the cert-manager issuer and renewed"),
    ),
    "bad_deploy": KindText(
        ("bad deploy", "faulty release", "regression shipped in a new version"),
        (
            "version {n} of {s} shipped a bug and error rates jumped right after rollout",
            "the new build of {s} crashed on a code path missing from tests",
        ),
        ("{s} error rate above {n}% after rollout", "{s} 5xx spike"),
        (
            "NullPointerException at OrderService.handle(OrderService.java:{n})",
            "TypeError: cannot read property 'id' of undefined",
        ),
        ("rolled back to the previous version", "reverted the commit and redeployed"),
    ),
    "config_change": KindText(
        ("configuration change", "bad config push", "misconfigured setting"),
        (
            "a config push set the {s} timeout to {n} ms and requests started failing",
            "an edited environment variable pointed {s} at the wrong endpoint",
        ),
        ("{s} errors after config update", "{s} failing requests, config reload"),
        (
            "invalid configuration: key upstream.timeout value {n}",
            "config reloaded, using endpoint staging.internal",
        ),
        ("reverted the configuration", "restored the previous config version"),
    ),
    "feature_flag": KindText(
        ("feature flag rollout", "flag flip enabled a broken path", "toggle turned on for everyone"),
        (
            "enabling a flag for {n}% of users sent {s} down an untested code path",
            "{s} errors started when the new checkout flow flag was switched on",
        ),
        ("{s} errors rising after flag change", "{s} exception rate up"),
        ("flag new_flow=true for cohort {n}", "feature toggle evaluated: variant B, handler missing"),
        ("turned the flag off", "rolled the flag back to 0%"),
    ),
    "dependency_failure": KindText(
        ("third-party dependency outage", "upstream provider failing", "downstream service errors"),
        (
            "the external provider {s} relies on returned errors for {n} minutes",
            "{s} timed out because a vendor API was down",
        ),
        ("{s} upstream errors from provider", "{s} dependency health failing"),
        (
            "upstream connect error or disconnect/reset before headers",
            "HTTP {n} from api.vendor.com, circuit breaker open",
        ),
        ("failed over to the secondary provider", "enabled the fallback and waited for the vendor"),
    ),
    "rate_limited": KindText(
        ("rate limited by a dependency", "throttled by an API quota", "hit request limits"),
        (
            "a partner API throttled {s} after it exceeded {n} requests per minute",
            "{s} received HTTP 429 for every call once the quota ran out",
        ),
        ("{s} HTTP 429 responses", "{s} throttled calls to partner API"),
        (
            "429 Too Many Requests: rate limit exceeded, retry after {n}s",
            "quota exceeded for quota metric requests per minute",
        ),
        ("added backoff and requested a higher quota", "batched calls to stay under the limit"),
    ),
    "traffic_spike": KindText(
        ("traffic spike", "sudden surge of requests", "load far above normal"),
        (
            "a marketing push sent {n}x normal traffic to {s}",
            "{s} received a flood of requests after a viral post",
        ),
        ("{s} request rate {n}x baseline", "{s} RPS anomaly"),
        ("accepted connections {n}, backlog full", "upstream queue length {n}, shedding load"),
        ("scaled out and enabled caching", "added autoscaling headroom"),
    ),
    "queue_backlog": KindText(
        ("queue backlog", "consumers falling behind", "message lag"),
        (
            "{n} thousand messages piled up in the {s} queue and processing was delayed",
            "{s} consumers could not keep up and lag grew for hours",
        ),
        ("{s} consumer lag above {n}", "{s} queue depth growing"),
        ("consumer group lag {n} on partition 3", "queue ready messages {n}, unacked growing"),
        ("added consumers and fixed the slow handler", "scaled the workers and drained the backlog"),
    ),
    "resource_quota": KindText(
        ("resource quota exhausted", "namespace quota reached", "cloud limit hit"),
        (
            "{s} could not schedule new pods because the namespace quota was used up",
            "autoscaling of {s} stopped at {n} instances due to an account limit",
        ),
        ("{s} pods pending: exceeded quota", "{s} scaling blocked by limit"),
        (
            "forbidden: exceeded quota: compute-resources, requested: cpu={n}",
            "LimitExceeded: instance limit reached",
        ),
        ("raised the quota", "requested a limit increase and cleaned unused resources"),
    ),
    "crash_loop": KindText(
        ("crash loop", "process restarting repeatedly", "CrashLoopBackOff"),
        (
            "{s} pods restarted {n} times because the process exited at startup",
            "a missing secret made {s} crash immediately after every start",
        ),
        ("{s} pod restarts high", "{s} CrashLoopBackOff"),
        (
            "Back-off restarting failed container, exit code 1",
            "panic: runtime error: invalid memory address or nil pointer dereference",
        ),
        ("restored the missing secret", "fixed the startup check and redeployed"),
    ),
    "thread_pool_exhaustion": KindText(
        ("thread pool exhaustion", "all worker threads busy", "executor saturation"),
        (
            "every worker thread in {s} was blocked on a slow call and new requests queued",
            "{s} request threads maxed out at {n} and the queue overflowed",
        ),
        ("{s} busy threads at max", "{s} request queue rejected"),
        ("RejectedExecutionException: Thread pool is EXHAUSTED, max {n}", "Tomcat: all {n} threads are busy"),
        (
            "added timeouts to the slow call and raised the pool",
            "isolated the slow dependency with a bulkhead",
        ),
    ),
    "deadlock": KindText(
        ("application deadlock", "threads waiting on each other forever", "lock ordering bug"),
        (
            "{s} stopped processing because two threads held locks the other needed",
            "a lock ordering bug froze {s} workers until restart",
        ),
        ("{s} throughput dropped to zero", "{s} requests hanging"),
        (
            "Found one Java-level deadlock: waiting to lock monitor",
            "fatal error: all goroutines are asleep - deadlock!",
        ),
        ("restarted and fixed the lock ordering", "removed the nested lock"),
    ),
    "auth_failure_surge": KindText(
        ("authentication failure surge", "login errors spike", "token validation failing"),
        (
            "{n}% of logins to {s} failed after the signing key rotated",
            "{s} rejected valid tokens because the identity provider keys changed",
        ),
        ("{s} 401 rate high", "{s} login failures spike"),
        ("JWT verification failed: signature invalid, kid {n}", "invalid_grant: token expired or revoked"),
        ("republished the JWKS", "rolled back the key rotation"),
    ),
    "ddos": KindText(
        ("DDoS attack", "malicious flood of traffic", "volumetric attack"),
        (
            "a botnet sent {n} Gbps of junk traffic at {s}",
            "{s} was overwhelmed by requests from thousands of spoofed addresses",
        ),
        ("{s} inbound traffic anomaly", "{s} SYN flood suspected"),
        (
            "possible SYN flooding on port 443. Sending cookies",
            "WAF blocked {n} requests from 203.0.113.0/24",
        ),
        ("enabled the scrubbing service", "added WAF rules and rate limits"),
    ),
    "node_failure": KindText(
        ("node failure", "host went down", "instance lost"),
        (
            "a worker node running {s} became NotReady and its pods were evicted",
            "the VM hosting {s} was retired by the cloud provider without notice",
        ),
        ("{s} node NotReady", "{s} instances unhealthy"),
        ("Node worker-{n} status is now: NodeNotReady", "kubelet stopped posting node status"),
        ("cordoned and replaced the node", "rescheduled pods onto healthy hosts"),
    ),
}


@dataclass
class RecurrenceCase:
    history: list[Document]
    incident: Incident
    signals: list[Signal]
    expected_id: str
    kind: str
    service: str


def _fill(rng: random.Random, template: str, service: str) -> str:
    return template.format(s=service, n=rng.randint(3, 997))


def _past(
    rng: random.Random, doc_id: str, service: str, kind: str, when: datetime, pick: dict[str, int]
) -> Document:
    k = KINDS[kind]
    name = k.names[pick["names"]]
    symptom = _fill(rng, k.postmortem[pick["postmortem"]], service)
    log = _fill(rng, k.logs[pick["logs"]], service)
    fix = k.fixes[pick["fixes"]]
    title = f"{service.capitalize()} incident: {name}"
    text = f"{symptom[0].upper()}{symptom[1:]}. Root cause: {name}. Evidence: {log}."
    return Document(
        id=doc_id,
        type=DocumentType.INCIDENT,
        title=title,
        text=text,
        services=[service],
        category=category_of(kind).value,
        kinds=[kind],
        root_cause_service=service,
        root_cause_kind=kind,
        resolution=fix.capitalize(),
        date=when,
        source="simulated",
    )


def _other(rng: random.Random, size: int, used: int) -> int:
    choices = [i for i in range(size) if i != used]
    return rng.choice(choices) if choices else used


def _open_incident(
    rng: random.Random, service: str, kind: str, pick: dict[str, int], when: datetime
) -> tuple[Incident, list[Signal]]:
    k = KINDS[kind]
    alert_text = _fill(rng, k.alerts[_other(rng, len(k.alerts), pick.get("alerts", -1))], service)
    log = _fill(rng, k.logs[_other(rng, len(k.logs), pick["logs"])], service)
    alert = Alert(
        source="alertmanager",
        name="".join(w.capitalize() for w in alert_text.split(":")[0].split()[1:] if w.isalpha())[:40],
        service=service,
        severity=Severity.CRITICAL,
        summary=alert_text,
        labels={
            "service": service,
            "severity": "critical",
            "instance": f"10.0.{rng.randint(1, 250)}.{rng.randint(1, 250)}:9100",
        },
        annotations={"summary": alert_text},
        starts_at=when,
    )
    incident = Incident(
        title=alert_text, service=service, severity=Severity.CRITICAL, alerts=[alert], started_at=when
    )
    signals = [
        Signal(
            source="logs",
            detector="template_surge",
            service=service,
            kind="log_anomaly",
            title=f"new log template in {service}",
            score=0.9,
            attributes={"template": log},
        ),
        Signal(
            source="metrics",
            detector="changepoint",
            service=service,
            kind="latency_increase",
            title=f"p99 latency of {service} up {rng.randint(2, 9)}x",
            score=0.6,
        ),
    ]
    return incident, signals


def generate_cases(
    *, histories: int = 20, history_size: int = 40, recurrences: int = 5, seed: int = 7
) -> list[RecurrenceCase]:
    """``histories * recurrences`` cases; each history holds ``history_size`` past incidents."""
    rng = random.Random(seed)
    kinds = sorted(KINDS)
    cases: list[RecurrenceCase] = []
    now = datetime(2026, 11, 1, tzinfo=UTC)
    for h in range(histories):
        pairs: list[tuple[str, str]] = []
        targets = [(rng.choice(SERVICES), rng.choice(kinds)) for _ in range(recurrences)]
        for service, kind in targets:
            pairs.append((service, kind))
            pairs.append((rng.choice([s for s in SERVICES if s != service]), kind))  # same kind elsewhere
            pairs.append((service, rng.choice([x for x in kinds if x != kind])))  # same service, other cause
        while len(pairs) < history_size:
            pairs.append((rng.choice(SERVICES), rng.choice(kinds)))
        history: list[Document] = []
        picks: dict[str, dict[str, int]] = {}
        for n, (service, kind) in enumerate(pairs):
            k = KINDS[kind]
            pick = {f: rng.randrange(len(getattr(k, f))) for f in ("names", "postmortem", "logs", "fixes")}
            doc_id = f"h{h}-past{n}"
            when = now - timedelta(days=rng.randint(5, 700))
            history.append(_past(rng, doc_id, service, kind, when, pick))
            picks[doc_id] = pick
        rng.shuffle(history)
        for t, (service, kind) in enumerate(targets):
            expected = f"h{h}-past{3 * t}"
            incident, signals = _open_incident(rng, service, kind, picks[expected], now)
            cases.append(RecurrenceCase(history, incident, signals, expected, kind, service))
    return cases
