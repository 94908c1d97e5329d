"""The worker survives the broker dropping its connection (what a broker restart does to a client):
the robust connection comes back, re-declares the queue, resumes consuming, and nothing is lost."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from typing import Any

import pytest

from bot.pipeline import Pipeline
from bot.pipeline.consumer import AlertWorker
from connectors.messages import SOURCE_HEADER
from connectors.rabbitmq import RabbitMQBroker

pytestmark = pytest.mark.integration


def _message(i: int) -> bytes:
    return json.dumps({"name": f"Alert{i}", "service": f"svc-{i % 3}", "fingerprint": f"rc-{i}"}).encode()


def _drop_connection(name: str) -> bool:
    """Close our connection from the broker side (rabbitmqctl, as root on the broker host)."""
    listing = subprocess.run(["rabbitmqctl", "list_connections", "pid", "client_properties", "--quiet"],
                             capture_output=True, text=True, timeout=60).stdout
    for line in listing.splitlines():
        if f'"connection_name","{name}"' in line:
            pid = line.split("\t", 1)[0]
            subprocess.run(["rabbitmqctl", "close_connection", pid, "sherlog test: broker-side drop"],
                           capture_output=True, text=True, timeout=60, check=True)
            return True
    return False


async def _wait(check: Any, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if check():
            return True
        await asyncio.sleep(0.2)
    return False


async def test_worker_reconnects_after_the_broker_drops_it(settings: Any, store: Any, rabbitmq_url: str) -> None:
    import shutil

    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl is needed to drop a connection from the broker side")
    queue, name = f"sherlog-rc-{uuid.uuid4().hex[:8]}", f"sherlog-test-{uuid.uuid4().hex[:8]}"
    consumer = RabbitMQBroker(url=rabbitmq_url, queue=queue, connection_name=name)
    publisher = RabbitMQBroker(url=rabbitmq_url, queue=queue, connection_name=f"{name}-pub")
    worker = AlertWorker(pipeline=Pipeline(settings=settings, store=store), source=consumer, batch_wait=0.05,
                         analyze=False)
    task = asyncio.create_task(worker.run())
    try:
        for i in range(20):
            await publisher.publish(_message(i), headers={SOURCE_HEADER: "generic"})
        assert await _wait(lambda: store.count_alerts() == 20, 60)
        assert await asyncio.to_thread(_drop_connection, name), "our connection was not found on the broker"
        for i in range(20, 40):
            await publisher.publish(_message(i), headers={SOURCE_HEADER: "generic"})
        assert await _wait(lambda: store.count_alerts() == 40, 90), f"{store.count_alerts()} of 40 after the drop"
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert publisher._channel is not None
        for q in (queue, f"{queue}.dlq"):
            await publisher._channel.queue_delete(q)
        await consumer.close()
        await publisher.close()
        await asyncio.sleep(0.1)
