"""Queue workers: alerts and log lines from RabbitMQ/Kafka into the pipeline, acked after persistence.

``AlertWorker`` reads deliveries in batches (up to ``batch_size`` or ``batch_wait`` seconds), parses each
message with the vendor parsers, persists the batch through ``Pipeline.accept_alerts`` (one intake
transaction), and only then acks. A message that cannot be parsed (whatever the parser raises: a malformed
payload, an overflowing time, a wrong type) is poison: it goes to the dead-letter queue alone, with the
reason. When storing the batch fails, its messages are stored one by one: one the database refuses for its
content (a NUL character on PostgreSQL, a value out of range) is dead-lettered alone as ``unstorable``, the
rest are stored; a transient failure (database down or locked) retries them, then dead-letters them after
the adapter's ``max_attempts``. Created or changed incidents are analysed by the worker when
``analyze`` is on.

Alert message body: a vendor payload (the vendor from the ``x-sherlog-source`` header, else sniffed), or
an envelope ``{"source": "<vendor>", "payload": {...}}``.

``LogWorker`` appends log lines (``{"service", "line"}`` or ``{"service", "lines": [...]}``) to
``<data_dir>/logs/<service>.log`` (the bundle layout the analysis reads), fsyncs, then acks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.domain import Alert, InputError, SherlogError
from bot.pipeline.queue import run_blocking
from bot.storage.faults import is_content_error
from connectors.alerts import parse_alerts
from connectors.messages import SOURCE_HEADER, Delivery, MessageSource, header_text

if TYPE_CHECKING:
    from bot.pipeline.intake import IntakeResult
    from bot.pipeline.service import Pipeline

log = logging.getLogger(__name__)


@dataclass
class WorkerStats:
    messages: int = 0
    alerts: int = 0
    acked: int = 0
    dead_lettered: int = 0
    retried: int = 0
    incidents_created: int = 0
    analyses: int = 0
    errors: list[str] = field(default_factory=list)


def decode_alert_message(body: bytes, headers: dict[str, Any]) -> list[Alert]:
    """A message body -> alerts; raises ``InputError`` (poison) with a reason a person can act on."""
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"body is not JSON: {e}") from e
    source = header_text(headers, SOURCE_HEADER)
    if isinstance(payload, dict) and "payload" in payload and isinstance(payload.get("source"), str):
        source, payload = payload["source"], payload["payload"]
    return parse_alerts(payload, source=source)


async def _batches(source: MessageSource, size: int, wait: float) -> AsyncIterator[list[Delivery]]:
    stream = source.deliveries().__aiter__()
    pending: asyncio.Task[Delivery] | None = None
    while True:
        batch: list[Delivery] = []
        deadline: float | None = None
        loop = asyncio.get_running_loop()
        while len(batch) < size:
            if pending is None:
                pending = asyncio.ensure_future(stream.__anext__())
            timeout = None if deadline is None else max(0.0, deadline - loop.time())
            done, _ = await asyncio.wait({pending}, timeout=timeout)
            if not done:
                break
            try:
                batch.append(pending.result())
            except StopAsyncIteration:
                pending = None
                if batch:
                    yield batch
                return
            pending = None
            if deadline is None:
                deadline = loop.time() + wait
        if batch:
            yield batch


class AlertWorker:
    def __init__(self, *, pipeline: Pipeline, source: MessageSource, batch_size: int = 200,
                 batch_wait: float = 0.2, analyze: bool = True, waker: Callable[[], None] | None = None) -> None:
        self.pipeline = pipeline
        self.waker = waker  # an analysis runner in this process (``bot.pipeline.queue``): woken, not awaited
        self.source = source
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.analyze = analyze
        self.stats = WorkerStats()
        # intake's own thread (intake transactions run one at a time anyway): a burst of other blocking work
        # on the shared default pool (outbox deliveries, analyses) never queues ahead of storing the queue
        self._executor: ThreadPoolExecutor | None = None

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="intake")
        return self._executor

    async def run(self, *, stop: asyncio.Event | None = None) -> WorkerStats:
        await self.source.connect()
        try:
            async for batch in _batches(self.source, self.batch_size, self.batch_wait):
                await self.process(batch)
                if stop is not None and stop.is_set():
                    break
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=False)
                self._executor = None
        return self.stats

    async def process(self, batch: list[Delivery]) -> None:
        good = await self._decode(batch)
        if not good:
            return
        try:
            results = await run_blocking(self._pool(), self.pipeline.accept_alert_batches,
                                         [alerts for _, alerts in good])
        except Exception as e:  # noqa: BLE001 - which message (if any) is at fault is decided one by one
            if len(good) > 1:
                log.warning("alert batch not persisted; storing its messages one by one",
                            extra={"error": _reason(e), "messages": len(good)})
            await self._one_by_one(good, e if len(good) == 1 else None)
            return
        await self._stored(good, results)

    async def _decode(self, batch: list[Delivery]) -> list[tuple[Delivery, list[Alert]]]:
        """Parse each message; any failure of the pure parsers (a malformed payload, an overflowing time,
        a wrong type, nesting too deep) makes that message poison: dead-lettered alone, with the reason."""
        good: list[tuple[Delivery, list[Alert]]] = []
        for delivery in batch:
            self.stats.messages += 1
            try:
                good.append((delivery, decode_alert_message(delivery.body, delivery.headers)))
            except Exception as e:  # noqa: BLE001 - parsing is pure: whatever it raises, the message is at fault
                await self._dead_letter(delivery, f"malformed: {_reason(e)}")
        return good

    async def _one_by_one(self, good: list[tuple[Delivery, list[Alert]]], first_error: Exception | None) -> None:
        """Store each message alone: one the database refuses for its content is dead-lettered alone; on a
        transient failure (database unreachable, locked) that message and the rest are retried."""
        for i, (delivery, alerts) in enumerate(good):
            try:
                if first_error is not None:
                    raise first_error
                results = await run_blocking(self._pool(), self.pipeline.accept_alert_batches, [alerts])
            except Exception as e:  # noqa: BLE001 - classified just below
                first_error = None
                if is_content_error(e):
                    await self._dead_letter(delivery, f"unstorable: {_reason(e)}")
                    continue
                await self._retry_all(good[i:], e)
                return
            await self._stored([(delivery, alerts)], results)

    async def _retry_all(self, pending: list[tuple[Delivery, list[Alert]]], error: Exception) -> None:
        self.stats.retried += len(pending)
        self.stats.errors.append(_reason(error))
        log.warning("alert messages not persisted; retrying", extra={"error": _reason(error)})
        await asyncio.sleep(1.0)
        for delivery, _ in pending:
            await delivery.retry(f"storage: {_reason(error)}")

    async def _dead_letter(self, delivery: Delivery, reason: str) -> None:
        self.stats.dead_lettered += 1
        log.warning("poison alert message dead-lettered", extra={"reason": reason})
        await delivery.dead_letter(reason)

    async def _stored(self, good: list[tuple[Delivery, list[Alert]]], results: list[IntakeResult]) -> None:
        for delivery, _ in good:
            await delivery.ack()
        self.stats.acked += len(good)
        self.stats.alerts += sum(len(alerts) for _, alerts in good)
        self.stats.incidents_created += sum(len(r.created) for r in results)
        changed = [i for r in results for i in (*r.created, *r.updated)]
        if self.waker is not None and changed:
            self.waker()  # the runner of this process drains the durable queue
        elif self.analyze and changed:
            await self._analyze(changed)

    async def _analyze(self, incident_ids: list[str]) -> None:
        """No runner: analyse inline the rows intake queued for this batch (claimed, so never twice)."""
        try:
            done = await run_blocking(self._pool(), self.pipeline.analyze_queued, list(dict.fromkeys(incident_ids)))
        except Exception as e:  # noqa: BLE001 - the alerts are stored and queued; a runner analyses them later
            log.warning("analysis failed", extra={"error": _reason(e)}, exc_info=not isinstance(e, SherlogError))
            return
        self.stats.analyses += done


class LogWorker:
    """Log lines from the queue into ``<root>/<service>.log``; fsync before ack."""

    def __init__(self, *, source: MessageSource, root: Path, batch_size: int = 500, batch_wait: float = 0.2) -> None:
        self.source = source
        self.root = root
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.stats = WorkerStats()

    async def run(self, *, stop: asyncio.Event | None = None) -> WorkerStats:
        await self.source.connect()
        async for batch in _batches(self.source, self.batch_size, self.batch_wait):
            await self.process(batch)
            if stop is not None and stop.is_set():
                break
        return self.stats

    async def process(self, batch: list[Delivery]) -> None:
        lines: dict[str, list[str]] = {}
        ok: list[Delivery] = []
        for delivery in batch:
            self.stats.messages += 1
            try:
                service, found = decode_log_message(delivery.body, delivery.headers)
            except InputError as e:
                self.stats.dead_lettered += 1
                await delivery.dead_letter(f"malformed: {e}")
                continue
            lines.setdefault(service, []).extend(found)
            ok.append(delivery)
        try:
            await asyncio.to_thread(self._append, lines)
        except OSError as e:
            for delivery in ok:
                await delivery.retry(f"disk: {e}")
            return
        for delivery in ok:
            await delivery.ack()
        self.stats.acked += len(ok)

    def _append(self, lines: dict[str, list[str]]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for service, found in lines.items():
            with (self.root / f"{service}.log").open("a", encoding="utf-8") as fh:
                fh.write("".join(line.rstrip("\n") + "\n" for line in found))
                fh.flush()
                os.fsync(fh.fileno())


def _reason(error: BaseException) -> str:
    text = str(error) or error.__class__.__name__
    return f"{error.__class__.__name__}: {text}"[:300] if not isinstance(error, SherlogError) else text[:300]


def decode_log_message(body: bytes, headers: dict[str, Any]) -> tuple[str, list[str]]:
    service = header_text(headers, "x-sherlog-service")
    try:
        payload: Any = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        payload = None
    if isinstance(payload, dict):
        service = str(payload.get("service") or service or "")
        raw = payload.get("lines", [payload["line"]] if "line" in payload else None)
        if not isinstance(raw, list):
            raise InputError("log message needs 'line' or 'lines'")
        found = [str(x) for x in raw]
    else:
        try:
            found = body.decode("utf-8").splitlines()
        except UnicodeDecodeError as e:
            raise InputError(f"log message is not UTF-8: {e}") from e
    if not service or "/" in service or service.startswith("."):
        raise InputError(f"log message names no usable service ({service!r}); set 'service' or x-sherlog-service")
    return service, found
