"""Build the configured log sources from settings, and fetch every service's lines around an alert.

    sources = build_log_sources(settings, http=client)
    logs, notes = await fetch_incident_logs(sources, services=["checkout"], alert_time=t, settings=settings.logs)

Each source comes from its connector (``connectors.registry``: ``files``, ``loki``, ``elasticsearch``, ``splunk``,
``kubernetes`` and any plugin's). Clients are injected (an ``httpx.AsyncClient`` for Loki and Splunk; optionally an Elasticsearch/OpenSearch
client and a Kubernetes ``CoreV1Api``); when one is not given, it is built from the settings.

Each source is asked for the first service alone; when it is unavailable (``LogSourceUnavailable``:
unreachable, credentials refused, 502/503/504) that is one note and the other services are not asked,
so a dead source costs one timeout per incident. Otherwise the other services are asked concurrently,
and failures become one note per source and distinct error, naming the services.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import httpx

from bot.domain.errors import ConnectorError
from config.settings import LogsSettings
from connectors.logsources.base import LogQuery, LogSource, LogSourceUnavailable
from connectors.plugins import LogSourceClients
from connectors.registry import ConnectorRegistry, default_registry

log = logging.getLogger(__name__)


def build_log_sources(settings: Any, *, http: httpx.AsyncClient, elasticsearch: Any = None,
                      kubernetes_api: Any = None, registry: ConnectorRegistry | None = None) -> list[LogSource]:
    """The log sources of the connectors configured in ``settings`` (the whole ``Settings``), in registry order
    (files, Loki, Elasticsearch/OpenSearch, Splunk, Kubernetes, then plugins)."""
    clients = LogSourceClients(http=http, elasticsearch=elasticsearch, kubernetes_api=kubernetes_api)
    return (registry or default_registry()).log_sources(settings, clients)


def _encodable(service: str) -> bool:
    try:
        service.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (possible in JSON): no system can be asked for it
        return False
    return True


async def _from_source(source: LogSource, queries: list[LogQuery]) -> tuple[dict[str, list[str]], list[str]]:
    """(lines per service, notes) of one source: the first service alone, the rest concurrently."""
    logs: dict[str, list[str]] = {}
    failed: dict[str, list[str]] = {}  # error -> services

    async def one(query: LogQuery) -> None:
        try:
            logs[query.service] = await source.fetch(query)
        except LogSourceUnavailable:
            raise
        except ConnectorError as e:
            failed.setdefault(str(e), []).append(query.service)
        except Exception as e:
            log.warning("log source failed unexpectedly", extra={"source": source.name}, exc_info=e)
            failed.setdefault(f"failed unexpectedly ({e.__class__.__name__})", []).append(query.service)

    notes: list[str] = []
    dead: LogSourceUnavailable | None = None
    not_asked = 0
    try:
        await one(queries[0])
    except LogSourceUnavailable as e:
        dead, not_asked = e, len(queries) - 1
    else:
        results = await asyncio.gather(*(one(q) for q in queries[1:]), return_exceptions=True)
        for result in results:
            if isinstance(result, LogSourceUnavailable):
                dead = dead or result
            elif isinstance(result, BaseException):
                raise result
    order = {q.service: n for n, q in enumerate(queries)}
    for error, services in failed.items():
        names = ", ".join(repr(s[:80]) for s in sorted(services, key=order.__getitem__))
        notes.append(f"{source.name}: logs of {names}: {error}")
    if dead is not None:
        left = f"; {not_asked} more services not queried" if not_asked else ""
        notes.append(f"{source.name}: {dead}{left}")
    return logs, [n[:500] for n in notes]


async def fetch_incident_logs(sources: list[LogSource], *, services: list[str], alert_time: datetime,
                              settings: LogsSettings) -> tuple[dict[str, list[str]], list[str]]:
    """Every service's lines from every source around the alert; notes name the sources that failed.

    Lines of a service from several sources are joined in the order of ``sources`` (the newest
    ``max_lines`` kept).
    """
    notes = [f"logs of {s[:80]!r}: not queried, the service name is not valid UTF-8" for s in services
             if not _encodable(s)]
    queries = [LogQuery.around(s, alert_time, minutes=settings.window_minutes, after_minutes=settings.after_minutes,
                               limit=settings.max_lines) for s in services if _encodable(s)]
    if not queries or not sources:
        return {}, notes
    results = await asyncio.gather(*(_from_source(source, queries) for source in sources))
    logs: dict[str, list[str]] = {}
    for query in queries:
        lines = [line for per_source, _ in results for line in per_source.get(query.service, [])]
        if lines:
            logs[query.service] = lines[-query.limit:]
    for _, failed in results:
        notes.extend(failed)
    return logs, notes
