"""Thread and goroutine dumps: lock waits -> deadlock, a pool running in one frame -> a full pool."""

from __future__ import annotations

from detectors.logs.decisive import detect_service_decisive
from detectors.logs.dumps import read_dump


def _java_thread(name: str, n: int, state: str, frames: list[str]) -> list[str]:
    head = f'"{name}" #{n} daemon prio=5 os_prio=0 cpu=12.31ms elapsed=301.22s tid=0x00007f3a{n:04x} nid=0x{n:x} ' \
           "waiting for monitor entry  [0x00007f39e1bfe000]"
    return [head, f"   java.lang.Thread.State: {state}", *[f"\t{f}" for f in frames], ""]


def _jvm_housekeeping() -> list[str]:
    return [
        *_java_thread("Reference Handler", 2, "RUNNABLE", ["at java.lang.ref.Reference.waitForReferencePendingList("
                                                          "java.base@17.0.9/Native Method)"]),
        *_java_thread("Signal Dispatcher", 4, "RUNNABLE", []),
        *_java_thread("C2 CompilerThread0", 5, "RUNNABLE", []),
    ]


def _java_dump(threads: list[str]) -> list[str]:
    return ["2024-03-01 12:00:00", "Full thread dump OpenJDK 64-Bit Server VM (17.0.9+9 mixed mode, sharing):", "",
            *_jvm_housekeeping(), *threads]


def test_jvm_reported_deadlock_is_read_first() -> None:
    lines = _java_dump([
        *_java_thread("worker-1", 21, "BLOCKED (on object monitor)",
                      ["at com.shop.Ledger.post(Ledger.java:88)", "- waiting to lock <0x000000076ab62208> (a "
                       "com.shop.Account)"]),
        "Found one Java-level deadlock:",
        "=============================",
        '"worker-1":',
        "  waiting to lock monitor 0x00007f3a2c003f08 (object 0x000000076ab62208, a com.shop.Account),",
    ])
    (sig,) = detect_service_decisive("ledger", lines)
    assert (sig.detector, sig.kind, sig.attributes["rule"]) == ("logs.dump", "deadlock", "dump.java.deadlock")
    assert sig.score >= 0.9


