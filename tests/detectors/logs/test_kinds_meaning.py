"""kind_of reads the cause a message names, not the first keyword it holds (one row per past misreading)."""

from __future__ import annotations

import pytest

from detectors.logs.kinds import kind_of


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("nf_conntrack: nf_conntrack: table full, dropping packet", "packet_loss"),
        ("net_ratelimit: 120 callbacks suppressed", None),
        ("e1000e eth1: 2311 input errors, 2290 CRC, 0 frame", "packet_loss"),
        ("java.lang.OutOfMemoryError: unable to create native thread: possibly out of memory or process/resource "
         "limits reached", "thread_pool_exhaustion"),
        ("pthread_create failed: Resource temporarily unavailable", "thread_pool_exhaustion"),
        ("An error occurred (SlowDown) when calling the PutObject operation: Please reduce your request rate.",
         "rate_limited"),
        ("Status Code: 503; Error Code: SlowDown; Please reduce your request rate.", "rate_limited"),
        ("ProvisionedThroughputExceededException: Rate of requests exceeds the allowed throughput", "rate_limited"),
        ("goroutine 7 [semacquire, 5 minutes]:", "deadlock"),
        ("goroutine 12 [sync.Mutex.Lock, 3 minutes]:", "deadlock"),
        ("ERROR:  deadlock detected", "db_lock_contention"),
        ("Deadlock found when trying to get lock; try restarting transaction", "db_lock_contention"),
        ("rrdns panic: time went backwards while computing DNS TTLs", "exception_surge"),
        # Ruby's and Python's own error classes name an application fault like a Java exception does
        ("class=UpscaleJob WARN: NoMethodError: undefined method `queue_time_ms' for nil:NilClass", "exception_surge"),
        ("NameError: name 'tenant_cache' is not defined", "exception_surge"),
        ("ArgumentError (wrong number of arguments (given 2, expected 1))", "exception_surge"),
        ("%BGP-5-ADJCHANGE: neighbor 10.1.1.2 Down BGP Notification sent", "network_partition"),
        ("%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down", "network_partition"),
        ("%OSPF-5-ADJCHG: Process 1, Nbr 10.0.0.2 on Gi0/2 from FULL to DOWN, Neighbor Down: Dead timer expired",
         "network_partition"),
        ("RPD_BGP_NEIGHBOR_STATE_CHANGED: BGP peer 10.1.1.1 (External AS 65001) changed state from Established to "
         "Idle (event HoldTime)", "network_partition"),
        ("ixgbe 0000:03:00.0 eth0: NIC Link is Down", "network_partition"),
        ("2024-03-01 12:00:00,101 WARNING: primary pg-0 is unreachable", "network_partition"),
        # a CPU limit's throttling is the process's own quota, not a provider's throttling reply
        ('level=warning msg="event processing over budget" cpu_throttled=true cpu_usage_cores=1.0 limit_cores=1',
         "cpu_throttling"),
        ("cpu.stat: nr_periods 6000 nr_throttled 5400 throttled_usec 912000000", "cpu_throttling"),
        ("WARN request throttled by upstream: retry after 2s", "rate_limited"),
    ],
)
def test_meaning_over_first_keyword(text: str, kind: str | None) -> None:
    assert kind_of(text) == kind
