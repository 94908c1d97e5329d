"""The ``influxdb`` settings section."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from connectors.plugins import SettingsSection


class InfluxDBSettings(SettingsSection):
    url: str | None = None
    version: Literal[1, 2] = 2  # 1: /query with InfluxQL (JSON); 2: /api/v2/query with Flux (CSV)
    token: SecretStr | None = None  # v2 API token (v1: "user:password" also works as a token)
    org: str | None = None  # v2
    database: str | None = None  # v1
    timeout_s: float = Field(default=10.0, gt=0)
    lookback_minutes: int = Field(default=60, ge=1)  # queries read this long before (and after) the alert
    queries: dict[str, str] = Field(default_factory=dict)  # name -> InfluxQL/Flux with {service} {start} {end}

    @field_validator("queries")
    @classmethod
    def _placeholders_unquoted(cls, queries: dict[str, str]) -> dict[str, str]:
        for name, query in queries.items():
            if re.search(r"""['"]\{(service|start|end)\}|\{(service|start|end)\}['"]""", query):
                raise ValueError(f"query {name!r}: write {{service}}, {{start}} and {{end}} without quotes "
                                 "(Sherlog fills them in as quoted, escaped literals)")
        return queries
