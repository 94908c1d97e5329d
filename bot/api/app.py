"""The FastAPI application factory. Every route module is an ``APIRouter``; services live on ``app.state``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bot.domain import ConfigError, SherlogError
from bot.pipeline import Pipeline
from bot.pipeline.queue import AnalysisQueue
from bot.pipeline.wiring import build_pipeline
from config.settings import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, pipeline: Pipeline | None = None) -> FastAPI:
    settings = settings or get_settings()
    pipeline = pipeline or build_pipeline(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.queue.start()
        for hook in app.state.startup_hooks:
            await hook(app)
        try:
            yield
        finally:
            for hook in app.state.shutdown_hooks:
                await hook(app)
            await app.state.queue.stop()

    app = FastAPI(title="Sherlog", version="0.1.0", lifespan=lifespan,
                  description="Incident-response assistant: alerts in, ranked root causes with evidence out.")
    app.state.settings = settings
    app.state.pipeline = pipeline
    app.state.retriever = pipeline.retriever
    app.state.store = pipeline.store
    app.state.payload_verifiers = {}
    app.state.startup_hooks = []
    app.state.shutdown_hooks = []
    app.state.queue = AnalysisQueue.from_settings(pipeline._require_store(), pipeline.analyze_job, settings,
                                                  on_error=pipeline.metrics.analysis_failures.inc)

    @app.exception_handler(SherlogError)
    async def _sherlog_error(_request: Request, exc: SherlogError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    from bot.api import routes_core

    app.include_router(routes_core.router)
    _include_optional_routers(app)
    if settings.digest.enabled:
        from bot.pipeline.digest import SMTPDigestSender, install_weekly_digest

        if not settings.smtp.enabled:
            raise ConfigError("digest.enabled needs smtp.enabled (the weekly digest is sent by e-mail)")
        install_weekly_digest(app, sender=SMTPDigestSender(settings.smtp), day_of_week=settings.digest.day_of_week,
                              hour=settings.digest.hour, timezone=settings.digest.timezone)
    return app


def _include_optional_routers(app: FastAPI) -> None:
    """Routers of the other areas (search, chat surfaces, intake vendors, dashboard)."""
    from bot.api.registry import ROUTER_MODULES, install

    for module_name in ROUTER_MODULES:
        install(app, module_name)
