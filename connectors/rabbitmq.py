"""RabbitMQ adapter (aio-pika) for the alert and log-line queues.

- durable queues, persistent messages, publisher confirms;
- ``prefetch`` bounds unacknowledged messages per consumer (back-pressure);
- manual acks only: a worker acks after persistence, so a crash redelivers (at-least-once);
- a dead-letter queue ``<queue>.dlq``: poison messages are published there with the reason in the
  ``x-sherlog-reason`` header, then acked; the main queue also dead-letters there natively
  (``x-dead-letter-routing-key``) for messages the broker itself rejects;
- ``connect_robust``: the connection, channel, queues and consumer are restored after a broker restart;
  messages unacked at that moment are redelivered and intake's dedup makes that harmless;
- several worker processes may consume one queue: RabbitMQ spreads the messages between them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)

from bot.domain import ConnectorError
from connectors.messages import ATTEMPTS_HEADER, REASON_HEADER, header_int

log = logging.getLogger(__name__)


@dataclass
class RabbitDelivery:
    message: AbstractIncomingMessage
    broker: RabbitMQBroker
    body: bytes = b""
    headers: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0

    async def ack(self) -> None:
        await self._settle(self.message.ack())

    async def dead_letter(self, reason: str) -> None:
        await self.broker.publish(self.body, headers={**self.headers, REASON_HEADER: reason[:1000]},
                                  queue=self.broker.dlq_name)
        await self.ack()

    async def retry(self, reason: str) -> None:
        if self.attempts + 1 >= self.broker.max_attempts:
            await self.dead_letter(f"gave up after {self.attempts + 1} attempts: {reason}")
            return
        await self.broker.publish(self.body, headers={**self.headers, ATTEMPTS_HEADER: str(self.attempts + 1)})
        await self.ack()

    async def _settle(self, action: Any) -> None:
        try:
            await action
        except Exception as e:  # noqa: BLE001 - the channel died: the broker redelivers, intake dedups
            log.warning("could not settle a message; it will be redelivered", extra={"error": repr(e)})


class RabbitMQBroker:
    def __init__(self, *, url: str, queue: str, prefetch: int = 50, max_attempts: int = 4,
                 dlq: str | None = None, connection_name: str = "sherlog-worker") -> None:
        self.url = url
        self.connection_name = connection_name  # shown in the RabbitMQ management UI / rabbitmqctl
        self.queue_name = queue
        self.dlq_name = dlq or f"{queue}.dlq"
        self.prefetch = prefetch
        self.max_attempts = max(1, max_attempts)
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._queue: AbstractQueue | None = None

    @classmethod
    def from_settings(cls, settings: Any, *, queue: str | None = None) -> RabbitMQBroker:
        rmq = settings.rabbitmq
        return cls(url=rmq.url.get_secret_value(), queue=queue or rmq.alerts_queue, prefetch=rmq.prefetch,
                   max_attempts=rmq.max_redeliveries + 1)

    async def connect(self) -> None:
        if self._channel is not None:
            return
        try:
            self._connection = await aio_pika.connect_robust(
                self.url, timeout=10, reconnect_interval=1, client_properties={"connection_name": self.connection_name})
            channel = await self._connection.channel(publisher_confirms=True)
            await channel.set_qos(prefetch_count=self.prefetch)
            await channel.declare_queue(self.dlq_name, durable=True)
            self._queue = await channel.declare_queue(
                self.queue_name, durable=True,
                arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": self.dlq_name})
            self._channel = channel  # type: ignore[assignment]
        except (TimeoutError, aio_pika.exceptions.AMQPError, OSError) as e:
            await self.close()
            raise ConnectorError(f"cannot reach RabbitMQ at {_safe(self.url)} or declare {self.queue_name!r}: "
                                 f"{e.__class__.__name__}: {e}") from e

    async def publish(self, body: bytes, *, headers: dict[str, Any] | None = None, queue: str | None = None) -> None:
        await self.connect()
        assert self._channel is not None
        message = aio_pika.Message(body=body, headers=headers or {}, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                   content_type="application/json")
        try:
            await self._channel.default_exchange.publish(message, routing_key=queue or self.queue_name)
        except (aio_pika.exceptions.AMQPError, OSError) as e:
            raise ConnectorError(f"RabbitMQ refused a message for {queue or self.queue_name!r}: {e}") from e

    async def deliveries(self) -> AsyncIterator[RabbitDelivery]:  # type: ignore[override]
        await self.connect()
        assert self._queue is not None
        async with self._queue.iterator() as it:
            async for message in it:
                headers = dict(message.headers or {})
                yield RabbitDelivery(message=message, broker=self, body=message.body, headers=headers,
                                     attempts=header_int(headers, ATTEMPTS_HEADER))

    async def queue_depth(self, queue: str | None = None) -> int:
        await self.connect()
        assert self._channel is not None
        declared = await self._channel.declare_queue(queue or self.queue_name, passive=True)
        return int(declared.declaration_result.message_count or 0)

    async def get(self, queue: str, *, timeout: float = 1.0) -> AbstractIncomingMessage | None:
        """One message from ``queue`` (tests and tooling read the dead-letter queue with it)."""
        await self.connect()
        assert self._channel is not None
        q = await self._channel.declare_queue(queue, passive=True)
        return await q.get(fail=False, timeout=timeout)

    async def close(self) -> None:
        if self._connection is not None:
            try:
                await self._connection.close()
            except Exception:  # noqa: BLE001 - closing a dead connection
                pass
        self._connection = self._channel = self._queue = None


def _safe(url: str) -> str:
    head, sep, tail = url.rpartition("@")
    return f"amqp://***@{tail}" if sep else url
