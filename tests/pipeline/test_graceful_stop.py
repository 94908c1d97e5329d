"""Issue 17: a graceful stop (the relay's and the runner's ``stop``, which the app's shutdown and a worker's
SIGTERM await) hands back what this process claimed and did not finish, so a restarted process takes it at once
instead of after the lease (60 s); what was delivered or analysed is never handed back, so never done twice.
On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain import Alert, IncidentContext, utcnow
from bot.pipeline import Pipeline
from bot.pipeline.events import EventBus
from bot.pipeline.outbox import OutboxRelay
from bot.pipeline.queue import AnalysisQueue
from bot.storage import Store, jobs, outbox
from bot.storage.outbox import OUTBOX, OutboxState
from bot.storage.tables import AnalysisRow

pytestmark = pytest.mark.integration

GRACE_S = 0.2
GUARD_S = 10.0


def _alert(service: str) -> Alert:
    return Alert(
        source="generic", name="Down", service=service, labels={"service": service}, starts_at=utcnow()
    )


def _pipeline(settings, store: Store) -> Pipeline:  # type: ignore[no-untyped-def]
    p = Pipeline(
        settings=settings,
        store=store,
        detectors=[],
        context_provider=lambda incident: IncidentContext(incident=incident),
    )
    p.outbox = True
    return p


def _outbox(store: Store) -> dict[tuple[str, str], dict[str, Any]]:
    """(event, incident id) -> the row's state, lease owner and attempts."""
    with store.engine.connect() as conn:
        return {
            (r.event, r.payload["incident_id"]): {
                "state": r.state,
                "owner": r.lease_owner,
                "attempts": r.attempts,
                "due": r.available_at,
            }
            for r in conn.execute(select(OUTBOX))
        }


def _jobs(store: Store) -> dict[str, jobs.AnalysisJobRow]:
    with store.engine.connect() as conn:
        return {
            r.incident_id: jobs.AnalysisJobRow.model_validate(dict(r))
            for r in conn.execute(select(jobs.JOBS)).mappings()
        }


