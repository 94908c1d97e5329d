"""The Opsgenie connector: alert webhook intake and write-back (``opsgenie.enabled``)."""

from __future__ import annotations

from config.settings import OpsgenieSettings
from connectors.alerts import opsgenie as alerts
from connectors.plugins import Connector

plugin = Connector(name="opsgenie", description="Opsgenie webhooks and alert write-back", settings_section="opsgenie",
                   settings_model=OpsgenieSettings, alert_source=alerts)
