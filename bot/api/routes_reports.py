"""Report API: ``GET /api/v1/reports/{name}`` for every chart of the dashboard, as JSON or CSV.

Common query parameters: ``since``/``until`` (ISO date or timestamp; a bare ``until`` date includes
that day), ``days`` (default 30 when ``since`` is absent), ``service``, ``category``, ``severity``,
``format=json|csv``. A range covers at most ``MAX_DAYS`` (3,660) days and years 1970-2199; wider
ranges get 422 naming the limit. Report-specific: ``group_by`` (incidents-per-day), ``bucket`` (day|week),
``bins`` (calibration), ``limit`` (root-causes), ``horizon_hours`` (early-warnings), ``q`` and
``status`` (incidents). The CSV holds the report's ``rows``; the ``incidents`` report (one row per incident,
any range), as CSV and as JSON, is streamed a page at a time, so an export of years of incidents never sits in
memory whole (its JSON keeps the report's keys: ``report``, ``scope``, ``items``, ``rows``, ``total`` last).
Every other report reads its range a page of incidents at a time and folds it into its figures
(``bot.reporting.fold``), so memory stays bounded on any range too.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response, StreamingResponse

from bot.api.auth import require_reader
from bot.api.deps import get_store
from bot.domain import InputError
from bot.reporting import REPORT_NAMES, ReportOptions, ReportScope, build_report, rows_to_csv
from bot.reporting.export import stream_csv, stream_json_rows
from bot.reporting.reports import INCIDENT_COLUMNS, stream_incident_rows
from bot.storage import Store

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], dependencies=[Depends(require_reader)])


@router.get("")
async def list_reports() -> dict[str, Any]:
    return {"reports": [{"name": n, "url": f"/api/v1/reports/{n}"} for n in REPORT_NAMES]}


@router.get("/{name}", response_model=None)
async def get_report(
    name: str,
    since: str | None = None,
    until: str | None = None,
    days: int | None = Query(None, ge=1, le=3660),
    service: str | None = None,
    category: str | None = None,
    severity: str | None = None,
    group_by: Literal["category", "severity", "service"] = "category",
    bucket: Literal["day", "week"] | None = None,
    bins: int = Query(10, ge=2, le=50),
    limit: int = Query(10, ge=1, le=100),
    horizon_hours: float = Query(24.0, gt=0, le=720),
    q: str | None = Query(None, max_length=200),
    status_: str | None = Query(None, alias="status"),
    format: Literal["json", "csv"] = "json",
    store: Store = Depends(get_store),
) -> Response | dict[str, Any]:
    if name not in REPORT_NAMES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no report {name!r}; known: {list(REPORT_NAMES)}")
    try:
        scope = ReportScope.parse(since=since, until=until, days=days, service=service, category=category,
                                  severity=severity)
        options = ReportOptions(group_by=group_by, bucket=bucket, bins=bins, limit=limit,
                                horizon_hours=horizon_hours, q=q or None, status=status_ or None)
    except InputError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(e)) from e
    if name == "incidents" and format == "json":  # a sync iterator: read in the thread pool, page by page
        rows = stream_incident_rows(store=store, scope=scope, options=options)
        return StreamingResponse(stream_json_rows({"report": name, "scope": scope.as_dict()}, rows),
                                 media_type="application/json", headers={"Cache-Control": "no-store"})
    if format == "csv":
        filename = f"sherlog-{name}-{scope.since.date().isoformat()}-{scope.until.date().isoformat()}.csv"
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        if name == "incidents":  # a sync iterator: Starlette reads it in the thread pool, page by page
            rows = stream_incident_rows(store=store, scope=scope, options=options)
            return StreamingResponse(stream_csv(rows, INCIDENT_COLUMNS), media_type="text/csv; charset=utf-8",
                                     headers=headers)

    def render() -> str | Any:  # building and encoding a report is CPU work: off the event loop
        data = build_report(name, store=store, scope=scope, options=options)
        return rows_to_csv(data.get("rows", [])) if format == "csv" else jsonable_encoder(data)

    body = await run_in_threadpool(render)
    if format == "csv":
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
