"""Queue worker logic over an in-memory broker that follows the ``MessageSource`` protocol."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.pipeline import Pipeline
from bot.pipeline.consumer import AlertWorker, LogWorker
from connectors.messages import ATTEMPTS_HEADER, SOURCE_HEADER


@dataclass
class MemoryDelivery:
    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    outcome: str | None = None
    reason: str | None = None

    async def ack(self) -> None:
        assert self.outcome is None, "settled twice"
        self.outcome = "ack"

    async def dead_letter(self, reason: str) -> None:
        assert self.outcome is None, "settled twice"
        self.outcome, self.reason = "dlq", reason

    async def retry(self, reason: str) -> None:
        assert self.outcome is None, "settled twice"
        self.outcome, self.reason = "retry", reason


class MemorySource:
    def __init__(self, deliveries: list[MemoryDelivery]) -> None:
        self.items = deliveries

    async def connect(self) -> None:
        return None

    async def deliveries(self) -> AsyncIterator[MemoryDelivery]:
        for d in self.items:
            yield d

    async def publish(self, body: bytes, *, headers: dict[str, Any] | None = None) -> None:
        self.items.append(MemoryDelivery(body, headers or {}))

    async def close(self) -> None:
        return None


def am(fp: str, service: str, status: str = "firing") -> bytes:
    return json.dumps({"version": "4", "groupKey": "g", "receiver": "r", "status": status, "alerts": [
        {"status": status, "labels": {"alertname": "Down", "service": service}, "annotations": {},
         "startsAt": "2026-01-01T00:00:00Z", "fingerprint": fp}]}).encode()


async def test_alerts_acked_after_persistence_and_poison_dead_lettered(settings: Any, store: Any) -> None:
    pipeline = Pipeline(settings=settings, store=store)
    items = [MemoryDelivery(am("a1", "api")), MemoryDelivery(b"{nope"),
             MemoryDelivery(am("a2", "api"), headers={SOURCE_HEADER: b"alertmanager"}),
             MemoryDelivery(json.dumps({"source": "generic", "payload": {"name": "Disk", "service": "db"}}).encode()),
             MemoryDelivery(am("a1", "api")),  # a redelivery: deduplicated, still acked
             MemoryDelivery(json.dumps({"x": 1}).encode(), headers={SOURCE_HEADER: "nagios"})]
    worker = AlertWorker(pipeline=pipeline, source=MemorySource(items), batch_size=4, batch_wait=0.05, analyze=False)
    stats = await worker.run()
    assert [d.outcome for d in items] == ["ack", "dlq", "ack", "ack", "ack", "dlq"]
    assert items[1].reason is not None and "not JSON" in items[1].reason
    assert items[5].reason is not None and "nagios" in items[5].reason
    assert stats.acked == 4 and stats.dead_lettered == 2
    assert store.count_alerts() == 3 and store.count_incidents() == 2


async def test_storage_failure_retries_instead_of_acking(settings: Any) -> None:
    from sqlalchemy import create_engine

    from bot.storage import Store

    gone = Store(create_engine("sqlite:////nonexistent-dir/for/sure/db.sqlite"))  # the database is unreachable
    pipeline = Pipeline(settings=settings, store=gone)
    items = [MemoryDelivery(am("a1", "api"), headers={ATTEMPTS_HEADER: "1"}, attempts=1)]
    worker = AlertWorker(pipeline=pipeline, source=MemorySource(items), batch_size=10, batch_wait=0.01,
                         analyze=False)
    stats = await worker.run()
    assert items[0].outcome == "retry" and stats.retried == 1 and stats.acked == 0


async def test_created_incidents_are_analysed_by_the_worker(settings: Any, store: Any) -> None:
    pipeline = Pipeline(settings=settings, store=store)
    worker = AlertWorker(pipeline=pipeline, source=MemorySource([MemoryDelivery(am("z", "search"))]),
                         batch_wait=0.01, analyze=True)
    stats = await worker.run()
    assert stats.analyses == 1
    (incident,) = store.list_incidents()
    assert store.latest_analysis(incident_id=incident.id) is not None


async def test_log_lines_appended_then_acked(tmp_path: Path) -> None:
    items = [MemoryDelivery(json.dumps({"service": "api", "line": "ERROR boom"}).encode()),
             MemoryDelivery(json.dumps({"service": "api", "lines": ["a", "b"]}).encode()),
             MemoryDelivery(b"plain line\nsecond", headers={"x-sherlog-service": "db"}),
             MemoryDelivery(json.dumps({"service": "../etc", "line": "x"}).encode())]
    worker = LogWorker(source=MemorySource(items), root=tmp_path, batch_wait=0.01)
    await worker.run()
    assert [d.outcome for d in items] == ["ack", "ack", "ack", "dlq"]
    assert (tmp_path / "api.log").read_text().splitlines() == ["ERROR boom", "a", "b"]
    assert (tmp_path / "db.log").read_text().splitlines() == ["plain line", "second"]


def am_start(fp: str, service: str, starts_at: Any, alertname: str = "Down") -> bytes:
    return json.dumps({"version": "4", "groupKey": "g", "receiver": "r", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": alertname, "service": service}, "annotations": {},
         "startsAt": starts_at, "fingerprint": fp}]}).encode()


async def test_unreadable_times_keep_the_alert_and_unparsable_messages_are_poison(settings: Any, store: Any) -> None:
    """A time that overflows (it raised OSError errno 75 once) or has a wrong type is kept as the receive time
    with a note; a body that is not JSON at all (a bare NaN) is dead-lettered alone with a reason; the worker
    keeps going."""
    pipeline = Pipeline(settings=settings, store=store)
    bad_times: list[Any] = [100000000000000000000, 1e300, {"x": 1}, [1, 2]]
    items = [MemoryDelivery(am("g1", "api"))]
    items += [MemoryDelivery(am_start(f"b{i}", "api", t)) for i, t in enumerate(bad_times)]
    items += [MemoryDelivery(b'{"version": "4", "alerts": [{"startsAt": NaN, "labels": {"service": "x"}}]}')]
    items += [MemoryDelivery(am("g2", "db"))]
    worker = AlertWorker(pipeline=pipeline, source=MemorySource(items), batch_size=50, batch_wait=0.01,
                         analyze=False)
    stats = await worker.run()
    assert [d.outcome for d in items] == ["ack", "ack", "ack", "ack", "ack", "dlq", "ack"]
    assert items[5].reason is not None and items[5].reason.startswith("malformed:")
    assert stats.dead_lettered == 1 and stats.acked == 6
    assert store.count_alerts() == 6


async def test_one_unstorable_message_is_dead_lettered_alone_the_rest_stored(settings: Any, pg_store: Any) -> None:
    """On PostgreSQL a NUL character cannot be stored: that one message goes to the DLQ with the reason,
    the other 49 of its batch are stored (the batch is retried message by message, not sent whole to the DLQ)."""
    pipeline = Pipeline(settings=settings, store=pg_store)
    items = [MemoryDelivery(am(f"f{i}", f"svc{i % 5}")) for i in range(49)]
    items.insert(17, MemoryDelivery(am_start("nul", "api", "2026-01-01T00:00:00Z", alertname="Bad\u0000Name")))
    worker = AlertWorker(pipeline=pipeline, source=MemorySource(items), batch_size=50, batch_wait=0.05,
                         analyze=False)
    stats = await worker.run()
    outcomes = [d.outcome for d in items]
    assert outcomes[17] == "dlq" and outcomes.count("ack") == 49, outcomes
    assert items[17].reason is not None and "unstorable" in items[17].reason
    assert stats.dead_lettered == 1 and stats.acked == 49 and stats.retried == 0
    assert pg_store.count_alerts() == 49


async def test_intake_is_not_queued_behind_a_busy_default_thread_pool(settings: Any, store: Any) -> None:
    """Every thread of the shared default pool blocked (a burst of outbox deliveries): the worker still stores
    and acks its batch, on its own thread."""
    import asyncio
    import threading

    pipeline = Pipeline(settings=settings, store=store)
    release = threading.Event()
    loop = asyncio.get_running_loop()
    blockers = [loop.run_in_executor(None, release.wait, 30) for _ in range(64)]  # more than the pool holds
    items = [MemoryDelivery(am("p1", "api")), MemoryDelivery(am("p2", "db"))]
    worker = AlertWorker(pipeline=pipeline, source=MemorySource(items), batch_size=10, batch_wait=0.05, analyze=False)
    try:
        await asyncio.wait_for(worker.run(), timeout=20)  # a guard against a hang, not a speed check
    finally:
        release.set()
        await asyncio.gather(*blockers)
    assert [d.outcome for d in items] == ["ack", "ack"] and store.count_alerts() == 2
