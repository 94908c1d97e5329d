"""Prometheus HTTP API: range queries, series, rules and alerts, as Sherlog's ``MetricSeries``.

``parse_query_range`` is a pure function from a ``/api/v1/query_range`` response (or its ``data``
or ``result`` part, as stored in evidence bundles) to series. ``PrometheusConnector`` wraps an
injected ``httpx.Client`` (its ``base_url`` or ``settings.url`` points at the server) and turns
transport and API failures into ``ConnectorError`` messages a user can act on.

Queries for an alert come from ``settings.queries`` (name -> PromQL with ``{service}``), e.g.
``{"latency_p95_ms": "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service=\\"{service}\\"}[5m]))) * 1000"}``.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bot.domain.errors import ConnectorError, PayloadError
from bot.domain.models import Alert, MetricSeries
from config.settings import PrometheusSettings

log = logging.getLogger(__name__)

SERVICE_LABELS = ("service", "app", "app_kubernetes_io_name", "job", "container", "instance", "host")


def service_of(labels: dict[str, str], default: str = "unknown") -> str:
    for key in SERVICE_LABELS:
        if labels.get(key):
            return labels[key]
    return default


def _float(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def parse_query_range(
    payload: dict[str, Any] | list[Any], *, metric: str | None = None, service: str | None = None
) -> list[MetricSeries]:
    """Series of a Prometheus matrix (or vector) result.

    Accepts the whole response (``{"status", "data": {"resultType", "result"}}``), its ``data``
    object, or the bare ``result`` list. The metric name is ``metric`` if given, else the series'
    ``__name__``, else ``"value"``; the service is ``service`` if given, else the first present of
    the labels ``service``, ``app``, ``job``, ``container``, ``instance``. Values ``"NaN"``/``"+Inf"``
    are kept as floats; points are sorted by time.
    """
    data: Any = payload
    if isinstance(data, dict) and "status" in data:
        if data.get("status") != "success":
            raise PayloadError(
                f"Prometheus answered {data.get('errorType', 'error')}: {data.get('error', '?')}"
            )
        data = data.get("data", {})
    if isinstance(data, dict):
        result_type = data.get("resultType", "matrix")
        if result_type not in ("matrix", "vector"):
            raise PayloadError(f"expected a matrix or vector result, got resultType {result_type!r}")
        data = data.get("result", [])
    if not isinstance(data, list):
        raise PayloadError("a Prometheus result must be a list of series")
    out: list[MetricSeries] = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("metric", {}), dict):
            raise PayloadError("each Prometheus series needs a 'metric' label object")
        labels = {str(k): str(v) for k, v in item.get("metric", {}).items()}
        points = item.get("values")
        if points is None and "value" in item:
            points = [item["value"]]
        if not isinstance(points, list):
            raise PayloadError("each Prometheus series needs 'values' ([[ts, \"v\"], ...])")
        pairs = sorted(
            (float(p[0]), _float(p[1])) for p in points if isinstance(p, list | tuple) and len(p) == 2
        )
        name = metric or labels.get("__name__") or "value"
        out.append(
            MetricSeries(
                service=service or service_of(labels),
                metric=name,
                labels={k: v for k, v in labels.items() if k != "__name__"},
                timestamps=[datetime.fromtimestamp(t, tz=UTC) for t, _ in pairs],
                values=[v for _, v in pairs],
            )
        )
    return out


class PrometheusConnector:
    """Read-only client of one Prometheus server (``/api/v1``)."""

    def __init__(self, *, settings: PrometheusSettings, client: httpx.Client | None = None) -> None:
        if client is None:
            if not settings.url:
                raise ConnectorError(
                    "Prometheus URL is not set: configure prometheus.url (SHERLOG__PROMETHEUS__URL)"
                )
            client = httpx.Client(base_url=settings.url, timeout=settings.timeout_s)
        self.settings = settings
        self.client = client

    # ---- raw API ---------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any] | list[tuple[str, Any]]) -> Any:
        try:
            resp = self.client.get(path, params=params)
        except httpx.HTTPError as e:
            raise ConnectorError(
                f"Prometheus at {self.client.base_url} is unreachable ({e.__class__.__name__}); check prometheus.url"
            ) from e
        try:
            body = resp.json()
        except ValueError as e:
            raise ConnectorError(
                f"Prometheus {path} answered HTTP {resp.status_code} without JSON; is prometheus.url a Prometheus server?"
            ) from e
        if resp.status_code >= 400 or body.get("status") != "success":
            raise ConnectorError(
                f"Prometheus {path} failed (HTTP {resp.status_code}, {body.get('errorType', 'error')}): {body.get('error', '')}"
            )
        for warning in body.get("warnings", []) or []:
            log.warning("prometheus warning", extra={"path": path, "warning": warning})
        return body.get("data")

    def query_range(
        self,
        query: str,
        *,
        start: datetime,
        end: datetime,
        step: str | None = None,
        metric: str | None = None,
        service: str | None = None,
    ) -> list[MetricSeries]:
        data = self._get(
            "/api/v1/query_range",
            {
                "query": query,
                "start": start.timestamp(),
                "end": end.timestamp(),
                "step": step or self.settings.step,
            },
        )
        return parse_query_range(data, metric=metric, service=service)

    def query(self, query: str, *, at: datetime | None = None) -> list[MetricSeries]:
        params: dict[str, Any] = {"query": query}
        if at is not None:
            params["time"] = at.timestamp()
        return parse_query_range(self._get("/api/v1/query", params))

    def series(
        self, match: list[str], *, start: datetime | None = None, end: datetime | None = None
    ) -> list[dict[str, str]]:
        params: list[tuple[str, Any]] = [("match[]", m) for m in match]
        if start is not None:
            params.append(("start", start.timestamp()))
        if end is not None:
            params.append(("end", end.timestamp()))
        return [dict(x) for x in self._get("/api/v1/series", params) or []]

    def rules(self) -> list[dict[str, Any]]:
        """Every rule of every group, each with its ``group`` name added."""
        data = self._get("/api/v1/rules", {}) or {}
        return [
            {**rule, "group": g.get("name")} for g in data.get("groups", []) for rule in g.get("rules", [])
        ]

    def alerts(self) -> list[dict[str, Any]]:
        data = self._get("/api/v1/alerts", {}) or {}
        return list(data.get("alerts", []))

    # ---- for an analysis -------------------------------------------------------------------

    def fetch_for_alert(
        self, alert: Alert, *, services: list[str] | None = None, now: datetime | None = None
    ) -> list[MetricSeries]:
        """The configured per-service queries over the lookback window before the alert.

        A query that fails is logged and skipped: partial metrics still help an analysis.
        """
        names = services or [s for s in [alert.service or service_of(alert.labels, "")] if s]
        end = min(
            now or datetime.now(UTC), alert.starts_at + timedelta(minutes=self.settings.lookback_minutes)
        )
        start = alert.starts_at - timedelta(minutes=self.settings.lookback_minutes)
        out: list[MetricSeries] = []
        for svc in names:
            for metric, template in self.settings.queries.items():
                promql = template.replace("{service}", svc)
                try:
                    out.extend(self.query_range(promql, start=start, end=end, metric=metric, service=svc))
                except ConnectorError as e:
                    log.warning(
                        "prometheus query failed", extra={"metric": metric, "service": svc, "error": str(e)}
                    )
        return out
