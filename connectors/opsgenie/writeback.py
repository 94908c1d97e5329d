"""Opsgenie write-back (``connectors.plugins.IncidentTool``): notes, acknowledge, close.

``OpsgenieTool`` goes through ``connectors.opsgenie.client.OpsgenieConnector`` (opsgenie-sdk); ``OpsgenieNotes`` is
the plain-HTTP adapter over an injected ``httpx.Client`` (Alert API v2 ``POST /v2/alerts/{id}/notes|acknowledge|
close``, ``GET /v2/alerts/{id}/notes``), used when opsgenie-sdk is not installed.
``incident_tool(settings, client)`` builds the one that applies when ``opsgenie.enabled`` and a key is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from bot.domain import ConnectorError
from connectors.plugins import NOTE_LIMIT, IncidentTool


@dataclass
class OpsgenieNotes:
    """Opsgenie Alert API v2 (the calls opsgenie-sdk's ``AlertApi`` would make)."""

    client: httpx.Client
    api_key: str
    api_url: str = "https://api.opsgenie.com"
    name: str = "opsgenie"

    def _call(self, path: str, body: dict[str, Any] | None, *, params: dict[str, str] | None = None) -> Any:
        headers = {"Authorization": f"GenieKey {self.api_key}", "Content-Type": "application/json"}
        url = f"{self.api_url.rstrip('/')}{path}"
        method = "GET" if body is None else "POST"
        try:
            response = self.client.request(method, url, json=body, headers=headers,
                                           params={"identifierType": "id", **(params or {})})
        except httpx.HTTPError as e:
            raise ConnectorError(f"Opsgenie unreachable at {self.api_url}: {e.__class__.__name__}") from e
        if response.status_code >= 300:
            raise ConnectorError(f"Opsgenie refused {method} {path}: HTTP {response.status_code} "
                                 f"{response.text[:200]} (check opsgenie.api_key)")
        try:
            return response.json() if response.content else None
        except ValueError:
            return None

    def add_note(self, ref: str, text: str) -> None:
        self._call(f"/v2/alerts/{ref}/notes", {"note": text[:NOTE_LIMIT], "user": "Sherlog", "source": "Sherlog"})

    def acknowledge(self, ref: str, user: str, *, marker: str = "") -> None:
        self._call(f"/v2/alerts/{ref}/acknowledge", {"user": user, "source": "Sherlog",
                                                      "note": f"Acknowledged in Sherlog by {user} {marker}".strip()})

    def resolve(self, ref: str, user: str, *, marker: str = "") -> None:
        self._call(f"/v2/alerts/{ref}/close", {"user": user, "source": "Sherlog",
                                                "note": f"Resolved in Sherlog by {user} {marker}".strip()})

    def note_texts(self, ref: str) -> list[str]:
        """``GET /v2/alerts/{id}/notes``, oldest first, following the ``offset`` of the last note of a page."""
        texts: list[str] = []
        offset = ""
        for _ in range(50):  # at most 5,000 notes
            params = {"limit": "100", "order": "asc", "direction": "next", **({"offset": offset} if offset else {})}
            body = self._call(f"/v2/alerts/{ref}/notes", None, params=params)
            rows = [n for n in (body.get("data") if isinstance(body, dict) else None) or [] if isinstance(n, dict)]
            texts += [str(n.get("note") or "") for n in rows]
            if len(rows) < 100 or not rows[-1].get("offset"):
                break
            offset = str(rows[-1]["offset"])
        return texts


@dataclass
class OpsgenieTool:
    """Write-back through ``connectors.opsgenie.client.OpsgenieConnector`` (opsgenie-sdk)."""

    connector: Any
    name: str = "opsgenie"

    def add_note(self, ref: str, text: str) -> None:
        self.connector.add_note(ref, text[:NOTE_LIMIT], user="Sherlog")

    def acknowledge(self, ref: str, user: str, *, marker: str = "") -> None:
        self.connector.acknowledge(ref, note=f"Acknowledged in Sherlog by {user} {marker}".strip(), user=user)

    def resolve(self, ref: str, user: str, *, marker: str = "") -> None:
        self.connector.close(ref, note=f"Resolved in Sherlog by {user} {marker}".strip(), user=user)

    def note_texts(self, ref: str) -> list[str]:
        return [str(n.get("note") or "") for n in self.connector.notes(ref)]


def incident_tool(settings: Any, client: httpx.Client | None = None) -> IncidentTool | None:
    """The write-back target of ``opsgenie.*``: opsgenie-sdk when installed, else the plain-HTTP adapter."""
    og = settings.opsgenie
    if not og.enabled or og.api_key is None:
        return None
    try:  # opsgenie-sdk is optional: the connector imports it when built
        from connectors.opsgenie.client import OpsgenieConnector

        return OpsgenieTool(OpsgenieConnector(og))
    except ImportError:
        return OpsgenieNotes(client=client or httpx.Client(timeout=10.0), api_key=og.api_key.get_secret_value(),
                             api_url=og.api_url)
