"""Grafana Loki: ``GET /loki/api/v1/query_range`` around the alert, paged forward by time.

The LogQL selector is a template with ``{service}`` (default ``{app="{service}"}``). Loki caps one
answer (``max_entries_limit_per_query``, 5,000 by default), so the source pages: each next request
starts one nanosecond after the newest entry of the previous page. Entries of all streams are merged
by time; a line without a time of its own gets its Loki timestamp in front (``stamp``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.domain.errors import ConnectorError
from connectors.logsources.base import LogQuery, stamp

log = logging.getLogger(__name__)


def _ns(ts: datetime) -> int:
    return int(ts.astimezone(UTC).timestamp() * 1e9)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


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

    def __init__(self, *, base_url: str, client: httpx.AsyncClient, selector: str = '{{app="{service}"}}',
                 page_size: int = 5000, headers: dict[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.selector = selector
        self.page_size = page_size
        self.headers = headers or {}

    def logql(self, service: str) -> str:
        return self.selector.format(service=_escape(service))

    async def fetch(self, query: LogQuery) -> list[str]:
        url = f"{self.base_url}/loki/api/v1/query_range"
        start, end = _ns(query.start), _ns(query.end)
        lines: list[str] = []
        while len(lines) < query.limit:
            params: dict[str, str | int] = {
                "query": self.logql(query.service), "start": start, "end": end,
                "limit": min(self.page_size, query.limit - len(lines)), "direction": "forward",
            }
            try:
                response = await self.client.get(url, params=params, headers=self.headers)
            except httpx.HTTPError as e:
                raise ConnectorError(f"Loki at {self.base_url} is unreachable: {e}") from e
            if response.status_code != 200:
                raise ConnectorError(f"Loki query_range failed with HTTP {response.status_code}: {response.text[:200]}")
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
