"""Core REST API: alert intake, incidents, analyses, feedback, health and metrics."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_swagger_ui_html
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import AfterValidator, BaseModel, Field

from bot.api.auth import require_admin, require_reader
from bot.api.body import loads_json, read_body, read_json_body  # noqa: F401 - read_json_body re-exported
from bot.api.deps import get_pipeline, require_intake_token
from bot.api.guards import open_intake_note
from bot.domain import (
    ALL_KINDS,
    ChangeEvent,
    Feedback,
    NotFoundError,
    PayloadError,
    SherlogError,
    Vote,
    utcnow,
)
from bot.pipeline import Pipeline
from connectors.alerts import alert_sources, parse_alerts

log = logging.getLogger(__name__)
router = APIRouter()


async def _intake_token(request: Request) -> None:
    """``require_intake_token`` on the event loop: a header compare needs no worker thread per request."""
    require_intake_token(request)


async def _pipeline(request: Request) -> Pipeline:
    return get_pipeline(request)


@router.post("/api/v1/alerts/{source}", status_code=status.HTTP_202_ACCEPTED,
             dependencies=[Depends(_intake_token)])
async def receive_alerts(source: str, request: Request, pipeline: Pipeline = Depends(_pipeline)) -> Response:
    """Accept a vendor webhook: persist first, answer 202 with the incident ids, analyse in the background."""
    sources = alert_sources()
    if source not in sources:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown alert source {source!r}; known: {sorted(sources)}")
    raw = await read_body(request, limit=pipeline.settings.intake.max_body_bytes)
    verifier = getattr(request.app.state, "payload_verifiers", {}).get(source)
    if verifier is not None:  # authenticity first: an unsigned body is never parsed
        verifier(request, raw)
    payload = loads_json(raw)
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
    offset: int = Query(0, ge=0, le=1_000_000),
    pipeline: Pipeline = Depends(get_pipeline),
) -> dict[str, Any]:
    items = await run_in_threadpool(
        lambda: pipeline.list_incidents(status=status_, service=service, category=category, q=q, limit=limit,
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


def _vocabulary_kind(value: str | None) -> str | None:
    if value is not None and value not in ALL_KINDS:
        raise ValueError(f"kind {value[:80]!r} is not in the cause vocabulary (docs/causes.md)")
    return value


VocabularyKind = Annotated[str | None, AfterValidator(_vocabulary_kind)]
MAX_TEXT = 4000  # comments and resolutions: a few paragraphs


class FeedbackIn(BaseModel):
    vote: Vote
    service: str | None = Field(default=None, max_length=200)
    kind: VocabularyKind = None
    document_id: str | None = Field(default=None, max_length=200)
    user: str = Field(default="api", max_length=200)
    comment: str | None = Field(default=None, max_length=MAX_TEXT)


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
    service: str | None = Field(default=None, max_length=200)
    kind: VocabularyKind = None
    resolution: str | None = Field(default=None, max_length=MAX_TEXT)
    user: str = Field(default="api", max_length=200)


@router.post("/api/v1/incidents/{incident_id}/ack", dependencies=[Depends(require_admin)])
async def ack(incident_id: str, user: str = Body("api", embed=True, max_length=200), pipeline: Pipeline = Depends(get_pipeline)) -> dict[str, Any]:
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
        await run_in_threadpool(pipeline.ping)
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
    note = open_intake_note(pipeline.settings, getattr(request.app.state, "bind_host", None))
    return {"status": "ok" if ok else "unavailable", "checks": checks, **({"notes": [note]} if note else {})}


@router.get("/openapi.json", include_in_schema=False, dependencies=[Depends(require_reader)])
async def openapi_schema(request: Request) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi()
    return schema


@router.get("/docs", include_in_schema=False, dependencies=[Depends(require_reader)])
async def docs() -> Response:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Sherlog API")


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
    await run_in_threadpool(lambda: pipeline.record_change(event=event))
    return event.model_dump(mode="json")
