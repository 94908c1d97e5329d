"""Poison on the real RabbitMQ with the real PostgreSQL: a message that is not a payload at all and one whose
text PostgreSQL cannot store each go to the dead-letter queue alone, with the reason; every other message of
their batch is stored (an unreadable time among them, kept with a note) and the worker keeps consuming."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import pytest

from bot.pipeline import Pipeline
from bot.pipeline.consumer import AlertWorker
from connectors.messages import REASON_HEADER, SOURCE_HEADER
from connectors.rabbitmq import RabbitMQBroker

pytestmark = pytest.mark.integration


def _am(i: int, *, starts_at: Any = "2026-05-01T08:00:00Z", alertname: str = "Down") -> bytes:
    return json.dumps({"version": "4", "groupKey": f"g{i}", "receiver": "r", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": alertname, "service": f"svc-{i % 4}"}, "annotations": {},
         "startsAt": starts_at, "fingerprint": f"poison-{i}"}]}).encode()


async def test_poison_dead_lettered_alone_rest_of_batch_stored(settings: Any, pg_store: Any, rabbitmq_url: str) -> None:
    queue = f"sherlog-poison-{uuid.uuid4().hex[:10]}"
    broker = RabbitMQBroker(url=rabbitmq_url, queue=queue, prefetch=100)
    bodies = [_am(i) for i in range(17)]
    bodies.append(_am(17, starts_at=100000000000000000000))  # stored with a note, not poison
    bodies.insert(5, b'{"version": "4", "alerts": [')  # not JSON
    bodies.insert(12, _am(101, alertname="Bad\u0000Name"))
    for body in bodies:
        await broker.publish(body, headers={SOURCE_HEADER: "alertmanager"})
    worker = AlertWorker(pipeline=Pipeline(settings=settings, store=pg_store), source=broker, batch_size=50,
                         batch_wait=0.5, analyze=False)
    task = asyncio.create_task(worker.run())
    reasons: list[str] = []
    try:
        deadline = time.monotonic() + 60
        # stored first, acked after the commit: wait for both, or the cancel below can land between them
        while pg_store.count_alerts() < 18 or worker.stats.dead_lettered < 2 or worker.stats.acked < 18:
            assert not task.done(), task.exception()
            assert time.monotonic() < deadline, (pg_store.count_alerts(), worker.stats)
            await asyncio.sleep(0.2)
        while (message := await broker.get(broker.dlq_name, timeout=2)) is not None:
            value = (message.headers or {}).get(REASON_HEADER)
            reasons.append(value.decode() if isinstance(value, bytes) else str(value))
            await message.ack()
        assert await broker.queue_depth() == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        probe = RabbitMQBroker(url=rabbitmq_url, queue=queue)
        await probe.connect()
        assert probe._channel is not None
        for name in (queue, probe.dlq_name):
            await probe._channel.queue_delete(name)
        await probe.close()
        await broker.close()
    assert pg_store.count_alerts() == 18 and worker.stats.acked == 18 and worker.stats.retried == 0
    assert sorted(r.split(":", 1)[0] for r in reasons) == ["malformed", "unstorable"], reasons
    assert any("NUL" in r or "0x00" in r for r in reasons if r.startswith("unstorable")), reasons
