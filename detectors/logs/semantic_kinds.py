"""Short descriptions of what a log line says when it names a cause kind: the semantic matcher's targets.

Several paraphrases per kind, written from the programs' and vendors' documentation of the failure
(what the condition is and how software reports it), in the words a log line would use. ``ORDINARY``
describes healthy operation: a line closest to it is not a cause, whatever its second-best kind.
"""

from __future__ import annotations

KIND_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "oom_kill": (
        "process killed because it ran out of memory",
        "out of memory error, could not allocate memory, heap exhausted",
        "the kernel OOM killer terminated the process over its memory limit",
        "container was killed for exceeding its memory limit",
    ),
    "memory_leak": (
        "memory usage keeps growing and garbage collection cannot free it",
        "garbage collector spends most of its time collecting with little memory reclaimed",
        "resident memory grew steadily over hours until near the limit",
    ),
    "disk_full": (
        "no space left on the device, the disk or volume is full",
        "write failed because the filesystem has no free space",
        "disk usage reached one hundred percent, cannot write file",
        "disk watermark exceeded: the index was made read-only because the node's disk is nearly full",
    ),
    "disk_io_latency": (
        "disk writes or fsync are very slow, storage I/O stalls",
        "a task was blocked for a long time waiting on disk I/O",
        "storage device latency rose from milliseconds to seconds, I/O requests take very long to complete",
        "the volume is slow to respond, I/O wait is high",
    ),
    "db_connection_exhaustion": (
        "the database refused the connection because too many clients are connected",
        "connection pool exhausted, timed out waiting for a free database connection",
        "maximum number of database connections reached",
    ),
    "db_slow_query": (
        "database query took too long and was cancelled by the statement timeout",
        "slow query log: the query scanned many rows and ran for seconds",
    ),
    "db_lock_contention": (
        "database transaction waited on a row lock until the lock wait timeout",
        "the database detected a deadlock between transactions and aborted one",
        "could not obtain lock on table, another transaction holds it",
        "sessions are queued waiting for a lock that another query or migration holds",
    ),
    "db_replication_lag": (
        "the replica is far behind the primary, replication lag is growing",
        "standby cannot keep up with the primary's write-ahead log",
        "the replica stopped applying changes after a replication error",
    ),
    "db_down": (
        "cannot connect to the database server, it is down or not accepting connections",
        "the database system is shutting down or in recovery and refuses queries",
        "database server unreachable, connection to the primary database failed",
        "failover: the primary database failed and a standby was promoted",
        "the database refuses all writes to avoid transaction ID wraparound data loss",
    ),
    "network_latency": (
        "network round trip time between hosts increased, packets are slow to arrive",
        "high network latency on the link slows every request",
    ),
    "packet_loss": (
        "packets are being dropped by the kernel or the network interface",
        "connection tracking table is full, new packets are dropped",
        "interface reports CRC errors and input errors, frames lost",
        "probes report one hundred percent packet loss on the path, traffic is black-holed",
    ),
    "network_partition": (
        "the network link went down, interface changed state to down",
        "routing protocol neighbor lost, BGP session or OSPF adjacency went down",
        "host is unreachable, no route to host, the network is partitioned",
        "nodes cannot reach each other across the network, cluster split",
        "the clustered switch pair lost its peer link and both members became active, split brain",
        "a network loop: MAC addresses flapping between ports",
    ),
    "network_policy_block": (
        "traffic blocked by a firewall rule or network policy",
        "egress denied by the security group, connection dropped by policy",
    ),
    "dns_failure": (
        "the host name could not be resolved, DNS lookup failed",
        "name resolution failed: unknown host, no such host, NXDOMAIN",
        "the DNS server did not answer, temporary failure in name resolution",
    ),
    "certificate_expired": (
        "TLS certificate has expired or is not yet valid",
        "TLS handshake failed: certificate verification failed",
        "the server certificate is not trusted or does not match the host name",
        "the peer rejected the certificate during the handshake because it has expired",
    ),
    "bad_deploy": (
        "the new release fails to start: missing module, class or file in the image",
        "the container image or binary is broken, exec format error or command not found",
        "startup script has a syntax error after the latest deploy",
    ),
    "config_change": (
        "a required configuration value or environment variable is missing",
        "invalid configuration: the setting has a wrong value and the service cannot start",
        "credentials rejected after a secret or configuration change",
    ),
    "feature_flag": (
        "a feature flag was switched on and the new code path fails",
    ),
    "dependency_failure": (
        "the call to another service failed: connection refused by the upstream",
        "upstream service returned 502 or 503, bad gateway, service unavailable",
        "request to a downstream dependency timed out",
    ),
    "rate_limited": (
        "the provider throttled our requests: too many requests, rate limit exceeded",
        "HTTP 429 from the external API, slow down and retry later",
        "request rate exceeded the provisioned throughput or quota of the cloud service",
        "API rate limit exceeded for this token, waiting until the quota resets",
    ),
    "queue_backlog": (
        "the message queue backlog keeps growing, consumers are falling behind",
        "consumer lag increasing, messages wait in the queue",
    ),
    "resource_quota": (
        "resource quota exceeded, cannot create more pods or allocate resources",
        "insufficient cpu or memory on any node to schedule the workload",
        "too many open files: the process reached its file descriptor limit",
    ),
    "crash_loop": (
        "the process crashed with a fatal error and exited",
        "unhandled panic, segmentation fault, the program aborted",
        "the container keeps restarting after crashing on startup",
    ),
    "exception_surge": (
        "an unexpected exception was thrown while handling the request",
        "the clock went backwards or time handling failed, invalid timestamp",
        "the system clock is not synchronised: tokens rejected as not valid yet, time skew between hosts",
    ),
    "thread_pool_exhaustion": (
        "all worker threads are busy, the thread pool is exhausted and tasks are rejected",
        "cannot create a new thread, the thread limit was reached",
        "request queue full because every worker is occupied",
    ),
    "deadlock": (
        "threads are blocked waiting for each other's locks, a deadlock",
        "goroutines are stuck waiting on a mutex and make no progress",
    ),
    "auth_failure_surge": (
        "authentication failed: invalid credentials or expired token",
        "many login attempts rejected as unauthorized",
    ),
    "ddos": (
        "a flood of requests or SYN packets from many sources, a denial of service attack",
        "requests are being limited per client because of an abusive traffic surge",
    ),
    "node_failure": (
        "the node is not ready, the kubelet stopped reporting",
        "the machine froze: kernel panic or CPU soft lockup",
    ),
    "hardware_error": (
        "hardware error: machine check exception or uncorrectable memory ECC error",
        "disk I/O error reading a sector, the drive is failing",
        "filesystem corruption detected, remounted read-only",
        "the storage controller failed: paths to the disk array are down, a controller node was taken offline",
        "a disk in the RAID array failed: bad blocks and controller errors on the drive",
    ),
}

ORDINARY: tuple[str, ...] = (
    "request handled successfully with status 200",
    "service started and is listening on its port",
    "configuration loaded, connected to the database, ready to serve",
    "scheduled job finished, cache refreshed, metrics flushed",
    "health check passed",
    "user logged in and viewed a page",
    "retrying once, the next attempt succeeded",
    "debug trace of normal processing steps",
    "interface changed state to up, the link is up, the session is established",
    "replication is streaming normally with no lag",
    "TLS handshake completed successfully",
    "node status updated successfully, container created and started",
    "a limit, timeout or pool size was configured",
    "secret synced, firewall rule updated, policy applied as planned",
    "pool and thread statistics are within normal range",
)
