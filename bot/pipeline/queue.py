"""The in-process analysis queue (embedded default): incident ids in, analyses out, off the event loop.

An incident queued while it is already waiting is not queued twice. CPU work runs in a thread so the
API keeps answering. The RabbitMQ worker (``connectors.rabbitmq``) feeds the same pipeline when configured.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.domain import SherlogError

log = logging.getLogger(__name__)


class AnalysisQueue:
    def __init__(self, analyze: Callable[[str], object], *, workers: int = 2, on_error: Callable[[], None] | None = None) -> None:
        self._analyze = analyze
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._pending: set[str] = set()
        self._workers: list[asyncio.Task[None]] = []
        self._n = workers
        self._on_error = on_error

    def start(self) -> None:
        if not self._workers:
            self._workers = [asyncio.create_task(self._run(), name=f"analysis-{i}") for i in range(self._n)]

    async def stop(self) -> None:
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    def submit(self, incident_id: str) -> bool:
        if incident_id in self._pending:
            return False
        self._pending.add(incident_id)
        self._queue.put_nowait(incident_id)
        return True

    async def join(self) -> None:
        await self._queue.join()

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    async def _run(self) -> None:
        while True:
            incident_id = await self._queue.get()
            self._pending.discard(incident_id)
            try:
                await asyncio.to_thread(self._analyze, incident_id)
            except SherlogError as e:
                log.warning("analysis failed", extra={"incident_id": incident_id, "error": str(e)})
                if self._on_error:
                    self._on_error()
            except Exception:  # noqa: BLE001 - one bad incident must not stop the worker
                log.exception("analysis crashed", extra={"incident_id": incident_id})
                if self._on_error:
                    self._on_error()
            finally:
                self._queue.task_done()
