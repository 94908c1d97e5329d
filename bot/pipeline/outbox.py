"""The outbox relay: delivers the events of the database outbox to this process's subscribers.

Every state change that others must hear about (incident created / acknowledged / resolved, analysis
ready, early warning raised) is written to the ``outbox`` table in the same transaction as the change
(``bot.storage.outbox``). A relay runs in each process that holds subscribers (chat posts, e-mail,
PagerDuty/Opsgenie write-back): it claims due rows with a lease, reads the current incident and analysis,
awaits the subscribers and marks the row done. A relay killed mid-delivery leaves the row leased; another
relay takes it after ``outbox.lease_s`` (subscribers are idempotent per incident: one chat post, one note).
A relay stopped gracefully (``stop``) claims no more, gives deliveries in flight ``outbox.stop_grace_s`` to
end, and hands every row it claimed and did not deliver back at once; a delivered row is marked done, never
handed back.

Every role holds the same subscribers (``bot.pipeline.wiring``), so any relay may deliver any event; an
event with no subscriber in this process is marked done at once.

Wake-up: ``wake()`` after a commit in this process, PostgreSQL ``LISTEN sherlog_outbox`` for commits in
other processes, and polling every ``outbox.poll_interval_s`` (SQLite, or a missed notification).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from bot.domain import Alert
from bot.domain.events import AnalysisReady, EventType, IncidentEvent, WarningRaised, parse_payload
from bot.pipeline.events import EventBus, deliver
from bot.pipeline.queue import runner_id, set_event, wait_event
from bot.storage import Store, outbox

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(self, store: Store, bus: EventBus, *, poll_interval_s: float = 0.5, lease_s: float = 60.0,
                 max_attempts: int = 5, retry_after_s: float = 5.0, batch_size: int = 50,
                 listen: bool = True, stop_grace_s: float = 5.0) -> None:
        self.store = store
        self.bus = bus
        self.owner = runner_id()
        self._poll = poll_interval_s
        self._lease = lease_s
        self._max_attempts = max_attempts
        self._retry_after = retry_after_s
        self._batch = batch_size
        self._listen = listen and store.engine.dialect.name == "postgresql"
        self._grace = stop_grace_s
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop_listen = threading.Event()
        self._claims = 0  # claims started so far
        self._idle_since = 0  # the number of the latest claim that found nothing (``drain`` waits for one)
        self.delivered = 0
        # rows claimed here and not yet delivered (or given up): ``stop`` hands them back. The lock makes a claim
        # and its registration here one step, so a claim still running when ``stop`` releases is waited for,
        # and none starts after it (``_closed``)
        self._held: dict[int, outbox.Claimed] = {}
        self._claim_lock = threading.Lock()
        self._closed = False
        self._stopping = False
        self._finishing: set[asyncio.Future[None]] = set()

    @classmethod
    def from_settings(cls, store: Store, bus: EventBus, settings: Any) -> OutboxRelay:
        cfg = settings.outbox
        return cls(store, bus, poll_interval_s=cfg.poll_interval_s, lease_s=cfg.lease_s,
                   max_attempts=cfg.max_attempts, retry_after_s=cfg.retry_after_s, batch_size=cfg.batch_size,
                   listen=cfg.listen, stop_grace_s=cfg.stop_grace_s)

    def start(self) -> None:
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._stopping = self._closed = False
        self._wake = asyncio.Event()
        self._wake.set()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")
        if self._listen:  # each start its own stop flag: a relay started again after stop() listens again
            self._stop_listen = threading.Event()
            self.listening = threading.Event()
            threading.Thread(target=self._listen_loop, args=(self._stop_listen,), name="outbox-listen",
                             daemon=True).start()

    async def stop(self) -> None:
        """Claim no more; let deliveries in flight end (at most ``stop_grace_s``, then they are cancelled); hand
        back every event claimed here and not delivered, so that any relay delivers it at once."""
        self._stop_listen.set()
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            self.wake()
            try:
                await asyncio.wait({task}, timeout=self._grace)
            except asyncio.CancelledError:  # the caller gave up (a bounded shutdown): the leases recover the rest
                task.cancel()
                raise
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._finishing:  # delivered rows being marked done: settled before anything is handed back
            await asyncio.gather(*self._finishing, return_exceptions=True)
        try:
            released = await asyncio.to_thread(self._release)
        except Exception:  # noqa: BLE001 - database gone: the rows return after their lease
            log.warning("cannot hand back claimed outbox events; they return after their lease", exc_info=True)
            return
        if released:
            log.info("undelivered outbox events handed back", extra={"events": released})

    def wake(self) -> None:
        set_event(self._loop, self._wake)

    async def drain(self, *, timeout: float = 30.0) -> None:
        """Wait until a claim that started after this call finds nothing due (tests and benchmarks).

        An empty claim already running when ``drain`` is called does not count: it may have looked before an
        event committed or a failed one came due again. The relay is woken until such a claim has run (a claim
        that found events is followed by another at once, not after the poll interval)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        mark = self._claims
        while self._idle_since <= mark:
            if loop.time() > deadline:
                raise TimeoutError(f"outbox not drained in {timeout}s")
            self.wake()
            await asyncio.sleep(0.01)

    # ---- loops -------------------------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            self._wake.clear()
            self._claims += 1
            number = self._claims
            try:
                rows = await asyncio.to_thread(self._claim)
            except Exception:  # noqa: BLE001 - database outage: poll again
                log.warning("cannot claim outbox events", exc_info=True)
                rows = []
            await asyncio.gather(*(self._deliver_in_order(group) for group in _by_incident(rows)))
            if self._stopping:
                return
            if len(rows) == self._batch:
                continue
            if not rows:
                self._idle_since = number
            await wait_event(self._wake, self._poll)

    def _claim(self) -> list[outbox.Claimed]:
        with self._claim_lock:
            if self._closed:
                return []
            with self.store.engine.begin() as conn:
                rows = outbox.claim(conn, owner=self.owner, limit=self._batch, lease_s=self._lease)
            self._held.update((row.id, row) for row in rows)
            return rows

    def _release(self) -> int:
        with self._claim_lock:
            self._closed = True
            rows, self._held = list(self._held.values()), {}
        if not rows:
            return 0
        with self.store.engine.begin() as conn:
            return outbox.release(conn, owner=self.owner, ids=[row.id for row in rows])

    async def _deliver_in_order(self, rows: list[outbox.Claimed]) -> None:
        for row in rows:
            if self._stopping:
                return  # not started: handed back by stop()
            await self._deliver(row)

    async def _deliver(self, row: outbox.Claimed) -> None:
        error: str | None = None
        try:
            if self.bus.has_subscribers(row.event.value):  # else nobody here listens: nothing to do
                kwargs = await asyncio.to_thread(self._arguments, row)
                failed = await deliver(self.bus, row.event.value, **kwargs)
                if failed:
                    log.warning("%d subscriber(s) of %s failed; they retry on their own", failed, row.event.value)
                self.delivered += 1
        except Exception as e:  # noqa: BLE001 - retried, then given up with the reason
            error = f"{e.__class__.__name__}: {e}"
            log.warning("outbox event not delivered", extra={"event": row.event.value, "error": error[:300]})
        # delivered (or failed): from here on it is marked, never handed back; a stop waits for the mark
        self._held.pop(row.id, None)
        marking = asyncio.ensure_future(asyncio.to_thread(self._finish, row, error))
        self._finishing.add(marking)
        marking.add_done_callback(self._finishing.discard)
        marking.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved: no "never retrieved"
        try:
            await asyncio.shield(marking)
        except Exception:  # noqa: BLE001 - the lease expires and another relay delivers it again
            log.warning("cannot mark outbox event", exc_info=True)

    def _finish(self, row: outbox.Claimed, error: str | None) -> None:
        with self.store.engine.begin() as conn:
            outbox.finish(conn, row, error=error, max_attempts=self._max_attempts, retry_after_s=self._retry_after)

    def _arguments(self, row: outbox.Claimed) -> dict[str, Any]:
        """The subscribers' keyword arguments, read from the current state."""
        payload = parse_payload(row.event, row.payload)
        if isinstance(payload, WarningRaised):
            return {"alert": Alert.model_validate(payload.alert), "details": payload.details,
                    "incident_ids": payload.incident_ids}
        assert isinstance(payload, IncidentEvent | AnalysisReady)
        incident = self.store.get_incident(incident_id=payload.incident_id)
        if isinstance(payload, AnalysisReady):
            analysis = self.store.latest_analysis(incident_id=payload.incident_id)
            if analysis is None:
                raise LookupError(f"analysis {payload.analysis_id} of {payload.incident_id} is gone")
            return {"incident": incident, "analysis": analysis}
        if row.event == EventType.INCIDENT_CREATED:
            return {"incident": incident}
        return {"incident": incident, "user": payload.user or "unknown"}

    def _listen_loop(self, stop: threading.Event) -> None:
        """PostgreSQL: wake the relay on every NOTIFY (reconnects after an error) until ``stop`` is set."""
        while not stop.is_set():
            raw = None
            try:
                raw = self.store.engine.raw_connection()
                conn: Any = raw.driver_connection
                conn.autocommit = True
                conn.execute(f"LISTEN {outbox.CHANNEL}")
                self.listening.set()
                while not stop.is_set():
                    for _ in conn.notifies(timeout=1.0, stop_after=1):
                        self.wake()
            except Exception:  # noqa: BLE001 - polling still runs; try again shortly
                log.debug("outbox LISTEN connection lost", exc_info=True)
                stop.wait(2.0)
            finally:
                if raw is not None:
                    try:
                        raw.invalidate()
                    except Exception:  # noqa: BLE001
                        pass


def _by_incident(rows: list[outbox.Claimed]) -> list[list[outbox.Claimed]]:
    """Rows grouped by incident, in claim order: one incident's events in order, incidents in parallel."""
    groups: dict[str, list[outbox.Claimed]] = {}
    for row in rows:
        key = str(row.payload.get("incident_id") or f"row-{row.id}")
        groups.setdefault(key, []).append(row)
    return list(groups.values())
