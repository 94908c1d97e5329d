"""Running chat deliveries off the pipeline's path.

Pipeline events are published from the analysis worker threads or from the event loop. A surface
must never block either: ``DeliveryScheduler`` hands each delivery coroutine to the server's event loop
(captured at start-up) and keeps track of it so shutdown and tests can wait for the in-flight ones.
With no server loop (a CLI run) the delivery runs right away in the caller.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


class DeliveryScheduler:
    def __init__(self, name: str) -> None:
        self.name = name
        self.loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[asyncio.Future[Any] | concurrent.futures.Future[Any]] = set()

    def bind(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop or asyncio.get_running_loop()

    def schedule(self, make: Callable[[], Awaitable[Any]]) -> asyncio.Future[Any] | concurrent.futures.Future[Any] | None:
        """Run the delivery on the server loop; returns its future so the outbox relay can wait for it
        (None when it already ran in the caller)."""
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        loop = self.loop
        future: asyncio.Future[Any] | concurrent.futures.Future[Any]
        if loop is not None and running is loop:
            future = loop.create_task(self._guard(make))
        elif loop is not None and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._guard(make), loop)
        else:
            asyncio.run(self._guard(make))
            return None
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    async def _guard(self, make: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await make()
        except Exception:  # noqa: BLE001 - a chat failure never breaks the pipeline
            log.exception("chat delivery failed", extra={"surface": self.name})
            return None

    async def drain(self) -> None:
        """Wait until every scheduled delivery finished."""
        while self._pending:
            await asyncio.gather(*(asyncio.wrap_future(f) if isinstance(f, concurrent.futures.Future) else f
                                   for f in list(self._pending)), return_exceptions=True)
