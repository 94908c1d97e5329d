"""The analysis runner: drains the durable queue (``bot.storage.jobs``) with bounded concurrency.

Intake writes a queue row in the transaction that creates or changes an incident; this runner claims
rows with a lease, analyses them off the event loop, and the analysis is saved in the transaction that
deletes the row. ``wake()`` (after an intake in this process) starts a claim at once; rows written by other
processes are found by polling every ``analysis.poll_interval_s``. Leases of running analyses are renewed,
so only a dead runner's rows return to the queue (after ``analysis.lease_s``). A runner stopped gracefully
(``stop``) claims no more, gives running analyses ``analysis.stop_grace_s`` to end and hands the other rows it
holds back at once (an analysis still running then is not saved: its lease is gone). Any number of runners,
in any number of processes, can share one database.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

from bot.domain import StorageError
from bot.storage import Store, jobs
from bot.storage.jobs import Job, JobState

log = logging.getLogger(__name__)
T = TypeVar("T")


def runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:200]


class AnalysisQueue:
    def __init__(self, store: Store, analyze: Callable[[Job], object], *, workers: int = 2,
                 poll_interval_s: float = 0.5, lease_s: float = 60.0, max_attempts: int = 5,
                 retry_after_s: float = 5.0, on_error: Callable[[], None] | None = None,
                 stop_grace_s: float = 5.0) -> None:
        self.store = store
        self.owner = runner_id()
        self._analyze = analyze
        self._n = workers
        self._poll = poll_interval_s
        self._lease = lease_s
        self._max_attempts = max_attempts
        self._retry_after = retry_after_s
        self._on_error = on_error
        self._grace = stop_grace_s
        self._inflight: dict[str, asyncio.Task[None]] = {}
        # rows claimed here and not settled (analysed, failed or lost): ``stop`` hands them back. The lock makes a
        # claim and its registration here one step, so a claim still running when ``stop`` releases is waited
        # for, and none starts after it (``_closed``)
        self._held: dict[str, Job] = {}
        self._claim_lock = threading.Lock()
        self._held_lock = threading.Lock()  # only around changes of ``_held`` (the event loop takes it too)
        self._closed = False
        self._abandon = threading.Event()
        # analyses, claims and renewals run on the shared default pool: a pool of their own (n+1 threads) let
        # the outbox relay's deliveries run beside them unchecked and, measured with bench.resilience's storm
        # (2,000 alerts at 50/s, one worker, quiet machine), left 1,026 alerts unanalysed at the end of the
        # stream (publish -> analysis p95 26 s) against 16 (0.9 s) on the shared pool
        self._tasks: list[asyncio.Task[None]] = []
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._claims = 0  # claims started so far
        self._idle_since = 0  # the number of the latest claim that found nothing (``drain`` waits for one)
        self._ended_at = 0  # the number of claims started when the latest analysis ended
        self.completed = 0
        self.failed = 0

    @classmethod
    def from_settings(cls, store: Store, analyze: Callable[[Job], object], settings: object,
                      on_error: Callable[[], None] | None = None) -> AnalysisQueue:
        cfg = getattr(settings, "analysis")  # noqa: B009 - config.settings.AnalysisSettings
        return cls(store, analyze, workers=cfg.workers, poll_interval_s=cfg.poll_interval_s, lease_s=cfg.lease_s,
                   max_attempts=cfg.max_attempts, retry_after_s=cfg.retry_after_s, on_error=on_error,
                   stop_grace_s=cfg.stop_grace_s)

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._tasks:
            return
        self._loop = asyncio.get_running_loop()
        self._closed = False
        self._abandon = threading.Event()  # set by stop() once unfinished analyses are handed back
        self._wake = asyncio.Event()
        self._wake.set()  # first claim at once: rows left by a crash or another process
        self._tasks = [asyncio.create_task(self._run(), name="analysis-runner"),
                       asyncio.create_task(self._heartbeat(), name="analysis-leases")]

    async def stop(self) -> None:
        """Claim no more; let running analyses end (at most ``stop_grace_s``, then they are cancelled); hand back
        every row claimed here and not settled, so that any runner takes it at once."""
        tasks, self._tasks = self._tasks, []
        if tasks:
            tasks[0].cancel()  # the claim loop (a claim in its thread is settled by the lock in ``_release``)
        running = list(self._inflight.values())
        try:
            if running:
                await asyncio.wait(running, timeout=self._grace)
        finally:  # also when the caller gives up (a bounded shutdown): nothing keeps running
            left = [*tasks, *self._inflight.values()]
            for task in left:
                task.cancel()
            self._abandon.set()  # the pool's waiters of analyses still running let go: exit does not wait for them
        await asyncio.gather(*left, return_exceptions=True)
        self._inflight = {}
        try:
            released = await self._blocking(self._release)
        except Exception:  # noqa: BLE001 - database gone: the rows return after their lease
            log.warning("cannot hand back claimed analyses; they return after their lease", exc_info=True)
            return
        if released:
            log.info("unfinished analyses handed back to the queue", extra={"analyses": released})

    def wake(self) -> None:
        """Look for work now (safe from any thread)."""
        set_event(self._loop, self._wake)

    def submit(self, incident_id: str) -> None:
        """Queue an analysis (a re-analysis request); blocking: call from a worker thread."""
        with self.store.engine.begin() as conn:
            jobs.enqueue(conn, [incident_id])
        self.wake()

    async def drain(self, *, timeout: float = 60.0) -> None:
        """Wait until nothing runs here and a claim found no work (tests, shutdown, benchmarks).

        Only an empty claim that started after this call and after the latest analysis ended counts: one
        started while a failing analysis ran may have looked before that analysis put its row back (a fast
        failure can start and end between two looks at ``_inflight``, so the running set alone says nothing)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        mark = self._claims
        self.wake()
        while self._inflight or self._idle_since <= max(mark, self._ended_at):
            if loop.time() > deadline:
                raise TimeoutError(f"analysis queue not drained in {timeout}s ({len(self._inflight)} running)")
            await asyncio.sleep(0.01)

    @property
    def depth(self) -> int:
        with self.store.engine.connect() as conn:
            return jobs.backlog(conn)[JobState.PENDING.value]

    # ---- the loops ------------------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            free = self._n - len(self._inflight)
            if free > 0:
                self._wake.clear()  # a wake during the claim keeps the event set: nothing is missed
                self._claims += 1
                number = self._claims
                try:
                    claimed = await self._blocking(self._claim, free)
                except StorageError as e:
                    log.warning("cannot claim analyses: %s", e)
                    claimed = []
                for job in claimed:
                    self._inflight[job.incident_id] = asyncio.create_task(self._one(job), name=f"analysis-{job.incident_id}")
                if not claimed:
                    self._idle_since = number
                elif len(claimed) == free:
                    continue  # there may be more: claim again once a slot frees
            else:
                # every slot busy: a wake now means nothing until a slot frees (``_one`` sets the event
                # then); left set, the wait below would return at once and the loop would spin
                self._wake.clear()
            await wait_event(self._wake, self._poll)

    async def _blocking(self, fn: Callable[..., T], *args: Any) -> T:
        return await run_blocking(None, fn, *args)

    def _claim(self, limit: int) -> list[Job]:
        with self._claim_lock:
            if self._closed:
                return []
            try:
                with self.store.engine.begin() as conn:
                    claimed = jobs.claim(conn, owner=self.owner, limit=limit, lease_s=self._lease)
            except Exception as e:  # noqa: BLE001 - SQLAlchemy errors: a transient outage, retried by polling
                raise StorageError(f"claim failed: {e.__class__.__name__}") from e
            with self._held_lock:
                self._held.update((job.incident_id, job) for job in claimed)
            return claimed

    def _release(self) -> int:
        with self._claim_lock:
            self._closed = True
            with self._held_lock:
                held, self._held = list(self._held), {}
        if not held:
            return 0
        with self.store.engine.begin() as conn:
            return jobs.release(conn, owner=self.owner, incident_ids=held)

    async def _one(self, job: Job) -> None:
        try:
            try:
                await run_detached(self._analyze, job, abandon=self._abandon, name=f"analysis-{job.incident_id}")
                self.completed += 1
            except jobs.LeaseLost:
                log.info("analysis lease lost; another runner has it", extra={"incident_id": job.incident_id})
            except Exception as e:  # noqa: BLE001 - one bad incident must not stop the runner
                self.failed += 1
                log.warning("analysis failed (attempt %d of %d)", job.attempts, self._max_attempts,
                            extra={"incident_id": job.incident_id, "error": str(e)[:300]}, exc_info=True)
                if self._on_error:
                    self._on_error()
                await self._blocking(self._fail, job, f"{e.__class__.__name__}: {e}")
            self._settle(job)  # a cancelled analysis stays held: stop hands it back
        finally:
            # with no retry delay the failed row may already be claimed again, by a task of its own: that
            # task's entry is not this one's to remove (drain would return while it runs)
            if self._inflight.get(job.incident_id) is asyncio.current_task():
                del self._inflight[job.incident_id]
            self._ended_at = self._claims
            if self._wake is not None:
                self._wake.set()

    def _settle(self, job: Job) -> None:
        with self._held_lock:  # the row may be claimed again already (by a claim thread): keep that claim
            if self._held.get(job.incident_id) is job:
                del self._held[job.incident_id]

    def _fail(self, job: Job, error: str) -> None:
        try:
            with self.store.engine.begin() as conn:
                state = jobs.fail(conn, job, error=error, max_attempts=self._max_attempts,
                                  retry_after_s=self._retry_after)
        except Exception:  # noqa: BLE001 - the lease expires and the row is retried anyway
            log.exception("cannot record a failed analysis", extra={"incident_id": job.incident_id})
            return
        if state == JobState.DEAD:
            log.error("analysis given up after %d attempts; kept as dead with its last error", job.attempts,
                      extra={"incident_id": job.incident_id, "error": error[:300]})

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(max(self._lease / 3.0, 0.2))
            ids = list(self._inflight)
            if not ids:
                continue
            try:
                await self._blocking(self._renew, ids)
            except Exception:  # noqa: BLE001 - next beat tries again; the lease is long enough for a miss
                log.warning("cannot renew analysis leases", exc_info=True)

    def _renew(self, ids: list[str]) -> None:
        with self.store.engine.begin() as conn:
            jobs.renew(conn, owner=self.owner, incident_ids=ids, lease_s=self._lease)


