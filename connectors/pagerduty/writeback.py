"""PagerDuty write-back (``connectors.plugins.IncidentTool``): notes, acknowledge, resolve.

``PagerDutyTool`` goes through ``connectors.pagerduty.client.PagerDutyConnector`` (pdpyras); ``PagerDutyNotes`` is
the plain-HTTP adapter over an injected ``httpx.Client`` (REST v2 ``POST /incidents/{id}/notes``,
``PUT /incidents/{id}``, ``GET /incidents/{id}/notes``), used when pdpyras is not installed.
``incident_tool(settings, client)`` builds the one that applies when ``pagerduty.enabled`` and a token is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from bot.domain import ConnectorError
from connectors.plugins import NOTE_LIMIT, IncidentTool


@dataclass
class PagerDutyNotes:
    """PagerDuty REST API v2 (the calls pdpyras' ``APISession.rpost``/``rput`` would make)."""

    client: httpx.Client
    token: str
    from_email: str
    api_url: str = "https://api.pagerduty.com"
    name: str = "pagerduty"

    def _call(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        headers = {"Authorization": f"Token token={self.token}", "From": self.from_email,
                   "Accept": "application/vnd.pagerduty+json;version=2", "Content-Type": "application/json"}
        try:
            response = self.client.request(method, f"{self.api_url.rstrip('/')}{path}", json=body, headers=headers)
        except httpx.HTTPError as e:
            raise ConnectorError(f"PagerDuty unreachable at {self.api_url}: {e.__class__.__name__}") from e
        if response.status_code >= 300:
            raise ConnectorError(f"PagerDuty refused {method} {path}: HTTP {response.status_code} "
                                 f"{response.text[:200]} (check pagerduty.api_token and from_email)")
        try:
            return response.json() if response.content else None
        except ValueError:
            return None

    def add_note(self, ref: str, text: str) -> None:
        self._call("POST", f"/incidents/{ref}/notes", {"note": {"content": text[:NOTE_LIMIT]}})

    def acknowledge(self, ref: str, user: str, *, marker: str = "") -> None:
        self._call("PUT", f"/incidents/{ref}", {"incident": {"type": "incident_reference", "status": "acknowledged"}})

    def resolve(self, ref: str, user: str, *, marker: str = "") -> None:
        self._call("PUT", f"/incidents/{ref}", {"incident": {"type": "incident_reference", "status": "resolved"}})

    def note_texts(self, ref: str) -> list[str]:
        """``GET /incidents/{id}/notes`` (the API lists an incident's notes in one answer)."""
        body = self._call("GET", f"/incidents/{ref}/notes", None)
        notes = body.get("notes") if isinstance(body, dict) else None
        return [str(n.get("content") or "") for n in notes or [] if isinstance(n, dict)]


@dataclass
class PagerDutyTool:
    """Write-back through ``connectors.pagerduty.client.PagerDutyConnector`` (pdpyras)."""

    connector: Any
    name: str = "pagerduty"

    def add_note(self, ref: str, text: str) -> None:
        self.connector.add_note(ref, text[:NOTE_LIMIT])

    def acknowledge(self, ref: str, user: str, *, marker: str = "") -> None:
        self.connector.acknowledge(ref)

    def resolve(self, ref: str, user: str, *, marker: str = "") -> None:
        self.connector.resolve(ref)

    def note_texts(self, ref: str) -> list[str]:
        return [str(n.get("content") or "") for n in self.connector.notes(ref)]


def incident_tool(settings: Any, client: httpx.Client | None = None) -> IncidentTool | None:
    """The write-back target of ``pagerduty.*``: pdpyras when installed, else the plain-HTTP adapter."""
    pd = settings.pagerduty
    if not pd.enabled or pd.api_token is None:
        return None
    try:  # pdpyras is optional: the connector imports it when built
        from connectors.pagerduty.client import PagerDutyConnector

        return PagerDutyTool(PagerDutyConnector(pd))
    except ImportError:
        return PagerDutyNotes(client=client or httpx.Client(timeout=10.0), token=pd.api_token.get_secret_value(),
                              from_email=pd.from_email or "sherlog@localhost", api_url=pd.api_url)
