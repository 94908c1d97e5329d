"""Incident messages in Slack: one post per incident, edited as the incident changes.

- ``deliver(incident, analysis)``: the first analysis of an incident posts one message in the routed
  channel; the unique ``chat_posts`` row (``Store.claim_chat_post``) makes that hold across restarts and
  replicas. Later analyses edit the message, and a changed top cause is said in its thread.
- ``on_lifecycle(incident, ...)``: acknowledged / resolved edit the message and reply in its thread.
- ``retry_pending()``: posts that failed (Slack down, rate limited past the retries) are retried later
  under an atomic lease, so an outage delays a post but never loses it and never doubles it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import Analysis, Incident, IncidentStatus, utcnow
from bot.pipeline import chat
from bot.pipeline.delivery import DeliveryOutcome, Sent, deliver_first
from bot.pipeline.service import Pipeline
from bot.render.common import percent, tally_votes
from bot.render.slack import escape, fallback_text, slack_blocks
from bot.storage import Store
from bot.storage.chat_leases import FAILED, PENDING, POSTED, POSTING
from bot.storage.tables import DeliveryState
from config.settings import SlackSettings

log = logging.getLogger(__name__)

SURFACE = "slack"
POST_EVENT_TYPE = "sherlog_incident_posted"  # message metadata: finds a post whose record was lost
_PERMANENT_ERRORS = {"channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "account_inactive",
                     "token_revoked", "missing_scope", "invalid_blocks", "msg_too_long"}


def route_channel(settings: SlackSettings, incident: Incident) -> str:
    """The channel of an incident: a route for its service, else for its severity, else the default."""
    routes = {k.lower(): v for k, v in settings.routes.items()}
    for key in (incident.service or "", incident.severity.value):
        if key and key.lower() in routes:
            return routes[key.lower()]
    return settings.incident_channel


def _delivery_errors() -> tuple[type[BaseException], ...]:
    import aiohttp

    return (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError, OSError)


class SlackPoster:
    def __init__(self, *, settings: SlackSettings, pipeline: Pipeline, client: AsyncWebClient, store: Store) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.client = client
        self.store = store  # the delivery ledger (chat posts), given by the composition root
        self._store = store
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, incident_id: str) -> asyncio.Lock:
        return self._locks.setdefault(incident_id, asyncio.Lock())

    async def blocks_for(self, incident: Incident, analysis: Analysis | None) -> list[dict[str, Any]]:
        feedback = await asyncio.to_thread(chat.incident_feedback, pipeline=self.pipeline, incident_id=incident.id)
        return slack_blocks(incident, analysis, votes=tally_votes(feedback), dashboard_url=self.settings.dashboard_url)

    # ---- analysis.ready -----------------------------------------------------------------------

    async def deliver(self, incident: Incident, analysis: Analysis) -> str:
        """Post or edit the incident's message. Returns "posted", "updated", "pending" or "skipped"."""
        channel = route_channel(self.settings, incident)
        async with self._lock(incident.id):
            claimed = await asyncio.to_thread(self._store.claim_chat_post, incident_id=incident.id, surface=SURFACE,
                                              channel=channel)
            row = await asyncio.to_thread(self._store.get_chat_post, incident_id=incident.id, surface=SURFACE,
                                          channel=channel)
            if row is None:  # pragma: no cover - claim or a previous claim always leaves a row
                return "skipped"
            if claimed or row.state != POSTED:
                if not claimed and row.state == POSTING:
                    return "skipped"  # another process or task is posting it right now
                prior = PENDING if claimed else row.state
                return await self._post(row.id, incident, analysis, channel, prior=prior)  # type: ignore[arg-type]
            return await self._update(row.id, dict(row.data), incident, analysis)  # type: ignore[arg-type]

    async def _post(self, post_id: int, incident: Incident, analysis: Analysis | None, channel: str, *,
                    prior: str = PENDING) -> str:
        """The shared delivery cycle (``bot.pipeline.delivery``). After an attempt that may have reached Slack
        (a process killed between the post and its record, a timeout), the message is first looked up by its
        metadata."""

        async def send(before: DeliveryState) -> Sent:
            found = await self._find_posted(post_id, incident, channel) if before in (POSTING, FAILED) else None
            if found is not None:
                log.info("slack post found by its metadata; not posted again", extra={"incident_id": incident.id})
                resp: Any = found
            else:
                blocks = await self.blocks_for(incident, analysis)
                resp = await self.client.chat_postMessage(
                    channel=channel, text=fallback_text(incident, analysis), blocks=blocks, unfurl_links=False,
                    unfurl_media=False, metadata={"event_type": POST_EVENT_TYPE,
                                                  "event_payload": {"incident_id": incident.id, "post_id": post_id}})
            ts, channel_id = str(resp["ts"]), str(resp.get("channel") or channel)
            top = analysis.top if analysis else None
            return Sent(ref=f"{channel_id}:{ts}", data={
                "channel": channel_id, "ts": ts, "analysis_id": analysis.id if analysis else None,
                "top": f"{top.service}|{top.kind}" if top else None, "status": incident.status.value})

        outcome = await deliver_first(self._store, post_id, send, errors=_delivery_errors(), prior=prior,
                                      stale_after_s=max(self.settings.post_lease_s, 4 * self.settings.timeout_s),
                                      describe=_reason, what="slack post")
        if outcome == DeliveryOutcome.POSTED:
            row = await asyncio.to_thread(self._store.get_chat_post, incident_id=incident.id, surface=SURFACE,
                                          channel=channel)
            if row is not None:
                await asyncio.to_thread(chat.remember_thread, pipeline=self.pipeline, surface=SURFACE,
                                        channel=str(row.data["channel"]), thread=str(row.data["ts"]),
                                        incident_id=incident.id)
            log.info("slack incident post sent", extra={"incident_id": incident.id})
        return outcome.value

    async def _find_posted(self, post_id: int, incident: Incident, channel: str) -> dict[str, Any] | None:
        """The incident's message if an earlier attempt posted it (``conversations.history`` with metadata,
        over the post row's lifetime); None when absent or when the lookup itself fails (then it is posted)."""
        row = await asyncio.to_thread(self._store.get_chat_post, incident_id=incident.id, surface=SURFACE,
                                      channel=channel)
        since = _aware(row.created_at).timestamp() - 60 if row is not None else 0
        try:
            page = await self.client.conversations_history(channel=channel, oldest=str(since), limit=200,
                                                           include_all_metadata=True)
        except _delivery_errors() as e:
            log.warning("slack history lookup failed; posting", extra={"incident_id": incident.id, "error": _reason(e)})
            return None
        for message in page.get("messages") or []:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == POST_EVENT_TYPE and payload.get("incident_id") == incident.id:
                return {"ts": message["ts"], "channel": page.get("channel") or channel}
        return None

    async def _update(self, post_id: int, data: dict[str, Any], incident: Incident, analysis: Analysis | None) -> str:
        channel, ts = str(data.get("channel")), str(data.get("ts"))
        try:
            blocks = await self.blocks_for(incident, analysis)
            await self.client.chat_update(channel=channel, ts=ts, text=fallback_text(incident, analysis),
                                          blocks=blocks)
            top = analysis.top if analysis else None
            new_top = f"{top.service}|{top.kind}" if top else None
            if top is not None and new_top != data.get("top"):
                await self.client.chat_postMessage(
                    channel=channel, thread_ts=ts,
                    text=f"🔄 Updated analysis: now most likely *{escape(top.kind)}* in `{escape(top.service)}` "
                         f"({percent(top.confidence)}).")
        except _delivery_errors() as e:
            log.warning("slack update failed", extra={"incident_id": incident.id, "error": _reason(e)})
            return "pending"
        data.update({"analysis_id": analysis.id if analysis else data.get("analysis_id"),
                     "top": new_top or data.get("top"), "status": incident.status.value})
        await asyncio.to_thread(self._store.update_chat_post, post_id=post_id, state=POSTED, data=data)
        return "updated"

    # ---- acknowledged / resolved ---------------------------------------------------------------

    async def on_lifecycle(self, incident: Incident, *, user: str | None = None) -> str:
        """Edit the incident's message after ack/resolve and say it in the thread (no new post)."""
        async with self._lock(incident.id):
            return await self._lifecycle(incident, user=user)

    async def _lifecycle(self, incident: Incident, *, user: str | None) -> str:
        channel = route_channel(self.settings, incident)
        row = await asyncio.to_thread(self._store.get_chat_post, incident_id=incident.id, surface=SURFACE,
                                      channel=channel)
        if row is None or row.state != POSTED:
            return "skipped"
        fresh, analysis = await asyncio.to_thread(self.pipeline.get_incident, incident_id=incident.id)
        data = dict(row.data)
        if data.get("status") == fresh.status.value:
            return "skipped"
        channel_id, ts = str(data.get("channel")), str(data.get("ts"))
        who = (f" by <@{user}>" if user and re.fullmatch(r"[UW][A-Z0-9]{2,20}", user)
               else (f" by {escape(user)}" if user else ""))
        if fresh.status == IncidentStatus.RESOLVED:
            cause = (f" Confirmed cause: *{escape(fresh.confirmed_kind)}* in `{escape(fresh.confirmed_service)}`."
                     if fresh.confirmed_kind and fresh.confirmed_service else "")
            note = f"✅ Resolved{who}.{cause}" + (f" {escape(fresh.resolution)}" if fresh.resolution else "")
        else:
            note = f"👀 Acknowledged{who}."
        try:
            await self.client.chat_update(channel=channel_id, ts=ts, text=fallback_text(fresh, analysis),
                                          blocks=await self.blocks_for(fresh, analysis))
            await self.client.chat_postMessage(channel=channel_id, thread_ts=ts, text=note)
        except _delivery_errors() as e:
            log.warning("slack lifecycle update failed", extra={"incident_id": incident.id, "error": _reason(e)})
            return "pending"
        data["status"] = fresh.status.value
        await asyncio.to_thread(self._store.update_chat_post, post_id=row.id, state=POSTED,  # type: ignore[arg-type]
                                data=data)
        return "updated"

    async def refresh(self, *, channel: str, ts: str, incident_id: str) -> None:
        """Re-render one message (after a vote) from the stored incident, analysis and votes."""
        incident, analysis = await asyncio.to_thread(self.pipeline.get_incident, incident_id=incident_id)
        await self.client.chat_update(channel=channel, ts=ts, text=fallback_text(incident, analysis),
                                      blocks=await self.blocks_for(incident, analysis))

    async def refresh_incident(self, *, incident_id: str) -> bool:
        """Re-render the incident's posted message, if it has one; True when edited."""
        incident, _ = await asyncio.to_thread(self.pipeline.get_incident, incident_id=incident_id)
        row = await asyncio.to_thread(self._store.get_chat_post, incident_id=incident_id, surface=SURFACE,
                                      channel=route_channel(self.settings, incident))
        if row is None or row.state != POSTED:
            return False
        try:
            await self.refresh(channel=str(row.data["channel"]), ts=str(row.data["ts"]), incident_id=incident_id)
        except _delivery_errors() as e:
            log.warning("slack refresh failed", extra={"incident_id": incident_id, "error": _reason(e)})
            return False
        return True

    # ---- outage recovery -------------------------------------------------------------------------

    async def retry_pending(self) -> dict[str, int]:
        """Post every failed post whose back-off elapsed; returns counts by outcome."""
        rows = await asyncio.to_thread(self._store.pending_chat_posts, surface=SURFACE)
        counts: dict[str, int] = {}
        now = utcnow()
        for row in rows:
            if row.attempts >= self.settings.max_post_attempts or row.data.get("error") in _PERMANENT_ERRORS:
                outcome = "given_up"
            elif row.state == FAILED and _aware(row.updated_at) > now - timedelta(seconds=_backoff_s(row.attempts, self.settings.retry_backoff_s)):
                outcome = "waiting"
            else:
                incident, analysis = await asyncio.to_thread(self.pipeline.get_incident, incident_id=row.incident_id)
                async with self._lock(incident.id):
                    outcome = await self._post(row.id, incident, analysis, row.channel,  # type: ignore[arg-type]
                                               prior=row.state)
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    async def run_retry_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.retry_interval_s)
            try:
                counts = await self.retry_pending()
                if counts.get("posted"):
                    log.info("pending slack posts delivered", extra={"counts": counts})
            except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
                log.exception("slack retry loop failed")


def _backoff_s(attempts: int, base: float) -> float:
    return float(min(600.0, base * 2 ** max(0, attempts - 1)))


def _aware(ts: Any) -> Any:
    """A time read back from the database (SQLite keeps no zone) as UTC-aware; None stays None."""
    if ts is None:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _reason(e: BaseException) -> str:
    if isinstance(e, SlackApiError):
        status = e.response.status_code
        return f"http {status}" if status >= 500 else str(e.response.get("error") or f"http {status}")
    return f"{e.__class__.__name__}: {e}"[:200]
