"""The Prometheus connector: metrics around an alert (``prometheus.url``)."""

from __future__ import annotations

from typing import Any

from connectors.plugins import Connector, MetricSource
from connectors.prometheus.client import PrometheusConnector
from connectors.prometheus.settings import PrometheusSettings


def metric_source(settings: Any) -> MetricSource | None:
    return PrometheusConnector(settings=settings.prometheus) if settings.prometheus.url else None


plugin = Connector(name="prometheus", description="Prometheus HTTP API (metrics)", settings_section="prometheus",
                   settings_model=PrometheusSettings, metric_source=metric_source)
