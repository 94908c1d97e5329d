"""Core REST API: alert intake, incidents, analyses, feedback, health and metrics."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from bot.api.auth import require_admin, require_reader
from bot.api.deps import get_pipeline, require_intake_token
from bot.domain import ChangeEvent, Feedback, NotFoundError, PayloadError, SherlogError, Vote, utcnow
from bot.pipeline import Pipeline
from connectors.alerts import PARSERS, parse_alerts

log = logging.getLogger(__name__)
router = APIRouter()


async def read_json_body(request: Request, *, limit: int) -> Any:
    """The request body as JSON; 413 past ``limit`` bytes, 422 when it is not JSON."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {limit} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks) or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"body is not valid JSON: {e}") from e


async def _intake_token(request: Request) -> None:
    """``require_intake_token`` on the event loop: a header compare needs no worker thread per request."""
    require_intake_token(request)


async def _pipeline(request: Request) -> Pipeline:
    return get_pipeline(request)


@router.post("/api/v1/alerts/{source}", status_code=status.HTTP_202_ACCEPTED,
             dependencies=[Depends(_intake_token)])
async def receive_alerts(source: str, request: Request, pipeline: Pipeline = Depends(_pipeline)) -> Response:
    """Accept a vendor webhook: persist first, answer 202 with the incident ids, analyse in the background."""
    if source not in PARSERS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown alert source {source!r}; known: {sorted(PARSERS)}")
    payload = await read_json_body(request, limit=pipeline.settings.intake.max_body_bytes)
    verifier = getattr(request.app.state, "payload_verifiers", {}).get(source)
    if verifier is not None:
        verifier(request, payload)
    try:
        alerts = parse_alerts(payload, source=source)
    except PayloadError as e:
        pipeline.metrics.rejected_payloads.labels(reason="malformed").inc()
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(e)) from e
    coalescer = getattr(request.app.state, "intake_coalescer", None)  # group commit (routes_intake.install)
    if coalescer is not None:
        result = await coalescer.accept(alerts)
    else:
        result = await run_in_threadpool(pipeline.accept_alerts, alerts)
    if result.created or result.updated:
        request.app.state.queue.wake()  # intake queued their analyses in its transaction
    body = {"incident_ids": result.incident_ids, "created": result.created, "updated": result.updated,
            "resolved": result.resolved, "alerts": result.alerts}
    # plain strings and ints: serialised directly, without FastAPI's generic encoder
    return Response(json.dumps(body, separators=(",", ":")), status_code=status.HTTP_202_ACCEPTED,
                    media_type="application/json")


def _incident_json(pipeline: Pipeline, incident_id: str) -> dict[str, Any]:
    try:
        incident, analysis = pipeline.get_incident(incident_id=incident_id)
    except NotFoundError as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from e
    return {"incident": incident.model_dump(mode="json"),
            "analysis": analysis.model_dump(mode="json") if analysis else None}


@router.get("/api/v1/incidents", dependencies=[Depends(require_reader)])
async def list_incidents(
    status_: str | None = Query(None, alias="status"),
    service: str | None = None,
    category: str | None = None,
    q: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    pipeline: Pipeline = Depends(get_pipeline),
) -> dict[str, Any]:
    store = pipeline._require_store()
    items = await run_in_threadpool(
        lambda: store.list_incidents(status=status_, service=service, category=category, q=q, limit=limit,
                                     offset=offset)
    )
    return {"items": [i.model_dump(mode="json", exclude={"alerts"}) for i in items], "limit": limit,
            "offset": offset}


@router.get("/api/v1/incidents/{incident_id}", dependencies=[Depends(require_reader)])
async def get_incident(incident_id: str, pipeline: Pipeline = Depends(get_pipeline)) -> dict[str, Any]:
    return await run_in_threadpool(_incident_json, pipeline, incident_id)


@router.post("/api/v1/incidents/{incident_id}/analyze", status_code=status.HTTP_202_ACCEPTED,
             dependencies=[Depends(require_admin)])