def _analyses(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        out: dict[str, int] = {}
        for (iid,) in conn.execute(select(AnalysisRow.incident_id)):  # type: ignore[call-overload]
            out[iid] = out.get(iid, 0) + 1
        return out


async def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + GUARD_S
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def _held_claim(module: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """The next ``module.claim`` runs, then waits (inside its transaction) until released: a claim still running
    when ``stop`` lands. Returns (claimed, release)."""
    claimed, release = threading.Event(), threading.Event()
    real = module.claim

    def held(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(module, "claim", real)
        rows = real(*args, **kwargs)
        claimed.set()
        release.wait(GUARD_S)
        return rows

    monkeypatch.setattr(module, "claim", held)
    return claimed, release


# ---- the outbox relay -----------------------------------------------------------------------------------------


def test_a_stopped_relay_hands_back_what_it_did_not_deliver_and_keeps_what_it_did(
    settings, any_store: Store
) -> None:  # type: ignore[no-untyped-def]
    pipeline = _pipeline(settings, any_store)
    quick, stuck = pipeline.accept_alerts([_alert("quick"), _alert("stuck")]).created
    pipeline.acknowledge(incident_id=stuck, user="alice")  # waits behind stuck's incident.created
    first: list[tuple[str, str]] = []
    started = asyncio.Event()

    async def created(*, incident: Any, **_: Any) -> None:
        if incident.id == stuck:
            started.set()
            await asyncio.Event().wait()  # a delivery that does not end in the grace period
        first.append(("incident.created", incident.id))

    bus = EventBus()
    bus.subscribe("incident.created", created)
    bus.subscribe(
        "incident.acknowledged", lambda *, incident, **_: first.append(("incident.acknowledged", incident.id))
    )

    async def run_first() -> float:
        relay = OutboxRelay(any_store, bus, poll_interval_s=60.0, listen=False, stop_grace_s=GRACE_S)
        real_finish = relay._finish

        def slow_finish(row: outbox.Claimed, error: str | None) -> None:
            time.sleep(0.3)  # stop lands while the delivered event is being marked done
            real_finish(row, error)

        relay._finish = slow_finish  # type: ignore[method-assign]
        relay.start()
        await _until(lambda: started.is_set() and bool(first), "the first delivery")
        began = time.monotonic()
        await asyncio.wait_for(relay.stop(), timeout=GUARD_S)
        return time.monotonic() - began

    elapsed = asyncio.run(run_first())
    assert first == [("incident.created", quick)]
    assert elapsed < 5.0  # the hung delivery is not waited for (the lease would be 60 s)
    rows = _outbox(any_store)
    assert (
        rows[("incident.created", quick)]["state"] == OutboxState.DONE
    )  # delivered: marked, not handed back
    for key in [("incident.created", stuck), ("incident.acknowledged", stuck)]:  # in flight, and not started
        assert rows[key]["state"] == OutboxState.PENDING
        assert rows[key]["owner"] is None, f"{key} still leased after a graceful stop"
        assert rows[key]["attempts"] == 0  # the interrupted attempt does not count towards max_attempts

    second: list[tuple[str, str]] = []
    bus2 = EventBus()
    for event in ("incident.created", "incident.acknowledged"):
        bus2.subscribe(event, lambda *, incident, _e=event, **_: second.append((_e, incident.id)))

    async def run_restarted() -> None:
        relay = OutboxRelay(any_store, bus2, poll_interval_s=60.0, listen=False)  # the default 60 s lease
        relay.start()
        await relay.drain(timeout=GUARD_S)
        await relay.stop()

    asyncio.run(run_restarted())
    assert second == [
        ("incident.created", stuck),
        ("incident.acknowledged", stuck),
    ]  # at once, in order, once
    assert {r["state"] for r in _outbox(any_store).values()} == {OutboxState.DONE.value}


def test_a_claim_still_running_when_the_relay_stops_is_handed_back(
    settings, any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    pipeline = _pipeline(settings, any_store)
    [iid] = pipeline.accept_alerts([_alert("checkout")]).created
    claimed, release = _held_claim(outbox, monkeypatch)
    first: list[str] = []
    bus = EventBus()
    bus.subscribe("incident.created", lambda *, incident, **_: first.append(incident.id))

    async def run_first() -> None:
        relay = OutboxRelay(any_store, bus, poll_interval_s=60.0, listen=False, stop_grace_s=GRACE_S)
        relay.start()
        assert await asyncio.to_thread(claimed.wait, GUARD_S)
        stopping = asyncio.ensure_future(relay.stop())
        await asyncio.sleep(GRACE_S + 0.2)  # the grace is over; the claim has not returned yet
        release.set()
        await asyncio.wait_for(stopping, timeout=GUARD_S)

    asyncio.run(run_first())
    assert first == []
    row = _outbox(any_store)[("incident.created", iid)]
    assert row["owner"] is None and row["attempts"] == 0, "a claim that ended after stop() kept its lease"

    second: list[str] = []
    bus2 = EventBus()
    bus2.subscribe("incident.created", lambda *, incident, **_: second.append(incident.id))

    async def run_restarted() -> None:
        relay = OutboxRelay(any_store, bus2, poll_interval_s=60.0, listen=False)
        relay.start()
        await relay.drain(timeout=GUARD_S)
        await relay.stop()

    asyncio.run(run_restarted())
    assert second == [iid]


# ---- the analysis runner --------------------------------------------------------------------------------------


def test_a_stopped_runner_hands_back_the_analyses_it_did_not_finish(settings, any_store: Store) -> None:  # type: ignore[no-untyped-def]
    pipeline = _pipeline(settings, any_store)
    quick, stuck = pipeline.accept_alerts([_alert("quick"), _alert("stuck")]).created
    entered, unblock = threading.Event(), threading.Event()

    def analyze(job: jobs.Job) -> Any:
        if job.incident_id == stuck:
            entered.set()
            unblock.wait(GUARD_S)  # an analysis that does not end in the grace period
        return pipeline.analyze_job(job)

    after_stop: dict[str, Any] = {}

    async def run_first() -> None:
        queue = AnalysisQueue(any_store, analyze, workers=2, poll_interval_s=60.0, stop_grace_s=GRACE_S)
        queue.start()
        await _until(lambda: entered.is_set() and queue.completed == 1, "the quick analysis")
        began = time.monotonic()
        await asyncio.wait_for(queue.stop(), timeout=GUARD_S)
        after_stop["elapsed"] = time.monotonic() - began
        after_stop["rows"] = await asyncio.to_thread(_jobs, any_store)
        unblock.set()  # the stuck analysis ends now, after its row was handed back: it must not be saved

    asyncio.run(run_first())  # the stuck analysis goes on in its daemon thread: its lease is gone, it saves nothing
    assert after_stop["elapsed"] < 5.0  # the hung analysis is not waited for
    rows = after_stop["rows"]
    assert set(rows) == {stuck}  # the quick one was analysed: its row is gone, never handed back
    assert rows[stuck].lease_owner is None and rows[stuck].lease_until is None, (
        "still leased after a graceful stop"
    )
    assert rows[stuck].attempts == 0
    assert _analyses(any_store) == {quick: 1}  # the analysis that outlived its hand-back saved nothing

    async def run_restarted() -> None:
        queue = AnalysisQueue(any_store, pipeline.analyze_job, poll_interval_s=60.0)  # the default 60 s lease
        queue.start()
        await queue.drain(timeout=GUARD_S)
        await queue.stop()

    asyncio.run(run_restarted())
    assert _analyses(any_store) == {quick: 1, stuck: 1}
    assert _jobs(any_store) == {}


def test_a_claim_still_running_when_the_runner_stops_is_handed_back(
    settings, any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    pipeline = _pipeline(settings, any_store)
    [iid] = pipeline.accept_alerts([_alert("checkout")]).created
    claimed, release = _held_claim(jobs, monkeypatch)
    analysed: list[str] = []

    async def run_first() -> None:
        queue = AnalysisQueue(
            any_store,
            lambda job: analysed.append(job.incident_id),
            poll_interval_s=60.0,
            stop_grace_s=GRACE_S,
        )
        queue.start()
        assert await asyncio.to_thread(claimed.wait, GUARD_S)
        stopping = asyncio.ensure_future(queue.stop())
        await asyncio.sleep(GRACE_S + 0.2)
        release.set()
        await asyncio.wait_for(stopping, timeout=GUARD_S)

    asyncio.run(run_first())
    assert analysed == []
    row = _jobs(any_store)[iid]
    assert row.lease_owner is None and row.attempts == 0, "a claim that ended after stop() kept its lease"

    async def run_restarted() -> None:
        queue = AnalysisQueue(any_store, pipeline.analyze_job, poll_interval_s=60.0)
        queue.start()
        await queue.drain(timeout=GUARD_S)
        await queue.stop()

    asyncio.run(run_restarted())
    assert _analyses(any_store) == {iid: 1}
