"""Shutdown never hangs on one component: a stop that does not return is left behind with a warning."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.pipeline import wiring


def test_a_component_that_never_stops_is_left_behind(monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(wiring, "STOP_TIMEOUT_S", 0.2)
    stopped: list[str] = []

    async def never() -> None:
        await asyncio.Event().wait()

    async def quick() -> None:
        stopped.append("quick")

    async def scenario() -> None:
        await wiring._bounded("stuck", never())
        await wiring._bounded("quick", quick())

    with caplog.at_level(logging.WARNING, logger="bot.pipeline.wiring"):
        asyncio.run(asyncio.wait_for(scenario(), timeout=5))
    assert stopped == ["quick"]  # the next component still stopped
    assert [r.component for r in caplog.records if hasattr(r, "component")] == ["stuck"]


def test_a_stop_that_ignores_its_cancellation_does_not_hold_the_shutdown(monkeypatch: pytest.MonkeyPatch,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    """The bound is a bound: a stop that swallows the cancellation sent after the timeout (as the runner loops
    did, issue 17) is left running instead of being waited for."""
    monkeypatch.setattr(wiring, "STOP_TIMEOUT_S", 0.2)
    swallowed: list[int] = []

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                if swallowed:  # the second cancellation (the loop closing) ends it
                    raise
                swallowed.append(1)

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await wiring._bounded("stubborn", stubborn())
        return loop.time() - started

    with caplog.at_level(logging.WARNING, logger="bot.pipeline.wiring"):
        elapsed = asyncio.run(asyncio.wait_for(scenario(), timeout=5))
    assert elapsed < 2.0
    assert swallowed == [1]  # it was asked to stop once, and not waited for
    assert [r.component for r in caplog.records if hasattr(r, "component")] == ["stubborn"]
