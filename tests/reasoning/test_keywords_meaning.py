"""Keyword hints read what a line means, not the first word they know (one regression row per misreading)."""

from __future__ import annotations

import pytest

from bot.reasoning.keywords import kinds_in_text

# (text, the kind it names, a kind it must not be read as)
ROWS: list[tuple[str, str, str]] = [
    # the kernel dropping packets is packet loss, not a rate limit (net_ratelimit is printk's own limiter)
    ("kernel: net_ratelimit: 214 callbacks suppressed\nkernel: nf_conntrack: nf_conntrack: table full, dropping packet",
     "packet_loss", "rate_limited"),
    ("ixgbe eth0: rx_missed_errors 18234, rx_dropped increasing", "packet_loss", "rate_limited"),
    # a thread limit with a flat heap is a pool problem, not OOM
    ('Exception in thread "pool-3-thread-812" java.lang.OutOfMemoryError: unable to create native thread: possibly '
     "out of memory or process/resource limits reached", "thread_pool_exhaustion", "oom_kill"),
    ("[warning][os,thread] Failed to start thread - pthread_create failed (EAGAIN)", "thread_pool_exhaustion",
     "oom_kill"),
    ("fork/clone of worker thread failed: Resource temporarily unavailable", "thread_pool_exhaustion", "oom_kill"),
    # a storage provider's throttling is a rate limit
    ("botocore.exceptions.ClientError: An error occurred (SlowDown) when calling the PutObject operation: Please "
     "reduce your request rate.", "rate_limited", "dependency_failure"),
    ("ProvisionedThroughputExceededException: The level of configured provisioned throughput for the table was "
     "exceeded", "rate_limited", "queue_backlog"),
    # goroutine and thread dumps waiting on locks are a deadlock
    ("goroutine 88 [semacquire, 12 minutes]:\nsync.runtime_SemacquireMutex(0xc000ab)\nsync.(*Mutex).Lock(...)",
     "deadlock", "db_lock_contention"),
    ('"http-nio-8080-exec-7" #41 daemon prio=5\n   java.lang.Thread.State: BLOCKED (on object monitor)', "deadlock",
     "db_lock_contention"),
    # a database's deadlock report is lock contention in the database
    ("ERROR:  deadlock detected\nDETAIL:  Process 4242 waits for ShareLock on transaction 918", "db_lock_contention",
     "deadlock"),
    # time bugs are not DNS, even in a DNS server's log
    ("rrdns: panic: time went backwards, negative duration while picking an upstream DNS resolver", "exception_surge",
     "dns_failure"),
    ("leap second inserted at 23:59:60, clock skew 1.2s on the DNS proxy", "exception_surge", "dns_failure"),
    ("incident resolved; dns_name=api.example.com unchanged", "", "dns_failure"),
    # routers and routing protocols point at the network
    ("%BGP-5-ADJCHANGE: neighbor 10.1.1.2 Down BGP Notification sent", "network_partition", "dependency_failure"),
    ("%LINEPROTO-5-UPDOWN: Line protocol on Interface TenGigabitEthernet1/1, changed state to down",
     "network_partition", "deploy"),
    ("%OSPF-5-ADJCHG: Process 1, Nbr 10.0.0.2 on Gi0/2 from FULL to DOWN, Neighbor Down: Dead timer expired",
     "network_partition", "node_failure"),
    ("bgpd[812]: %NOTIFICATION: sent to neighbor 10.0.0.2 4/0 (Hold Timer Expired) 0 bytes", "network_partition",
     "rate_limited"),
    # a failover because the primary was lost over the network points at the network too
    ("WARNING: primary pg-0 is unreachable; promoting standby pg-1", "network_partition", "dns_failure"),
    # a document store's field named partitionKey is no network partition
    ("status=400 The input content is invalid because the required properties - 'partitionKey; ' - are missing", "",
     "network_partition"),
    ("raft: node 3 partitioned from the quorum", "network_partition", "dns_failure"),
    ("Partial partition detected: We saw rabbit@rabbit-2 die", "network_partition", ""),
    ("network partition between dc1 and dc2", "network_partition", ""),
    # a data partition named by its number, key or identifier (a topic's, a table's, a routing shard's) is no network
    # partition
    ("core call failed: routing table entry missing for partition DC2-P6, falling back: none configured", "",
     "network_partition"),
    ("core call failed: routing table entry missing for partition <*>, falling back", "", "network_partition"),
    ("consumer lag partition=1 behind=1066", "", "network_partition"),
    ("Got error produce response on topic-partition stream-events-3, retrying", "", "network_partition"),
    ("[Log partition=notif-1, dir=/data/kafka] Rolled new log segment", "", "network_partition"),
    ("partition 3 leader moved to broker 2", "", "network_partition"),
    ("partition rebalance started for consumer group billing", "", "network_partition"),
    # the alerts of a volume or filesystem about to fill name a full disk
    ("KubePersistentVolumeFillingUp Disk used ratio of orders-db is 0.9702", "disk_full", "disk_io_latency"),
    ("NodeFilesystemSpaceFillingUp: filesystem on /dev/sda1 is predicted to run out of space", "disk_full", ""),
    ("NodeFilesystemAlmostOutOfSpace: 3% space left on /var", "disk_full", ""),
]


@pytest.mark.parametrize(("text", "kind", "not_kind"), ROWS)
def test_kinds_in_text_reads_the_meaning(text: str, kind: str, not_kind: str) -> None:
    found = kinds_in_text(text)
    if kind:
        assert kind in found, found
    assert not_kind not in found, found


def test_real_dns_failures_are_still_read() -> None:
    for text in ("dial tcp: lookup payments.internal on 10.96.0.10:53: no such host",
                 "getaddrinfo ENOTFOUND api.partner.com", "DNS resolution failed for orders-db",
                 "Temporary failure in name resolution"):
        assert "dns_failure" in kinds_in_text(text), text


def test_a_detector_s_line_counts_are_no_status_code() -> None:
    """``new log template (0 -> 401)`` counts lines: the 401 there is no HTTP status; the same number in the line
    itself (``GET /sso/callback 401``) still is."""
    from bot.reasoning.keywords import kinds_in_text

    assert "auth_failure_surge" not in kinds_in_text("upscaler: new log template (0 -> 401): WARN: NoMethodError")
    assert "auth_failure_surge" in kinds_in_text("web: new log template (0 -> 12): GET /sso/callback 401 -> /login")
