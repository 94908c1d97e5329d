"""Splunk: the search export REST endpoint (``POST /services/search/jobs/export``), streamed.

The export endpoint answers with one JSON object per line (``output_mode=json``); each result holds
``_raw`` (the original event) and ``_time``. The search is a template with ``{service}`` written
without quotes (default ``search index=* service={service}``); ``render_search`` fills it in as a
double-quoted SPL string (backslash and double quote escaped), so a pipe, space or ``OR`` in a
service name stays inside the value and cannot add a command or a term. SPL cannot escape its ``*``
wildcard, so a name holding ``*`` is not searched (a note says so). earliest/latest bound the search
to the query window. Auth is a Splunk bearer token (``Authorization: Bearer ...``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.domain.errors import ConnectorError
from connectors.logsources.base import (
    UNAVAILABLE_STATUS,
    LogQuery,
    LogSourceUnavailable,
    iso,
    stamp,
    without_userinfo,
)

PLACEHOLDER = "{service}"


def spl_string(value: str) -> str:
    """``value`` as a double-quoted SPL string: ``\\`` and ``\"`` escaped, everything else literal
    (quotes keep pipes, spaces and keywords inside the value). Raises ``ValueError`` for ``*``, the
    search wildcard, which SPL gives no escape for."""
    if "*" in value:
        raise ValueError("the service name holds '*', a wildcard in Splunk search that cannot be escaped")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_search(template: str, service: str) -> str:
    """``template`` with each ``{service}`` replaced by ``service`` as a quoted, escaped SPL string."""
    return template.replace(PLACEHOLDER, spl_string(service))


def parse_export_line(text: str) -> tuple[str, str | None] | None:
    """(raw event, _time) of one export line, None for previews, messages and blank lines."""
    text = text.strip()
    if not text:
        return None
    try:
        obj: Any = json.loads(text)
    except ValueError:
        return None
    if not isinstance(obj, dict) or obj.get("preview") is True:
        return None
    result = obj.get("result")
    if not isinstance(result, dict) or "_raw" not in result:
        return None
    return str(result["_raw"]), (str(result["_time"]) if result.get("_time") else None)


def _time(text: str | None) -> datetime | None:
    """Splunk's ``_time``: ISO-8601 (``2024-01-02T03:04:05.000+00:00``) or epoch seconds."""
    if not text:
        return None
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


class SplunkLogSource:
    name = "splunk"

    def __init__(self, *, base_url: str, client: httpx.AsyncClient, token: str | None = None,
                 search: str = "search index=* service={service}") -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.token = token
        self.search = search

    async def fetch(self, query: LogQuery) -> list[str]:
        where = without_userinfo(self.base_url)
        try:
            search = render_search(self.search, query.service)
        except ValueError as e:
            raise ConnectorError(f"{e}; not queried (logs.splunk_search)") from e
        data = {
            "search": search + f" | head {query.limit}",
            "earliest_time": iso(query.start), "latest_time": iso(query.end), "output_mode": "json",
        }
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        lines: list[str] = []
        try:
            async with self.client.stream("POST", f"{self.base_url}/services/search/jobs/export", data=data,
                                          headers=headers) as response:
                if response.status_code in UNAVAILABLE_STATUS:
                    hint = "logs.splunk_token" if response.status_code in (401, 403) else "that Splunk is up"
                    raise LogSourceUnavailable(f"Splunk at {where} answered HTTP {response.status_code}; "
                                               f"check logs.splunk_url and {hint}")
                if response.status_code != 200:
                    body = (await response.aread()).decode("utf-8", errors="replace")[:200]
                    raise ConnectorError(f"Splunk export failed with HTTP {response.status_code}: {body} "
                                         "(check logs.splunk_search)")
                async for text in response.aiter_lines():
                    item = parse_export_line(text)
                    if item is None:
                        continue
                    raw, when = item
                    ts = _time(when)
                    lines.append(stamp(ts, raw) if ts is not None else raw)
                    if len(lines) >= query.limit:
                        break
        except httpx.HTTPError as e:
            raise LogSourceUnavailable(
                f"Splunk at {where} is unreachable ({e.__class__.__name__}); check logs.splunk_url") from e
        return lines
