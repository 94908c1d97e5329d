"""InfluxDB (optional metrics source): 1.x InfluxQL over ``/query`` and 2.x Flux over ``/api/v2/query``.

Both answers become ``MetricSeries`` through pure functions tested on the documented formats:
``parse_influxql_json`` (1.x JSON ``{"results": [{"series": [{"name", "tags", "columns", "values"}]}]}``),
``parse_influxql_chunks`` (the same, streamed as one JSON object per line with ``chunked=true``) and
``parse_flux_csv`` (2.x annotated CSV, one block per table). ``InfluxDBConnector`` wraps an injected
``httpx.Client``.

Against a real InfluxDB 1.x (tests/connectors/test_influxdb_integration.py) the 1.x path asks for
``epoch=u`` (microseconds, exactly what a ``datetime`` holds; ``epoch=s`` would truncate sub-second
points onto the same second) and ``chunked=true`` (the server's ``max-row-limit`` silently cuts a
non-chunked answer, marking it only with ``"partial": true``). Credentials ``user:password`` go as HTTP
Basic auth, which every 1.x accepts (``Authorization: Token`` is understood only from 1.8 on).

For a live incident, ``fetch_for_alert`` runs the configured per-service queries (``influxdb.queries``:
name -> InfluxQL or Flux template) over the window around the alert, like the Prometheus connector.
``render_query`` fills ``{service}``, ``{start}`` and ``{end}`` with ready-quoted literals: the
service is an escaped string (InfluxQL ``'...'``, Flux ``"..."``), so a label value cannot change
the query; the times are RFC3339 (a quoted string in InfluxQL, a time literal in Flux).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import math
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bot.domain.errors import ConnectorError, PayloadError
from bot.domain.models import Alert, MetricSeries
from connectors.influxdb.settings import InfluxDBSettings
from connectors.prometheus.client import fetch_alert_queries, service_of

log = logging.getLogger(__name__)

_FLUX_META = {"", "result", "table", "_start", "_stop", "_time", "_value", "_field", "_measurement"}
_EPOCH_PER_SECOND = {"ns": 1_000_000_000, "u": 1_000_000, "ms": 1_000, "s": 1}  # InfluxQL epoch= units
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PLACEHOLDER = re.compile(r"\{(?:service|start|end)\}")


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


def _epoch_time(value: Any, epoch: str | None) -> datetime:
    """A ``time`` cell: an integer in the requested ``epoch`` unit (exact to the microsecond), else RFC3339."""
    try:
        if epoch is not None and isinstance(value, int) and not isinstance(value, bool):
            return _UNIX_EPOCH + timedelta(microseconds=value * 1_000_000 // _EPOCH_PER_SECOND[epoch])
        return _time(value)
    except (TypeError, ValueError, OverflowError) as e:
        raise PayloadError(f"unreadable InfluxDB time {value!r}") from e


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _is_label_column(rows: list[list[Any]], ci: int) -> bool:
    present = [r[ci] for r in rows if r[ci] is not None]
    return bool(present) and all(isinstance(v, str) for v in present)


def parse_influxql_json(
    payload: dict[str, Any], *, metric: str | None = None, epoch: str | None = None
) -> list[MetricSeries]:
    """Series of an InfluxDB 1.x ``/query`` answer; one series per (measurement, tags, value column).

    ``epoch`` is the unit the query asked for (``ns``, ``u``, ``ms``, ``s``); without it integer times
    are read as seconds, or nanoseconds when they are that large, and strings as RFC3339. Columns that
    hold only strings (tags selected without ``GROUP BY``, as ``SELECT *`` returns them, or string
    fields) are labels: the rows are split by their values. A value column with no value at all for a
    set of labels gives no series; ``null`` points inside a series (``fill(null)``) stay as NaN. A
    series is named ``metric`` (default: the measurement), with ``_<column>`` appended when the
    statement returns several value columns.
    """
    if epoch is not None and epoch not in _EPOCH_PER_SECOND:
        raise ValueError(f"epoch must be one of {sorted(_EPOCH_PER_SECOND)}, got {epoch!r}")
    if not isinstance(payload, dict):
        raise PayloadError("an InfluxDB answer must be a JSON object with 'results'")
    if payload.get("error"):
        raise PayloadError(f"InfluxDB answered an error: {payload['error']}")
    out: list[MetricSeries] = []
    for result in payload.get("results", []) or []:
        if not isinstance(result, dict) or not all(isinstance(x, dict) for x in result.get("series") or []):
            raise PayloadError("each InfluxDB result must be an object with a list of series objects")
        if result.get("error"):
            raise PayloadError(
                f"InfluxDB statement {result.get('statement_id', '?')} failed: {result['error']}"
            )
        for s in result.get("series", []) or []:
            columns = [str(c) for c in s.get("columns", [])]
            if "time" not in columns:
                raise PayloadError(
                    "an InfluxDB series needs a 'time' column (query with epoch or RFC3339 times)"
                )
            ti = columns.index("time")
            measurement = str(s.get("name", "value"))
            tags = {str(k): str(v) for k, v in (s.get("tags") or {}).items()}
            rows = [r for r in s.get("values", []) or [] if isinstance(r, list) and len(r) == len(columns)]
            label_cols = [ci for ci in range(len(columns)) if ci != ti and _is_label_column(rows, ci)]
            value_cols = [ci for ci in range(len(columns)) if ci != ti and ci not in label_cols]
            groups: dict[tuple[tuple[str, str], ...], list[list[Any]]] = {}
            for r in rows:
                key = tuple((columns[ci], str(r[ci])) for ci in label_cols if r[ci] is not None)
                groups.setdefault(key, []).append(r)
            for key, group in groups.items():
                labels = {**tags, **dict(key)}
                for ci in value_cols:
                    if all(r[ci] is None for r in group):
                        continue
                    base = metric or measurement
                    name = base if len(value_cols) == 1 else f"{base}_{columns[ci]}"
                    pts = sorted((_epoch_time(r[ti], epoch), _num(r[ci])) for r in group)
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


def parse_influxql_chunks(
    text: str, *, metric: str | None = None, epoch: str | None = None
) -> list[MetricSeries]:
    """Series of a chunked (``chunked=true``) 1.x answer: one JSON object per line.

    The server splits a series over several chunks (each marked ``"partial": true`` but the last);
    the parts of a statement's series with the same measurement, tags and columns are joined first.
    """
    merged: dict[Any, dict[str, Any]] = {}  # statement id -> result
    parts: dict[tuple[Any, ...], dict[str, Any]] = {}
    top_error: str | None = None
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            chunk = json.loads(line)
        except ValueError as e:
            raise PayloadError(f"InfluxDB answer line {n} is not JSON: {line[:80]!r}") from e
        if not isinstance(chunk, dict):
            raise PayloadError(f"InfluxDB answer line {n} is not a JSON object")
        if chunk.get("error"):
            top_error = top_error or str(chunk["error"])
        for result in chunk.get("results", []) or []:
            if not isinstance(result, dict) or not all(
                isinstance(x, dict) for x in result.get("series") or []
            ):
                raise PayloadError(
                    f"InfluxDB answer line {n}: a result must be an object with series objects"
                )
            sid = result.get("statement_id", 0)
            into = merged.setdefault(sid, {"statement_id": sid, "series": []})
            if result.get("error") and not into.get("error"):
                into["error"] = result["error"]
            for s in result.get("series", []) or []:
                key = (
                    sid,
                    s.get("name"),
                    tuple(sorted((s.get("tags") or {}).items())),
                    tuple(s.get("columns", [])),
                )
                if key in parts:
                    parts[key]["values"].extend(s.get("values", []) or [])
                else:
                    part = {k: v for k, v in s.items() if k != "partial"}
                    part["values"] = list(s.get("values", []) or [])
                    parts[key] = part
                    into["series"].append(part)
    payload: dict[str, Any] = {"results": list(merged.values())}
    if top_error:
        payload["error"] = top_error
    return parse_influxql_json(payload, metric=metric, epoch=epoch)


def parse_flux_csv(text: str, *, metric: str | None = None) -> list[MetricSeries]:
    """Series of an InfluxDB 2.x annotated-CSV answer; one series per table (measurement, field, tags).

    A series is named ``<measurement>_<field>``, or ``metric`` when given (``<metric>_<field>`` when
    the answer holds several fields).
    """
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
    several_fields = len({fld for _, fld, _ in groups}) > 1
    for (measurement, fld, tags), pts in groups.items():
        labels = dict(tags)
        pts.sort()
        if metric:
            name = f"{metric}_{fld}" if several_fields and fld else metric
        else:
            name = "_".join(x for x in (measurement, fld) if x) or "value"
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


def _unquotable(value: str, allowed: str) -> list[str]:
    return sorted({repr(ch) for ch in value if (ord(ch) < 32 and ch not in allowed) or ord(ch) == 127})


def influxql_string(value: str) -> str:
    """``value`` as a single-quoted InfluxQL string literal (backslash, quote and newline escaped).

    InfluxQL has no escape for the other control characters and a raw carriage return or NUL breaks
    the statement (influxd 1.6 answers "error parsing query"), so a value holding one is refused.
    """
    bad = _unquotable(value, "\t\n")
    if bad:
        raise ValueError(f"{value!r} holds control characters InfluxQL cannot quote ({', '.join(bad)})")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def flux_string(value: str) -> str:
    """``value`` as a double-quoted Flux string literal (backslash, quote, ``${`` and newlines escaped)."""
    bad = _unquotable(value, "\t\n\r")
    if bad:
        raise ValueError(f"{value!r} holds control characters a Flux string cannot hold ({', '.join(bad)})")
    out = value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    return '"' + out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


def render_query(template: str, *, version: int, service: str, start: datetime, end: datetime) -> str:
    """A query template with ``{service}``, ``{start}`` and ``{end}`` filled in as literals.

    Version 1 (InfluxQL): ``'<service>'`` and ``'<RFC3339>'`` strings; version 2 (Flux): a
    ``"<service>"`` string and bare RFC3339 time literals. Write the placeholders without quotes
    (``WHERE "service" = {service}``, ``range(start: {start}, stop: {end})``). Other braces (Flux
    records) are left alone. A service the language cannot quote raises ``ValueError``.
    """
    times = [t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") for t in (start, end)]
    if version == 1:
        values = {
            "{service}": influxql_string(service),
            **{k: f"'{t}'" for k, t in zip(("{start}", "{end}"), times, strict=True)},
        }
    else:
        values = {"{service}": flux_string(service), **dict(zip(("{start}", "{end}"), times, strict=True))}
    return _PLACEHOLDER.sub(lambda m: values[m.group(0)], template)  # one pass: values are never re-read


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

    @property
    def _where(self) -> str:
        return str(self.client.base_url.copy_with(userinfo=b""))  # never print credentials in a URL

    def _headers(self) -> dict[str, str]:
        token = self.settings.token.get_secret_value() if self.settings.token else None
        if not token:
            return {}
        if self.settings.version == 1 and ":" in token:  # user:password; Basic works on every 1.x
            return {"Authorization": "Basic " + base64.b64encode(token.encode()).decode("ascii")}
        return {"Authorization": f"Token {token}"}

    def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            resp = self.client.send(request)
        except httpx.HTTPError as e:
            raise ConnectorError(
                f"InfluxDB at {self._where} is unreachable ({e.__class__.__name__}); check influxdb.url"
            ) from e
        if resp.status_code >= 400:
            try:
                body = resp.json()
                detail = str(
                    (body.get("message") or body.get("error") if isinstance(body, dict) else None)
                    or resp.text
                )
            except ValueError:
                detail = resp.text
            hint = " (check influxdb.token)" if resp.status_code in (401, 403) else ""
            raise ConnectorError(f"InfluxDB query failed (HTTP {resp.status_code}): {detail[:300]}{hint}")
        return resp

    def query(self, query: str, *, metric: str | None = None) -> list[MetricSeries]:
        """Run an InfluxQL (version 1) or Flux (version 2) query.

        An error the server reports inside a successful answer (unknown database, a failing
        statement, a Flux error row) is a ``ConnectorError`` like a failed request.
        """
        if self.settings.version == 1:
            params = {
                "q": query,
                "epoch": "u",
                "chunked": "true",
                **({"db": self.settings.database} if self.settings.database else {}),
            }
            req = self.client.build_request("GET", "/query", params=params, headers=self._headers())
            text = self._send(req).text
            try:
                return parse_influxql_chunks(text, metric=metric, epoch="u")
            except PayloadError as e:
                hint = " (check influxdb.database)" if "database not found" in str(e) else ""
                raise ConnectorError(f"InfluxDB at {self._where}: {e}{hint}") from e
        if not self.settings.org:
            raise ConnectorError("InfluxDB 2 needs an organisation: configure influxdb.org")
        req = self.client.build_request(
            "POST",
            "/api/v2/query",
            params={"org": self.settings.org},
            content=query.encode(),
            headers={**self._headers(), "Content-Type": "application/vnd.flux", "Accept": "application/csv"},
        )
        try:
            return parse_flux_csv(self._send(req).text, metric=metric)
        except PayloadError as e:
            raise ConnectorError(f"InfluxDB at {self._where}: {e}") from e

    def fetch_for_alert(
        self,
        alert: Alert,
        *,
        services: list[str] | None = None,
        now: datetime | None = None,
        failures: list[str] | None = None,
    ) -> list[MetricSeries]:
        """The configured per-service queries (``influxdb.queries``) over the window around the alert.

        The window is ``lookback_minutes`` before the alert to as long after it (not past ``now``), as
        for Prometheus. Each series takes the queried service and the query's name as its metric. A
        query that fails is skipped (partial metrics still help an analysis) and described in
        ``failures``, one line per distinct error; once the server is unreachable the remaining
        queries are not sent.
        """
        def run(svc: str, metric: str, template: str, start: datetime, end: datetime) -> list[MetricSeries]:
            query = render_query(template, version=self.settings.version, service=svc, start=start, end=end)
            return [s.model_copy(update={"service": svc}) for s in self.query(query, metric=metric)]

        return fetch_alert_queries(
            alert, self.settings.queries, source="influxdb", lookback_minutes=self.settings.lookback_minutes,
            run=run, unavailable=lambda e: isinstance(e.__cause__, httpx.TransportError),
            services=services, now=now, failures=failures,
        )