def test_many_blocked_java_threads_read_as_deadlock_scored_by_share() -> None:
    blocked = [line for i in range(6) for line in _java_thread(
        f"http-nio-8080-exec-{i}", 30 + i, "BLOCKED (on object monitor)",
        ["at com.shop.Inventory.reserve(Inventory.java:42)", "- waiting to lock <0x000000076ab5c2d0> (a "
         "java.lang.Object)", "at com.shop.Api.order(Api.java:19)"])]
    idle = [line for i in range(2) for line in _java_thread(
        f"scheduler-{i}", 50 + i, "TIMED_WAITING (parking)",
        ["at jdk.internal.misc.Unsafe.park(java.base@17.0.9/Native Method)", "- parking to wait for  "
         "<0x00000006c0a1e2f8> (a java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject)"])]
    reading = read_dump(_java_dump([*blocked, *idle]))
    assert reading is not None
    assert (reading.kind, reading.rule, reading.threads, reading.waiting) == ("deadlock", "dump.java.lock_wait", 8, 6)
    few = read_dump(_java_dump([*blocked[: len(blocked) // 3], *idle, *idle]))
    assert few is not None and few.score < reading.score


def test_a_pool_running_in_one_frame_is_a_full_pool_not_a_deadlock() -> None:
    busy = [line for i in range(10) for line in _java_thread(
        f"http-nio-8080-exec-{i}", 30 + i, "RUNNABLE",
        ["at java.net.SocketInputStream.socketRead0(java.base@17.0.9/Native Method)",
         "at com.shop.PaymentsClient.charge(PaymentsClient.java:77)"])]
    reading = read_dump(_java_dump(busy))
    assert reading is not None
    assert (reading.kind, reading.rule) == ("thread_pool_exhaustion", "dump.java.busy_pool")


def test_idle_pools_and_selectors_read_as_nothing() -> None:
    idle = [line for i in range(8) for line in _java_thread(
        f"pool-1-thread-{i}", 30 + i, "WAITING (parking)",
        ["at jdk.internal.misc.Unsafe.park(java.base@17.0.9/Native Method)", "- parking to wait for  "
         "<0x00000006c0a1e2f8> (a java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject)",
         "at java.util.concurrent.LinkedBlockingQueue.take(LinkedBlockingQueue.java:435)"])]
    selectors = [line for i in range(6) for line in _java_thread(
        f"nioEventLoopGroup-2-{i}", 60 + i, "RUNNABLE",
        ["at sun.nio.ch.EPoll.wait(java.base@17.0.9/Native Method)"])]
    assert read_dump(_java_dump([*idle, *selectors])) is None


def test_goroutine_dump_waiting_on_mutexes() -> None:
    lines = ["goroutine 1 [running]:", "main.main()", "\t/app/main.go:40 +0x65", ""]
    for g in range(2, 8):
        lines += [f"goroutine {g} [sync.Mutex.Lock, 5 minutes]:", "sync.runtime_SemacquireMutex(0xc0000a2004, 0x0, 0x1)",
                  "\t/usr/local/go/src/runtime/sema.go:77 +0x25", "sync.(*Mutex).lockSlow(0xc0000a2000)",
                  "\t/usr/local/go/src/sync/mutex.go:171 +0x165", "sync.(*Mutex).Lock(...)",
                  "main.(*Store).Put(0xc0000a2000, {0x4c2b1a, 0x3})", "\t/app/store.go:31 +0x4d", ""]
    lines += ["goroutine 9 [IO wait]:", "internal/poll.runtime_pollWait(0x7f, 0x72)", "\t/x/netpoll.go:343 +0x85", ""]
    (sig,) = detect_service_decisive("store", lines)
    assert (sig.kind, sig.attributes["rule"], sig.attributes["waiting"]) == ("deadlock", "dump.go.lock_wait", 6)


def test_python_faulthandler_threads_in_acquire() -> None:
    lines = []
    for t in range(4):
        lines += [f"Thread 0x00007f3c2a7fc7{t}0 (most recent call first):",
                  '  File "/usr/lib/python3.11/threading.py", line 1161 in acquire' if t else
                  '  File "/usr/lib/python3.11/threading.py", line 327 in wait',
                  '  File "/app/bank.py", line 20 in transfer', '  File "/app/worker.py", line 12 in run', ""]
    reading = read_dump(lines)
    assert reading is not None and (reading.kind, reading.waiting, reading.threads) == ("deadlock", 3, 4)


def _go_waiter(g: int, where: str) -> list[str]:
    return [f"goroutine {g} [sync.Mutex.Lock, 9 minutes]:", "sync.runtime_SemacquireMutex(0xc0001a6100, 0x0, 0x1)",
            "\t/usr/local/go/src/runtime/sema.go:77 +0x25", f"main.(*Store).{where}(0xc0001a6116)",
            "\t/app/store.go:340 +0x4b", ""]


def test_two_goroutines_each_waiting_on_a_lock_are_a_deadlock() -> None:
    # the smallest lock cycle: a dump of just the two goroutines, both parked on a mutex for minutes
    lines = ["SIGQUIT: quit", "", *_go_waiter(56, "Refresh"), *_go_waiter(213, "Rebuild")]
    (sig,) = detect_service_decisive("store", lines)
    assert (sig.kind, sig.attributes["rule"], sig.attributes["waiting"]) == ("deadlock", "dump.go.lock_wait", 2)


def test_a_short_dump_with_a_running_goroutine_is_not_read() -> None:
    lines = ["goroutine 1 [running]:", "main.main()", "\t/app/main.go:40 +0x65", "", *_go_waiter(7, "Put")]
    assert read_dump(lines) is None
