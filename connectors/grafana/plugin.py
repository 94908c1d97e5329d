"""The Grafana connector: alert webhook intake; the annotations client (``connectors.grafana.client``) is
wired by the write-back subscriber when ``intake.grafana_annotations`` is on."""

from connectors.grafana import alerts
from connectors.plugins import Connector

plugin = Connector(name="grafana", description="Grafana alerting webhooks and annotations", alert_source=alerts)
