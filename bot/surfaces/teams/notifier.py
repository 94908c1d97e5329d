"""Proactive incident cards in a Teams channel: one card per incident, updated in place.

The channel is ``teams.channel_id`` (a conversation id such as ``19:...@thread.tacv2``); its
conversation reference is stored when the bot is added to the team or first spoken to there. Like the
Slack poster, the first post is claimed once (``Store.claim_chat_post``) and leased on retries, so a
Teams outage delays a card but never loses or doubles it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from botbuilder.core import BotAdapter, CardFactory, MessageFactory, TurnContext
from botbuilder.schema import ActivityTypes, ConversationReference

from bot.domain import Analysis, Incident, IncidentStatus
from bot.pipeline import chat
from bot.pipeline.delivery import Attempt, DeliveryOutcome, Sent, deliver_first
from bot.pipeline.service import Pipeline
from bot.render.common import percent
from bot.storage import Store
from bot.storage.chat_leases import POSTED, POSTING
from bot.surfaces.teams.bot import SURFACE, incident_card, reference_key
from config.settings import TeamsSettings

log = logging.getLogger(__name__)


class TeamsNotifier:
    def __init__(self, *, settings: TeamsSettings, pipeline: Pipeline, adapter: BotAdapter, store: Store) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.adapter = adapter
        self._store = store  # the delivery ledger (chat posts), given by the composition root
        self._locks: dict[str, asyncio.Lock] = {}

    def _reference(self, channel: str) -> ConversationReference | None:
        data = self._store.get_state(key=reference_key(channel))
        if not data or "reference" not in data:
            return None
        return ConversationReference().deserialize(data["reference"])

    async def _send(self, reference: ConversationReference, card: dict[str, Any], *,
                    replace_id: str | None = None) -> str | None:
        sent: dict[str, str | None] = {"id": replace_id}

        async def callback(turn_context: TurnContext) -> None:
            activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
            if replace_id:
                activity.id, activity.type = replace_id, ActivityTypes.message
                await turn_context.update_activity(activity)
            else:
                response = await turn_context.send_activity(activity)
                sent["id"] = response.id if response else None

        await self.adapter.continue_conversation(reference, callback, bot_id=self.settings.app_id or "sherlog")
        return sent["id"]

    async def deliver(self, incident: Incident, analysis: Analysis | None = None, *,
                      update_only: bool = False) -> str:
        """Post the incident card once, or update it. Returns posted / updated / pending / skipped."""
        channel = self.settings.channel_id
        if not channel:
            return "skipped"
        lock = self._locks.setdefault(incident.id, asyncio.Lock())
        async with lock:
            if update_only:
                existing = await asyncio.to_thread(self._store.get_chat_post, incident_id=incident.id,
                                                   surface=SURFACE, channel=channel)
                if existing is None or existing.state != POSTED:
                    return "skipped"
            claimed = await asyncio.to_thread(self._store.claim_chat_post, incident_id=incident.id,
                                              surface=SURFACE, channel=channel)
            row = await asyncio.to_thread(self._store.get_chat_post, incident_id=incident.id, surface=SURFACE,
                                          channel=channel)
            if row is None or row.id is None:
                return "skipped"
            if not claimed and row.state == POSTING:
                return "skipped"
            if claimed or row.state != POSTED:
                return await self._post(row.id, incident, channel)
            data = dict(row.data)
            try:
                reference = await asyncio.to_thread(self._reference, channel)
                if reference is None:
                    return "pending"
                fresh, latest = await asyncio.to_thread(self.pipeline.get_incident, incident_id=incident.id)
                card = await incident_card(self.pipeline, self.settings, incident.id)
                await self._send(reference, card, replace_id=row.message_ref)
                note = _thread_note(data, fresh, latest)
                if note and row.message_ref:
                    await self._reply(reference, channel, row.message_ref, note)
            except Exception as e:  # noqa: BLE001 - the SDK raises plain exceptions on transport errors
                log.warning("teams card update failed", extra={"incident_id": incident.id, "error": str(e)[:200]})
                return "pending"
            data.update(_state(fresh, latest))
            await asyncio.to_thread(self._store.update_chat_post, post_id=row.id, state=POSTED, data=data)
            return "updated"

    async def _reply(self, reference: ConversationReference, channel: str, card_id: str, text: str) -> None:
        """A message in the card's reply chain (Teams threads are ``<channel>;messageid=<root id>``)."""
        thread = ConversationReference().deserialize(reference.serialize())
        thread.conversation.id = f"{channel};messageid={card_id}"

        async def callback(turn_context: TurnContext) -> None:
            await turn_context.send_activity(MessageFactory.text(text))

        await self.adapter.continue_conversation(thread, callback, bot_id=self.settings.app_id or "sherlog")

    async def _post(self, post_id: int, incident: Incident, channel: str) -> str:
        """The shared delivery cycle (``bot.pipeline.delivery``): any failure keeps the card pending."""

        async def send(_attempt: Attempt) -> Sent:
            reference = await asyncio.to_thread(self._reference, channel)
            if reference is None:
                raise LookupError("no conversation reference for the channel: add the bot to it first")
            card = await incident_card(self.pipeline, self.settings, incident.id)
            activity_id = await self._send(reference, card)
            fresh, latest = await asyncio.to_thread(self.pipeline.get_incident, incident_id=incident.id)
            return Sent(ref=activity_id, data={"activity_id": activity_id, **_state(fresh, latest)})

        # the SDK raises plain exceptions on transport errors
        outcome = await deliver_first(self._store, post_id, send, errors=(Exception,), what="teams card post")
        if outcome == DeliveryOutcome.POSTED:
            row = await asyncio.to_thread(self._store.get_chat_post, incident_id=incident.id, surface=SURFACE,
                                          channel=channel)
            if row is not None and row.message_ref:
                await asyncio.to_thread(chat.remember_thread, pipeline=self.pipeline, surface=SURFACE,
                                        channel=channel, thread=row.message_ref, incident_id=incident.id)
        return outcome.value

    async def retry_pending(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        rows = await asyncio.to_thread(self._store.pending_chat_posts, surface=SURFACE)
        for row in rows:
            incident, _ = await asyncio.to_thread(self.pipeline.get_incident, incident_id=row.incident_id)
            outcome = await self._post(row.id, incident, row.channel)  # type: ignore[arg-type]
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    async def run_retry_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.retry_interval_s)
            try:
                await self.retry_pending()
            except Exception:  # noqa: BLE001 - the loop must survive
                log.exception("teams retry loop failed")


def _state(incident: Incident, analysis: Analysis | None) -> dict[str, Any]:
    top = analysis.top if analysis else None
    return {"top": f"{top.service}|{top.kind}" if top else None, "status": incident.status.value}


def _thread_note(before: dict[str, Any], incident: Incident, analysis: Analysis | None) -> str | None:
    """What changed since the card was last sent, said in its reply chain (None: nothing worth a message)."""
    now = _state(incident, analysis)
    if now["status"] != before.get("status") and incident.status == IncidentStatus.RESOLVED:
        cause = (f" Confirmed cause: **{incident.confirmed_kind}** in {incident.confirmed_service}."
                 if incident.confirmed_kind and incident.confirmed_service else "")
        return f"✅ Resolved.{cause}"
    if now["status"] != before.get("status") and incident.status == IncidentStatus.ACKNOWLEDGED:
        return "👀 Acknowledged."
    top = analysis.top if analysis else None
    if top is not None and before.get("top") and now["top"] != before.get("top"):
        return f"🔄 Updated analysis: now most likely **{top.kind}** in {top.service} ({percent(top.confidence)})."
    return None
