"""Dashboard pages, server-rendered with Jinja2; charts are drawn in the browser with the vendored D3
from the ``/api/v1/reports/...`` JSON of the same filters."""

from __future__ import annotations

import base64
import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from bot.api.auth import (
    Principal,
    clear_session_cookie,
    log_startup_mode,
    principal_of,
    require_page_reader,
    role_for_token,
    safe_next,
    set_session_cookie,
    tokens_configured,
)
from bot.api.deps import get_store
from bot.domain import ALL_KINDS, InputError, NotFoundError, Severity
from bot.domain.vocabulary import Category
from bot.reporting import ReportScope, build_report, build_reports
from bot.reporting.quality import hit_rank
from bot.reporting.queries import analyses_of, chat_posts, count_incidents, incident_list_page, known_services
from bot.reporting.reports import incident_row
from bot.storage import Store
from bot.web.filters import register as register_filters
from bot.web.timeline import build_timeline, thread_url
from config.settings import Settings

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
register_filters(templates.env)
router = APIRouter(include_in_schema=False)
FILTER_KEYS = ("since", "until", "days", "service", "category", "severity")


def install(app: FastAPI) -> None:
    app.mount("/assets", StaticFiles(directory=str(HERE / "static")), name="assets")

    async def _announce(app: FastAPI) -> None:
        log_startup_mode(app.state.settings)

    app.state.startup_hooks.append(_announce)


def _scope(request: Request) -> tuple[ReportScope, str | None]:
    params = request.query_params
    days = params.get("days")
    try:
        scope = ReportScope.parse(since=params.get("since"), until=params.get("until"),
                                  days=int(days) if days and days.isdigit() else None,
                                  service=params.get("service"), category=params.get("category"),
                                  severity=params.get("severity"))
        return scope, None
    except InputError as e:
        return ReportScope.parse(), str(e)


def _base(request: Request, store: Store, principal: Principal, page: str) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    filters = {k: request.query_params.get(k, "") for k in FILTER_KEYS}
    return {
        "request": request, "page": page, "principal": principal,
        "first_run": not tokens_configured(settings.auth), "filters": filters,
        "query": str(request.url.query), "services": known_services(store=store),
        "categories": [c.value for c in Category], "severities": [s.value for s in Severity],
    }


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, store: Store = Depends(get_store),
                   principal: Principal = Depends(require_page_reader)) -> Response:
    scope, error = _scope(request)

    def load() -> dict[str, Any]:
        reports = build_reports(["summary", "early-warnings"], store=store, scope=scope)  # one read of the range
        return {"summary": reports["summary"], "warnings": reports["early-warnings"],
                **_base(request, store, principal, "overview")}

    ctx = await run_in_threadpool(load)
    ctx.update(scope=scope, error=error)
    return templates.TemplateResponse(request, "overview.html", ctx)


PAGE_DEFAULT, PAGE_MAX = 100, 500  # incidents per page of the list


def encode_cursor(key: tuple[datetime, str]) -> str:
    """The ``after`` parameter of the next page: the (created_at, id) of the last incident shown."""
    return base64.urlsafe_b64encode(f"{key[0].isoformat()}|{key[1]}".encode()).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[datetime, str]:
    """The key an ``after`` parameter names; ``InputError`` when it is not one this page wrote."""
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        stamp, ident = text.split("|", 1)
        ts = datetime.fromisoformat(stamp)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError("after: not a page cursor of this list (follow the 'Next page' link)") from e
    if ts.tzinfo is None or not ident or len(ident) > 64:
        raise InputError("after: not a page cursor of this list (follow the 'Next page' link)")
    return ts, ident


