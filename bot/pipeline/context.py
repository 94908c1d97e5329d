"""Gather the evidence of a live incident: metrics from Prometheus and InfluxDB, logs from files / Loki /
Elasticsearch / Splunk / Kubernetes, the Kubernetes objects around the alert (pod, owners, rollouts, node,
events, previous container logs), recent changes reported to ``POST /api/v1/changes``, and the configured
topology.

Each source is optional and fails soft: a dead connector becomes one note in the analysis (and is not
asked again for the other services), never a lost analysis. Service names come from alerts; each
connector puts them into its query language escaped (``connectors.prometheus.client``, ``connectors.influxdb.client``,
``connectors.logsources``). Runs in the analysis worker thread (it may block on I/O).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.domain import ConnectorError, Incident, IncidentContext, MetricSeries

if TYPE_CHECKING:
    from bot.storage import Store
    from config.settings import Settings
    from connectors.influxdb.client import InfluxDBConnector
    from connectors.kubernetes.evidence import KubernetesEvidenceCollector
    from connectors.logsources import LogSource
    from connectors.plugins import MetricSource
    from connectors.prometheus.client import PrometheusConnector

log = logging.getLogger(__name__)

CHANGE_LOOKBACK = timedelta(hours=2)


def neighbours(service: str | None, topology: dict[str, list[str]]) -> list[str]:
    """The service, what it calls and what calls it (one hop each way), service first."""
    if not service:
        return []
    out = [service, *topology.get(service, [])]
    out += [caller for caller, deps in topology.items() if service in deps]
    seen: dict[str, None] = {}
    for name in out:
        seen.setdefault(name, None)
    return list(seen)


class LiveContextProvider:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store | None = None,
        prometheus: PrometheusConnector | None = None,
        influxdb: InfluxDBConnector | None = None,
        log_sources_factory: Callable[[], list[LogSource]] | None = None,
        kubernetes_factory: Callable[[], KubernetesEvidenceCollector] | None = None,
        metric_sources: Mapping[str, MetricSource] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.prometheus = prometheus
        self.influxdb = influxdb
        self.metric_sources = dict(metric_sources or {})  # other connectors' (plugins), after these two
        self.log_sources_factory = log_sources_factory
        self.kubernetes_factory = kubernetes_factory  # called once, on the first incident (builds the client)
        self._kubernetes: KubernetesEvidenceCollector | None = None
        self.notes: dict[str, list[str]] = {}

    def __call__(self, incident: Incident) -> IncidentContext:
        context = IncidentContext(incident=incident, topology=dict(self.settings.topology))
        at = context.alert_time
        services = neighbours(incident.service, context.topology) or [s for s in {a.service for a in incident.alerts} if s]
        notes: list[str] = []
        if (self.prometheus is not None or self.influxdb is not None or self.metric_sources) and incident.alerts:
            context.metrics = self._metrics(incident, services, notes)
        if self.log_sources_factory is not None and services:
            context.logs = self._logs(services, at, notes)
        if self.kubernetes_factory is not None and incident.alerts:
            self._kubernetes_evidence(context, notes)
        if self.store is not None:
            context.events = self.store.list_change_events(since=at - CHANGE_LOOKBACK, until=at + timedelta(minutes=5))
        self.notes[incident.id] = notes
        return context

    def _metrics(self, incident: Incident, services: list[str], notes: list[str]) -> list[MetricSeries]:
        """Series of every configured metrics source, merged: the detectors see them all alike."""
        out: list[MetricSeries] = []
        sources: list[tuple[str, MetricSource | None]] = [("prometheus", self.prometheus), ("influxdb", self.influxdb),
                                                          *self.metric_sources.items()]
        for name, source in sources:
            if source is None:
                continue
            failures: list[str] = []  # one line per distinct failure; a dead server is one line
            try:
                out += source.fetch_for_alert(incident.alerts[0], services=services, failures=failures)
            except ConnectorError as e:
                failures.append(str(e))
            notes.extend(f"{name}: {f}"[:500] for f in failures)
        return out

    def _kubernetes_evidence(self, context: IncidentContext, notes: list[str]) -> None:
        """Objects and previous logs around the alert; the logs join the other sources' under the workload."""
        try:
            if self._kubernetes is None:
                assert self.kubernetes_factory is not None
                self._kubernetes = self.kubernetes_factory()
            evidence = self._kubernetes.collect(context.incident)
        except ConnectorError as e:
            notes.append(f"kubernetes: {e}"[:500])
            return
        except Exception as e:  # the analysis goes on without this evidence
            log.warning("kubernetes evidence failed", exc_info=True)
            notes.append(f"kubernetes: evidence not collected ({e.__class__.__name__})")
            return
        context.kubernetes.extend(evidence.texts)
        for workload, lines in evidence.logs.items():
            context.logs.setdefault(workload, []).extend(lines)
        notes.extend(evidence.notes)

    def _logs(self, services: list[str], at: Any, notes: list[str]) -> dict[str, list[str]]:
        from connectors.logsources.registry import fetch_incident_logs

        assert self.log_sources_factory is not None
        factory = self.log_sources_factory

        async def gather() -> dict[str, list[str]]:
            sources = factory()
            try:
                logs, failed = await fetch_incident_logs(sources, services=services, alert_time=at,
                                                         settings=self.settings.logs)
                notes.extend(failed)
                return logs
            finally:
                closed: set[int] = set()
                for source in sources:
                    client = getattr(source, "client", None)
                    close = getattr(client, "aclose", None)
                    if close is not None and id(client) not in closed:
                        closed.add(id(client))
                        await close()

        return asyncio.run(gather())
