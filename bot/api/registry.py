"""The list of route modules mounted on the app. A module exposes ``router`` (an APIRouter) and may
expose ``install(app)`` to register state, startup hooks or payload verifiers."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

ROUTER_MODULES: list[str] = [
    "bot.api.routes_intake",
    "bot.api.routes_reports",
    "bot.web.routes",
    "bot.surfaces.slack.routes",
    "bot.surfaces.teams.routes",
    "bot.surfaces.email",
    "bot.api.routes_warnings",
    "bot.api.routes_search",
]


def add_lifecycle(app: FastAPI, *, start: Callable[[], Awaitable[Any]], stop: Callable[[], Awaitable[Any]]) -> None:
    """Start a component with the app's lifespan and stop it on shutdown."""

    async def _start(_app: FastAPI) -> None:
        await start()

    async def _stop(_app: FastAPI) -> None:
        await stop()

    _stop.__qualname__ = getattr(stop, "__qualname__", _stop.__qualname__)  # shutdown logs name the component
    app.state.startup_hooks.append(_start)
    app.state.shutdown_hooks.append(_stop)


def install(app: FastAPI, module_name: str) -> None:
    module = importlib.import_module(module_name)
    setup = getattr(module, "install", None)
    if setup is not None:
        setup(app)
    router = getattr(module, "router", None)
    if router is not None:
        app.include_router(router)
