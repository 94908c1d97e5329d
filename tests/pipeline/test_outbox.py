"""The transactional outbox and its relay, on SQLite and PostgreSQL: events commit with their state change,
cross processes (two pipelines on one database stand for two processes), are delivered once, and a dead
relay's events are delivered by another after its lease."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from bot.domain import Alert, IncidentContext, utcnow
from bot.domain.events import AnalysisReady, EventType, IncidentEvent, OutboxEvent
from bot.pipeline import Pipeline
from bot.pipeline.events import EventBus
from bot.pipeline.outbox import OutboxRelay
from bot.pipeline.queue import AnalysisQueue
from bot.storage import Store, outbox
from bot.storage.outbox import OUTBOX, OutboxState

pytestmark = pytest.mark.integration


def _alert(service: str) -> Alert:
    return Alert(source="generic", name="Down", service=service, labels={"service": service}, starts_at=utcnow())


def _pipeline(settings, store: Store) -> Pipeline:  # type: ignore[no-untyped-def]
    p = Pipeline(settings=settings, store=store, detectors=[],
                 context_provider=lambda incident: IncidentContext(incident=incident))
    p.outbox = True
    return p


def _events(store: Store) -> list[tuple[str, dict[str, Any], str]]:
    with store.engine.connect() as conn:
        return [(r.event, r.payload, r.state) for r in conn.execute(select(OUTBOX).order_by(OUTBOX.c.id))]


def test_event_names_and_payloads_are_typed() -> None:
    with pytest.raises(ValidationError):
        OutboxEvent(type=EventType.ANALYSIS_READY, payload=IncidentEvent(incident_id="i"))
    with pytest.raises(ValidationError):
        IncidentEvent(incident_id="")
    assert EventType("analysis.ready") is EventType.ANALYSIS_READY


def test_state_changes_write_their_events_in_the_same_transaction(settings, any_store: Store) -> None:  # type: ignore[no-untyped-def]
    pipeline = _pipeline(settings, any_store)
    [iid] = pipeline.accept_alerts([_alert("checkout")]).created
    assert _events(any_store) == [("incident.created", {"incident_id": iid, "user": None}, "pending")]
    pipeline.acknowledge(incident_id=iid, user="alice")
    pipeline.resolve(incident_id=iid, user="bob")
    assert [(e, p.get("user")) for e, p, _ in _events(any_store)] == [
        ("incident.created", None), ("incident.acknowledged", "alice"), ("incident.resolved", "bob")]


def test_a_lost_analysis_lease_writes_no_event(settings, any_store: Store) -> None:  # type: ignore[no-untyped-def]
    from bot.storage import jobs

    pipeline = _pipeline(settings, any_store)
    pipeline.accept_alerts([_alert("a")])
    with any_store.engine.begin() as conn:
        [slow] = jobs.claim(conn, owner="slow", limit=1, lease_s=1)
        jobs.claim(conn, owner="fast", limit=1, lease_s=30, now=utcnow() + timedelta(seconds=2))
    with pytest.raises(jobs.LeaseLost):
        pipeline.analyze_job(slow)
    assert [e for e, _, _ in _events(any_store)] == ["incident.created"]  # no analysis.ready


def test_an_incident_analysed_in_one_process_is_delivered_by_the_relay_of_another(settings, any_store: Store) -> None:  # type: ignore[no-untyped-def]
    worker = _pipeline(settings, any_store)  # `sherlog worker`: intake + analysis, nobody subscribed
    api_bus = EventBus()  # `sherlog serve`: the chat subscribers live here
    posted: list[tuple[str, str]] = []

    async def post(*, incident: Any, analysis: Any, **_: Any) -> None:
        await asyncio.sleep(0.01)
        posted.append((incident.id, analysis.id))

    api_bus.subscribe("analysis.ready", post)
    created = worker.accept_alerts([_alert(f"svc{i}") for i in range(5)]).created

    async def run() -> None:
        runner = AnalysisQueue(any_store, worker.analyze_job, workers=2, poll_interval_s=0.05)
        relays = [OutboxRelay(any_store, api_bus, poll_interval_s=0.05) for _ in range(2)]  # two API replicas
        runner.start()
        for r in relays:
            r.start()
        await runner.drain(timeout=60)
        for r in relays:
            await r.drain(timeout=30)
        await runner.stop()
        for r in relays:
            await r.stop()

    asyncio.run(run())
    assert sorted(i for i, _ in posted) == sorted(created)  # each once, whichever replica claimed it
    ready = [p for e, p, s in _events(any_store) if e == "analysis.ready"]
    assert sorted(p["incident_id"] for p in ready) == sorted(created)
    assert {s for _, _, s in _events(any_store)} == {OutboxState.DONE.value}


def test_a_dead_relays_events_are_delivered_after_its_lease(any_store: Store) -> None:
    with any_store.engine.begin() as conn:
        outbox.write(conn, [OutboxEvent(type=EventType.ANALYSIS_READY,
                                        payload=AnalysisReady(incident_id="gone", analysis_id="a1"))])
        [claimed] = outbox.claim(conn, owner="killed", limit=10, lease_s=30)
        assert outbox.claim(conn, owner="other", limit=10, lease_s=30) == []  # leased
        [again] = outbox.claim(conn, owner="other", limit=10, lease_s=30, now=utcnow() + timedelta(seconds=31))
    assert again.id == claimed.id and again.attempts == 2
    with any_store.engine.begin() as conn:
        assert outbox.finish(conn, again, error="boom", max_attempts=2) == OutboxState.FAILED
        assert outbox.counts(conn)[OutboxState.FAILED.value] == 1


def test_an_event_whose_incident_is_missing_is_retried_then_given_up(any_store: Store) -> None:
    with any_store.engine.begin() as conn:
        outbox.write(conn, [OutboxEvent(type=EventType.INCIDENT_CREATED, payload=IncidentEvent(incident_id="nope"))])
    bus = EventBus()
    seen: list[Any] = []
    bus.subscribe("incident.created", lambda **kw: seen.append(kw))

    async def run() -> None:
        relay = OutboxRelay(any_store, bus, poll_interval_s=0.02, max_attempts=2, retry_after_s=0)
        relay.start()
        for _ in range(200):
            with any_store.engine.connect() as conn:
                if outbox.counts(conn)[OutboxState.FAILED.value]:
                    break
            await asyncio.sleep(0.02)
        await relay.stop()

    asyncio.run(run())
    assert seen == []
    [(_, _, state)] = _events(any_store)
    assert state == OutboxState.FAILED.value


def test_drain_waits_for_a_claim_that_started_after_it_was_called(settings, any_store: Store) -> None:  # type: ignore[no-untyped-def]
    """An empty claim already running when ``drain`` is called may have looked before an event became due: it
    must not count. Here a claim has found nothing and is held back while an incident (and its event) commits;
    ``drain`` is called, then the held claim ends empty. ``drain`` returns only once the event is delivered."""
    bus = EventBus()
    posted: list[str] = []

    async def post(*, incident: Any, **_: Any) -> None:
        await asyncio.sleep(0.3)  # a delivery takes a while: an early return of drain() is seen, not raced
        posted.append(incident.id)

    bus.subscribe("incident.created", post)
    pipeline = _pipeline(settings, any_store)
    looked, release = threading.Event(), threading.Event()

    async def run() -> list[str]:
        relay = OutboxRelay(any_store, bus, poll_interval_s=60.0, listen=False)  # no poll, no NOTIFY: only wakes
        relay.start()
        await relay.drain(timeout=10)
        real_claim = relay._claim

        def held_claim() -> list[outbox.Claimed]:
            rows = real_claim()
            relay._claim = real_claim  # only this one claim is held
            looked.set()
            release.wait(10)
            return rows

        relay._claim = held_claim  # type: ignore[method-assign]
        relay.wake()
        assert await asyncio.to_thread(looked.wait, 10)  # that claim found nothing ...
        [iid] = await asyncio.to_thread(lambda: pipeline.accept_alerts([_alert("checkout")]).created)
        draining = asyncio.ensure_future(relay.drain(timeout=10))  # ... and drain() is called now
        await asyncio.sleep(0.05)
        release.set()  # the old claim ends, empty
        await draining
        seen = list(posted)
        await relay.stop()
        assert seen == [iid], "drain() returned before the due event was delivered"
        return seen

    assert len(asyncio.run(run())) == 1


@pytest.mark.integration
def test_a_relay_started_again_after_stop_is_woken_by_notify(pg_store: Store) -> None:
    """PostgreSQL: the NOTIFY at commit wakes a relay that was stopped and started again (its listener used to
    see the first stop's flag and end at once, leaving the relay to its poll interval)."""

    async def run() -> int:
        relay = OutboxRelay(pg_store, EventBus(), poll_interval_s=120.0)  # a poll never comes within the test
        relay.start()
        assert await asyncio.to_thread(relay.listening.wait, 10)
        await relay.stop()
        relay.start()
        assert await asyncio.to_thread(relay.listening.wait, 10)
        await asyncio.sleep(0.3)  # the claim made at start has run and found nothing
        before = relay._claims
        with pg_store.engine.begin() as conn:  # another writer's commit: only its NOTIFY can wake the relay
            outbox.write(conn, [OutboxEvent(type=EventType.INCIDENT_CREATED, payload=IncidentEvent(incident_id="x"))])
        for _ in range(100):
            if relay._claims > before:
                break
            await asyncio.sleep(0.05)
        woken = relay._claims - before
        await relay.stop()
        return woken

    assert asyncio.run(run()) >= 1
