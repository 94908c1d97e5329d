"""Log messages that real systems print, mapped to the cause kind they name."""

from __future__ import annotations

import pytest

from detectors.logs.kinds import kind_of


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # a 429 in a JSON access log, its field name quoted: the component refused the request for rate
        ('{"ts": "2019-10-31T20:23:00Z", "method": "POST", "path": "/api/jobs/1", "status": 429, "upstream": "-"}',
         "rate_limited"),
        # thread pools: Java executors, Tomcat, Python and Go worker pools, libuv, uWSGI
        ("java.util.concurrent.RejectedExecutionException: Task java.util.concurrent.FutureTask@5e9f23b4 rejected "
         "from java.util.concurrent.ThreadPoolExecutor@3e2b1c[Running, pool size = 200]", "thread_pool_exhaustion"),
        ("All threads (200) are currently busy, waiting. Increase maxThreads (200) or check the servlet status",
         "thread_pool_exhaustion"),
        ("RuntimeError: can't start new thread", "thread_pool_exhaustion"),
        ("worker pool saturated: 256/256 workers busy, rejecting request", "thread_pool_exhaustion"),
        ("event loop lag 812ms, libuv threadpool saturated (UV_THREADPOOL_SIZE=4)", "thread_pool_exhaustion"),
        ("*** uWSGI listen queue of socket \"127.0.0.1:3031\" (fd: 3) full !!! (101/100) ***",
         "thread_pool_exhaustion"),
        # deadlocks: JVM thread dumps, the Go runtime, watchdogs
        ('Found one Java-level deadlock: "pool-3-thread-7" waiting to lock monitor 0x00007f3a1c004f58', "deadlock"),
        ('"worker-2" #31 prio=5 java.lang.Thread.State: BLOCKED (on object monitor)', "deadlock"),
        ("fatal error: all goroutines are asleep - deadlock!", "deadlock"),
        ("worker thread blocked for 30s waiting on lock held by thread-7", "deadlock"),
        ("watchdog: handler goroutines blocked on mutex for 45s (sync.(*Mutex).Lock)", "deadlock"),
        # floods our own edge sheds: nginx limit_req / limit_conn, the kernel's SYN-flood defence
        ('limiting requests, excess: 20.540 by zone "perip", client: 45.155.3.17, server: shop.example.com',
         "ddos"),
        ('limiting connections by zone "addr", client: 45.155.3.17', "ddos"),
        ("TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.", "ddos"),
        # a node whose kubelet cannot reach the API server
        ('kubelet: "Error updating node status, will retry" err="error getting node \\"ip-10-0-3-17\\": Get '
         '\\"https://10.0.0.10:6443/api/v1/nodes/ip-10-0-3-17\\": dial tcp 10.0.0.10:6443: i/o timeout"',
         "network_partition"),
        ('kubelet: "Failed to update lease" err="Put \\"https://10.0.0.10:6443/apis/coordination.k8s.io/v1/'
         'namespaces/kube-node-lease/leases/node-1\\": context deadline exceeded"', "network_partition"),
        # stalled volumes
        ("INFO: task jbd2/nvme1n1-8:412 blocked for more than 120 seconds.", "disk_io_latency"),
        ("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for "
         "fsync to complete, this may slow down Redis.", "disk_io_latency"),
        ("disk write took 1840ms (fsync)", "disk_io_latency"),
        # bad input crashing request handlers
        ("json: cannot unmarshal string into Go struct field Line.quantity of type int", "exception_surge"),
        ("SyntaxError: Unexpected token N in JSON at position 118", "exception_surge"),
        ("pydantic_core._pydantic_core.ValidationError: 1 validation error for OrderLine", "exception_surge"),
    ],
)
def test_real_messages_name_their_cause_kind(text: str, kind: str) -> None:
    assert kind_of(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "worker pool resized to 32 threads",
        "acquired lock inventory-sync in 3ms",
        "GET /api/cart 200 in 12ms client=45.155.3.17",
        'kubelet: "Successfully updated node status" node="ip-10-0-3-17"',
        "fsync completed",
    ],
)
def test_ordinary_messages_name_no_cause(text: str) -> None:
    assert kind_of(text) is None


def _first_row_searched_in_full(text: str) -> str | None:
    """kind_of without its literal shortcut: every row's case-insensitive search, first match wins."""
    import re

    from detectors.logs.kinds import KIND_PATTERNS

    head = text[:2000]
    return next((kind for kind, pattern in KIND_PATTERNS if re.search(pattern, head, re.IGNORECASE)), None)


def test_the_literal_shortcut_names_the_kind_the_full_searches_name() -> None:
    from detectors.logs.kinds import _COMPILED

    texts = ["RuntimeError: can't start new thread", "No space left on device", "fsync completed", "x" * 2100 + " OOMKilled",
             "No ſpace left on device",  # the long s is an s to a case-insensitive search, not to lower()
             "OOMKilled",  # the Kelvin sign is a k to both
             "disk is full and connection refused", "ERROR:  deadlock detected", "a deadlock in ERROR:  deadlock detected"]
    for _, _, literals in _COMPILED:  # each literal alone, capitalised, and inside other text
        for word in literals or ():
            texts += [word, word.upper(), f"at 10:00 {word.capitalize()} again"]
    for text in texts:
        assert kind_of(text) == _first_row_searched_in_full(text), text
    assert kind_of("No ſpace left on device") == "disk_full"
