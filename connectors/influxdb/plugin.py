"""The InfluxDB connector: metrics around an alert (``influxdb.url``)."""

from __future__ import annotations

from typing import Any

from connectors.influxdb.client import InfluxDBConnector
from connectors.influxdb.settings import InfluxDBSettings
from connectors.plugins import Connector, MetricSource


def metric_source(settings: Any) -> MetricSource | None:
    return InfluxDBConnector(settings=settings.influxdb) if settings.influxdb.url else None


plugin = Connector(name="influxdb", description="InfluxDB queries (metrics)", settings_section="influxdb",
                   settings_model=InfluxDBSettings, metric_source=metric_source)
