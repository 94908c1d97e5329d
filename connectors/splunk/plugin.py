"""The Splunk connector: log lines from ``logs.splunk_url``."""

from __future__ import annotations

from typing import Any

from connectors.plugins import Connector, LogSource, LogSourceClients
from connectors.splunk.logs import SplunkLogSource


def configured(settings: Any) -> bool:
    return bool(settings.logs.splunk_url)


def log_source(settings: Any, clients: LogSourceClients) -> LogSource | None:
    if not configured(settings):
        return None
    cfg = settings.logs
    token = cfg.splunk_token.get_secret_value() if cfg.splunk_token else None
    return SplunkLogSource(base_url=cfg.splunk_url, client=clients.http, token=token, search=cfg.splunk_search)


plugin = Connector(name="splunk", description="Splunk search (logs)", logs_configured=configured,
                   log_source=log_source)
