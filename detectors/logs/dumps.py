"""Thread and goroutine dumps in a log: many threads waiting on locks is a deadlock; many threads of one
pool running in the same frame is a pool that is full (``docs/causes.md``).

Read formats: a JVM thread dump (``jstack`` / ``kill -3``: ``"name" #12 ... tid=...``, then
``java.lang.Thread.State: BLOCKED (on object monitor)``, ``- waiting to lock <0x...>``, and the JVM's own
``Found one Java-level deadlock``), a Go goroutine dump (``goroutine 7 [semacquire, 5 minutes]:`` and
``sync.(*Mutex).Lock`` frames), and CPython's faulthandler (``Thread 0x... (most recent call first):``).

The score of a lock-wait reading grows with the share of the application's threads that wait on a
lock (JVM housekeeping threads such as ``Reference Handler`` or ``GC Thread`` are not counted).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.models import Evidence, EvidenceType, Signal, SignalSource

MAX_DUMP_LINES = 50_000
MIN_THREADS = 3
MIN_WAITERS = 2

_JAVA_HEADER = re.compile(r'^"(?P<name>[^"]+)"\s.*(?:\bprio=|\btid=|#\d+)')
_JAVA_STATE = re.compile(r"java\.lang\.Thread\.State: (?P<state>[A-Z_]+)")
# a monitor (synchronized) or a java.util.concurrent lock; ``- waiting on <..>`` is Object.wait(), an idle wait
_JAVA_LOCK_WAIT = re.compile(r"- waiting to lock <|- parking to wait for\s+<0x[0-9a-f]+> \(a java\.util\.concurrent\.locks\."
                             r"(?:ReentrantLock|ReentrantReadWriteLock)")
_JAVA_DEADLOCK = re.compile(r"Found (?:one|\d+) Java-level deadlock|Found \d+ deadlocks?\.")
_JAVA_INTERNAL = re.compile(r"^(?:Reference Handler|Finalizer|Signal Dispatcher|Common-Cleaner|Notification Thread|"
                            r"Attach Listener|Service Thread|Monitor Deflation Thread|C[12] CompilerThread|Sweeper thread|"
                            r"VM Thread|VM Periodic Task Thread|GC Thread|G1 |Gang worker|DestroyJavaVM|process reaper)")
_IDLE_FRAME = re.compile(r"epoll|EPoll|KQueue|WindowsSelector|\.accept|accept0|poll0|socketAccept|select0|Unsafe\.park")
_GO_HEADER = re.compile(r"^goroutine \d+ \[(?P<state>[^\],]+)(?:, [^\]]*)?\]:")
_GO_LOCK_STATE = re.compile(r"^(?:semacquire|sync\.(?:RW)?Mutex\.R?Lock|sync\.Cond\.Wait)$")
_GO_LOCK_FRAME = re.compile(r"^sync\.\(\*(?:RW)?Mutex\)\.R?Lock|^sync\.runtime_Semacquire(?:Mutex|RWMutex)")
_PY_HEADER = re.compile(r"^(?:Current thread|Thread) 0x[0-9a-f]+ (?:\(most recent call first\)|\((?:idle|active)\))")
_PY_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line \d+ in (?P<func>\S+)|^\s+(?P<func2>\w+) \((?P<file2>[^)]+)\)')
_PY_LOCK = re.compile(r"^(?:acquire|_acquire_restore|__enter__|lock|_lock|wait_for_lock)$")
_DIGITS = re.compile(r"[-_ #]?\d+$")


@dataclass(slots=True)
class ThreadRecord:
    name: str
    line: int
    state: str = ""
    frames: list[str] = field(default_factory=list)
    lock_wait: bool = False
    quote: str = ""

    @property
    def top(self) -> str:
        return self.frames[0] if self.frames else ""

    @property
    def pool(self) -> str:
        return _DIGITS.sub("", self.name)


def _java_threads(lines: Sequence[str], start: int) -> list[ThreadRecord]:
    threads: list[ThreadRecord] = []
    current: ThreadRecord | None = None
    for i in range(start, min(len(lines), start + MAX_DUMP_LINES)):
        text = lines[i].strip()
        header = _JAVA_HEADER.match(text)
        if header:
            current = ThreadRecord(name=header.group("name"), line=i)
            if not _JAVA_INTERNAL.match(current.name):
                threads.append(current)
            continue
        if current is None:
            continue
        state = _JAVA_STATE.search(text)
        if state:
            current.state = state.group("state")
            if current.state == "BLOCKED":
                current.lock_wait, current.quote = True, current.quote or text
        elif text.startswith("at "):
            current.frames.append(text[3:])
        elif _JAVA_LOCK_WAIT.search(text):
            current.lock_wait = True
            current.quote = text
    return threads


def _go_threads(lines: Sequence[str], start: int) -> list[ThreadRecord]:
    threads: list[ThreadRecord] = []
    current: ThreadRecord | None = None
    for i in range(start, min(len(lines), start + MAX_DUMP_LINES)):
        text = lines[i].rstrip()
        header = _GO_HEADER.match(text)
        if header:
            current = ThreadRecord(name=text.split(" [", 1)[0], line=i, state=header.group("state"), quote=text)
            current.lock_wait = bool(_GO_LOCK_STATE.match(current.state))
            threads.append(current)
        elif current is not None and text and not text.startswith(("\t", " ")):
            current.frames.append(text)
            if _GO_LOCK_FRAME.match(text) and current.state not in ("running", "runnable"):
                current.lock_wait = True
    return threads


def _py_threads(lines: Sequence[str], start: int) -> list[ThreadRecord]:
    threads: list[ThreadRecord] = []
    current: ThreadRecord | None = None
    for i in range(start, min(len(lines), start + MAX_DUMP_LINES)):
        text = lines[i].rstrip()
        if _PY_HEADER.match(text.strip()):
            current = ThreadRecord(name=text.strip(), line=i, quote=text.strip())
            threads.append(current)
            continue
        frame = _PY_FRAME.match(text)
        if current is not None and frame:
            func = frame.group("func") or frame.group("func2") or ""
            if not current.frames:
                current.lock_wait = bool(_PY_LOCK.match(func))
                current.quote = f"{current.quote} {text.strip()}"
            current.frames.append(func)
    return threads


# (rule id, marker any line of the dump carries, parser)
DUMP_FORMATS: tuple[tuple[str, re.Pattern[str], Callable[[Sequence[str], int], list[ThreadRecord]]], ...] = (
    ("java", re.compile(r"java\.lang\.Thread\.State: |^Full thread dump "), _java_threads),
    ("go", _GO_HEADER, _go_threads),
    ("python", _PY_HEADER, _py_threads),
)
_QUICK = ("Thread.State:", "Full thread dump", "goroutine ", "(most recent call first):", "Thread 0x")


@dataclass(slots=True)
class DumpReading:
    rule: str
    kind: str
    score: float
    threads: int
    waiting: int
    line: int
    quote: str
    summary: str


def _start_of(lines: Sequence[str], marker: re.Pattern[str]) -> int | None:
    """Where the last dump of a log starts (its first header line), or None."""
    first = None
    for i in range(len(lines) - 1, -1, -1):
        text = lines[i].strip()
        if text.startswith("Full thread dump "):
            return i
        if marker.search(text):
            first = i
    if first is None:
        return None
    # walk back to the thread header above the first state line (Java) or keep the header (Go, Python)
    return max(0, first - 2)


def read_dump(lines: Sequence[str]) -> DumpReading | None:
    """What the last dump in ``lines`` says: deadlock, a full pool, or nothing."""
    for name, marker, parse in DUMP_FORMATS:
        start = _start_of(lines, marker)
        if start is None:
            continue
        if name == "java":
            for i in range(start, min(len(lines), start + MAX_DUMP_LINES)):
                if _JAVA_DEADLOCK.search(lines[i]):
                    return DumpReading(f"dump.{name}.deadlock", "deadlock", 0.95, 0, 0, i, lines[i].strip(),
                                       "the JVM found a Java-level deadlock")
        reading = _assess(name, parse(lines, start))
        if reading is not None:
            return reading
    return None


def _assess(name: str, threads: list[ThreadRecord]) -> DumpReading | None:
    # a short dump is read only when every thread in it waits on a lock: two threads each holding the lock the other
    # waits for is the smallest deadlock there is (a dump cut to the threads that matter shows just those)
    if len(threads) < MIN_THREADS and not (len(threads) >= MIN_WAITERS and all(t.lock_wait for t in threads)):
        return None
    waiting = [t for t in threads if t.lock_wait]
    share = len(waiting) / len(threads)
    if len(waiting) >= MIN_WAITERS and share >= 0.3:
        example = waiting[0]
        return DumpReading(f"dump.{name}.lock_wait", "deadlock", round(min(0.9, 0.45 + 0.5 * share), 4), len(threads),
                           len(waiting), example.line, example.quote or example.name,
                           f"{len(waiting)} of {len(threads)} threads wait on a lock")
    busy = Counter((t.pool, t.top) for t in threads
                   if t.state == "RUNNABLE" and t.top and not _IDLE_FRAME.search(t.top))
    if busy:
        (pool, top), n = busy.most_common(1)[0]
        pool_size = sum(1 for t in threads if t.pool == pool)
        if n >= 5 and n / max(1, pool_size) >= 0.6:
            example = next(t for t in threads if t.pool == pool and t.top == top)
            return DumpReading(f"dump.{name}.busy_pool", "thread_pool_exhaustion",
                               round(min(0.8, 0.45 + 0.35 * n / pool_size), 4), len(threads), n, example.line,
                               f'"{example.name}" at {top}', f"{n} of {pool_size} {pool!r} threads running in {top}")
    return None


def dump_signals(service: str, lines: Sequence[str], *,
                 timestamp: Callable[[int], datetime | None] | None = None) -> list[Signal]:
    """A signal for the last thread/goroutine dump of a service's log when it shows lock waits or a full pool."""
    if not any(any(q in line for q in _QUICK) for line in lines[-MAX_DUMP_LINES:]):
        return []
    reading = read_dump(lines)
    if reading is None:
        return []
    started = timestamp(reading.line) if timestamp is not None else None
    quote = reading.quote[:300]
    return [Signal(
        source=SignalSource.LOGS, detector="logs.dump", service=service, kind=reading.kind,
        title=f"{service}: thread dump: {reading.summary}", score=reading.score, started_at=started,
        evidence=[Evidence(id=f"log:{service}:{reading.line + 1}", type=EvidenceType.LOG, summary=quote,
                           service=service, ts=started, detail=reading.summary, weight=reading.score)],
        attributes={"decisive": True, "rule": reading.rule, "line": quote, "threads": reading.threads,
                    "waiting": reading.waiting, "line_no": reading.line + 1},
    )]
