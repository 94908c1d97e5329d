"""The PagerDuty connector: V3 webhook intake (``POST /api/v1/alerts/pagerduty``), its signature check
(``pagerduty.webhook_secret``) and write-back (``pagerduty.enabled``)."""

from connectors.pagerduty import alerts
from connectors.pagerduty.settings import PagerDutySettings
from connectors.pagerduty.verifier import webhook_verifier
from connectors.pagerduty.writeback import incident_tool
from connectors.plugins import Connector

plugin = Connector(name="pagerduty", description="PagerDuty V3 webhooks and incident write-back",
                   settings_section="pagerduty", settings_model=PagerDutySettings, alert_source=alerts,
                   incident_tool=incident_tool, webhook_verifier=webhook_verifier)
