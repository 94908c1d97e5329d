"""Issue 17: ``sherlog worker`` stops on SIGTERM even when its message source hangs while closing (a broker that
no longer answers): the close is bounded and the runtime still stops, so the worker's claimed analyses and
events are handed back at once."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import pytest

from bot.cli.worker import consume_until_stopped
from bot.pipeline import wiring

BOUND_S = 0.3
GUARD_S = 10.0


class StuckSource:
    async def close(self) -> None:
        await asyncio.Event().wait()  # the broker never answers


class Consumer:
    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def run(self, *, stop: asyncio.Event) -> None:
        self.started.set()
        await stop.wait()


def test_sigterm_stops_the_worker_when_its_source_hangs_on_close(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wiring, "STOP_TIMEOUT_S", BOUND_S)
    runtime = wiring.build_runtime(settings, wiring.Role.WORKER)
    stopped: list[str] = []
    runtime_stop = runtime.stop

    async def recorded_stop() -> None:
        await runtime_stop()
        stopped.append("runtime")

    runtime.stop = recorded_stop  # type: ignore[method-assign]
    consumer = Consumer()

    async def main() -> float:
        consuming = asyncio.ensure_future(consume_until_stopped(consumer, StuckSource(), runtime))
        await asyncio.wait_for(consumer.started.wait(), GUARD_S)
        began = time.monotonic()
        os.kill(os.getpid(), signal.SIGTERM)  # handled by the worker's loop: the consumer is cancelled
        await asyncio.wait_for(consuming, GUARD_S)
        return time.monotonic() - began

    elapsed = asyncio.run(main())
    assert stopped == ["runtime"]
    assert elapsed < BOUND_S + 3.0
