"""Build the configured log sources from settings, and fetch every service's lines around an alert.

    sources = build_log_sources(settings.logs, http=client)
    logs, notes = await fetch_incident_logs(sources, services=["checkout"], alert_time=t, settings=settings.logs)

Clients are injected (an ``httpx.AsyncClient`` for Loki and Splunk; optionally an Elasticsearch/OpenSearch
client and a Kubernetes ``CoreV1Api``); when one is not given, it is built from the settings.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx

from bot.domain.errors import ConfigError
from config.settings import LogsSettings
from connectors.logsources.base import LogQuery, LogSource, fetch_service_logs
from connectors.logsources.elasticsearch import ElasticsearchLogSource
from connectors.logsources.files import FileLogSource
from connectors.logsources.kubernetes import KubernetesLogSource
from connectors.logsources.loki import LokiLogSource
from connectors.logsources.splunk import SplunkLogSource


def build_log_sources(settings: LogsSettings, *, http: httpx.AsyncClient, elasticsearch: Any = None,
                      kubernetes_api: Any = None) -> list[LogSource]:
    sources: list[LogSource] = []
    if settings.log_dir:
        sources.append(FileLogSource(settings.log_dir))
    if settings.loki_url:
        sources.append(LokiLogSource(base_url=settings.loki_url, client=http, selector=settings.loki_selector))
    if settings.elasticsearch_url or elasticsearch is not None:
        if elasticsearch is None:
            from elasticsearch import Elasticsearch

            elasticsearch = Elasticsearch(settings.elasticsearch_url)
        sources.append(ElasticsearchLogSource(client=elasticsearch, index=settings.elasticsearch_index,
                                              service_field=settings.elasticsearch_service_field))
    if settings.splunk_url:
        token = settings.splunk_token.get_secret_value() if settings.splunk_token else None
        sources.append(SplunkLogSource(base_url=settings.splunk_url, client=http, token=token,
                                       search=settings.splunk_search))
    if settings.kubernetes_enabled or kubernetes_api is not None:
        sources.append(KubernetesLogSource(core_api=kubernetes_api or _kubernetes_api(),
                                           namespace=settings.kubernetes_namespace,
                                           selector=settings.kubernetes_selector))
    return sources


def _kubernetes_api() -> Any:
    from kubernetes import client, config

    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        try:
            config.load_kube_config()  # type: ignore[no-untyped-call]
        except Exception as e:
            raise ConfigError(f"logs.kubernetes_enabled is true but no cluster credentials were found: {e}") from e
    return client.CoreV1Api()


async def fetch_incident_logs(sources: list[LogSource], *, services: list[str], alert_time: datetime,
                              settings: LogsSettings) -> tuple[dict[str, list[str]], list[str]]:
    """Every service's lines from every source around the alert; notes name the sources that failed."""
    queries = [LogQuery.around(s, alert_time, minutes=settings.window_minutes, after_minutes=settings.after_minutes,
                               limit=settings.max_lines) for s in services]
    results = await asyncio.gather(*(fetch_service_logs(sources, q) for q in queries))
    logs: dict[str, list[str]] = {}
    notes: list[str] = []
    for query, (lines, failed) in zip(queries, results, strict=True):
        if lines:
            logs[query.service] = lines
        notes.extend(f"logs of {query.service}: {note}" for note in failed)
    return logs, notes
