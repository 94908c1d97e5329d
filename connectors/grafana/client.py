"""Grafana: annotations for incident start and resolution, and links to the evidence.

- ``GrafanaConnector.annotate`` writes an annotation (``POST /api/annotations``) at the incident start,
  on the alert's dashboard/panel when the alert came from one, else organisation-wide with tags;
  ``end_annotation`` turns it into a region ending at the resolution (``PATCH /api/annotations/{id}``).
  Auth: a service-account token (role Editor) as ``Authorization: Bearer``.
- ``dashboard_ref`` reads the dashboard UID and panel id out of Grafana URLs
  (``https://grafana/d/<uid>/<slug>?viewPanel=<id>``).
- ``prometheus_graph_url`` builds a Prometheus graph link for an expression around a time
  (``/graph?g0.expr=...&g0.tab=0&g0.range_input=...&g0.end_input=...``), the link Alertmanager alerts
  carry as ``generatorURL``.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlparse

import httpx

from bot.domain import ConnectorError

log = logging.getLogger(__name__)
_DASHBOARD = re.compile(r"/d/(?P<uid>[A-Za-z0-9_-]+)")


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def dashboard_ref(url: str | None) -> tuple[str | None, int | None]:
    """(dashboard UID, panel id) of a Grafana dashboard or panel URL; (None, None) when it is not one."""
    if not url:
        return None, None
    parsed = urlparse(url)
    found = _DASHBOARD.search(parsed.path)
    if not found:
        return None, None
    query = parse_qs(parsed.query)
    panel = (query.get("viewPanel") or query.get("panelId") or [""])[0]
    return found.group("uid"), int(panel) if panel.isdigit() else None


def prometheus_graph_url(base_url: str, expr: str, *, end: datetime | None = None, range_minutes: int = 60) -> str:
    """A Prometheus graph link showing ``expr`` over ``range_minutes`` ending at ``end``."""
    url = f"{base_url.rstrip('/')}/graph?g0.expr={quote_plus(expr)}&g0.tab=0&g0.range_input={range_minutes}m"
    if end is not None:
        url += f"&g0.end_input={quote_plus(end.strftime('%Y-%m-%d %H:%M:%S'))}"
    return url


def evidence_links(alert_raw: dict[str, Any], generator_url: str | None) -> dict[str, str]:
    """The links an answer shows for an alert: its Grafana dashboard/panel and its Prometheus graph."""
    links = {k: v for k, v in (alert_raw.get("links") or {}).items() if isinstance(v, str) and v}
    if generator_url:
        links.setdefault("graph", generator_url)
    return links


class GrafanaConnector:
    def __init__(self, *, url: str, token: str, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.client = client or httpx.Client(timeout=10.0)
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def _call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self.client.request(method, f"{self.url}{path}", json=body, headers=self._headers)
        except httpx.HTTPError as e:
            raise ConnectorError(f"Grafana unreachable at {self.url}: {e.__class__.__name__}") from e
        if response.status_code in (401, 403):
            raise ConnectorError("Grafana refused the token: give intake.grafana_api_token an Editor service account")
        if response.status_code >= 300:
            raise ConnectorError(f"Grafana {method} {path} failed: HTTP {response.status_code} {response.text[:200]}")
        data = response.json() if response.content else {}
        return data if isinstance(data, dict) else {}

    def annotate(self, *, text: str, tags: list[str], time: datetime, time_end: datetime | None = None,
                 dashboard_uid: str | None = None, panel_id: int | None = None) -> int:
        body: dict[str, Any] = {"time": _ms(time), "tags": tags, "text": text}
        if time_end is not None:
            body["timeEnd"] = _ms(time_end)
        if dashboard_uid:
            body["dashboardUID"] = dashboard_uid
            if panel_id is not None:
                body["panelId"] = panel_id
        data = self._call("POST", "/api/annotations", body)
        if "id" not in data:
            raise ConnectorError("Grafana answered without an annotation id")
        return int(data["id"])

    def end_annotation(self, annotation_id: int, *, time_end: datetime, text: str | None = None) -> None:
        body: dict[str, Any] = {"timeEnd": _ms(time_end)}
        if text:
            body["text"] = text
        self._call("PATCH", f"/api/annotations/{annotation_id}", body)
