"""The small protocol every message broker adapter implements (RabbitMQ, Kafka).

A worker reads ``Delivery`` objects from a ``MessageSource`` and settles each exactly once:

- ``ack()`` after what the message carried is persisted (at-least-once delivery);
- ``dead_letter(reason)`` for a poison message: it goes to the dead-letter queue/topic with the reason
  in the ``x-sherlog-reason`` header, and leaves the main queue;
- ``retry(reason)`` after a transient failure: the message comes back with ``attempts`` + 1 (the adapter
  moves it to the dead-letter queue once ``max_attempts`` is reached).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

REASON_HEADER = "x-sherlog-reason"
ATTEMPTS_HEADER = "x-sherlog-attempts"
SOURCE_HEADER = "x-sherlog-source"  # the alert vendor of the body ("alertmanager", ...); else sniffed


class Delivery(Protocol):
    body: bytes
    headers: dict[str, Any]
    attempts: int

    async def ack(self) -> None: ...

    async def dead_letter(self, reason: str) -> None: ...

    async def retry(self, reason: str) -> None: ...


class MessageSource(Protocol):
    async def connect(self) -> None: ...

    def deliveries(self) -> AsyncIterator[Delivery]: ...

    async def publish(self, body: bytes, *, headers: dict[str, Any] | None = None) -> None: ...

    async def close(self) -> None: ...


def header_text(headers: dict[str, Any], key: str) -> str | None:
    value = headers.get(key)
    if value is None:
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def header_int(headers: dict[str, Any], key: str) -> int:
    text = header_text(headers, key)
    return int(text) if text and text.isdigit() else 0
