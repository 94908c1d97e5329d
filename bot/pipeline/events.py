"""A small in-process event bus: surfaces subscribe to what the pipeline does.

Events: ``incident.created``, ``incident.updated``, ``analysis.ready``, ``incident.acknowledged``,
``incident.resolved``, ``feedback.recorded``, ``warning.raised``. A failing subscriber is logged and
never breaks the pipeline or the other subscribers.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[..., Any | Awaitable[Any]]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._tasks: set[asyncio.Task[Any]] = set()

    def subscribe(self, event: str, handler: Handler) -> None:
        self._handlers[event].append(handler)

    def publish(self, event: str, **payload: Any) -> None:
        for handler in list(self._handlers.get(event, ())):
            try:
                result = handler(**payload)
                if inspect.isawaitable(result):
                    try:
                        loop = asyncio.get_running_loop()
                    except RuntimeError:
                        asyncio.run(_await(result))
                    else:
                        task = loop.create_task(_await(result))
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
            except Exception:  # noqa: BLE001 - a subscriber must never break the pipeline
                log.exception("event subscriber failed", extra={"event": event})

    async def drain(self) -> None:
        """Wait for subscriber tasks started so far (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


async def _await(result: Awaitable[Any]) -> None:
    try:
        await result
    except Exception:  # noqa: BLE001
        log.exception("async event subscriber failed")
