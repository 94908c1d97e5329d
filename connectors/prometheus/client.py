"""Prometheus HTTP API: range queries, series, rules and alerts, as Sherlog's ``MetricSeries``.

``parse_query_range`` is a pure function from a ``/api/v1/query_range`` response (or its ``data``
or ``result`` part, as stored in evidence bundles) to series. ``PrometheusConnector`` wraps an
injected ``httpx.Client`` (its ``base_url`` or ``settings.url`` points at the server) and turns
transport and API failures into ``ConnectorError`` messages a user can act on.

Queries for an alert come from ``settings.queries`` (name -> PromQL with ``{service}``), e.g.
``{"latency_p95_ms": "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service={service}}[5m]))) * 1000"}``.
``render_query`` fills ``{service}`` with a complete, escaped string literal (``"checkout"``), so a
label value from an alert cannot change the query; after a regex matcher (``service=~{service}``)
the value's regex metacharacters are escaped too, so it matches exactly that service. Quoting the
placeholder in the template is a configuration error (``config.settings``).

``fetch_for_alert`` reports failing queries to its caller; once the server is unreachable or
answers 5xx, the remaining queries are not sent, so a dead server costs one timeout, not one per query.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bot.domain.errors import ConnectorError, PayloadError
from bot.domain.models import Alert, MetricSeries
from connectors.prometheus.defaults import (
    DEFAULT_QUERIES,
    alert_host,
    service_of_series,
)
from connectors.prometheus.settings import PrometheusSettings

log = logging.getLogger(__name__)

APP_LABELS = ("app", "app_kubernetes_io_name")


def service_of(labels: dict[str, str], default: str = "unknown") -> str:
    """A series' service: ``service``, ``app``, then ``connectors.prometheus.defaults.service_of_series``
    (a pod's workload, a deployment, a job that is not an exporter's, a node, an instance's host)."""
    if labels.get("service"):
        return labels["service"]
    for key in APP_LABELS:
        if labels.get(key):
            return labels[key]
    return service_of_series(labels, default)


class PrometheusUnavailable(ConnectorError):
    """The server did not answer (connection refused, timeout, ...) or answered 5xx: querying it
    again for the same incident would only cost another timeout."""


_PLACEHOLDER = re.compile(r"\{service\}")
_AFTER_REGEX_MATCHER = re.compile(r"[=!]~\s*$")
_RE2_META = frozenset("\\.+*?()|[]{}^$")
_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def promql_string(value: str) -> str:
    """``value`` as a double-quoted PromQL string literal.

    PromQL reads strings with Go's escapes: backslash, double quote, newline (which would end the
    literal), carriage return and tab get their backslash escapes, other control characters
    ``\\xHH``. A lone surrogate (possible in JSON, not encodable as UTF-8) raises ``ValueError``.
    """
    out = []
    for ch in value:
        code = ord(ch)
        if ch in _STRING_ESCAPES:
            out.append(_STRING_ESCAPES[ch])
        elif code < 32 or code == 127:
            out.append(f"\\x{code:02x}")
        elif 0xD800 <= code < 0xE000:
            raise ValueError(f"{value!r} holds a lone surrogate, which a PromQL string cannot hold")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def regex_literal(value: str) -> str:
    """``value`` with RE2's metacharacters escaped: as a regex it matches exactly ``value``."""
    return "".join("\\" + ch if ch in _RE2_META else ch for ch in value)


def render_query(template: str, *, service: str) -> str:
    """A query template with each ``{service}`` replaced by ``service`` as an escaped string literal.

    After a regex matcher (``=~`` or ``!~``) the value is also regex-escaped, so it matches only
    itself (Prometheus anchors label regexes). Write the placeholder without quotes
    (``up{service={service}}``); values are filled in one pass and never read again.
    """

    def fill(m: re.Match[str]) -> str:
        regex = _AFTER_REGEX_MATCHER.search(template, 0, m.start()) is not None
        return promql_string(regex_literal(service) if regex else service)

    return _PLACEHOLDER.sub(fill, template)


def scope_matchers(alert: Alert) -> dict[str, str | None]:
    """Label matchers for each scope of the shipped queries, from what the alert names (None: the
    alert does not name that scope, so its queries are not sent)."""
    labels = alert.labels
    host = alert_host(alert)
    ns = labels.get("namespace")
    pod = labels.get("pod")
    workload = next((labels[k] for k in ("deployment", "statefulset", "daemonset") if labels.get(k)), None)
    kube: list[str] = [f"namespace={promql_string(ns)}"] if ns else []
    if pod:
        kube.append(f"pod={promql_string(pod)}")
    elif workload:
        kube.append(f"pod=~{promql_string(regex_literal(workload) + '-.+')}")
    deployment = labels.get("deployment")
    return {
        "host": f"instance=~{promql_string(regex_literal(host) + '(:[0-9]+)?')}" if host else None,
        "kube": ",".join(kube) or None,
        "ns": (f"namespace={promql_string(ns)}" + (f",deployment={promql_string(deployment)}" if deployment else ""))
        if ns else None,
        "node": f"node={promql_string(labels['node'])}" if labels.get("node") else None,
    }


_SCOPE_PLACEHOLDER = re.compile(r"\{(host|kube|ns|node|svc)\}")


def render_default(template: str, matchers: dict[str, str | None]) -> str | None:
    """A shipped query with its scope placeholders filled, None when a scope is not known."""
    missing = False

    def fill(m: re.Match[str]) -> str:
        nonlocal missing
        value = matchers.get(m.group(1))
        if value is None:
            missing = True
            return ""
        return value

    out = _SCOPE_PLACEHOLDER.sub(fill, template)
    return None if missing else out


def default_jobs(alert: Alert, services: list[str], *, skip: set[str]) -> list[tuple[str, str, str]]:
    """(service, query name, query) of every shipped query the alert's scope allows, except the names
    in ``skip`` (an explicit ``prometheus.queries`` entry of the same name replaces the shipped one).
    Per-service queries (HTTP RED) run for each of ``services``, matched on ``service`` when the alert
    carries that label, else on ``job``."""
    matchers = scope_matchers(alert)
    key = "service" if alert.labels.get("service") else "job"
    names = services or [s for s in [alert.service] if s]
    jobs: list[tuple[str, str, str]] = []
    for q in DEFAULT_QUERIES:
        if q.name in skip:
            continue
        if q.scope == "svc":
            for svc in names:
                query = render_default(q.template, {**matchers, "svc": f"{key}={promql_string(svc)}"})
                if query is not None:
                    jobs.append((svc, q.name, query))
            continue
        query = render_default(q.template, matchers)
        if query is not None:
            jobs.append((alert.service or "", q.name, query))
    return jobs


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

    @property
    def _where(self) -> str:
        return str(self.client.base_url.copy_with(userinfo=b""))  # never print credentials in a URL

    def _get(self, path: str, params: dict[str, Any] | list[tuple[str, Any]]) -> Any:
        try:
            resp = self.client.get(path, params=params)
        except httpx.HTTPError as e:
            raise PrometheusUnavailable(
                f"Prometheus at {self._where} is unreachable ({e.__class__.__name__}); check prometheus.url"
            ) from e
        if resp.status_code >= 500:
            try:
                body = resp.json()
                detail = f" ({body.get('errorType', 'error')}: {str(body.get('error', ''))[:200]})"
            except (ValueError, AttributeError):
                detail = ""
            raise PrometheusUnavailable(
                f"Prometheus at {self._where} answered HTTP {resp.status_code}{detail}; "
                "check prometheus.url and that the server is up"
            )
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
        self,
        alert: Alert,
        *,
        services: list[str] | None = None,
        now: datetime | None = None,
        failures: list[str] | None = None,
    ) -> list[MetricSeries]:
        """The configured per-service queries (``prometheus.queries``) and the shipped exporter queries
        (``prometheus.default_queries``, scoped to the alert: ``connectors.prometheus.defaults``) over
        the window around the alert.

        The window is ``lookback_minutes`` before the alert to as long after it (not past ``now``).
        Each series takes the queried service and the query's name as its metric. A query that fails
        is skipped (partial metrics still help an analysis) and described in ``failures``, one line
        per distinct error; once the server is unreachable or answers 5xx, the remaining queries are
        not sent and one line says so.
        """
        configured = self.settings.queries
        names = services or [s for s in [alert.service or service_of(alert.labels, "")] if s]
        jobs = [(svc, metric, template) for svc in names for metric, template in configured.items()]
        if self.settings.default_queries:
            jobs += default_jobs(alert, names, skip=set(configured))
        queried = {q.name for q in DEFAULT_QUERIES if q.queried_service}

        def run(svc: str, metric: str, template: str, start: datetime, end: datetime) -> list[MetricSeries]:
            if metric in configured:  # a configured template: {service} filled in, series are svc's
                query = render_query(template, service=svc)
                return self.query_range(query, start=start, end=end, metric=metric, service=svc)
            # a shipped query, already scoped: series take their service from their labels
            owner = svc if metric in queried else None
            return self.query_range(template, start=start, end=end, metric=metric, service=owner)

        return fetch_alert_queries(
            alert, configured, source="prometheus", lookback_minutes=self.settings.lookback_minutes,
            run=run, unavailable=lambda e: isinstance(e, PrometheusUnavailable),
            services=services, now=now, failures=failures, jobs=jobs,
        )


