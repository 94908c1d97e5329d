"""The one connector registry: built-ins plus the ``sherlog.connectors`` entry-point group.

Every connector, built in or not, is a ``connectors.plugins.Connector`` named by its entry point
(pyproject.toml lists the built-ins). When the package metadata is missing (a source tree that was never
installed) the built-ins are imported from their known places, as ``detectors/registry.py`` does.

    registry = default_registry()
    registry.alert_sources()        # name -> parser, in detection order
    registry.metric_sources(settings)

Order: the built-ins in ``BUILTIN`` order (it decides which parser sniffs a payload first, and the order
of log sources and metric sources), then third-party connectors by name. A plugin that fails to load, or
is not a ``Connector``, is logged and skipped: a broken plugin never stops the built-ins.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import httpx

from bot.domain import ConfigError
from connectors.plugins import (
    AlertSource,
    Capability,
    ChatSurface,
    Connector,
    IncidentTool,
    LogSource,
    LogSourceClients,
    MetricSource,
    WebhookVerifier,
)

log = logging.getLogger(__name__)

GROUP = "sherlog.connectors"

# name -> "module:attribute"; the same values as pyproject.toml's entry points
BUILTIN: dict[str, str] = {
    "alertmanager": "connectors.alertmanager.plugin:plugin",
    "grafana": "connectors.grafana.plugin:plugin",
    "pagerduty": "connectors.pagerduty.plugin:plugin",
    "opsgenie": "connectors.opsgenie.plugin:plugin",
    "datadog": "connectors.datadog.plugin:plugin",
    "generic": "connectors.generic.plugin:plugin",
    "prometheus": "connectors.prometheus.plugin:plugin",
    "influxdb": "connectors.influxdb.plugin:plugin",
    "files": "connectors.files.plugin:plugin",
    "loki": "connectors.loki.plugin:plugin",
    "elasticsearch": "connectors.elasticsearch.plugin:plugin",
    "splunk": "connectors.splunk.plugin:plugin",
    "kubernetes": "connectors.kubernetes.plugin:plugin",
    "slack": "bot.surfaces.slack.plugin:plugin",
    "teams": "bot.surfaces.teams.plugin:plugin",
    "email": "bot.surfaces.email_plugin:plugin",
}


def _import(target: str) -> Any:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


class ConnectorRegistry:
    """The loaded connectors, in order. Build a fresh one in tests (``from_entry_points(eps)``)."""

    def __init__(self, connectors: Iterable[Connector]) -> None:
        self._connectors: dict[str, Connector] = {}
        for connector in connectors:
            self._connectors.setdefault(connector.name, connector)

    @classmethod
    def from_entry_points(cls, eps: Iterable[EntryPoint] | None = None) -> ConnectorRegistry:
        found: dict[str, Connector] = {}
        for ep in entry_points(group=GROUP) if eps is None else eps:
            try:
                loaded = ep.load()
            except Exception as e:  # noqa: BLE001 - a broken plugin must not stop the built-ins
                log.warning("connector plugin failed to load", extra={"plugin": ep.name, "error": str(e)[:300]})
                continue
            if not isinstance(loaded, Connector):
                log.warning("connector plugin is not a Connector", extra={"plugin": ep.name,
                                                                          "type": type(loaded).__name__})
                continue
            if loaded.name != ep.name:
                log.warning("connector plugin named differently from its entry point; the entry point's name is used",
                            extra={"plugin": ep.name, "connector": loaded.name})
                loaded = Connector(**{**loaded.__dict__, "name": ep.name})
            found[ep.name] = loaded
        for name, target in BUILTIN.items():
            if name not in found:
                found[name] = _import(target)
        order = [*BUILTIN, *sorted(set(found) - set(BUILTIN))]
        return cls(found[name] for name in order)

    def __iter__(self) -> Iterator[Connector]:
        return iter(self._connectors.values())

    def __contains__(self, name: object) -> bool:
        return name in self._connectors

    def get(self, name: str) -> Connector | None:
        return self._connectors.get(name)

    def with_capability(self, capability: Capability) -> list[Connector]:
        return [c for c in self if capability in c.capabilities]

    def check_settings(self, settings: Any) -> None:
        """Validate every third-party connector's ``plugins.<name>`` section; ``ConfigError`` naming the key when
        one is wrong or names no installed connector."""
        sections = dict(getattr(settings, "plugins", None) or {})
        for c in self:
            key = c.settings_section or c.name
            if c.settings_model is not None and not hasattr(settings, key):
                c.section(settings)
            sections.pop(key, None)
        if sections:
            known = sorted(c.name for c in self if not hasattr(settings, c.settings_section or c.name))
            raise ConfigError(f"plugins.{sorted(sections)[0]}: no installed connector has this settings section "
                              f"(third-party connectors: {', '.join(known) or 'none'})")

    # ---- capabilities, built from settings --------------------------------------------------------------

    def alert_sources(self) -> dict[str, AlertSource]:
        """name -> parser, in detection order."""
        return {c.name: c.alert_source for c in self if c.alert_source is not None}

    def metric_sources(self, settings: Any) -> dict[str, MetricSource]:
        """The configured metric sources, by connector name."""
        out: dict[str, MetricSource] = {}
        for c in self:
            source = c.metric_source(settings) if c.metric_source is not None else None
            if source is not None:
                out[c.name] = source
        return out

    def logs_configured(self, settings: Any) -> bool:
        return any(c.logs_configured is not None and c.logs_configured(settings) for c in self)

    def log_sources(self, settings: Any, clients: LogSourceClients) -> list[LogSource]:
        out: list[LogSource] = []
        for c in self:
            source = c.log_source(settings, clients) if c.log_source is not None else None
            if source is not None:
                out.append(source)
        return out

    def evidence_sources(self, settings: Any) -> dict[str, Any]:
        """name -> a builder of the evidence collector (called on first use), for the configured ones."""
        out: dict[str, Any] = {}
        for c in self:
            builder = c.evidence_source(settings) if c.evidence_source is not None else None
            if builder is not None:
                out[c.name] = builder
        return out

    def incident_tools(self, settings: Any, *, client: httpx.Client | None = None) -> dict[str, IncidentTool]:
        """The configured write-back targets, keyed like ``Incident.external_refs``."""
        out: dict[str, IncidentTool] = {}
        for c in self:
            tool = c.incident_tool(settings, client) if c.incident_tool is not None else None
            if tool is not None:
                out[c.name] = tool
        return out

    def chat_surfaces(self, settings: Any, pipeline: Any, store: Any) -> dict[str, ChatSurface]:
        """The enabled chat surfaces (and e-mail), by name."""
        out: dict[str, ChatSurface] = {}
        for c in self:
            surface = c.chat_surface(settings, pipeline, store) if c.chat_surface is not None else None
            if surface is not None:
                out[c.name] = surface
        return out

    def webhook_verifiers(self, settings: Any) -> dict[str, WebhookVerifier]:
        """Intake source name -> its verifier, for the connectors whose verification is configured."""
        out: dict[str, WebhookVerifier] = {}
        for c in self:
            verifier = c.webhook_verifier(settings) if c.webhook_verifier is not None else None
            if verifier is not None:
                out[c.name] = verifier
        return out


@lru_cache(maxsize=1)
def default_registry() -> ConnectorRegistry:
    """The process's registry (built once). Tests that install a plugin call ``default_registry.cache_clear()``."""
    return ConnectorRegistry.from_entry_points()


__all__ = ["BUILTIN", "GROUP", "ConnectorRegistry", "default_registry"]
