"""The Datadog connector: monitor webhook intake (``POST /api/v1/alerts/datadog``)."""

from connectors.datadog import alerts
from connectors.plugins import Connector

plugin = Connector(name="datadog", description="Datadog monitor webhooks", alert_source=alerts)
