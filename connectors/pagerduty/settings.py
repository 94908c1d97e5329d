"""The ``pagerduty`` settings section."""

from __future__ import annotations

from pydantic import SecretStr

from connectors.plugins import SettingsSection


class PagerDutySettings(SettingsSection):
    enabled: bool = False
    api_token: SecretStr | None = None
    api_url: str = "https://api.pagerduty.com"
    from_email: str | None = None
    webhook_secret: SecretStr | None = None