def fetch_alert_queries(
    alert: Alert,
    queries: dict[str, str],
    *,
    source: str,
    lookback_minutes: float,
    run: Callable[[str, str, str, datetime, datetime], list[MetricSeries]],
    unavailable: Callable[[Exception], bool],
    services: list[str] | None = None,
    now: datetime | None = None,
    failures: list[str] | None = None,
    jobs: list[tuple[str, str, str]] | None = None,
) -> list[MetricSeries]:
    """Every (service, named query) of a metrics source over the window around the alert.

    ``jobs`` ((service, query name, query) triples) replaces the product of services and ``queries``.
    The window is ``lookback_minutes`` before the alert to as long after it (not past ``now``);
    ``run(service, query name, template, start, end)`` sends one query. A query that fails is skipped
    (partial metrics still help an analysis) and described in ``failures``, one line per distinct
    error; once ``unavailable(error)`` says the server is down, the remaining queries are not sent and
    one line says so.
    """
    names = services or [s for s in [alert.service or service_of(alert.labels, "")] if s]
    lookback = timedelta(minutes=lookback_minutes)
    end = min(now or datetime.now(UTC), alert.starts_at + lookback)
    start = alert.starts_at - lookback
    if jobs is None:
        jobs = [(svc, metric, template) for svc in names for metric, template in queries.items()]
    failed: dict[tuple[str, str], list[str]] = {}  # (query name, error) -> services
    out: list[MetricSeries] = []
    for n, (svc, metric, template) in enumerate(jobs):
        try:
            out.extend(run(svc, metric, template, start, end))
        except (ValueError, ConnectorError) as e:
            log.warning(f"{source} query failed", extra={"metric": metric, "service": svc, "error": str(e)})
            if unavailable(e):
                if failures is not None:
                    left = len(jobs) - n - 1
                    failures.append(f"{e}" + (f"; {left} more queries not sent" if left else ""))
                break
            failed.setdefault((metric, str(e)), []).append(svc)
    if failures is not None:
        failures[:0] = [
            f"query {metric!r} failed for {', '.join(svcs)}: {error}" for (metric, error), svcs in failed.items()
        ]
    return out