@router.get("/incidents", response_class=HTMLResponse)
async def incidents(request: Request, store: Store = Depends(get_store),
                    principal: Principal = Depends(require_page_reader),
                    limit: int = Query(PAGE_DEFAULT, ge=1, le=PAGE_MAX),
                    after: str | None = Query(None, max_length=200)) -> Response:
    scope, error = _scope(request)
    q = (request.query_params.get("q") or "").strip()[:200] or None
    status_ = request.query_params.get("status") or None
    try:
        start = decode_cursor(after) if after else None
    except InputError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(e)) from e

    def load() -> dict[str, Any]:
        facts, next_key = incident_list_page(store=store, scope=scope, q=q, status=status_, limit=limit, after=start)
        total = count_incidents(store=store, scope=scope, q=q, status=status_)
        report = {"total": total, "items": [incident_row(f) for f in facts]}
        keep = [(k, v) for k, v in request.query_params.multi_items() if k != "after"]
        next_url = f"/incidents?{urlencode([*keep, ('after', encode_cursor(next_key))])}" if next_key else None
        first_url = f"/incidents?{urlencode(keep)}" if start else None
        return {"report": report, "next_url": next_url, "first_url": first_url,
                **_base(request, store, principal, "incidents")}

    ctx = await run_in_threadpool(load)
    ctx.update(scope=scope, error=error, q=q or "", status_filter=status_ or "", limit=limit,
               statuses=["open", "acknowledged", "resolved"])
    return templates.TemplateResponse(request, "incidents.html", ctx)


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
async def incident_page(incident_id: str, request: Request, store: Store = Depends(get_store),
                        principal: Principal = Depends(require_page_reader)) -> Response:

    def load() -> dict[str, Any]:
        incident = store.get_incident(incident_id=incident_id)
        analyses = analyses_of(store=store, incident_id=incident_id)
        feedback = store.list_feedback(incident_id=incident_id)
        posts = chat_posts(store=store, incident_id=incident_id)
        analysis = analyses[-1] if analyses else None
        rank = (hit_rank(incident, analysis) if analysis and incident.confirmed_kind and incident.confirmed_service
                else None)
        timeline = build_timeline(incident, analyses, feedback, posts)
        return {"incident": incident, "analysis": analysis, "analyses": analyses, "feedback": feedback,
                "posts": [{**p, "url": thread_url(p)} for p in posts], "hit_rank": rank,
                "timeline": timeline, "timeline_json": [e.as_dict() for e in timeline], "kinds": ALL_KINDS,
                **_base(request, store, principal, "incidents")}

    try:
        ctx = await run_in_threadpool(load)
    except NotFoundError as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from e
    return templates.TemplateResponse(request, "incident.html", ctx)


@router.get("/quality", response_class=HTMLResponse)
async def quality(request: Request, store: Store = Depends(get_store),
                  principal: Principal = Depends(require_page_reader)) -> Response:
    scope, error = _scope(request)

    def load() -> dict[str, Any]:
        reports = build_reports(["hit-rate", "calibration", "feedback", "llm"], store=store, scope=scope)
        return {name.replace("-", "_"): data for name, data in reports.items()} | _base(request, store, principal,
                                                                                         "quality")

    ctx = await run_in_threadpool(load)
    ctx.update(scope=scope, error=error)
    return templates.TemplateResponse(request, "quality.html", ctx)


@router.get("/gamedays", response_class=HTMLResponse)
async def gamedays(request: Request, store: Store = Depends(get_store),
                   principal: Principal = Depends(require_page_reader)) -> Response:
    scope, error = _scope(request)

    def load() -> dict[str, Any]:
        return {"gameday": build_report("gameday", store=store, scope=scope),
                **_base(request, store, principal, "gamedays")}

    ctx = await run_in_threadpool(load)
    ctx.update(scope=scope, error=error)
    return templates.TemplateResponse(request, "gameday.html", ctx)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/") -> Response:
    settings: Settings = request.app.state.settings
    return templates.TemplateResponse(request, "login.html", {
        "request": request, "next": safe_next(next), "login_error": None, "principal": principal_of(request),
        "first_run": not tokens_configured(settings.auth), "page": "login"})


@router.post("/login", response_model=None)
async def login(request: Request, token: str = Form(""), next: str = Form("/")) -> Response:
    settings: Settings = request.app.state.settings
    throttle = request.app.state.login_throttle
    client = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(client)
    if wait:
        return Response("Too many failed logins from this address; wait and retry.", status_code=429,
                        headers={"Retry-After": str(wait)}, media_type="text/plain")
    role = role_for_token(settings.auth, token.strip()[:500])
    if role is None:
        throttle.failed(client)
        return templates.TemplateResponse(request, "login.html", {
            "request": request, "next": safe_next(next), "principal": None, "page": "login",
            "first_run": not tokens_configured(settings.auth),
            "login_error": "That token is not valid." if tokens_configured(settings.auth) else
            "No token is configured yet; see the setup steps below."}, status_code=status.HTTP_401_UNAUTHORIZED)
    throttle.succeeded(client)
    response = RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    set_session_cookie(response, settings, role)
    return response


@router.post("/logout", response_model=None)
async def logout() -> Response:
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    clear_session_cookie(response)
    return response