async def run_blocking(executor: ThreadPoolExecutor | None, fn: Callable[..., T], *args: Any) -> T:
    """``asyncio.to_thread`` on ``executor`` (the default pool when None): ``fn(*args)`` in a thread, with
    the caller's context variables."""
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, fn, *args)
    return await loop.run_in_executor(executor, call)


async def run_detached(fn: Callable[..., T], *args: Any, abandon: threading.Event,
                       name: str | None = None) -> T:
    """``fn(*args)`` in a daemon thread of its own, with the caller's context variables, while a thread of the
    shared default pool waits for it; that waiter gives up once ``abandon`` is set.

    For work that may hang (an analysis waiting on an LLM or a connector that never answers). The pool's
    threads are joined when the event loop closes and again at interpreter exit, so a stuck call made on the
    pool itself would hold a stopped process forever; a daemon thread is left behind. The waiter keeps the
    work on the pool's count: analyses and the outbox relay's deliveries still take turns on the shared pool
    (threads of their own let the deliveries run beside them unchecked: docs/architecture-roles.md). Set
    ``abandon`` once the work has been handed back (``AnalysisQueue.stop``); its lease keeps a late result
    from being saved."""
    context = contextvars.copy_context()
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = context.run(fn, *args)
        except BaseException as e:  # noqa: BLE001 - handed to the waiter
            outcome["error"] = e
        finally:
            done.set()

    def wait() -> T:
        threading.Thread(target=target, name=name or "detached", daemon=True).start()
        while not done.wait(0.2):
            if abandon.is_set():
                raise Abandoned(name or "detached call")
        if "error" in outcome:
            raise outcome["error"]
        return cast(T, outcome["result"])

    return await run_blocking(None, wait)


