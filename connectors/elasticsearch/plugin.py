"""The Elasticsearch/OpenSearch connector: log lines from ``logs.elasticsearch_url`` (or an injected client)."""

from __future__ import annotations

from typing import Any

from connectors.elasticsearch.logs import ElasticsearchLogSource
from connectors.plugins import Connector, LogSource, LogSourceClients


def configured(settings: Any) -> bool:
    return bool(settings.logs.elasticsearch_url)


def log_source(settings: Any, clients: LogSourceClients) -> LogSource | None:
    cfg = settings.logs
    client = clients.elasticsearch
    if not cfg.elasticsearch_url and client is None:
        return None
    if client is None:
        from elasticsearch import Elasticsearch  # optional dependency

        # no retries: a dead cluster is one note per incident, not one per retry
        client = Elasticsearch(cfg.elasticsearch_url, max_retries=0, request_timeout=15)
    return ElasticsearchLogSource(client=client, index=cfg.elasticsearch_index,
                                  service_field=cfg.elasticsearch_service_field, url=cfg.elasticsearch_url)


plugin = Connector(name="elasticsearch", description="Elasticsearch / OpenSearch (logs)", logs_configured=configured,
                   log_source=log_source)
