"""The Opsgenie connector: alert webhook intake (``POST /api/v1/alerts/opsgenie``) and write-back
(``opsgenie.enabled``)."""

from connectors.opsgenie import alerts
from connectors.opsgenie.settings import OpsgenieSettings
from connectors.opsgenie.writeback import incident_tool
from connectors.plugins import Connector

plugin = Connector(name="opsgenie", description="Opsgenie webhooks and alert write-back", settings_section="opsgenie",
                   settings_model=OpsgenieSettings, alert_source=alerts, incident_tool=incident_tool)
