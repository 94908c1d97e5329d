"""Write-back: Sherlog's answer and people's actions flow back to PagerDuty and Opsgenie.

- ``analysis.ready``: when the incident came from PagerDuty/Opsgenie or is linked to one
  (``incident.external_refs``), the analysis is posted as a PagerDuty incident note / Opsgenie alert note.
  One note per distinct top answer (the claim is a database row, so several workers post it once).
- ``incident.acknowledged`` / ``incident.resolved`` raised by a person in Sherlog (chat, API, dashboard:
  the event carries ``user``) acknowledge / resolve the linked PagerDuty incident and close/acknowledge
  the Opsgenie alert. Changes that came *from* the vendor (webhooks) carry no user and are not echoed.

The adapters speak the vendors' documented REST APIs through an injected ``httpx.Client``
(PagerDuty REST v2: ``POST /incidents/{id}/notes``, ``PUT /incidents/{id}``; Opsgenie Alert API v2:
``POST /v2/alerts/{id}/notes|acknowledge|close``). When ``connectors.pagerduty.PagerDutyConnector`` /
``connectors.opsgenie.OpsgenieConnector`` expose ``add_note``/``acknowledge``/``resolve`` they are used
instead. A vendor failure is logged and raised as a warning event; it never breaks the pipeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from bot.domain import Analysis, ConnectorError, Incident

if TYPE_CHECKING:
    from bot.pipeline.service import Pipeline
    from config.settings import Settings

log = logging.getLogger(__name__)
NOTE_LIMIT = 4000


class IncidentTool(Protocol):
    name: str

    def add_note(self, ref: str, text: str) -> None: ...

    def acknowledge(self, ref: str, user: str) -> None: ...

    def resolve(self, ref: str, user: str) -> None: ...


@dataclass
class PagerDutyNotes:
    """PagerDuty REST API v2 (the calls pdpyras' ``APISession.rpost``/``rput`` would make)."""

    client: httpx.Client
    token: str
    from_email: str
    api_url: str = "https://api.pagerduty.com"
    name: str = "pagerduty"

    def _call(self, method: str, path: str, body: dict[str, Any]) -> None:
        headers = {"Authorization": f"Token token={self.token}", "From": self.from_email,
                   "Accept": "application/vnd.pagerduty+json;version=2", "Content-Type": "application/json"}
        try:
            response = self.client.request(method, f"{self.api_url.rstrip('/')}{path}", json=body, headers=headers)
        except httpx.HTTPError as e:
            raise ConnectorError(f"PagerDuty unreachable at {self.api_url}: {e.__class__.__name__}") from e
        if response.status_code >= 300:
            raise ConnectorError(f"PagerDuty refused {method} {path}: HTTP {response.status_code} "
                                 f"{response.text[:200]} (check pagerduty.api_token and from_email)")

    def add_note(self, ref: str, text: str) -> None:
        self._call("POST", f"/incidents/{ref}/notes", {"note": {"content": text[:NOTE_LIMIT]}})

    def acknowledge(self, ref: str, user: str) -> None:
        self._call("PUT", f"/incidents/{ref}", {"incident": {"type": "incident_reference", "status": "acknowledged"}})

    def resolve(self, ref: str, user: str) -> None:
        self._call("PUT", f"/incidents/{ref}", {"incident": {"type": "incident_reference", "status": "resolved"}})


@dataclass
class OpsgenieNotes:
    """Opsgenie Alert API v2 (the calls opsgenie-sdk's ``AlertApi`` would make)."""

    client: httpx.Client
    api_key: str
    api_url: str = "https://api.opsgenie.com"
    name: str = "opsgenie"

    def _call(self, path: str, body: dict[str, Any]) -> None:
        headers = {"Authorization": f"GenieKey {self.api_key}", "Content-Type": "application/json"}
        url = f"{self.api_url.rstrip('/')}{path}"
        try:
            response = self.client.post(url, json=body, headers=headers, params={"identifierType": "id"})
        except httpx.HTTPError as e:
            raise ConnectorError(f"Opsgenie unreachable at {self.api_url}: {e.__class__.__name__}") from e
        if response.status_code >= 300:
            raise ConnectorError(f"Opsgenie refused POST {path}: HTTP {response.status_code} {response.text[:200]}"
                                 " (check opsgenie.api_key)")

    def add_note(self, ref: str, text: str) -> None:
        self._call(f"/v2/alerts/{ref}/notes", {"note": text[:NOTE_LIMIT], "user": "Sherlog", "source": "Sherlog"})

    def acknowledge(self, ref: str, user: str) -> None:
        self._call(f"/v2/alerts/{ref}/acknowledge", {"user": user, "source": "Sherlog",
                                                      "note": f"Acknowledged in Sherlog by {user}"})

    def resolve(self, ref: str, user: str) -> None:
        self._call(f"/v2/alerts/{ref}/close", {"user": user, "source": "Sherlog",
                                                "note": f"Resolved in Sherlog by {user}"})


def tools_from_settings(settings: Settings, *, client: httpx.Client | None = None) -> dict[str, IncidentTool]:
    """The configured write-back targets, keyed like ``Incident.external_refs``."""
    tools: dict[str, IncidentTool] = {}
    pd, og = settings.pagerduty, settings.opsgenie
    if pd.enabled and pd.api_token is not None:
        tools["pagerduty"] = _connector("connectors.pagerduty", "PagerDutyConnector", settings) or PagerDutyNotes(
            client=client or httpx.Client(timeout=10.0), token=pd.api_token.get_secret_value(),
            from_email=pd.from_email or "sherlog@localhost", api_url=pd.api_url)
    if og.enabled and og.api_key is not None:
        tools["opsgenie"] = _connector("connectors.opsgenie", "OpsgenieConnector", settings) or OpsgenieNotes(
            client=client or httpx.Client(timeout=10.0), api_key=og.api_key.get_secret_value(), api_url=og.api_url)
    return tools


def _connector(module: str, cls: str, settings: Settings) -> IncidentTool | None:
    """The retrieval area's connector when it offers the write-back methods, else None."""
    import importlib

    try:
        klass = getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError):
        return None
    if not all(hasattr(klass, m) for m in ("add_note", "acknowledge", "resolve")):
        return None
    try:
        tool: IncidentTool = klass(settings=settings)
    except TypeError:
        return None
    tool.name = module.rsplit(".", 1)[-1]
    return tool


