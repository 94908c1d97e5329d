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

The write-back targets are the incident tools of the connectors (``connectors.registry``): PagerDuty's and
Opsgenie's live in ``connectors.pagerduty.writeback`` and ``connectors.opsgenie.writeback`` (pdpyras /
opsgenie-sdk, or plain-HTTP adapters over an injected ``httpx.Client`` when those modules are absent).
Every write has one idempotency key per incident and kind (``WriteBack``): the outbox may deliver an event
twice and a process may die between the vendor call and its record, and still no note is written twice,
because a write that may have happened is first looked up among the vendor's notes (PagerDuty
``GET /incidents/{id}/notes``, Opsgenie ``GET /v2/alerts/{id}/notes``) by the marker every note ends with.
A vendor failure is logged and raised as a warning event and retried later; it never breaks the pipeline.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from bot.domain import Analysis, ConnectorError, Incident, IncidentStatus, SherlogError, stable_hash, utcnow
from bot.pipeline.delivery import Attempt, DeliveryOutcome, Sent, deliver_first
from bot.storage.tables import DeliveryState
from connectors.grafana.client import GrafanaConnector, dashboard_ref
from connectors.plugins import NOTE_LIMIT, IncidentTool
from connectors.registry import default_registry

if TYPE_CHECKING:
    from bot.pipeline.service import Pipeline
    from config.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def tools_from_settings(settings: Settings, *, client: httpx.Client | None = None) -> dict[str, IncidentTool]:
    """The configured write-back targets, keyed like ``Incident.external_refs``: the incident tools of the
    connectors in ``connectors.registry`` (``connectors.pagerduty.writeback``, ``connectors.opsgenie.writeback``
    and any plugin's)."""
    return default_registry().incident_tools(settings, client=client)


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
    """Event subscriber doing the write-back for one pipeline, through the shared delivery cycle.

    Every write (an analysis note, an acknowledge, a resolve) is one ``chat_posts`` row of the tool
    (``surface`` = ``pagerduty``/``opsgenie``) whose ``channel`` is its idempotency key: ``note:<service>:<kind>``
    (one note per distinct top answer), ``acknowledge|<acknowledged_at>|<user>``, ``resolve|<resolved_at>|<user>``.
    The row is leased, the vendor called, and the row recorded ``posted`` (``bot.pipeline.delivery``). Each
    note ends with a marker derived from the key (``[sherlog:<hash>]``); any attempt but the first after the
    claim (a redelivered outbox event, a retry, a takeover of a row whose process died between the vendor
    call and the record) first lists the vendor's notes and records a note that carries the marker instead of
    writing it again. PagerDuty status changes carry no note: setting a status again is harmless there.
    A failed write is raised as a warning and retried by ``retry_pending`` (run every
    ``intake.writeback_retry_interval_s`` by ``start``) until ``intake.writeback_max_attempts``.
    """

    def __init__(self, *, pipeline: Pipeline, tools: dict[str, IncidentTool], lease_s: float = 120.0,
                 retry_interval_s: float = 30.0, max_attempts: int = 8, retry_backoff_s: float = 5.0) -> None:
        self.pipeline = pipeline
        self.tools = tools
        self.lease_s = lease_s
        self.retry_interval_s = retry_interval_s
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self._retry_task: asyncio.Task[None] | None = None

    # ---- event handlers (async: the outbox relay awaits them; tool calls run in threads) ----------------

    async def analysis_ready(self, incident: Incident, analysis: Analysis, **_: Any) -> list[str]:
        text = analysis_note(incident, analysis)
        return await self._each_tool(incident, note_key(analysis), lambda tool, ref, marker:
                                     tool.add_note(ref, with_marker(text, marker)))

    async def acknowledged(self, incident: Incident, user: str | None = None, **_: Any) -> list[str]:
        if user is None:  # the change came from a webhook: do not echo it back
            return []
        return await self._each_tool(incident, status_key("acknowledge", incident.acknowledged_at, user),
                                     lambda tool, ref, marker: tool.acknowledge(ref, user, marker=marker))

    async def resolved(self, incident: Incident, user: str | None = None, **_: Any) -> list[str]:
        if user is None:
            return []
        return await self._each_tool(incident, status_key("resolve", incident.resolved_at, user),
                                     lambda tool, ref, marker: tool.resolve(ref, user, marker=marker))

    # the same for callers without an event loop (returns the tools written to now)
    def on_analysis(self, incident: Incident, analysis: Analysis, **_: Any) -> list[str]:
        return _run(self.analysis_ready(incident, analysis))

    def on_acknowledged(self, incident: Incident, user: str | None = None, **_: Any) -> list[str]:
        return _run(self.acknowledged(incident, user=user))

    def on_resolved(self, incident: Incident, user: str | None = None, **_: Any) -> list[str]:
        return _run(self.resolved(incident, user=user))

    # ---- the delivery cycle -------------------------------------------------------------------------

    async def _each_tool(self, incident: Incident, key: str, write: Write) -> list[str]:
        done: list[str] = []
        for name, ref in incident.external_refs.items():
            if name in self.tools and await self._deliver(incident, name, ref, key, write) == DeliveryOutcome.POSTED:
                done.append(name)
        return done

    async def _deliver(self, incident: Incident, name: str, ref: str, key: str, write: Write, *,
                       post_id: int | None = None) -> DeliveryOutcome:
        tool = self.tools[name]
        marker = note_marker(incident.id, key)
        store = self.pipeline.store
        if store is None:  # no database, no idempotency key: one attempt
            try:
                await asyncio.to_thread(write, tool, ref, marker)
            except ConnectorError as e:
                self._warn(incident, name, e)
                return DeliveryOutcome.PENDING
            return DeliveryOutcome.POSTED
        if post_id is None:
            claimed = await asyncio.to_thread(store.claim_chat_post, incident_id=incident.id, surface=name,
                                              channel=key)
            row = await asyncio.to_thread(store.get_chat_post, incident_id=incident.id, surface=name, channel=key)
            if row is None or row.id is None or row.state == DeliveryState.POSTED:
                return DeliveryOutcome.SKIPPED
            post_id = row.id
            first = claimed
        else:
            first = False  # a retry: an earlier attempt may have reached the vendor

        async def send(attempt: Attempt) -> Sent:
            looked_up = attempt.attempted or not first  # an earlier attempt may have reached the vendor
            found = await asyncio.to_thread(_find_note, tool, ref, marker) if looked_up else None
            if found:
                log.info("write-back found at the vendor; not written again",
                         extra={"incident_id": incident.id, "tool": name})
                return Sent(ref=marker, data={"ref": ref, "found": True})
            await attempt.renew()  # a holder that lost its lease writes nothing
            await asyncio.to_thread(write, tool, ref, marker)
            return Sent(ref=marker, data={"ref": ref})

        failures: list[ConnectorError] = []

        def describe(error: BaseException) -> str:
            if isinstance(error, ConnectorError):
                failures.append(error)
            return f"{error}"[:300]

        outcome = await deliver_first(store, post_id, send, errors=(ConnectorError,), stale_after_s=self.lease_s,
                                      describe=describe, what=f"{name} write-back")
        for error in failures:
            self._warn(incident, name, error)
        return outcome

    # ---- retries ------------------------------------------------------------------------------------

    async def retry_pending(self) -> dict[str, int]:
        """Write every failed, never-attempted or abandoned (``posting`` past the lease) row again."""
        store = self.pipeline.store
        counts: dict[str, int] = {}
        if store is None:
            return counts
        now = utcnow()
        for name in self.tools:
            for row in await asyncio.to_thread(store.pending_chat_posts, surface=name):
                try:
                    outcome = await self._retry(row, now)
                except SherlogError as e:  # this row cannot be retried now (its incident is gone, ...): the next
                    log.warning("write-back retry skipped", extra={"post_id": row.id, "error": str(e)[:300]})
                    outcome = "error"
                counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    async def _retry(self, row: Any, now: datetime) -> str:
        if row.attempts >= self.max_attempts:
            return DeliveryOutcome.GIVEN_UP.value
        updated = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=UTC)
        if row.state == DeliveryState.FAILED and updated > now - timedelta(
                seconds=self.retry_backoff_s * 2 ** max(row.attempts - 1, 0)):
            return DeliveryOutcome.WAITING.value
        if row.state == DeliveryState.PENDING and updated > now - timedelta(seconds=self.lease_s):
            return DeliveryOutcome.SKIPPED.value  # just claimed: its first attempt is under way
        incident, analysis = await asyncio.to_thread(self.pipeline.get_incident, incident_id=row.incident_id)
        ref = incident.external_refs.get(row.surface)
        write = self._write_for(row.channel, incident, analysis)
        if ref is None or write is None:  # superseded (a newer answer, a reopened incident): nothing to write
            await asyncio.to_thread(self.pipeline._require_store().update_chat_post, post_id=row.id,
                                    state=DeliveryState.POSTED, data={"superseded": True})
            return DeliveryOutcome.SKIPPED.value
        outcome = await self._deliver(incident, row.surface, ref, row.channel, write, post_id=row.id)
        return outcome.value

    @staticmethod
    def _write_for(key: str, incident: Incident, analysis: Analysis | None) -> Write | None:
        """What a row's key writes now, or None when it no longer applies."""
        if key.startswith("note:"):
            if analysis is None or note_key(analysis) != key:
                return None
            text = analysis_note(incident, analysis)
            return lambda tool, ref, marker: tool.add_note(ref, with_marker(text, marker))
        action, _, user = key.split("|", 2) if key.count("|") >= 2 else (key, "", "")
        if action == "acknowledge" and incident.status == IncidentStatus.ACKNOWLEDGED:
            return lambda tool, ref, marker: tool.acknowledge(ref, user, marker=marker)
        if action == "resolve" and incident.status == IncidentStatus.RESOLVED:
            return lambda tool, ref, marker: tool.resolve(ref, user, marker=marker)
        return None

    async def run_retry_loop(self) -> None:
        while True:
            await asyncio.sleep(self.retry_interval_s)
            try:
                counts = await self.retry_pending()
                if counts.get(DeliveryOutcome.POSTED.value):
                    log.info("pending write-backs delivered", extra={"counts": counts})
            except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
                log.warning("write-back retry pass failed", exc_info=True)

    async def start(self) -> None:
        if self._retry_task is None and self.pipeline.store is not None:
            self._retry_task = asyncio.get_running_loop().create_task(self.run_retry_loop(), name="writeback-retry")

    async def stop(self) -> None:
        if self._retry_task is not None:
            self._retry_task.cancel()
            await asyncio.gather(self._retry_task, return_exceptions=True)
            self._retry_task = None

    def _warn(self, incident: Incident, tool: str, error: ConnectorError) -> None:
        log.warning("write-back failed", extra={"incident_id": incident.id, "tool": tool, "error": str(error)})
        self.pipeline.events.publish("warning.raised", incident=incident, message=f"{tool} write-back: {error}")


