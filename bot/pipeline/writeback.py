"""Write-back: Sherlog's answer and people's actions flow back to PagerDuty and Opsgenie.

- ``analysis.ready``: when the incident came from PagerDuty/Opsgenie or is linked to one
  (``incident.external_refs``), the analysis is posted as a PagerDuty incident note / Opsgenie alert note.
  One note per distinct top answer (the claim is a database row, so several workers post it once).
- ``incident.acknowledged`` / ``incident.resolved`` raised by a person in Sherlog (chat, API, dashboard:
  the event carries ``user``) acknowledge / resolve the linked PagerDuty incident and close/acknowledge
  the Opsgenie alert. Changes that came *from* the vendor (webhooks) carry no user and are not echoed.

- ``incident.created`` / ``incident.resolved``: with ``intake.grafana_annotations`` on, a Grafana
  annotation marks the incident start (on the alert's dashboard/panel when it came from Grafana) and
  becomes a region ending at the resolution.

From settings, write-back goes through the pdpyras / opsgenie-sdk connectors
(``connectors.pagerduty.PagerDutyConnector``, ``connectors.opsgenie.OpsgenieConnector``) wrapped by
``PagerDutyTool``/``OpsgenieTool``. ``PagerDutyNotes``/``OpsgenieNotes`` are plain-HTTP adapters over an
injected ``httpx.Client`` (PagerDuty REST v2 ``POST /incidents/{id}/notes``, ``PUT /incidents/{id}``; Opsgenie
Alert API v2 ``POST /v2/alerts/{id}/notes|acknowledge|close``), the fallback when those modules are absent.
A vendor failure is logged and raised as a warning event; it never breaks the pipeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from bot.domain import Analysis, ConnectorError, Incident
from connectors.grafana.client import GrafanaConnector, dashboard_ref

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


@dataclass
class PagerDutyTool:
    """Write-back through ``connectors.pagerduty.PagerDutyConnector`` (pdpyras)."""

    connector: Any
    name: str = "pagerduty"

    def add_note(self, ref: str, text: str) -> None:
        self.connector.add_note(ref, text[:NOTE_LIMIT])

    def acknowledge(self, ref: str, user: str) -> None:
        self.connector.acknowledge(ref)

    def resolve(self, ref: str, user: str) -> None:
        self.connector.resolve(ref)


@dataclass
class OpsgenieTool:
    """Write-back through ``connectors.opsgenie.OpsgenieConnector`` (opsgenie-sdk)."""

    connector: Any
    name: str = "opsgenie"

    def add_note(self, ref: str, text: str) -> None:
        self.connector.add_note(ref, text[:NOTE_LIMIT], user="Sherlog")

    def acknowledge(self, ref: str, user: str) -> None:
        self.connector.acknowledge(ref, note=f"Acknowledged in Sherlog by {user}", user=user)

    def resolve(self, ref: str, user: str) -> None:
        self.connector.close(ref, note=f"Resolved in Sherlog by {user}", user=user)


def tools_from_settings(settings: Settings, *, client: httpx.Client | None = None) -> dict[str, IncidentTool]:
    """The configured write-back targets, keyed like ``Incident.external_refs``: the pdpyras/opsgenie-sdk
    connectors of ``connectors.pagerduty``/``connectors.opsgenie``, or the plain-HTTP adapters above
    when those modules are not installed."""
    tools: dict[str, IncidentTool] = {}
    pd, og = settings.pagerduty, settings.opsgenie
    if pd.enabled and pd.api_token is not None:
        try:
            from connectors.pagerduty import PagerDutyConnector

            tools["pagerduty"] = PagerDutyTool(PagerDutyConnector(pd))
        except ImportError:
            tools["pagerduty"] = PagerDutyNotes(
                client=client or httpx.Client(timeout=10.0), token=pd.api_token.get_secret_value(),
                from_email=pd.from_email or "sherlog@localhost", api_url=pd.api_url)
    if og.enabled and og.api_key is not None:
        try:
            from connectors.opsgenie import OpsgenieConnector

            tools["opsgenie"] = OpsgenieTool(OpsgenieConnector(og))
        except ImportError:
            tools["opsgenie"] = OpsgenieNotes(client=client or httpx.Client(timeout=10.0),
                                              api_key=og.api_key.get_secret_value(), api_url=og.api_url)
    return tools


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


class GrafanaAnnotations:
    """Incident start and resolution as one Grafana region annotation."""

    def __init__(self, *, pipeline: Pipeline, grafana: GrafanaConnector) -> None:
        self.pipeline = pipeline
        self.grafana = grafana

    @staticmethod
    def _key(incident_id: str) -> str:
        return f"grafana.annotation.{incident_id}"

    def on_created(self, incident: Incident, **_: Any) -> int | None:
        store = self.pipeline.store
        if store is None or not store.claim_chat_post(incident_id=incident.id, surface="grafana", channel="annotation"):
            return None
        dashboard_uid, panel_id = None, None
        for alert in incident.alerts:
            links = alert.raw.get("links") or {}
            dashboard_uid, panel_id = dashboard_ref(links.get("panel") or links.get("dashboard"))
            if dashboard_uid:
                break
        tags = ["sherlog", f"severity:{incident.severity.value}"] + ([f"service:{incident.service}"]
                                                                     if incident.service else [])
        try:
            annotation_id = self.grafana.annotate(
                text=f"Incident opened: {incident.title} ({incident.id})", tags=tags,
                time=incident.started_at or incident.created_at, dashboard_uid=dashboard_uid, panel_id=panel_id)
        except ConnectorError as e:
            log.warning("grafana annotation failed", extra={"incident_id": incident.id, "error": str(e)})
            return None
        store.put_state(key=self._key(incident.id), data={"id": annotation_id})
        return annotation_id

    def on_resolved(self, incident: Incident, **_: Any) -> bool:
        store = self.pipeline.store
        state = store.get_state(key=self._key(incident.id)) if store is not None else None
        if not state or state.get("ended"):
            return False
        try:
            self.grafana.end_annotation(int(state["id"]), time_end=incident.resolved_at or incident.updated_at,
                                        text=f"Incident {incident.title} ({incident.id}) resolved")
        except ConnectorError as e:
            log.warning("grafana annotation update failed", extra={"incident_id": incident.id, "error": str(e)})
            return False
        if store is not None:
            store.put_state(key=self._key(incident.id), data={**state, "ended": True})
        return True


def subscribe(pipeline: Pipeline, *, tools: dict[str, IncidentTool] | None = None,
              grafana: GrafanaConnector | None = None) -> WriteBack | None:
    """Wire write-back (and Grafana annotations) into the pipeline's events; None when nothing is configured."""
    intake = pipeline.settings.intake
    if grafana is None and intake.grafana_annotations and pipeline.settings.prometheus.grafana_url \
            and intake.grafana_api_token is not None:
        grafana = GrafanaConnector(url=pipeline.settings.prometheus.grafana_url,
                                   token=intake.grafana_api_token.get_secret_value())
    if grafana is not None:
        annotations = GrafanaAnnotations(pipeline=pipeline, grafana=grafana)
        pipeline.events.subscribe("incident.created", annotations.on_created)
        pipeline.events.subscribe("incident.resolved", annotations.on_resolved)
    if not intake.writeback:
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
