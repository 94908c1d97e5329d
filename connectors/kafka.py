"""Kafka adapter (aiokafka) behind the same ``MessageSource`` protocol as RabbitMQ.

- offsets are committed manually, only once every message up to that offset of its partition has been
  settled (acked, dead-lettered or retried), so a crashed worker's unsettled messages are read again;
- dead letters go to ``<topic>.dlq`` with the reason in the ``x-sherlog-reason`` header;
- a retry re-produces the message to the topic with ``x-sherlog-attempts`` + 1 (Kafka has no requeue);
- consumers of one ``group_id`` share the partitions: several workers consume at once.

The consumer and producer are injected (``AIOKafkaConsumer``/``AIOKafkaProducer`` by default), so the
settlement and offset logic is testable without a broker.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from bot.domain import ConnectorError
from connectors.messages import ATTEMPTS_HEADER, REASON_HEADER, header_int

log = logging.getLogger(__name__)


@dataclass
class KafkaDelivery:
    source: KafkaSource
    topic: str
    partition: int
    offset: int
    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0

    async def ack(self) -> None:
        await self.source._settled(self)

    async def dead_letter(self, reason: str) -> None:
        await self.source.publish(self.body, headers={**self.headers, REASON_HEADER: reason[:1000]},
                                  topic=self.source.dlq_topic)
        await self.ack()

    async def retry(self, reason: str) -> None:
        if self.attempts + 1 >= self.source.max_attempts:
            await self.dead_letter(f"gave up after {self.attempts + 1} attempts: {reason}")
            return
        await self.source.publish(self.body, headers={**self.headers, ATTEMPTS_HEADER: str(self.attempts + 1)})
        await self.ack()


class KafkaSource:
    def __init__(self, *, topic: str, consumer: Any | None = None, producer: Any | None = None,
                 bootstrap: str = "127.0.0.1:9092", group_id: str = "sherlog", max_attempts: int = 4) -> None:
        self.topic = topic
        self.dlq_topic = f"{topic}.dlq"
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.max_attempts = max(1, max_attempts)
        self._consumer = consumer
        self._producer = producer
        self._started = False
        # per partition: offsets handed out and not yet settled, and offsets settled out of order
        self._outstanding: dict[tuple[str, int], list[int]] = {}
        self._done: dict[tuple[str, int], set[int]] = {}

    @classmethod
    def from_settings(cls, settings: Any, *, topic: str) -> KafkaSource:
        rmq = settings.rabbitmq
        return cls(topic=topic, bootstrap=rmq.kafka_bootstrap, group_id=rmq.kafka_group,
                   max_attempts=rmq.max_redeliveries + 1)

    async def connect(self) -> None:
        if self._started:
            return
        try:
            if self._consumer is None:
                from aiokafka import AIOKafkaConsumer

                self._consumer = AIOKafkaConsumer(self.topic, bootstrap_servers=self.bootstrap, group_id=self.group_id,
                                                  enable_auto_commit=False, auto_offset_reset="earliest")
            if self._producer is None:
                from aiokafka import AIOKafkaProducer

                self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
            await self._consumer.start()
            await self._producer.start()
        except Exception as e:  # aiokafka raises its own KafkaError tree and OSError
            raise ConnectorError(f"cannot reach Kafka at {self.bootstrap}: {e.__class__.__name__}: {e}") from e
        self._started = True

    async def deliveries(self) -> AsyncIterator[KafkaDelivery]:  # type: ignore[override]
        await self.connect()
        assert self._consumer is not None
        async for record in self._consumer:
            headers = {k: v for k, v in (record.headers or [])}
            key = (record.topic, record.partition)
            self._outstanding.setdefault(key, []).append(record.offset)
            yield KafkaDelivery(source=self, topic=record.topic, partition=record.partition, offset=record.offset,
                                body=record.value or b"", headers=headers,
                                attempts=header_int(headers, ATTEMPTS_HEADER))

    async def _settled(self, delivery: KafkaDelivery) -> None:
        key = (delivery.topic, delivery.partition)
        done = self._done.setdefault(key, set())
        done.add(delivery.offset)
        outstanding = self._outstanding.get(key, [])
        committable: int | None = None
        while outstanding and outstanding[0] in done:
            committable = outstanding.pop(0)
            done.discard(committable)
        if committable is not None:
            from aiokafka.structs import TopicPartition

            assert self._consumer is not None
            await self._consumer.commit({TopicPartition(delivery.topic, delivery.partition): committable + 1})

    async def publish(self, body: bytes, *, headers: dict[str, Any] | None = None, topic: str | None = None) -> None:
        await self.connect()
        assert self._producer is not None
        encoded = [(str(k), v if isinstance(v, bytes) else str(v).encode()) for k, v in (headers or {}).items()]
        try:
            await self._producer.send_and_wait(topic or self.topic, body, headers=encoded)
        except Exception as e:
            raise ConnectorError(f"Kafka refused a message for {topic or self.topic!r}: {e}") from e

    async def close(self) -> None:
        for part in (self._consumer, self._producer):
            if part is not None and self._started:
                try:
                    await part.stop()
                except Exception:  # noqa: BLE001 - closing a dead client
                    pass
        self._started = False
