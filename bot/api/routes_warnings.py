"""Proactive prediction inside ``sherlog serve``: the early-warning scan runs on a schedule when
``prediction.enabled``; warnings enter as incidents (deduplicated) and can be silenced."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from pydantic import BaseModel, Field

from bot.api.auth import require_admin, require_reader

log = logging.getLogger(__name__)
router = APIRouter()


def install(app: FastAPI) -> None:
    settings = app.state.settings
    if not settings.prediction.enabled:
        return
    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.pipeline.early_warning import CsvSource, EarlyWarning, EarlyWarningJob, PrometheusSource

    csv_source = CsvSource()
    prom_source: Any = None
    if settings.prometheus.url:
        from connectors.prometheus import PrometheusConnector

        prom_source = PrometheusSource(PrometheusConnector(settings=settings.prometheus), step=settings.prediction.step)

    class _Source:
        """CSV watches read their file; PromQL watches ask Prometheus (when configured)."""

        def fetch(self, watch: Any, *, start: Any, end: Any) -> Any:
            if watch.csv is not None or prom_source is None:
                return csv_source.fetch(watch, start=start, end=end)
            return prom_source.fetch(watch, start=start, end=end)

    source = _Source()

    def on_warning(warning: EarlyWarning) -> None:
        pipeline = app.state.pipeline
        result = pipeline.raise_early_warning(alert=warning.to_alert(), details=warning.model_dump(mode="json"))
        if result.created:
            app.state.queue.wake()  # intake queued the analysis in its transaction

    job = EarlyWarningJob(settings=settings.prediction, source=source, on_warning=on_warning)
    app.state.early_warning_job = job

    async def start(app: FastAPI) -> None:
        import asyncio

        app.state.loop = asyncio.get_running_loop()
        scheduler = BackgroundScheduler(timezone="UTC")
        job.schedule(scheduler)
        scheduler.start()
        app.state.early_warning_scheduler = scheduler

    async def stop(app: FastAPI) -> None:
        scheduler = getattr(app.state, "early_warning_scheduler", None)
        if scheduler is not None:
            scheduler.shutdown(wait=False)

    app.state.startup_hooks.append(start)
    app.state.shutdown_hooks.append(stop)


def _job(request: Request) -> Any:
    job = getattr(request.app.state, "early_warning_job", None)
    if job is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "prediction is not enabled (prediction.enabled: true)")
    return job


class SilenceIn(BaseModel):
    key: str = Field(min_length=1, max_length=500)
    hours: float = Field(default=24.0, gt=0, le=24 * 90)


@router.post("/api/v1/warnings/scan", dependencies=[Depends(require_admin)])
async def scan_now(request: Request) -> dict[str, Any]:
    """Run the early-warning scan now (it also runs every prediction.interval_minutes)."""
    from fastapi.concurrency import run_in_threadpool

    job = _job(request)
    request.app.state.loop = __import__("asyncio").get_running_loop()
    posted = await run_in_threadpool(job.run_once)
    return {"warnings": [w.model_dump(mode="json") for w in posted]}


@router.post("/api/v1/warnings/silence", dependencies=[Depends(require_admin)])
async def silence(body: SilenceIn, request: Request) -> dict[str, Any]:
    _job(request).silence(body.key, hours=body.hours)
    return {"key": body.key, "silenced_hours": body.hours}


@router.get("/api/v1/warnings/watches", dependencies=[Depends(require_reader)])
async def watches(request: Request) -> dict[str, Any]:
    settings = request.app.state.settings
    return {"enabled": settings.prediction.enabled,
            "watches": [w.model_dump(mode="json") for w in settings.prediction.watches]}
