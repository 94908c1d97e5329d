"""The fault catalog: one ``FaultSpec`` per root-cause kind of the shared vocabulary.

A spec says where the fault can live (``targets``), what it does to the culprit's metrics and logs,
how it propagates (callers along the topology, services on the same node, the queue, a subset of
services for DNS), which change triggers it (when change-induced), what Kubernetes and the kernel
say, which alert a monitoring tool raises, and how people fixed it (for the generated history).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.vocabulary import ALL_KINDS


@dataclass(frozen=True)
class Effect:
    metric: str
    op: str  # mul | add | set | pool_full | gap | counter
    value: float = 0.0
    shape: str = "step"  # step | ramp | flap | burst
    delay: float = 0.0  # minutes after the fault starts
    ramp: float = 2.0  # minutes to full effect (step) or restart interval (counter)


@dataclass(frozen=True)
class Line:
    level: str
    text: str
    family: str | None = None  # an exception family (phrases.py) rendered in the component's language
    rate: float = 1.0  # lines a minute at full effect
    delay: float = 0.0
    once: bool = False


@dataclass(frozen=True)
class Change:
    kind: str  # deploy | config | feature_flag | k8s
    text: str
    lead: tuple[float, float] = (2.0, 7.0)  # minutes before the fault starts
    probability: float = 1.0


@dataclass(frozen=True)
class FaultSpec:
    kind: str
    targets: tuple[str, ...]  # roles, or: db_user, consumer, auth, stateful, node
    title: str
    effects: tuple[Effect, ...] = ()
    logs: tuple[Line, ...] = ()
    caller_family: str = "timeout"
    caller_latency: float = 2.0  # multiplier on direct callers' p95 latency
    caller_errors: float = 0.05  # error ratio added on direct callers
    victims: str = ""  # node | node_only (only when the culprit is a node) | dns | db_users
    victim_effects: tuple[Effect, ...] = ()
    victim_logs: tuple[Line, ...] = ()
    extra: dict[str, tuple[Effect, ...]] = field(default_factory=dict)  # "queue"/"node"/"database"
    extra_logs: dict[str, tuple[Line, ...]] = field(default_factory=dict)
    syslog: tuple[Line, ...] = ()  # on the culprit's node (kernel / kubelet)
    k8s: tuple[tuple[str, str, str, float], ...] = ()  # (type, reason, message, delay)
    change: Change | None = None
    alert: str = "HighErrorRate"  # the cause-specific alert (easy bundles fire it on the culprit)
    alert_on: str = "callers"  # callers | self | queue
    keywords: tuple[str, ...] = ()
    resolution: str = ""
    runbook: tuple[str, ...] = ()


E, L = Effect, Line
LAT, ERR, RPS, CPU = "latency_p95_ms", "error_rate", "request_rate", "cpu_usage"

_SPECS: list[FaultSpec] = [
    FaultSpec(
        "cpu_saturation", ("app", "edge"), "{svc} saturates its CPU and starves its node neighbours",
        effects=(E(CPU, "mul", 3.2), E("cpu_throttled_ratio", "set", 0.35), E(LAT, "mul", 3.0, delay=1),
                 E(ERR, "add", 0.02, delay=2)),
        logs=(L("warn", "slow request: {ms}ms exceeds budget 500ms", rate=2),
              L("warn", "health check took {ms}ms", rate=0.5)),
        caller_latency=1.8, caller_errors=0.02, victims="node",
        victim_effects=(E(LAT, "mul", 1.35), E("cpu_throttled_ratio", "add", 0.08)),
        extra={"node": (E(CPU, "set", 0.97),)},
        syslog=(L("warn", "kubelet: eviction manager: node has CPU pressure, top consumer pod {pod}", rate=0.2),),
        alert="CPUSaturation", keywords=("cpu", "saturation", "noisy neighbour", "hot loop"),
        resolution="Scaled {svc} out from 3 to 6 replicas and moved it off the shared node; the regex backtracking "
                   "hot loop was fixed in the next release.",
        runbook=("Check `container_cpu_usage_seconds_total` of the top pods on the node.",
                 "Scale the hot service out (`kubectl scale deploy/<svc> --replicas=N`).",
                 "Profile the service (async-profiler / py-spy) to find the hot loop.")),
    FaultSpec(
        "cpu_throttling", ("app", "edge"), "{svc} is CPU-throttled by a too-low CPU limit",
        effects=(E("cpu_throttled_ratio", "set", 0.62), E(LAT, "mul", 3.5), E(ERR, "add", 0.01, delay=2)),
        logs=(L("warn", "request took {ms}ms (p95 target 300ms)", rate=2),
              L("warn", "event processing lag {n}ms", rate=0.5)),
        caller_latency=2.0, caller_errors=0.02,
        change=Change("config", "resources.limits.cpu of {svc} changed from 2 to 500m ({version})", probability=0.8),
        alert="CPUThrottlingHigh", keywords=("cpu", "throttling", "limits", "cfs quota"),
        resolution="Raised the CPU limit of {svc} back to 2 cores; throttling dropped under 5%.",
        runbook=("Compare `container_cpu_cfs_throttled_periods_total` to total periods.",
                 "Check recent changes to `resources.limits.cpu` in the deployment.",
                 "Raise or remove the CPU limit; keep requests realistic.")),
    FaultSpec(
        "memory_leak", ("app", "edge"), "{svc} leaks memory after a release",
        effects=(E("memory_bytes", "mul", 2.6, shape="ramp"), E(LAT, "mul", 2.2, shape="ramp"),
                 E(ERR, "add", 0.03, shape="ramp")),
        logs=(L("warn", "", family="gc", rate=1.5), L("warn", "heap usage above 85% of limit", rate=0.3, delay=10)),
        caller_latency=1.6, caller_errors=0.02,
        change=Change("deploy", "{svc} {version} rolled out (image registry.example.com/{world}/{svc}:{tag})",
                      lead=(3, 10), probability=0.7),
        alert="ContainerMemoryNearLimit", keywords=("memory", "leak", "heap", "gc"),
        resolution="Rolled {svc} back; the release kept a per-request cache that was never evicted.",
        runbook=("Plot `container_memory_working_set_bytes` of the service since the last deploy.",
                 "Take a heap dump / tracemalloc snapshot before the pod is killed.",
                 "Roll back the release if the slope started with it.")),
    FaultSpec(
        "oom_kill", ("app", "edge", "node"), "{svc} is OOM-killed repeatedly",
        effects=(E("memory_bytes", "mul", 1.9, shape="flap"), E("restarts", "counter", 1, ramp=6),
                 E(ERR, "add", 0.12, shape="flap"), E(LAT, "mul", 1.8)),
        logs=(L("error", "", family="oom", rate=0.2), L("info", "starting {svc} (pid 1)", rate=0.17)),
        caller_family="refused", caller_latency=1.5, caller_errors=0.08, victims="node_only",
        victim_effects=(E("restarts", "counter", 1, delay=1, ramp=20), E(ERR, "add", 0.3, shape="burst")),
        syslog=(L("error", "kernel: Memory cgroup out of memory: Killed process {n}{d} ({proc}) total-vm:3276800kB, "
                           "anon-rss:2097152kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:4500kB oom_score_adj:936",
                  rate=0.17),),
        k8s=(("Warning", "OOMKilling", "Container {svc} in pod {pod} was OOMKilled (exit code 137)", 1),
             ("Warning", "BackOff", "Back-off restarting failed container {svc} in pod {pod}", 7)),
        alert="KubePodOOMKilled", keywords=("oom", "memory", "killed", "exit code 137"),
        resolution="Raised the memory limit of {svc} from 1Gi to 2Gi and capped the batch size of the export job.",
        runbook=("`kubectl describe pod` and look for `OOMKilled` / exit code 137.",
                 "Compare the working set with the limit over the last day.",
                 "Raise the limit or reduce the per-request memory.")),
    FaultSpec(
        "disk_full", ("database", "queue", "cache", "node"), "{svc} ran out of disk space",
        effects=(E("disk_used_ratio", "set", 0.999, shape="step", ramp=6), E(ERR, "add", 0.4, delay=4),
                 E(LAT, "mul", 2.0, delay=4)),
        logs=(L("error", "could not extend file \"base/16384/24576\": No space left on device", rate=2, delay=4),),
        caller_family="http5xx", caller_latency=1.6, caller_errors=0.2, victims="node_only",
        victim_effects=(E("restarts", "counter", 1, delay=2, ramp=30), E(ERR, "add", 0.25, shape="burst", delay=2)),
        syslog=(L("warn", "kubelet: eviction manager: attempting to reclaim ephemeral-storage", rate=0.3),),
        k8s=(("Warning", "EvictionThresholdMet", "Attempting to reclaim ephemeral-storage", 3),),
        alert="KubePersistentVolumeFillingUp", alert_on="self", keywords=("disk", "full", "no space left", "volume"),
        resolution="Expanded the {svc} volume from 100Gi to 200Gi and dropped stale WAL / log segments.",
        runbook=("`df -h` on the volume; find the biggest directories (`du -xh --max-depth=2`).",
                 "Expand the PVC (allowVolumeExpansion) or free space (old WAL, segments, dumps).",
                 "Add a 'filling up in 4h' prediction alert.")),
    FaultSpec(
        "disk_io_latency", ("database", "queue", "cache"), "{svc}'s volume is slow (I/O latency)",
        effects=(E("disk_io_wait_ms", "mul", 25), E(LAT, "mul", 6.0), E(ERR, "add", 0.03, delay=2)),
        logs=(L("warn", "disk write took {ms}ms (fsync)", rate=1.5),),
        caller_family="timeout", caller_latency=2.5, caller_errors=0.05,
        extra={"node": (E("disk_io_wait_ms", "mul", 15),)},
        syslog=(L("warn", "kernel: INFO: task jbd2/nvme1n1-8:{n} blocked for more than 120 seconds.", rate=0.2),),
        alert="DiskIOLatencyHigh", alert_on="callers", keywords=("disk", "io", "latency", "iowait", "fsync"),
        resolution="Moved the {svc} volume from a burstable gp2 disk that had exhausted its burst credits to gp3 "
                   "with provisioned IOPS.",
        runbook=("Check `node_disk_io_time_weighted_seconds_total` and iowait of the node.",
                 "Check the cloud volume's burst balance / throttling metrics.",
                 "Move to provisioned IOPS or reduce write amplification.")),
    FaultSpec(
        "db_connection_exhaustion", ("db_user",), "{svc} exhausts its database connection pool",
        effects=(E("db_connections_in_use", "pool_full", ramp=3), E(LAT, "mul", 7.0, delay=1),
                 E(ERR, "add", 0.22, delay=2)),
        logs=(L("error", "could not get a database connection", family="db_pool", rate=3, delay=1),
              L("warn", "request waited {ms}ms for a pooled connection", rate=1.5)),
        caller_family="timeout", caller_latency=3.0, caller_errors=0.12,
        extra={"database": (E("db_connections_in_use", "mul", 1.25),)},
        extra_logs={"database": (L("info", "connection authorized: user={svc} database=app", rate=1.5),)},
        change=Change("deploy", "{svc} {version} rolled out (image registry.example.com/{world}/{svc}:{tag}); "
                                "changelog: async order confirmation, new retry wrapper around repository calls",
                      lead=(2, 6)),
        alert="DBConnectionPoolExhausted",
        keywords=("connection pool", "exhausted", "hikari", "timeout", "database", "deploy"),
        resolution="Rolled back {svc} {version}; the new retry wrapper held a connection while waiting for the "
                   "payment call, so the 20-connection pool drained under normal load.",
        runbook=("Check pool metrics (`hikaricp_connections_active`, pending) against the pool size.",
                 "Look for connections held across remote calls or leaked on error paths.",
                 "Roll back the last deploy if the pool saturated right after it.",
                 "Only then consider raising `maximumPoolSize` (mind the server's max_connections).")),
    FaultSpec(
        "db_slow_query", ("database",), "a slow query plan on {svc} after an index was dropped",
        effects=(E(LAT, "mul", 35), E(CPU, "mul", 2.8), E("disk_io_wait_ms", "mul", 4),
                 E("db_connections_in_use", "mul", 2.5)),
        logs=(L("warn", "duration: {ms}.412 ms  statement: SELECT o.* FROM orders o WHERE o.customer_email = $1 "
                        "ORDER BY o.created_at DESC LIMIT 50", rate=3),
              L("info", "automatic vacuum of table \"app.public.orders\": index scans: 0", rate=0.1)),
        caller_family="db_timeout", caller_latency=3.0, caller_errors=0.08, victims="db_users",
        change=Change("config", "migration 0142_drop_unused_indexes applied to {svc}", lead=(3, 12), probability=0.5),
        alert="PostgresSlowQueries", keywords=("slow query", "statement timeout", "index", "seq scan", "database"),
        resolution="Recreated index idx_orders_customer_email CONCURRENTLY; p95 query time went from 4s to 8ms.",
        runbook=("Find the top statements in `pg_stat_statements` by total time.",
                 "`EXPLAIN (ANALYZE, BUFFERS)` the worst one; look for sequential scans.",
                 "Add or restore the index `CONCURRENTLY`; check recent migrations.")),
    FaultSpec(
        "db_lock_contention", ("database",), "lock contention on {svc}",
        effects=(E(LAT, "mul", 20), E("db_connections_in_use", "mul", 3.0), E(ERR, "add", 0.05)),
        logs=(L("warn", "process {n} still waiting for ShareLock on transaction 8812{n} after 1000.{n} ms", rate=3),
              L("error", "deadlock detected", rate=0.3),
              L("info", "process {n} acquired ShareLock on transaction 8812{n} after {ms}.2 ms", rate=1)),
        caller_family="db_lock", caller_latency=3.5, caller_errors=0.1, victims="db_users",
        alert="PostgresLockWaits", keywords=("lock", "contention", "waiting for ShareLock", "deadlock", "database"),
        resolution="Killed the long-running batch UPDATE on orders holding row locks and split it into batches "
                   "of 1,000 rows.",
        runbook=("Query `pg_locks` joined with `pg_stat_activity` to find the blocking pid.",
                 "Terminate the blocker (`pg_terminate_backend`) if it is a runaway batch.",
                 "Batch big updates; set `lock_timeout` on online paths.")),
    FaultSpec(
        "db_replication_lag", ("database",), "replication lag on {svc}'s read replica",
        effects=(E("replication_lag_s", "set", 420, shape="ramp"), E("disk_io_wait_ms", "mul", 3)),
        logs=(L("warn", "checkpoints are occurring too frequently ({n} seconds apart)", rate=0.5),
              L("error", "canceling statement due to conflict with recovery", rate=1, delay=3),
              L("info", "standby \"replica-1\" is {n} MB behind (write_lag {ms}ms)", rate=1)),
        caller_family="db_stale", caller_latency=1.3, caller_errors=0.03, victims="db_users",
        alert="PostgresReplicationLag", alert_on="self",
        keywords=("replication", "lag", "replica", "stale reads", "wal"),
        resolution="Paused the nightly bulk import that flooded WAL; the replica caught up in 25 minutes.",
        runbook=("Check `pg_stat_replication` (write/flush/replay lag) on the primary.",
                 "Look for bulk writes flooding WAL; check the replica's disk and CPU.",
                 "Route critical reads to the primary until the lag clears.")),
    FaultSpec(
        "db_down", ("database",), "{svc} is down",
        effects=(E(RPS, "mul", 0.02, ramp=0.5), E("restarts", "counter", 1, ramp=240), E(CPU, "mul", 0.1),
                 E("db_connections_in_use", "mul", 0.0)),
        logs=(L("error", "server process (PID {n}) was terminated by signal 9: Killed", once=True),
              L("info", "terminating any other active server processes", once=True, delay=0.1),
              L("fatal", "the database system is in recovery mode", rate=2, delay=0.5)),
        caller_family="db_refused", caller_latency=1.5, caller_errors=0.6, victims="db_users",
        k8s=(("Warning", "BackOff", "Back-off restarting failed container postgres in pod {pod}", 2),
             ("Warning", "Unhealthy", "Readiness probe failed: /var/run/postgresql:5432 - no response", 1)),
        alert="PostgresDown", keywords=("database", "down", "connection refused", "recovery mode"),
        resolution="Postgres was OOM-killed by a runaway analytic query; it restarted after recovery, and "
                   "work_mem for the reporting role was capped.",
        runbook=("Check whether the postgres pod/instance is running and why it stopped.",
                 "Read the postgres log around the stop (signal 9 = OOM killer).",
                 "Fail over to the standby if recovery takes long.")),
    FaultSpec(
        "network_latency", ("node",), "network latency on node {svc}",
        victims="node", victim_effects=(E(LAT, "mul", 2.8), E(ERR, "add", 0.02)),
        victim_logs=(L("warn", "call to {dep} took {ms}ms", rate=1),),
        caller_family="timeout", caller_latency=2.0, caller_errors=0.03,
        syslog=(L("warn", "kernel: ena 0000:00:05.0 eth0: Found a Tx that wasn't completed on time, qid 2, index 187",
                  rate=0.8),),
        alert="NodeNetworkLatencyHigh", keywords=("network", "latency", "node", "eth0", "tx timeout"),
        resolution="Cordoned and drained the node; its ENA interface had degraded after a host maintenance event.",
        runbook=("Compare latency of pods by node; one node standing out points at the node.",
                 "Check `dmesg` for NIC resets/timeouts.", "Cordon and drain the node; open a ticket with the "
                                                          "provider.")),
    FaultSpec(
        "packet_loss", ("node",), "packet loss on node {svc}",
        victims="node", victim_effects=(E(LAT, "mul", 2.0, shape="flap"), E(ERR, "add", 0.06, shape="flap")),
        victim_logs=(L("warn", "call to {dep} failed, retrying", family="reset", rate=1),),
        caller_family="reset", caller_latency=1.6, caller_errors=0.05,
        syslog=(L("warn", "kernel: nf_conntrack: nf_conntrack: table full, dropping packet", rate=2),),
        extra={"node": (E("tcp_retransmits", "mul", 30),)},
        alert="NodeNetworkDrops", keywords=("packet loss", "conntrack", "retransmits", "connection reset"),
        resolution="Raised net.netfilter.nf_conntrack_max on the node; a chatty client had filled the table.",
        runbook=("Check `node_nf_conntrack_entries` against the limit and TCP retransmits.",
                 "Look for `table full, dropping packet` in the kernel log.",
                 "Raise the limit / fix the connection churn.")),
    FaultSpec(
        "network_partition", ("node",), "node {svc} is cut off from the rest of the cluster",
        victims="node", victim_effects=(E(ERR, "add", 0.5), E(RPS, "mul", 0.3)),
        victim_logs=(L("error", "call to {dep} failed", family="io_timeout", rate=2),),
        caller_family="io_timeout", caller_latency=2.5, caller_errors=0.25,
        syslog=(L("error", "kubelet: Error updating node status, will retry: error getting node \"{svc}\": "
                           "Get \"https://10.0.0.10:6443/api/v1/nodes/{svc}\": dial tcp 10.0.0.10:6443: i/o timeout",
                  rate=1),),
        k8s=(("Warning", "NodeNotReady", "Node {svc} status is now: NodeNotReady", 1),),
        alert="KubeNodeUnreachable", keywords=("network partition", "unreachable", "node", "i/o timeout"),
        resolution="A security-group change on the node's subnet dropped inter-AZ traffic; reverted it.",
        runbook=("Check which node the failing pods share.", "Test connectivity from the node to the API server and "
                                                            "to other nodes.", "Revert recent network/firewall "
                                                                               "changes; drain the node.")),
    FaultSpec(
        "network_policy_block", ("app",), "a NetworkPolicy blocks traffic into {svc}",
        effects=(E(RPS, "mul", 0.03, ramp=0.5), E(LAT, "mul", 0.5)),
        logs=(L("info", "no requests received in the last 60s", rate=0.3, delay=2),),
        caller_family="io_timeout", caller_latency=2.5, caller_errors=0.4,
        change=Change("k8s", "NetworkPolicy default-deny-ingress applied, podSelector app={svc}", lead=(1, 4)),
        alert="TrafficDrop", keywords=("networkpolicy", "blocked", "i/o timeout", "ingress", "traffic drop"),
        resolution="Added the missing ingress rule allowing traffic from its callers to {svc}.",
        runbook=("List NetworkPolicies selecting the pod (`kubectl get netpol -o wide`).",
                 "Test from a caller pod (`curl -m 3 http://<svc>:8080/healthz`).", "Fix the policy's ingress rules.")),
    FaultSpec(
        "dns_failure", ("dns",), "cluster DNS ({svc}) fails to resolve names",
        effects=(E(ERR, "add", 0.45), E(LAT, "mul", 40), E(CPU, "mul", 2.5)),
        logs=(L("error", "plugin/errors: 2 {ext}. A: read udp 10.244.0.3:{n}->10.0.0.2:53: i/o timeout", rate=3),
              L("info", "10.244.1.{n}:43512 - {n} \"A IN {ext}. udp 52 false 512\" SERVFAIL qr,rd 41 5.00{n}s", rate=2)),
        caller_family="dns", caller_latency=1.5, caller_errors=0.1, victims="dns",
        victim_effects=(E(ERR, "add", 0.25), E(LAT, "mul", 2.0)),
        victim_logs=(L("error", "call to {dep} failed", family="dns", rate=2),),
        alert="CoreDNSErrorsHigh", keywords=("dns", "resolution", "servfail", "coredns", "lookup"),
        resolution="The upstream resolver of CoreDNS was rate-limiting; added node-local DNS cache and "
                   "ndots:2 to cut query volume.",
        runbook=("Check CoreDNS error and SERVFAIL rates and its upstream latency.", "Resolve a name from a pod "
                                                                                   "(`nslookup`).",
                 "Scale CoreDNS; enable NodeLocal DNSCache; reduce ndots.")),
    FaultSpec(
        "certificate_expired", ("app", "external"), "{svc}'s TLS certificate has expired",
        effects=(E(RPS, "mul", 0.05, ramp=0.5),),
        logs=(L("warn", "http: TLS handshake error from 10.244.{n}.7:51234: remote error: tls: bad certificate",
                rate=2),),
        caller_family="tls", caller_latency=1.1, caller_errors=0.35,
        alert="TLSCertificateExpired", keywords=("certificate", "expired", "x509", "tls", "handshake"),
        resolution="cert-manager could not renew the certificate of {svc} (DNS-01 solver lost its permissions); "
                   "fixed the IAM role and forced a renewal.",
        runbook=("`openssl s_client -connect <host>:443 | openssl x509 -noout -dates`.",
                 "Check the cert-manager Certificate and its events.", "Renew and rotate; alert 14 days before "
                                                                       "expiry.")),
    FaultSpec(
        "bad_deploy", ("app", "edge"), "a bad release of {svc}",
        effects=(E(ERR, "add", 0.3), E(LAT, "mul", 1.4)),
        logs=(L("error", "unhandled exception while processing request", family="bug", rate=3),),
        caller_family="http5xx", caller_latency=1.3, caller_errors=0.18,
        change=Change("deploy", "{svc} {version} rolled out (image registry.example.com/{world}/{svc}:{tag})",
                      lead=(1, 5)),
        alert="HighErrorRate", keywords=("deploy", "release", "regression", "rollback", "exception"),
        resolution="Rolled back {svc} to the previous version; the release mis-handled orders without a price.",
        runbook=("Correlate the error start with the last rollout (`kubectl rollout history`).",
                 "Roll back (`kubectl rollout undo deploy/<svc>`).", "Add a test for the failing path before "
                                                                     "re-releasing.")),
    FaultSpec(
        "config_change", ("app", "edge"), "a configuration change broke {svc}",
        effects=(E(ERR, "add", 0.35), E(LAT, "mul", 1.2)),
        logs=(L("error", "request failed", family="config", rate=3),),
        caller_family="http5xx", caller_latency=1.3, caller_errors=0.2,
        change=Change("config", "ConfigMap {svc}-config updated: {dep}.url changed", lead=(1, 5)),
        alert="HighErrorRate", keywords=("config", "configmap", "misconfiguration", "revert"),
        resolution="Reverted the ConfigMap of {svc}; the new upstream URL had a typo.",
        runbook=("Diff the running config with the previous revision.", "Revert the config change and restart.",
                 "Validate config in CI before applying.")),
    FaultSpec(
        "feature_flag", ("app", "edge"), "a feature flag enabled a broken code path in {svc}",
        effects=(E(ERR, "add", 0.25), E(LAT, "mul", 1.6)),
        logs=(L("error", "request failed with flag {flag}=on", family="bug", rate=2.5),),
        caller_family="http5xx", caller_latency=1.4, caller_errors=0.15,
        change=Change("feature_flag", "flag {flag} enabled for 100% of traffic in {svc}", lead=(1, 4)),
        alert="HighErrorRate", keywords=("feature flag", "flag", "toggle", "rollout"),
        resolution="Turned the flag {flag} off; the new code path was fixed and re-enabled gradually.",
        runbook=("List flags changed in the last hour.", "Turn the flag off (kill switch).",
                 "Re-enable progressively with error-rate guardrails.")),
    FaultSpec(
        "dependency_failure", ("external",), "{svc} is failing",
        effects=(E(ERR, "add", 0.5), E(LAT, "mul", 4.0)),
        caller_family="http5xx", caller_latency=2.5, caller_errors=0.3,
        alert="UpstreamErrors", keywords=("dependency", "upstream", "503", "third-party", "provider"),
        resolution="{svc} had a partial outage (status page incident); enabled the fallback path and queued "
                   "requests for retry.",
        runbook=("Check the provider's status page and our client-side error rate by dependency.",
                 "Open the circuit breaker / enable the fallback.", "Contact the provider's support.")),
    FaultSpec(
        "rate_limited", ("external",), "{svc} rate-limits our requests",
        effects=(E(ERR, "add", 0.4), E(LAT, "mul", 1.5)),
        caller_family="rate429", caller_latency=2.0, caller_errors=0.25,
        alert="UpstreamRateLimited", keywords=("rate limit", "429", "too many requests", "quota", "throttled"),
        resolution="We exceeded {svc}'s per-account quota after a retry storm; added jittered backoff and "
                   "asked the provider to raise the limit.",
        runbook=("Check 429 responses and `Retry-After` headers by dependency.",
                 "Honour Retry-After with jittered backoff; cut retries.", "Request a quota increase.")),
    FaultSpec(
        "traffic_spike", ("app", "edge"), "a traffic spike on {svc}",
        effects=(E(RPS, "mul", 4.5), E(CPU, "mul", 3.5), E(LAT, "mul", 3.0, delay=1), E(ERR, "add", 0.05, delay=2)),
        logs=(L("warn", "request queue length {n} above threshold", rate=1.5),),
        caller_family="timeout", caller_latency=1.8, caller_errors=0.04,
        extra={"edge": (E(RPS, "mul", 1.8),)},
        k8s=(("Normal", "SuccessfulRescale", "New size: 10; reason: cpu resource utilization (percentage of "
                                              "request) above target", 3),),
        alert="TrafficSpike", alert_on="callers", keywords=("traffic", "spike", "load", "autoscaling", "marketing"),
        resolution="A marketing push tripled traffic to {svc}; pre-scaled to 12 replicas and raised the HPA max.",
        runbook=("Compare request rate with last week's same hour.", "Scale out; check HPA max and cluster "
                                                                    "capacity.", "Shed or cache expensive "
                                                                                 "endpoints.")),
    FaultSpec(
        "queue_backlog", ("consumer",), "{svc} consumers fall behind and the queue backs up",
        effects=(E(LAT, "mul", 6.0), E(RPS, "mul", 0.35), E(ERR, "add", 0.04)),
        logs=(L("warn", "message processing took {ms}ms (prefetch 50)", rate=1.5),
              L("warn", "consumer lag growing on {queue}: {n}00 messages behind", rate=0.5, delay=3)),
        caller_latency=1.0, caller_errors=0.0,
        extra={"queue": (E("queue_depth", "add", 9000, shape="ramp"),)},
        extra_logs={"queue": (L("warn", "queue '{svc}.jobs' in vhost '/': {n}000 messages ready, 50 unacknowledged",
                                rate=0.5, delay=4),)},
        alert="QueueBacklogGrowing", alert_on="queue", keywords=("queue", "backlog", "consumer", "lag", "depth"),
        resolution="{svc} was slowed by a per-message N+1 call; scaled consumers to 8 and batched the lookups.",
        runbook=("Check queue depth and consumer ack rate.", "Scale consumers; check what each message waits on.",
                 "Dead-letter poison messages.")),
    FaultSpec(
        "resource_quota", ("app",), "{svc} cannot scale: namespace resource quota exhausted",
        effects=(E(CPU, "mul", 2.2), E(LAT, "mul", 2.6, delay=2), E(ERR, "add", 0.05, delay=3)),
        logs=(L("warn", "request took {ms}ms (pods at capacity)", rate=1.5),),
        caller_latency=1.8, caller_errors=0.04,
        k8s=(("Warning", "FailedCreate", "Error creating: pods \"{pod}\" is forbidden: exceeded quota: "
                                         "compute-resources, requested: limits.cpu=2, used: limits.cpu=32, "
                                         "limited: limits.cpu=32", 1),
             ("Warning", "FailedCreate", "Error creating: pods is forbidden: exceeded quota: compute-resources", 6)),
        change=Change("k8s", "ResourceQuota compute-resources in namespace default changed: limits.cpu 48 -> 32",
                      lead=(10, 30), probability=0.5),
        alert="KubeQuotaExceeded", keywords=("quota", "resourcequota", "forbidden", "scale", "hpa"),
        resolution="Raised the namespace ResourceQuota; the HPA of {svc} could not add pods during peak.",
        runbook=("`kubectl describe resourcequota`; compare used with hard.",
                 "Check ReplicaSet events for `exceeded quota`.", "Raise the quota or lower requests.")),
    FaultSpec(
        "crash_loop", ("app", "edge"), "{svc} is in CrashLoopBackOff",
        effects=(E("restarts", "counter", 1, ramp=2), E(RPS, "mul", 0.3), E(ERR, "add", 0.5)),
        logs=(L("fatal", "process exited after an unhandled error", family="bug", rate=0.5),),
        caller_family="refused", caller_latency=1.4, caller_errors=0.35,
        k8s=(("Warning", "BackOff", "Back-off restarting failed container {svc} in pod {pod}", 2),
             ("Normal", "Pulled", "Container image \"registry.example.com/{world}/{svc}:{tag}\" already present "
                                  "on machine", 0.5)),
        # no release of its own before it: a crash loop right after the component's own rollout is that
        # rollout's (docs/causes.md, the change rule), and bad_deploy's spec and signatures draw that case
        alert="KubePodCrashLooping", keywords=("crashloop", "backoff", "restart", "panic", "unhandled exception"),
        resolution="{svc} crashed on start on a record it could not handle (a null field); guarded the code path "
                   "and released a fix.",
        runbook=("`kubectl logs --previous` of the crashing pod.", "Find the input or state the crash names "
                                                                 "(the record, the message, the file).",
                 "Guard the code path; skip or dead-letter the poison input until the fix ships.")),
    FaultSpec(
        "exception_surge", ("app", "edge"), "a surge of exceptions in {svc}",
        effects=(E(ERR, "add", 0.2), E(LAT, "mul", 1.2)),
        logs=(L("error", "failed to process request", family="bad_input", rate=3),),
        caller_family="http5xx", caller_latency=1.2, caller_errors=0.12,
        alert="HighErrorRate", keywords=("exception", "error surge", "validation", "malformed"),
        resolution="A partner started sending quantities as strings; {svc} now validates and rejects them with "
                   "400 instead of crashing.",
        runbook=("Group the new exceptions by type and endpoint.", "Find the input that triggers them.",
                 "Guard the path; return 4xx for bad input.")),
    FaultSpec(
        "thread_pool_exhaustion", ("app", "edge"), "{svc}'s request thread pool is exhausted",
        effects=(E(LAT, "mul", 8.0), E(ERR, "add", 0.15, delay=1), E(RPS, "mul", 0.8), E(CPU, "mul", 0.9)),
        logs=(L("error", "request rejected", family="threadpool", rate=2.5),
              L("warn", "all worker threads busy; {n} requests queued", rate=1)),
        caller_family="timeout", caller_latency=3.0, caller_errors=0.1,
        alert="ThreadPoolSaturated", keywords=("thread pool", "exhausted", "rejected", "blocking", "workers"),
        resolution="{svc} blocked its request threads on a synchronous call without timeout; added a 2 s "
                   "timeout and a bulkhead.",
        runbook=("Take a thread dump; count threads by state and stack.",
                 "Find the blocking call; add timeouts and a bulkhead.", "Scale out as a stopgap.")),
    FaultSpec(
        "deadlock", ("app",), "{svc} deadlocks and stops serving",
        effects=(E(RPS, "mul", 0.05, ramp=1), E(LAT, "mul", 15), E(CPU, "mul", 0.15), E(ERR, "add", 0.3),
                 E("restarts", "counter", 1, delay=6, ramp=8)),
        logs=(L("error", "", family="deadlock", rate=0.4),),
        caller_family="timeout", caller_latency=4.0, caller_errors=0.3,
        k8s=(("Warning", "Unhealthy", "Liveness probe failed: Get \"http://10.244.1.9:8080/healthz\": context "
                                      "deadline exceeded (Client.Timeout exceeded while awaiting headers)", 2),
             ("Normal", "Killing", "Container {svc} failed liveness probe, will be restarted", 6)),
        alert="ServiceHung", keywords=("deadlock", "hung", "liveness", "lock", "thread dump"),
        resolution="Two locks in {svc}'s cache refresh were taken in opposite orders; fixed the lock ordering.",
        runbook=("Take a thread/goroutine dump before restarting.", "Look for threads blocked on each other's "
                                                                  "locks.", "Restart to recover; fix lock order.")),
    FaultSpec(
        "auth_failure_surge", ("auth", "edge"), "a credential-stuffing attack on {svc}",
        effects=(E(RPS, "mul", 3.5), E(ERR, "add", 0.08), E(CPU, "mul", 2.2), E(LAT, "mul", 1.8)),
        logs=(L("warn", "login failed for user {user}: invalid credentials from 185.220.101.{n}", rate=6),
              L("warn", "account {user} locked after 5 failed attempts", rate=0.5)),
        caller_family="http5xx", caller_latency=1.3, caller_errors=0.02,
        alert="AuthFailuresHigh", keywords=("authentication", "login failed", "credential stuffing", "401", "brute force"),
        resolution="Blocked the attacking ASN at the WAF, enabled CAPTCHA after 3 failures and forced resets "
                   "for breached accounts.",
        runbook=("Group failed logins by source IP/ASN and user-agent.", "Block at the WAF / rate-limit logins.",
                 "Check for successful logins from the same sources.")),
    FaultSpec(
        "ddos", ("edge",), "a DDoS against {svc}",
        effects=(E(RPS, "mul", 9.0), E(LAT, "mul", 4.0), E(ERR, "add", 0.25), E(CPU, "mul", 4.0)),
        logs=(L("error", "limiting requests, excess: 20.{n} by zone \"perip\", client: 45.155.{n}.17", rate=6),),
        caller_latency=1.0, caller_errors=0.0,
        alert="EdgeRequestFlood", alert_on="self", keywords=("ddos", "flood", "rate limiting", "botnet", "waf"),
        resolution="Enabled the provider's DDoS protection and geo-blocked the botnet ranges at the WAF.",
        runbook=("Compare request rate and unique client IPs with baseline.", "Enable upstream DDoS protection / "
                                                                             "WAF rules.",
                 "Rate-limit per IP at the edge.")),
    FaultSpec(
        "node_failure", ("node",), "node {svc} failed",
        effects=(E(CPU, "gap", 0), E("memory_bytes", "gap", 0), E("disk_used_ratio", "gap", 0)),
        victims="node", victim_effects=(E(ERR, "add", 0.6, shape="burst"), E("restarts", "counter", 1, delay=4,
                                                                               ramp=60),
                                        E(RPS, "mul", 0.2, shape="burst")),
        caller_family="refused", caller_latency=1.8, caller_errors=0.25,
        syslog=(L("error", "kernel: watchdog: BUG: soft lockup - CPU#3 stuck for 23s! [kworker/3:1:{n}]", once=True),),
        k8s=(("Warning", "NodeNotReady", "Node {svc} status is now: NodeNotReady", 1),
             ("Normal", "TaintManagerEviction", "Marking for deletion Pod {pod}", 3)),
        alert="KubeNodeNotReady", keywords=("node", "notready", "failure", "evicted", "rescheduled"),
        resolution="The node {svc} hung (soft lockup); it was replaced by the autoscaler and pods rescheduled.",
        runbook=("`kubectl get nodes`; describe the NotReady node.", "Cordon, drain and replace the node.",
                 "Check PodDisruptionBudgets so the rescheduling is safe.")),
    FaultSpec(
        "hardware_error", ("node",), "hardware errors on node {svc}",
        effects=(E("disk_io_wait_ms", "mul", 30),),
        victims="node", victim_effects=(E(LAT, "mul", 2.5), E(ERR, "add", 0.06)),
        victim_logs=(L("error", "I/O error writing to /var/lib/data: input/output error", rate=0.6),),
        caller_latency=1.6, caller_errors=0.04,
        syslog=(L("error", "kernel: blk_update_request: I/O error, dev nvme0n1, sector {n}4416 op 0x1:(WRITE) flags "
                           "0x800 phys_seg 8 prio class 0", rate=1.5),
                L("warn", "kernel: EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#1_DIMM#0", rate=0.5)),
        alert="NodeHardwareErrors", keywords=("hardware", "i/o error", "nvme", "edac", "disk"),
        resolution="The node {svc} had a failing NVMe drive; drained it and the provider replaced the host.",
        runbook=("Read `dmesg` for I/O and EDAC errors.", "Check SMART / provider hardware events.",
                 "Drain and replace the node.")),
]

CATALOG: dict[str, FaultSpec] = {spec.kind: spec for spec in _SPECS}

_missing = set(ALL_KINDS) - set(CATALOG)
if _missing:  # a kind added to the vocabulary needs a spec here
    raise RuntimeError(f"fault catalog lacks kinds: {sorted(_missing)}")
