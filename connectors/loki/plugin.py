"""The Loki connector: log lines from ``logs.loki_url``."""

from __future__ import annotations

from typing import Any

from connectors.loki.logs import LokiLogSource
from connectors.plugins import Connector, LogSource, LogSourceClients


def configured(settings: Any) -> bool:
    return bool(settings.logs.loki_url)


def log_source(settings: Any, clients: LogSourceClients) -> LogSource | None:
    if not configured(settings):
        return None
    return LokiLogSource(base_url=settings.logs.loki_url, client=clients.http, selector=settings.logs.loki_selector)


plugin = Connector(name="loki", description="Grafana Loki (logs)", logs_configured=configured, log_source=log_source)
