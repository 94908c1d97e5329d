"""The Alertmanager connector: webhook intake (``POST /api/v1/alerts/alertmanager``)."""

from connectors.alertmanager import alerts
from connectors.plugins import Connector

plugin = Connector(name="alertmanager", description="Prometheus Alertmanager webhooks", alert_source=alerts)
