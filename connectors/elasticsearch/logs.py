"""Elasticsearch / OpenSearch: a time-range search for the service's documents, paged with search_after.

Takes an official client: ``elasticsearch.Elasticsearch`` / ``AsyncElasticsearch``, or OpenSearch's
``opensearchpy.OpenSearch`` / ``AsyncOpenSearch`` (the same ``search(index=..., body=...)`` call).
The service name goes into a ``term`` filter as JSON data (never into a ``query_string``), so
any name, with quotes, ``OR``, ``*`` or control characters, matches exactly the documents whose
service field holds that value. Each hit becomes one JSON line holding its timestamp, level, service
and message, which the log parser reads like any JSON log line.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import Any

from bot.domain.errors import ConnectorError
from connectors.logsources.base import (
    UNAVAILABLE_STATUS,
    LogQuery,
    LogSourceUnavailable,
    iso,
    without_userinfo,
)

PAGE = 5000


def _get(source: dict[str, Any], dotted: str) -> Any:
    if dotted in source:
        return source[dotted]
    node: Any = source
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def hit_to_line(hit: dict[str, Any], *, time_field: str, message_fields: tuple[str, ...]) -> str:
    """One JSON log line from a search hit."""
    source = hit.get("_source") or {}
    message = next((m for m in (_get(source, f) for f in message_fields) if m not in (None, "")), None)
    if message is None:
        message = json.dumps(source, default=str)[:4000]
    line = {
        "ts": _get(source, time_field),
        "level": _get(source, "log.level") or _get(source, "level") or _get(source, "severity"),
        "service": _get(source, "service.name") or _get(source, "service"),
        "msg": message,
    }
    return json.dumps({k: v for k, v in line.items() if v is not None}, default=str)


_TRANSPORT_FAILURES = frozenset({"ConnectionError", "ConnectionTimeout", "TimeoutError", "TlsError", "SSLError"})


def _status(error: Exception) -> int | None:
    """The HTTP status of a client error: ``meta.status`` (elasticsearch 8+) or ``status_code`` (opensearch-py)."""
    status = getattr(getattr(error, "meta", None), "status", None)
    if status is None:
        status = getattr(error, "status_code", None)
    return status if isinstance(status, int) else None


def is_unavailable(error: Exception) -> bool:
    """Whether a client error means the cluster is down or refuses us (not just this one search)."""
    status = _status(error)
    if status is not None:
        return status in UNAVAILABLE_STATUS
    return any(cls.__name__ in _TRANSPORT_FAILURES for cls in type(error).__mro__)


class ElasticsearchLogSource:
    name = "elasticsearch"

    def __init__(self, *, client: Any, index: str = "logs-*", service_field: str = "service.name",
                 time_field: str = "@timestamp", message_fields: tuple[str, ...] = ("message", "log", "msg"),
                 url: str | None = None) -> None:
        self.client = client
        self.where = without_userinfo(url) if url else "the configured cluster"
        self.index = index
        self.service_field = service_field
        self.time_field = time_field
        self.message_fields = message_fields

    def body(self, query: LogQuery, size: int, after: list[Any] | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "size": size,
            "query": {"bool": {"filter": [
                {"term": {self.service_field: query.service}},
                {"range": {self.time_field: {"gte": iso(query.start), "lte": iso(query.end)}}},
            ]}},
            "sort": [{self.time_field: {"order": "asc"}}, {"_doc": {"order": "asc"}}],
            "_source": True,
        }
        if after is not None:
            body["search_after"] = after
        return body

    async def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        search = self.client.search
        try:
            if inspect.iscoroutinefunction(search):
                result = await search(index=self.index, body=body)
            else:
                result = await asyncio.to_thread(search, index=self.index, body=body)
        except Exception as e:  # the clients raise their own transport/API error classes
            if is_unavailable(e):
                status = _status(e)
                what = f"answered HTTP {status}" if status is not None else f"is unreachable ({e.__class__.__name__})"
                raise LogSourceUnavailable(f"Elasticsearch/OpenSearch at {self.where} {what}; "
                                           "check logs.elasticsearch_url and its credentials") from e
            raise ConnectorError(f"{self.name} search on {self.index!r} failed: {str(e)[:300]} "
                                 "(check logs.elasticsearch_index, logs.elasticsearch_service_field)") from e
        return dict(getattr(result, "body", result))

    async def fetch(self, query: LogQuery) -> list[str]:
        lines: list[str] = []
        after: list[Any] | None = None
        while len(lines) < query.limit:
            size = min(PAGE, query.limit - len(lines))
            result = await self._search(self.body(query, size, after))
            hits = (result.get("hits") or {}).get("hits") or []
            for hit in hits:
                lines.append(hit_to_line(hit, time_field=self.time_field, message_fields=self.message_fields))
            if len(hits) < size or not hits[-1].get("sort"):
                break
            after = hits[-1]["sort"]
        return lines
