import asyncio
import json
import uuid
from datetime import UTC, datetime

import pytest

from connectors.logsources.base import LogQuery
from connectors.logsources.rabbitmq import LogBuffer, RabbitMQLogStream, decode_message


def test_decode_message_forms() -> None:
    assert decode_message(json.dumps({"service": "a", "line": "x"}).encode(), {}) == [("a", "x")]
    assert decode_message(json.dumps({"service": "a", "lines": ["x", "y"]}).encode(), {}) == [("a", "x"), ("a", "y")]
    assert decode_message(b"one\ntwo\n", {"service": "b"}) == [("b", "one"), ("b", "two")]
    with pytest.raises(ValueError):
        decode_message(b"no service", {})
    with pytest.raises(ValueError):
        decode_message(b'{"line": "x"}', {})


async def test_buffer_serves_the_newest_lines() -> None:
    buf = LogBuffer(per_service=3)
    for i in range(5):
        buf.add("api", f"l{i}")
    q = LogQuery("api", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC), limit=2)
    assert await buf.fetch(q) == ["l3", "l4"]


@pytest.mark.integration
async def test_lines_flow_through_a_real_broker(rabbitmq_url: str) -> None:
    import aio_pika

    queue = f"sherlog.test.logs.{uuid.uuid4().hex[:10]}"
    stream = RabbitMQLogStream(url=rabbitmq_url, queue=queue)
    await stream.publish("checkout", ["first", "second"])
    conn = await aio_pika.connect_robust(rabbitmq_url)
    channel = await conn.channel()
    await channel.default_exchange.publish(aio_pika.Message(b"garbage without service"), routing_key=queue)
    await channel.default_exchange.publish(aio_pika.Message(b"third\n", headers={"service": "cart"}), routing_key=queue)
    received: list[tuple[str, str]] = []

    async def consume() -> None:
        async for pair in stream.lines():
            received.append(pair)
            if len(received) == 3:
                return

    try:
        await asyncio.wait_for(consume(), timeout=20)
    finally:
        await channel.queue_delete(queue)
        await conn.close()
        await stream.close()
    assert received == [("checkout", "first"), ("checkout", "second"), ("cart", "third")]
