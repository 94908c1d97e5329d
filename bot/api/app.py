"""The FastAPI application factory. Every route module is an ``APIRouter``; services live on ``app.state``."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from bot.api.guards import (
    AuthGateMiddleware,
    BodyLimitMiddleware,
    LoginThrottle,
    SecurityHeadersMiddleware,
    finite_json,
    open_intake_note,
    storage_error_response,
)
from bot.domain import SherlogError, StorageError
from bot.pipeline import Pipeline
from bot.pipeline.wiring import Role, build_runtime, stop_bounded
from config.settings import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, pipeline: Pipeline | None = None,
               role: Role = Role.ALL, bind_host: str | None = None) -> FastAPI:
    """The HTTP app of ``sherlog serve``: ``Role.ALL`` (the default) also runs the analysis runner and the
    scheduled jobs in this process; ``Role.API`` leaves them to ``sherlog worker`` / ``sherlog scheduler``.
    ``bind_host`` is the address ``sherlog serve`` listens on: open intake (no ``intake.token``) on a
    non-loopback address is warned about at start and noted by ``/readyz``."""
    settings = settings or get_settings()
    runtime = build_runtime(settings, role, pipeline=pipeline)
    pipeline = runtime.pipeline

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        note = open_intake_note(settings, app.state.bind_host)
        if note:
            log.warning(note)
        for hook in app.state.startup_hooks:
            await hook(app)
        try:
            yield
        finally:
            await run_shutdown_hooks(app)
            await runtime.stop()

    app = FastAPI(title="Sherlog", version="0.1.0", lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None,  # served by routes_core behind auth
                  description="Incident-response assistant: alerts in, ranked root causes with evidence out.")
    app.state.bind_host = bind_host
    app.state.login_throttle = LoginThrottle()
    app.add_middleware(BodyLimitMiddleware, intake=settings.intake.max_body_bytes)
    app.add_middleware(AuthGateMiddleware)  # outside the body guard: auth before any body is read
    app.add_middleware(SecurityHeadersMiddleware)
    app.state.settings = settings
    app.state.pipeline = pipeline
    app.state.retriever = pipeline.retriever
    app.state.store = pipeline.store
    app.state.payload_verifiers = {}
    app.state.startup_hooks = []
    app.state.shutdown_hooks = []
    app.state.runtime = runtime
    app.state.queue = runtime.queue

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # the default handler echoes the input back: a NaN or Infinity in it made JSON encoding fail (a 500)
        return JSONResponse(status_code=422, content={"detail": finite_json(jsonable_encoder(exc.errors()))})

    @app.exception_handler(SherlogError)
    async def _sherlog_error(_request: Request, exc: SherlogError) -> JSONResponse:
        if isinstance(exc, StorageError):
            return storage_error_response(exc)
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    from bot.api import routes_core

    app.include_router(routes_core.router)
    _include_optional_routers(app)
    return app


async def run_shutdown_hooks(app: FastAPI) -> None:
    """Every shutdown hook, in order, each bounded by ``wiring.STOP_TIMEOUT_S``: a hook that hangs (a stuck
    connector) is left behind with a warning naming it, one that fails is logged, and the rest still run."""
    for hook in app.state.shutdown_hooks:
        name = f"shutdown hook {getattr(hook, '__qualname__', None) or repr(hook)}"
        await stop_bounded(name, functools.partial(hook, app))


def _include_optional_routers(app: FastAPI) -> None:
    """Routers of the other areas (search, chat surfaces, intake vendors, dashboard)."""
    from bot.api.registry import ROUTER_MODULES, install

    for module_name in ROUTER_MODULES:
        install(app, module_name)
