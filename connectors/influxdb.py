"""InfluxDB (optional metrics source): 1.x InfluxQL over ``/query`` and 2.x Flux over ``/api/v2/query``.

Both answers become ``MetricSeries`` through pure functions tested on the documented formats:
``parse_influxql_json`` (1.x JSON ``{"results": [{"series": [{"name", "tags", "columns", "values"}]}]}``)
and ``parse_flux_csv`` (2.x annotated CSV, one block per table). ``InfluxDBConnector`` wraps an
injected ``httpx.Client``.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.domain.errors import ConnectorError, PayloadError
from bot.domain.models import MetricSeries
from config.settings import InfluxDBSettings
from connectors.prometheus import service_of

_FLUX_META = {"", "result", "table", "_start", "_stop", "_time", "_value", "_field", "_measurement"}


def _time(value: Any) -> datetime:
    if isinstance(value, int | float):
        x = float(value)
        return datetime.fromtimestamp(x / 1e9 if x > 1e14 else x, tz=UTC)  # ns or s
    text = str(value).replace("Z", "+00:00")
    if "." in text:  # RFC3339 with up to nanoseconds: keep microseconds
        head, rest = text.split(".", 1)
        digits = "".join(ch for ch in rest if ch.isdigit())
        tz = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{tz}"
    d = datetime.fromisoformat(text)
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def parse_influxql_json(payload: dict[str, Any], *, metric: str | None = None) -> list[MetricSeries]:
    """Series of an InfluxDB 1.x ``/query`` answer; one series per (measurement, tags, value column)."""
    if payload.get("error"):
        raise PayloadError(f"InfluxDB answered an error: {payload['error']}")
    out: list[MetricSeries] = []
    for result in payload.get("results", []):
        if result.get("error"):
            raise PayloadError(
                f"InfluxDB statement {result.get('statement_id', '?')} failed: {result['error']}"
            )
        for s in result.get("series", []) or []:
            columns = list(s.get("columns", []))
            if "time" not in columns:
                raise PayloadError(
                    "an InfluxDB series needs a 'time' column (query with epoch or RFC3339 times)"
                )
            ti = columns.index("time")
            tags = {str(k): str(v) for k, v in (s.get("tags") or {}).items()}
            rows = s.get("values", []) or []
            for ci, col in enumerate(columns):
                if ci == ti:
                    continue
                name = metric or (
                    s.get("name", "value") if len(columns) == 2 else f"{s.get('name', 'value')}_{col}"
                )
                pts = sorted((_time(r[ti]), _num(r[ci])) for r in rows if len(r) == len(columns))
                out.append(
                    MetricSeries(
                        service=service_of(tags),
                        metric=name,
                        labels=tags,
                        timestamps=[t for t, _ in pts],
                        values=[v for _, v in pts],
                    )
                )
    return out


def parse_flux_csv(text: str, *, metric: str | None = None) -> list[MetricSeries]:
    """Series of an InfluxDB 2.x annotated-CSV answer; one series per table (measurement, field, tags)."""
    groups: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[tuple[datetime, float]]] = defaultdict(
        list
    )
    header: list[str] | None = None
    for row in csv.reader(io.StringIO(text)):
        if not row or all(c == "" for c in row):
            header = None  # a blank line ends a table block
            continue
        if row[0].startswith("#"):
            header = None
            continue
        if header is None:
            header = row
            if "_time" not in header or "_value" not in header:
                raise PayloadError("a Flux table needs _time and _value columns")
            continue
        rec = dict(zip(header, row, strict=False))
        if rec.get("result") == "" and rec.get("error"):
            raise PayloadError(f"InfluxDB query failed: {rec['error']}")
        tags = tuple(sorted((k, v) for k, v in rec.items() if k not in _FLUX_META))
        key = (rec.get("_measurement", ""), rec.get("_field", ""), tags)
        groups[key].append((_time(rec["_time"]), _num(rec["_value"])))
    out = []
    for (measurement, fld, tags), pts in groups.items():
        labels = dict(tags)
        pts.sort()
        name = metric or ("_".join(x for x in (measurement, fld) if x) or "value")
        out.append(
            MetricSeries(
                service=service_of(labels),
                metric=name,
                labels=labels,
                timestamps=[t for t, _ in pts],
                values=[v for _, v in pts],
            )
        )
    return out


class InfluxDBConnector:
    def __init__(self, *, settings: InfluxDBSettings, client: httpx.Client | None = None) -> None:
        if client is None:
            if not settings.url:
                raise ConnectorError(
                    "InfluxDB URL is not set: configure influxdb.url (SHERLOG__INFLUXDB__URL)"
                )
            client = httpx.Client(base_url=settings.url, timeout=settings.timeout_s)
        self.settings = settings
        self.client = client

    def _headers(self) -> dict[str, str]:
        token = self.settings.token.get_secret_value() if self.settings.token else None
        return {"Authorization": f"Token {token}"} if token else {}

    def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            resp = self.client.send(request)
        except httpx.HTTPError as e:
            raise ConnectorError(
                f"InfluxDB at {self.client.base_url} is unreachable ({e.__class__.__name__}); check influxdb.url"
            ) from e
        if resp.status_code >= 400:
            try:
                body = resp.json()
                detail = body.get("message") or body.get("error") or resp.text
            except ValueError:
                detail = resp.text
            hint = " (check influxdb.token)" if resp.status_code in (401, 403) else ""
            raise ConnectorError(f"InfluxDB query failed (HTTP {resp.status_code}): {detail[:300]}{hint}")
        return resp

    def query(self, query: str, *, metric: str | None = None) -> list[MetricSeries]:
        """Run an InfluxQL (version 1) or Flux (version 2) query."""
        if self.settings.version == 1:
            params = {
                "q": query,
                "epoch": "s",
                **({"db": self.settings.database} if self.settings.database else {}),
            }
            req = self.client.build_request("GET", "/query", params=params, headers=self._headers())
            return parse_influxql_json(self._send(req).json(), metric=metric)
        if not self.settings.org:
            raise ConnectorError("InfluxDB 2 needs an organisation: configure influxdb.org")
        req = self.client.build_request(
            "POST",
            "/api/v2/query",
            params={"org": self.settings.org},
            content=query.encode(),
            headers={**self._headers(), "Content-Type": "application/vnd.flux", "Accept": "application/csv"},
        )
        return parse_flux_csv(self._send(req).text, metric=metric)
