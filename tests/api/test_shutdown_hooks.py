"""Issue 17: the app's shutdown is bounded. A shutdown hook that never returns (a stuck connector) is left behind
after ``wiring.STOP_TIMEOUT_S`` with a warning naming it, a hook that fails is logged, and the other hooks and the
runtime's stop still run; a component whose stop fails does not keep the ones after it running."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.pipeline import wiring

BOUND_S = 0.3
GUARD_S = 10.0


def test_a_hung_shutdown_hook_is_left_behind_and_the_others_still_run(
    settings: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(wiring, "STOP_TIMEOUT_S", BOUND_S)
    app = create_app(settings)
    ran: list[str] = []

    async def stuck_connector(_app: Any) -> None:
        ran.append("stuck")
        await asyncio.Event().wait()  # never returns

    async def broken_connector(_app: Any) -> None:
        ran.append("broken")
        raise RuntimeError("connection already closed")

    async def tidy_connector(_app: Any) -> None:
        ran.append("tidy")

    app.state.shutdown_hooks.extend([stuck_connector, broken_connector, tidy_connector])
    runtime = app.state.runtime
    runtime_stop = runtime.stop

    async def recorded_stop() -> None:
        ran.append("runtime")
        await runtime_stop()

    runtime.stop = recorded_stop
    client = TestClient(app)
    client.__enter__()
    assert client.get("/healthz").status_code == 200
    began = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="bot.pipeline.wiring"):
        closing = threading.Thread(target=client.__exit__, args=(None, None, None), daemon=True)
        closing.start()
        closing.join(GUARD_S)
        elapsed = time.monotonic() - began
    assert not closing.is_alive(), "the app's shutdown waited for a hook that never returns"
    assert ran == ["stuck", "broken", "tidy", "runtime"]
    assert elapsed < BOUND_S + 3.0
    left_behind = [r.component for r in caplog.records if r.getMessage().startswith("component did not stop")]
    assert len(left_behind) == 1 and "stuck_connector" in left_behind[0]
    failed = [r.component for r in caplog.records if r.getMessage().startswith("component failed to stop")]
    assert len(failed) == 1 and "broken_connector" in failed[0]


def test_a_component_that_fails_to_stop_does_not_keep_the_others_running(settings: Any) -> None:
    runtime = wiring.build_runtime(settings, wiring.Role.API)
    stopped: list[str] = []

    class BrokenSurface:
        async def stop(self) -> None:
            raise RuntimeError("socket already closed")

    class Surface:
        async def stop(self) -> None:
            stopped.append("surface")

    runtime.surfaces = {"broken": BrokenSurface(), "fine": Surface()}
    asyncio.run(runtime.stop())
    assert stopped == ["surface"]
