"""Grafana Loki: ``GET /loki/api/v1/query_range`` around the alert, paged forward by time.

The LogQL selector is a template with ``{service}`` written without quotes (default
``{app={service}}``); ``logql`` fills it in as a complete, escaped LogQL string literal (Go escapes for
backslash, double quote, newline, carriage return and tab; other control characters as hex escapes),
and after a regex matcher (``=~``, ``!~``, ``|~``) the value's RE2 metacharacters are escaped too, so a
service name from an alert matches exactly itself and cannot change the query. Loki caps one answer
(``max_entries_limit_per_query``, 5,000 by default), so the source pages: each next request starts one
nanosecond after the newest entry of the previous page. Entries of all streams are merged
by time; a line without a time of its own gets its Loki timestamp in front (``stamp``).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.domain.errors import ConnectorError
from connectors.logsources.base import (
    UNAVAILABLE_STATUS,
    LogQuery,
    LogSourceUnavailable,
    stamp,
    without_userinfo,
)
from connectors.prometheus.client import promql_string, regex_literal

log = logging.getLogger(__name__)


def _ns(ts: datetime) -> int:
    return int(ts.astimezone(UTC).timestamp() * 1e9)


PLACEHOLDER = "{service}"
_AFTER_REGEX_MATCHER = re.compile(r"[=!|]~\s*$")


def render_selector(template: str, service: str) -> str:
    """``template`` with each ``{service}`` replaced by ``service`` as a quoted, escaped LogQL string.

    LogQL reads strings like Go (``strconv.Unquote``), as PromQL does, so the same literal is safe
    here. After ``=~``, ``!~`` (label matchers, anchored) and ``|~`` (line filter) the value is
    RE2-escaped first. A lone surrogate raises ``ValueError``.
    """
    parts = template.split(PLACEHOLDER)
    out = parts[0]
    for part in parts[1:]:
        regex = _AFTER_REGEX_MATCHER.search(out) is not None
        out += promql_string(regex_literal(service) if regex else service) + part
    return out


def parse_query_range(payload: dict[str, Any]) -> list[tuple[int, str, dict[str, str]]]:
    """(timestamp ns, line, stream labels) of a query_range response, oldest first."""
    if payload.get("status") != "success":
        raise ConnectorError(f"Loki answered status {payload.get('status')!r}: {payload.get('error', '')}")
    data = payload.get("data") or {}
    if data.get("resultType") != "streams":
        raise ConnectorError(f"Loki answered {data.get('resultType')!r} results; give a log selector, not a metric query")
    entries: list[tuple[int, str, dict[str, str]]] = []
    for stream in data.get("result") or []:
        labels = stream.get("stream") or {}
        for ts, line, *_ in stream.get("values") or []:
            entries.append((int(ts), str(line), labels))
    entries.sort(key=lambda e: e[0])
    return entries


class LokiLogSource:
    name = "loki"

    def __init__(self, *, base_url: str, client: httpx.AsyncClient, selector: str = "{app={service}}",
                 page_size: int = 5000, headers: dict[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.selector = selector
        self.page_size = page_size
        self.headers = headers or {}

    def logql(self, service: str) -> str:
        return render_selector(self.selector, service)

    async def fetch(self, query: LogQuery) -> list[str]:
        url = f"{self.base_url}/loki/api/v1/query_range"
        start, end = _ns(query.start), _ns(query.end)
        where = without_userinfo(self.base_url)
        try:
            logql = self.logql(query.service)
        except ValueError as e:
            raise ConnectorError(f"{e}; not queried (logs.loki_selector)") from e
        lines: list[str] = []
        while len(lines) < query.limit:
            params: dict[str, str | int] = {
                "query": logql, "start": start, "end": end,
                "limit": min(self.page_size, query.limit - len(lines)), "direction": "forward",
            }
            try:
                response = await self.client.get(url, params=params, headers=self.headers)
            except httpx.HTTPError as e:
                raise LogSourceUnavailable(
                    f"Loki at {where} is unreachable ({e.__class__.__name__}); check logs.loki_url") from e
            if response.status_code in UNAVAILABLE_STATUS:
                hint = "the credentials or tenant" if response.status_code in (401, 403) else "that Loki is up"
                raise LogSourceUnavailable(f"Loki at {where} answered HTTP {response.status_code}; "
                                           f"check logs.loki_url and {hint}")
            if response.status_code != 200:
                raise ConnectorError(f"Loki query_range failed with HTTP {response.status_code}: "
                                     f"{response.text[:200]} (check logs.loki_selector)")
            try:
                entries = parse_query_range(response.json())
            except ValueError as e:
                raise ConnectorError(f"Loki answered something that is not JSON: {e}") from e
            for ts, line, _labels in entries:
                lines.append(stamp(datetime.fromtimestamp(ts / 1e9, UTC), line))
            if len(entries) < params["limit"]:  # type: ignore[operator]
                break
            start = entries[-1][0] + 1
        return lines[: query.limit]
