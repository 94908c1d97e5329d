"""The ``opsgenie`` settings section."""

from __future__ import annotations

from pydantic import SecretStr

from connectors.plugins import SettingsSection


class OpsgenieSettings(SettingsSection):
    enabled: bool = False
    api_key: SecretStr | None = None
    api_url: str = "https://api.opsgenie.com"
