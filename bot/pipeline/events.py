"""A small in-process event bus: surfaces subscribe to what the pipeline does.

Events: ``incident.created``, ``incident.updated``, ``analysis.ready``, ``incident.acknowledged``,
``incident.resolved``, ``feedback.recorded``, ``warning.raised``. A failing subscriber is logged and
never breaks the pipeline or the other subscribers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
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

    def has_subscribers(self, event: str) -> bool:
        return bool(self._handlers.get(event))

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


def _bound_to_loop(handler: Handler) -> bool:
    """Chat surfaces' handlers only schedule a coroutine on the server loop (``DeliveryScheduler``)."""
    return getattr(getattr(handler, "__self__", None), "scheduler", None) is not None


async def _await(result: Awaitable[Any]) -> None:
    try:
        await result
    except Exception:  # noqa: BLE001
        log.exception("async event subscriber failed")


async def deliver(bus: EventBus, event: str, **payload: Any) -> int:
    """Call every subscriber of ``event`` and wait for it (the outbox relay); returns how many failed.
    A failing subscriber is logged and never stops the others."""
    failed = 0
    for handler in list(bus._handlers.get(event, ())):
        try:
            if inspect.iscoroutinefunction(handler):
                result: Any = await handler(**payload)
            elif getattr(handler, "on_loop", False) or _bound_to_loop(handler):
                result = handler(**payload)  # schedules on this loop and returns the task
            else:  # blocking work (write-back HTTP calls): off the loop
                result = await asyncio.to_thread(handler, **payload)
            if isinstance(result, concurrent.futures.Future):
                result = asyncio.wrap_future(result)
            if inspect.isawaitable(result):
                await result
        except Exception:  # noqa: BLE001 - a subscriber must never break the relay
            failed += 1
            log.exception("event subscriber failed", extra={"event": event})
    return failed