class Abandoned(Exception):
    """A detached call still running when its caller stopped waiting for it (``run_detached``)."""


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """Wait until ``event`` is set, at most ``timeout`` seconds; True when it was set.

    The runner loops wait for their wake-up with this, never with ``asyncio.wait_for(event.wait(), ...)``: on
    Python 3.11 ``wait_for`` returns normally when its task is cancelled in the loop iteration in which the
    event is set (CPython issue 86296, fixed in 3.12), so a ``stop()`` landing together with a ``wake()`` was
    lost, the loop ran on and ``stop()`` waited for it forever. ``asyncio.wait`` never absorbs the caller's
    cancellation. It always yields to the loop once, even when the event is already set (a busy runner loop
    must not starve the others)."""
    waiter = asyncio.ensure_future(event.wait())
    try:
        done, _ = await asyncio.wait({waiter}, timeout=timeout)
    finally:
        waiter.cancel()
    return bool(done)


def set_event(loop: asyncio.AbstractEventLoop | None, event: asyncio.Event | None) -> None:
    """Set ``event``, owned by ``loop``, from that loop or from any other thread; nothing once the loop closed."""
    if loop is None or event is None or loop.is_closed():
        return
    try:
        here = asyncio.get_running_loop() is loop
    except RuntimeError:
        here = False
    if here:
        event.set()
    else:
        loop.call_soon_threadsafe(event.set)
