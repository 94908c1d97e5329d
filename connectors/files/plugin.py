"""The files connector: log lines from ``logs.log_dir``."""

from __future__ import annotations

from typing import Any

from connectors.files.logs import FileLogSource
from connectors.plugins import Connector, LogSource, LogSourceClients


def configured(settings: Any) -> bool:
    return bool(settings.logs.log_dir)


def log_source(settings: Any, clients: LogSourceClients) -> LogSource | None:
    return FileLogSource(settings.logs.log_dir) if configured(settings) else None


plugin = Connector(name="files", description="log files (<logs.log_dir>/<service>.log)", logs_configured=configured,
                   log_source=log_source)
