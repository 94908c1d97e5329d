"""Early-warning routes: run the scan now, list and silence warnings. The scan runs on a schedule in the
scheduler role (``sherlog scheduler`` or ``sherlog serve``) when ``prediction.enabled``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from pydantic import BaseModel, Field

from bot.api.auth import require_admin, require_reader

log = logging.getLogger(__name__)
router = APIRouter()


def install(app: FastAPI) -> None:
    """The scan itself is built by ``bot.pipeline.wiring`` and run by the scheduler role; these routes
    trigger and silence it."""
    app.state.early_warning_job = app.state.runtime.early_warning_job


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