async def reanalyze(incident_id: str, request: Request, pipeline: Pipeline = Depends(get_pipeline)) -> dict[str, Any]:
    await run_in_threadpool(_incident_json, pipeline, incident_id)  # 404 when unknown
    await run_in_threadpool(request.app.state.queue.submit, incident_id)
    return {"incident_id": incident_id, "queued": True}


class FeedbackIn(BaseModel):
    vote: Vote
    service: str | None = None
    kind: str | None = None
    document_id: str | None = None
    user: str = "api"
    comment: str | None = None


@router.post("/api/v1/incidents/{incident_id}/feedback", status_code=status.HTTP_201_CREATED,
             dependencies=[Depends(require_admin)])
async def add_feedback(incident_id: str, body: FeedbackIn, pipeline: Pipeline = Depends(get_pipeline)) -> dict[str, Any]:
    fb = Feedback(incident_id=incident_id, surface="api", **body.model_dump())
    try:
        await run_in_threadpool(lambda: pipeline.record_feedback(feedback=fb))
    except NotFoundError as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from e
    return fb.model_dump(mode="json")


class ResolveIn(BaseModel):
    service: str | None = None
    kind: str | None = None
    resolution: str | None = None
    user: str = "api"


@router.post("/api/v1/incidents/{incident_id}/ack", dependencies=[Depends(require_admin)])
async def ack(incident_id: str, user: str = Body("api", embed=True), pipeline: Pipeline = Depends(get_pipeline)) -> dict[str, Any]:
    try:
        inc = await run_in_threadpool(lambda: pipeline.acknowledge(incident_id=incident_id, user=user))
    except NotFoundError as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from e
    return inc.model_dump(mode="json", exclude={"alerts"})


@router.post("/api/v1/incidents/{incident_id}/resolve", dependencies=[Depends(require_admin)])
async def resolve(incident_id: str, body: ResolveIn, pipeline: Pipeline = Depends(get_pipeline)) -> dict[str, Any]:
    try:
        inc = await run_in_threadpool(
            lambda: pipeline.resolve(incident_id=incident_id, user=body.user, cause_service=body.service,
                                     cause_kind=body.kind, resolution=body.resolution)
        )
    except NotFoundError as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from e
    return inc.model_dump(mode="json", exclude={"alerts"})


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request, response: Response, pipeline: Pipeline = Depends(get_pipeline)) -> dict[str, Any]:
    checks: dict[str, str] = {}
    try:
        await run_in_threadpool(pipeline._require_store().ping)
        checks["database"] = "ok"
    except SherlogError as e:
        checks["database"] = str(e)
    if pipeline.retriever is not None:
        try:
            await run_in_threadpool(pipeline.retriever.ping)
            checks["vector_store"] = "ok"
        except SherlogError as e:
            checks["vector_store"] = str(e)
    ok = all(v == "ok" for v in checks.values())
    if not ok:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {"status": "ok" if ok else "unavailable", "checks": checks}


@router.get("/metrics")
async def metrics(pipeline: Pipeline = Depends(get_pipeline)) -> Response:
    return Response(generate_latest(pipeline.metrics.registry), media_type=CONTENT_TYPE_LATEST)


class ChangeIn(BaseModel):
    ts: datetime | None = None
    kind: str = Field(default="deploy", max_length=40)
    service: str | None = Field(default=None, max_length=200)
    text: str = Field(default="", max_length=2000)


@router.post("/api/v1/changes", status_code=status.HTTP_201_CREATED, dependencies=[Depends(require_intake_token)])
async def record_change(body: ChangeIn, pipeline: Pipeline = Depends(get_pipeline)) -> dict[str, Any]:
    """Record a deploy, config change or feature-flag flip (from CI/CD); analyses use it as evidence."""
    event = ChangeEvent(ts=body.ts or utcnow(), kind=body.kind, service=body.service, text=body.text)
    await run_in_threadpool(lambda: pipeline._require_store().add_change_event(event=event))
    return event.model_dump(mode="json")