Write = Callable[[IncidentTool, str, str], None]  # (tool, the vendor's id, the marker) -> the vendor call


def note_key(analysis: Analysis) -> str:
    """The idempotency key of an analysis note: one note per distinct top answer."""
    top = analysis.top
    return f"note:{top.service}:{top.kind}"[:200] if top else "note:none"


def status_key(action: str, at: datetime | None, user: str) -> str:
    """The idempotency key of an acknowledge/resolve: one per change of the incident (its timestamp)."""
    return f"{action}|{at.isoformat() if at else '-'}|{user}"[:200]


def note_marker(incident_id: str, key: str) -> str:
    """The marker a written note ends with, so it can be found at the vendor."""
    return f"[sherlog:{stable_hash(incident_id, key)}]"


def with_marker(text: str, marker: str) -> str:
    return f"{text[:NOTE_LIMIT - len(marker) - 1]}\n{marker}"


def _find_note(tool: IncidentTool, ref: str, marker: str) -> bool:
    """True when the vendor already holds a note with ``marker`` (a failed lookup raises ConnectorError:
    the row is retried rather than risking a second note)."""
    return any(marker in text for text in tool.note_texts(ref))


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from synchronous code (in a fresh thread when this one runs an event loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


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
    wb = WriteBack(pipeline=pipeline, tools=tools, lease_s=intake.writeback_lease_s,
                   retry_interval_s=intake.writeback_retry_interval_s, max_attempts=intake.writeback_max_attempts)
    pipeline.events.subscribe("analysis.ready", wb.analysis_ready)
    pipeline.events.subscribe("incident.acknowledged", wb.acknowledged)
    pipeline.events.subscribe("incident.resolved", wb.resolved)
    return wb


def acknowledge(*, pipeline: Pipeline, incident_id: str, user: str) -> Incident:
    """Acknowledge in Sherlog and, through the events, in the linked PagerDuty/Opsgenie incident."""
    return pipeline.acknowledge(incident_id=incident_id, user=user)


def resolve(*, pipeline: Pipeline, incident_id: str, user: str, cause_service: str | None = None,
            cause_kind: str | None = None, resolution: str | None = None) -> Incident:
    """Resolve in Sherlog and, through the events, in the linked PagerDuty/Opsgenie incident."""
    return pipeline.resolve(incident_id=incident_id, user=user, cause_service=cause_service,
                            cause_kind=cause_kind, resolution=resolution)