def analysis_note(incident: Incident, analysis: Analysis, *, dashboard_url: str | None = None) -> str:
    """The analysis as plain text for a vendor note: ranked causes, evidence, next steps."""
    lines = [f"Sherlog analysis of {incident.title or incident.id}"]
    if analysis.summary:
        lines.append(analysis.summary)
    if analysis.hypotheses:
        lines.append("Likely causes:")
        for h in analysis.hypotheses[:3]:
            lines.append(f"{h.rank or analysis.hypotheses.index(h) + 1}. {h.kind} in {h.service} "
                         f"({h.confidence:.0%})")
            for ev in h.evidence[:2]:
                lines.append(f"   - {ev.summary[:200]}" + (f" {ev.url}" if ev.url else ""))
    if not analysis.enough_evidence:
        lines.append("Not enough evidence for a confident answer.")
    if analysis.recommendations:
        lines.append("Next steps:")
        lines.extend(f"- {r.text[:200]}" + (f" ({r.url})" if r.url else "") for r in analysis.recommendations[:4])
    if analysis.similar_incidents:
        s = analysis.similar_incidents[0]
        lines.append(f"Similar past incident: {s.title}" + (f" ({s.url})" if s.url else ""))
    if dashboard_url:
        lines.append(f"{dashboard_url.rstrip('/')}/incidents/{incident.id}")
    return "\n".join(lines)[:NOTE_LIMIT]


class WriteBack:
    """Event subscriber doing the write-back for one pipeline."""

    def __init__(self, *, pipeline: Pipeline, tools: dict[str, IncidentTool]) -> None:
        self.pipeline = pipeline
        self.tools = tools

    def on_analysis(self, incident: Incident, analysis: Analysis, **_: Any) -> list[str]:
        posted: list[str] = []
        store = self.pipeline.store
        top = analysis.top
        answer = f"{top.service}:{top.kind}" if top else "none"
        for name, ref in incident.external_refs.items():
            tool = self.tools.get(name)
            if tool is None:
                continue
            if store is not None and not store.claim_chat_post(incident_id=incident.id, surface=name,
                                                               channel=f"note:{answer}"[:200]):
                continue
            try:
                tool.add_note(ref, analysis_note(incident, analysis))
                posted.append(name)
            except ConnectorError as e:
                self._warn(incident, name, e)
        return posted

    def on_acknowledged(self, incident: Incident, user: str | None = None, **_: Any) -> list[str]:
        return self._push(incident, user, "acknowledge")

    def on_resolved(self, incident: Incident, user: str | None = None, **_: Any) -> list[str]:
        return self._push(incident, user, "resolve")

    def _push(self, incident: Incident, user: str | None, action: str) -> list[str]:
        if user is None:  # the change came from a webhook: do not echo it back
            return []
        done: list[str] = []
        for name, ref in incident.external_refs.items():
            tool = self.tools.get(name)
            if tool is None:
                continue
            try:
                getattr(tool, action)(ref, user)
                done.append(name)
            except ConnectorError as e:
                self._warn(incident, name, e)
        return done

    def _warn(self, incident: Incident, tool: str, error: ConnectorError) -> None:
        log.warning("write-back failed", extra={"incident_id": incident.id, "tool": tool, "error": str(error)})
        self.pipeline.events.publish("warning.raised", incident=incident, message=f"{tool} write-back: {error}")


def subscribe(pipeline: Pipeline, *, tools: dict[str, IncidentTool] | None = None) -> WriteBack | None:
    """Wire write-back into the pipeline's events; None when nothing is configured."""
    if not pipeline.settings.intake.writeback:
        return None
    tools = tools if tools is not None else tools_from_settings(pipeline.settings)
    if not tools:
        return None
    wb = WriteBack(pipeline=pipeline, tools=tools)
    pipeline.events.subscribe("analysis.ready", wb.on_analysis)
    pipeline.events.subscribe("incident.acknowledged", wb.on_acknowledged)
    pipeline.events.subscribe("incident.resolved", wb.on_resolved)
    return wb


def acknowledge(*, pipeline: Pipeline, incident_id: str, user: str) -> Incident:
    """Acknowledge in Sherlog and, through the events, in the linked PagerDuty/Opsgenie incident."""
    return pipeline.acknowledge(incident_id=incident_id, user=user)


def resolve(*, pipeline: Pipeline, incident_id: str, user: str, cause_service: str | None = None,
            cause_kind: str | None = None, resolution: str | None = None) -> Incident:
    """Resolve in Sherlog and, through the events, in the linked PagerDuty/Opsgenie incident."""
    return pipeline.resolve(incident_id=incident_id, user=user, cause_service=cause_service,
                            cause_kind=cause_kind, resolution=resolution)
