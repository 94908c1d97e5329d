"""Integrations as plugins: one ``Connector`` per vendor, one ``Protocol`` per capability.

A vendor lives in one package, ``connectors/<vendor>/``: its payload parser, client, write-back, settings
model and verifier, and a ``plugin.py`` whose ``plugin`` object (a ``Connector``) says what the vendor can
do. Each ``Connector`` is listed in the ``sherlog.connectors`` entry-point group and loaded by
``connectors.registry``; a third party adds one the same way, from its own pip package::

    [project.entry-points."sherlog.connectors"]
    nagios = "sherlog_nagios:plugin"

Capabilities (a connector fills the fields of those it has; each factory receives the whole settings (a chat
surface also the pipeline and the store the composition root built) and returns None when its vendor is not
configured):

| capability | field | protocol |
|---|---|---|
| alert intake (``POST /api/v1/alerts/<name>``, queues, bundles) | ``alert_source`` | ``AlertSource`` |
| metrics around an alert | ``metric_source`` | ``MetricSource`` |
| log lines around an alert | ``log_source`` | ``LogSource`` |
| evidence read live (Kubernetes objects) | ``evidence_source`` | a builder of a collector |
| write-back (notes, acknowledge, resolve) | ``incident_tool`` | ``IncidentTool`` |
| chat surface (posts analyses, takes commands) | ``chat_surface`` | ``ChatSurface`` |
| webhook authentication | ``webhook_verifier`` | ``WebhookVerifier`` |

Settings: a built-in connector's ``settings_model`` is the type of the ``Settings`` section named
``settings_section`` (``config.settings`` declares the built-in sections with these very models); a third-party
connector's section is read from ``plugins.<name>`` in the YAML and validated by its model
(``Connector.section``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.domain import Alert, ConfigError, MetricSeries
from connectors.logsources.base import LogSource


class SettingsSection(BaseModel):
    """Base of every settings section: an unknown key is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Capability(StrEnum):
    ALERTS = "alerts"
    METRICS = "metrics"
    LOGS = "logs"
    EVIDENCE = "evidence"
    WRITEBACK = "writeback"
    CHAT = "chat"
    WEBHOOK_VERIFIER = "webhook_verifier"


@runtime_checkable
class AlertSource(Protocol):
    """A vendor's webhook payloads -> ``Alert`` objects: a pure parser. ``SOURCE`` is the name in the intake URL.
    One that sets ``ALLOW_EMPTY = True`` may return no alert for a valid payload."""

    SOURCE: str

    def parse(self, payload: Any) -> list[Alert]: ...

    def looks_like(self, payload: dict[str, Any]) -> bool: ...


class MetricSource(Protocol):
    """A metrics system read around an alert. A failed query is a line in ``failures``, not an exception;
    ``ConnectorError`` when the system cannot be asked at all."""

    def fetch_for_alert(self, alert: Alert, *, services: list[str] | None = None, now: datetime | None = None,
                        failures: list[str] | None = None) -> list[MetricSeries]: ...


NOTE_LIMIT = 4000  # characters of one note written back to an incident tool


class IncidentTool(Protocol):
    """Write-back to the incident tool an incident came from (keyed like ``Incident.external_refs``).
    Each call raises ``ConnectorError`` when the vendor refuses or cannot be reached. ``marker`` ends the
    note a status change carries, so a write whose answer was lost can be found among ``note_texts``."""

    name: str

    def add_note(self, ref: str, text: str) -> None: ...

    def acknowledge(self, ref: str, user: str, *, marker: str = "") -> None: ...

    def resolve(self, ref: str, user: str, *, marker: str = "") -> None: ...

    def note_texts(self, ref: str) -> list[str]:
        """The texts of the notes the vendor holds on ``ref`` (raises ``ConnectorError``)."""
        ...


class ChatSurface(Protocol):
    """A chat surface: subscribes to the pipeline's events to post analyses (its own start/stop run in the
    process runtime)."""

    def subscribe(self) -> None: ...


@dataclass(frozen=True)
class LogSourceClients:
    """Clients shared by the log sources of one analysis (injected; built from settings when None)."""

    http: httpx.AsyncClient
    elasticsearch: Any = None
    kubernetes_api: Any = None


@dataclass(frozen=True)
class WebhookVerifier:
    """Authenticates a vendor's webhooks. ``middleware(app, **options)`` is an ASGI middleware that sees the raw
    body as it streams (to hash it); ``reject(scope)`` then returns why the request is refused, or None."""

    middleware: type[Any]
    options: Mapping[str, Any]
    reject: Callable[[Mapping[str, Any]], str | None]


@dataclass(frozen=True)
class Connector:
    """One vendor's plugin: its name, settings section and a factory per capability it has."""

    name: str
    description: str = ""
    settings_section: str | None = None
    settings_model: type[BaseModel] | None = None
    alert_source: AlertSource | None = None
    metric_source: Callable[[Any], MetricSource | None] | None = None
    logs_configured: Callable[[Any], bool] | None = None
    log_source: Callable[[Any, LogSourceClients], LogSource | None] | None = None
    evidence_source: Callable[[Any], Callable[[], Any] | None] | None = None
    incident_tool: Callable[[Any, httpx.Client | None], IncidentTool | None] | None = None
    chat_surface: Callable[[Any, Any, Any], ChatSurface | None] | None = None  # (settings, pipeline, store)
    webhook_verifier: Callable[[Any], WebhookVerifier | None] | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)

    @property
    def capabilities(self) -> frozenset[Capability]:
        slots = {Capability.ALERTS: self.alert_source, Capability.METRICS: self.metric_source,
                 Capability.LOGS: self.log_source, Capability.EVIDENCE: self.evidence_source,
                 Capability.WRITEBACK: self.incident_tool, Capability.CHAT: self.chat_surface,
                 Capability.WEBHOOK_VERIFIER: self.webhook_verifier}
        return frozenset(c for c, slot in slots.items() if slot is not None)

    def section(self, settings: Any) -> BaseModel | None:
        """This connector's settings: the ``Settings`` section of a built-in, else ``plugins.<name>`` validated
        by ``settings_model`` (its defaults when the section is absent); None without a model."""
        if self.settings_section and hasattr(settings, self.settings_section):
            value: BaseModel = getattr(settings, self.settings_section)
            return value
        if self.settings_model is None:
            return None
        raw = (getattr(settings, "plugins", None) or {}).get(self.settings_section or self.name, {})
        try:
            return self.settings_model.model_validate(raw)
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
                                 for err in e.errors())
            raise ConfigError(f"plugins.{self.settings_section or self.name}: {problems}") from None


__all__ = ["NOTE_LIMIT", "AlertSource", "Capability", "ChatSurface", "Connector", "IncidentTool", "LogSource", "LogSourceClients",
           "MetricSource", "SettingsSection", "WebhookVerifier"]
