"""A RabbitMQ queue of log lines for real-time ingestion, and an in-memory buffer that serves them.

Producers publish one message per line or per batch: a JSON body ``{"service": ..., "line": ...}``
or ``{"service": ..., "lines": [...]}``, or plain text with the service in the ``service`` header.
``RabbitMQLogStream.lines()`` yields ``(service, line)`` and acks each message once its lines were
handed over; malformed messages are rejected without requeue (the queue's dead-letter policy applies).
``LogBuffer`` keeps the newest lines per service and is itself a ``LogSource``.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import aio_pika

from bot.domain.errors import ConnectorError
from connectors.logsources.base import LogQuery

log = logging.getLogger(__name__)


def decode_message(body: bytes, headers: dict[str, Any]) -> list[tuple[str, str]]:
    """(service, line) pairs of one message; raises ValueError when it carries no service."""
    text = body.decode("utf-8", errors="replace")
    if text.lstrip().startswith("{"):
        data = json.loads(text)
        service = str(data.get("service") or headers.get("service") or "")
        if not service:
            raise ValueError("log message names no service")
        if isinstance(data.get("lines"), list):
            return [(service, str(x)) for x in data["lines"]]
        if "line" in data:
            return [(service, str(data["line"]))]
        raise ValueError("JSON log message has neither 'line' nor 'lines'")
    service = str(headers.get("service") or "")
    if not service:
        raise ValueError("plain-text log message has no 'service' header")
    return [(service, line) for line in text.splitlines() if line.strip()]


class RabbitMQLogStream:
    def __init__(self, *, url: str, queue: str = "sherlog.logs", prefetch: int = 200) -> None:
        self.url = url
        self.queue_name = queue
        self.prefetch = prefetch
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None

    async def connect(self) -> None:
        try:
            self._connection = await aio_pika.connect_robust(self.url)
        except Exception as e:
            raise ConnectorError(f"RabbitMQ is unreachable for the log stream: {e}") from e

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def publish(self, service: str, lines: list[str]) -> None:
        """Publish one batch of lines (producers and tests)."""
        if self._connection is None:
            await self.connect()
        assert self._connection is not None
        channel = await self._connection.channel()
        await channel.declare_queue(self.queue_name, durable=True)
        body = json.dumps({"service": service, "lines": lines}).encode()
        await channel.default_exchange.publish(
            aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, content_type="application/json"),
            routing_key=self.queue_name,
        )
        await channel.close()

    async def lines(self) -> AsyncIterator[tuple[str, str]]:
        """(service, line) for every line published, until the consumer is cancelled."""
        if self._connection is None:
            await self.connect()
        assert self._connection is not None
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=self.prefetch)
        queue = await channel.declare_queue(self.queue_name, durable=True)
        async with queue.iterator() as messages:
            async for message in messages:
                try:
                    pairs = decode_message(message.body, dict(message.headers or {}))
                except ValueError as e:
                    log.warning("rejected a malformed log message", extra={"reason": str(e)})
                    await message.reject(requeue=False)
                    continue
                for pair in pairs:
                    yield pair
                await message.ack()


class LogBuffer:
    """The newest ``per_service`` lines of every service seen on a stream; a ``LogSource``."""

    name = "stream"

    def __init__(self, *, per_service: int = 50_000) -> None:
        self.per_service = per_service
        self._lines: dict[str, deque[str]] = {}

    def add(self, service: str, line: str) -> None:
        buf = self._lines.get(service)
        if buf is None:
            buf = self._lines[service] = deque(maxlen=self.per_service)
        buf.append(line)

    async def fetch(self, query: LogQuery) -> list[str]:
        return list(self._lines.get(query.service, ()))[-query.limit:]
