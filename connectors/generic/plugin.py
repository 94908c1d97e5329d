"""The generic connector: any JSON alert (``POST /api/v1/alerts/generic``); ``intake.mappings`` adds named
sources parsed the same way (``connectors.alerts.register_mappings``)."""

from connectors.generic import alerts
from connectors.plugins import Connector

plugin = Connector(name="generic", description="generic JSON alerts", alert_source=alerts)
