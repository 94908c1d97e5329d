"""Incident messages in Slack: one post per incident, edited as the incident changes.

- ``deliver(incident, analysis)``: the first analysis of an incident posts one message in the routed
  channel; the unique ``chat_posts`` row (``Store.claim_chat_post``) makes that hold across restarts and
  replicas. Later analyses edit the message, and a changed top cause is said in its thread.
- ``on_lifecycle(incident, ...)``: acknowledged / resolved edit the message and reply in its thread.
- ``retry_pending()``: posts that failed (Slack down, rate limited past the retries) are retried later
  under an atomic lease, so an outage delays a post but never loses it and never doubles it.

Exactly once, whatever the timing: every attempt holds the row's lease (a fencing token) and renews it just
before ``chat.postMessage``, so an attempt whose lease ran out never posts; every attempt after the first
looks the message up by its metadata (all pages of the channel's history since the row was created) before
posting; the first post is never retried blindly (only where Slack cannot have posted it: rate limited, no
connection, or after a lookup that follows a 5xx); and a post that got no answer keeps the row held for
``lease_s`` so a message still on its way lands before anyone looks for it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import Analysis, Incident, IncidentStatus, utcnow
from bot.pipeline import chat
from bot.pipeline.delivery import Attempt, DeliveryInDoubt, DeliveryOutcome, Sent, deliver_first
from bot.pipeline.service import Pipeline
from bot.render.common import percent, tally_votes
from bot.render.slack import escape, fallback_text, slack_blocks
from bot.storage import Store
from bot.storage.chat_leases import FAILED, POSTED
from config.settings import SlackSettings

log = logging.getLogger(__name__)

SURFACE = "slack"
POST_EVENT_TYPE = "sherlog_incident_posted"  # message metadata: finds a post whose record was lost
_MAX_HISTORY_PAGES = 50  # 10,000 messages since the post row was created
_RETRY_PAUSE_S = 0.5
_LOOKUP_IMPOSSIBLE = {"missing_scope", "not_allowed_token_type", "no_permission"}
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
    return (SlackApiError, aiohttp.ClientError, TimeoutError, OSError, LookupError)


class SlackPoster:
    def __init__(self, *, settings: SlackSettings, pipeline: Pipeline, client: AsyncWebClient, store: Store) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.client = client
        self.store = store  # the delivery ledger (chat posts), given by the composition root
        self._store = store
        # first posts are not idempotent: retried here only where Slack cannot have posted (``_post_once``)
        self._post_client = AsyncWebClient(token=client.token, base_url=client.base_url, timeout=client.timeout,
                                           ssl=client.ssl, proxy=client.proxy, session=client.session,
                                           headers=client.headers, retry_handlers=[])
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
            await asyncio.to_thread(self._store.claim_chat_post, incident_id=incident.id, surface=SURFACE,
                                    channel=channel)
            row = await asyncio.to_thread(self._store.get_chat_post, incident_id=incident.id, surface=SURFACE,
                                          channel=channel)
            if row is None or row.id is None:  # pragma: no cover - claim or a previous claim always leaves a row
                return "skipped"
            if row.state == POSTED:
                return await self._update(row.id, dict(row.data), incident, analysis)
            # pending, failed or posting: the lease decides who posts (a live holder's row is skipped)
            return await self._post(row.id, incident, analysis, channel)

    async def _post(self, post_id: int, incident: Incident, analysis: Analysis | None, channel: str) -> str:
        """The shared delivery cycle (``bot.pipeline.delivery``). After any earlier attempt (a process killed
        between the post and its record, an answer that never came) the message is first looked up by its
        metadata; the post itself goes out only while this attempt still holds the row's lease."""

        async def send(attempt: Attempt) -> Sent:
            found = await self._find_posted(post_id, incident, channel) if attempt.attempted else None
            if found is not None:
                log.info("slack post found by its metadata; not posted again", extra={"incident_id": incident.id})
                resp: Any = found
            else:
                resp = await self._post_once(attempt, post_id, incident, analysis, channel)
            ts, channel_id = str(resp["ts"]), str(resp.get("channel") or channel)
            top = analysis.top if analysis else None
            return Sent(ref=f"{channel_id}:{ts}", data={
                "channel": channel_id, "ts": ts, "analysis_id": analysis.id if analysis else None,
                "top": f"{top.service}|{top.kind}" if top else None, "status": incident.status.value})

        outcome = await deliver_first(self._store, post_id, send, errors=_delivery_errors(),
                                      stale_after_s=self.lease_s, describe=_reason, what="slack post")
        if outcome == DeliveryOutcome.POSTED:
            row = await asyncio.to_thread(self._store.get_chat_post, incident_id=incident.id, surface=SURFACE,
                                          channel=channel)
            if row is not None:
                await asyncio.to_thread(chat.remember_thread, pipeline=self.pipeline, surface=SURFACE,
                                        channel=str(row.data["channel"]), thread=str(row.data["ts"]),
                                        incident_id=incident.id)
            log.info("slack incident post sent", extra={"incident_id": incident.id})
        return outcome.value

    @property
    def lease_s(self) -> float:
        """How long an attempt holds its row: well past one request's timeout, so a message still on its way
        when its sender gave up has landed (and is found) before another attempt may post."""
        return max(self.settings.post_lease_s, 4 * self.settings.timeout_s)

    async def _post_once(self, attempt: Attempt, post_id: int, incident: Incident, analysis: Analysis | None,
                         channel: str) -> Any:
        """``chat.postMessage`` of the incident's message, retried only where Slack cannot have posted it (rate
        limited, no connection) or after a lookup (a 5xx answer). Each try renews the lease first, so a holder
        whose lease ran out never posts. A request with no answer raises ``DeliveryInDoubt``."""
        blocks = await self.blocks_for(incident, analysis)
        text = fallback_text(incident, analysis)
        metadata = {"event_type": POST_EVENT_TYPE, "event_payload": {"incident_id": incident.id, "post_id": post_id}}
        tries = self.settings.max_retries + 1
        for n in range(tries):
            await attempt.renew()
            try:
                return await self._post_client.chat_postMessage(channel=channel, text=text, blocks=blocks,
                                                                unfurl_links=False, unfurl_media=False,
                                                                metadata=metadata)
            except SlackApiError as e:
                status = e.response.status_code
                if n + 1 == tries or (status != 429 and status < 500):
                    raise
                if status == 429:  # not posted: wait as told
                    await asyncio.sleep(min(_retry_after(e), self.lease_s / 2))
                    continue
                await asyncio.sleep(_RETRY_PAUSE_S * 2 ** n)  # answered with an error: posted or not, it says
                found = await self._find_posted(post_id, incident, channel)
                if found is not None:
                    return found
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError):
                if n + 1 == tries:  # no connection: the request never went out
                    raise
                await asyncio.sleep(_RETRY_PAUSE_S * 2 ** n)
            except (TimeoutError, aiohttp.ClientError, OSError) as e:
                raise DeliveryInDoubt(_reason(e)) from e
        raise AssertionError("unreachable")  # pragma: no cover

    async def _find_posted(self, post_id: int, incident: Incident, channel: str) -> dict[str, Any] | None:
        """The incident's message if an earlier attempt posted it (``conversations.history`` with metadata, every
        page since the post row was created); None when absent. A lookup that fails for a while (timeout,
        rate limit, 5xx) raises, so the post waits for the retry loop instead of risking a second message; one
        that cannot work (a missing scope) is logged and the message is posted."""
        row = await asyncio.to_thread(self._store.get_chat_post, incident_id=incident.id, surface=SURFACE,
                                      channel=channel)
        since = _aware(row.created_at).timestamp() - 60 if row is not None else 0
        cursor: str | None = None
        for _ in range(_MAX_HISTORY_PAGES):
            try:
                page = await self.client.conversations_history(channel=channel, oldest=str(since), limit=200,
                                                               include_all_metadata=True, cursor=cursor)
            except SlackApiError as e:
                if e.response.status_code == 200 and e.response.get("error") in _LOOKUP_IMPOSSIBLE:
                    log.warning("slack history lookup impossible; posting",
                                extra={"incident_id": incident.id, "error": _reason(e)})
                    return None
                raise
            for message in page.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == POST_EVENT_TYPE and payload.get("incident_id") == incident.id:
                    return {"ts": message["ts"], "channel": page.get("channel") or channel}
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or not cursor:
                return None
        raise LookupError(f"slack history of {channel} longer than {_MAX_HISTORY_PAGES} pages since the post row")

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
                    outcome = await self._post(row.id, incident, analysis, row.channel)  # type: ignore[arg-type]
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


def _retry_after(e: SlackApiError) -> float:
    try:
        return max(0.0, float(e.response.headers.get("Retry-After", 1)))
    except (TypeError, ValueError):
        return 1.0


def _reason(e: BaseException) -> str:
    if isinstance(e, SlackApiError):
        status = e.response.status_code
        return f"http {status}" if status >= 500 else str(e.response.get("error") or f"http {status}")
    return f"{e.__class__.__name__}: {e}"[:200]
