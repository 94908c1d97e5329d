"""Kafka adapter logic against objects that follow aiokafka's consumer/producer API (no broker runs here:
there is no Kafka on this machine, so this tests offsets, dead letters and retries, not the wire)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from connectors.kafka import KafkaSource
from connectors.messages import ATTEMPTS_HEADER, REASON_HEADER


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    value: bytes
    headers: list[tuple[str, bytes]]


class FakeConsumer:
    """aiokafka.AIOKafkaConsumer's surface used by the adapter: start/stop, async iteration, commit."""

    def __init__(self, records: list[Record]) -> None:
        self.records = records
        self.commits: list[dict[Any, int]] = []
        self.started = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    def __aiter__(self) -> AsyncIterator[Record]:
        async def gen() -> AsyncIterator[Record]:
            for r in self.records:
                yield r
        return gen()

    async def commit(self, offsets: dict[Any, int]) -> None:
        self.commits.append(offsets)


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, list[tuple[str, bytes]]]] = []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send_and_wait(self, topic: str, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        self.sent.append((topic, value, headers))


async def test_offsets_committed_only_past_settled_messages() -> None:
    consumer = FakeConsumer([Record("alerts", 0, o, b"m%d" % o, []) for o in range(4)])
    source = KafkaSource(topic="alerts", consumer=consumer, producer=FakeProducer())
    got = [d async for d in source.deliveries()]
    await got[2].ack()
    await got[1].ack()
    assert consumer.commits == []  # offset 0 still unsettled: a crash now must re-read 0..2
    await got[0].ack()
    (commit,) = consumer.commits
    assert list(commit.values()) == [3]  # next offset to read after 0, 1, 2
    await got[3].ack()
    assert list(consumer.commits[-1].values()) == [4]


async def test_dead_letter_and_bounded_retries() -> None:
    producer = FakeProducer()
    consumer = FakeConsumer([Record("alerts", 1, 10, b"bad", []),
                             Record("alerts", 1, 11, b"flaky", [(ATTEMPTS_HEADER, b"2")])])
    source = KafkaSource(topic="alerts", consumer=consumer, producer=producer, max_attempts=3)
    bad, flaky = [d async for d in source.deliveries()]
    await bad.dead_letter("malformed: not JSON")
    topic, value, headers = producer.sent[0]
    assert (topic, value) == ("alerts.dlq", b"bad") and (REASON_HEADER, b"malformed: not JSON") in headers
    assert flaky.attempts == 2
    await flaky.retry("storage down")  # third attempt reached: dead-lettered, not retried forever
    topic, _, headers = producer.sent[1]
    assert topic == "alerts.dlq" and any(k == REASON_HEADER and b"gave up after 3" in v for k, v in headers)
    assert list(consumer.commits[-1].values()) == [12]


async def test_retry_republishes_with_attempts() -> None:
    producer = FakeProducer()
    source = KafkaSource(topic="logs", consumer=FakeConsumer([Record("logs", 0, 0, b"x", [])]), producer=producer)
    (d,) = [x async for x in source.deliveries()]
    await d.retry("disk full")
    assert producer.sent == [("logs", b"x", [(ATTEMPTS_HEADER, b"1")])]
