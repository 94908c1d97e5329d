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
