"""The Teams bot: the same commands and questions as Slack, answered with Adaptive Cards.

Every message stores its conversation reference (``Store.put_state``) so incident cards can be posted
proactively later; card buttons (Action.Submit) come back as message activities whose ``value`` holds
``{"sherlog": "up|down|fixed|evidence", ...}``: the vote is stored as Feedback and the card updated.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from botbuilder.core import ActivityHandler, CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from bot.domain import Feedback, NotFoundError, Vote
from bot.pipeline import chat
from bot.pipeline.service import Pipeline
from bot.render.common import tally_votes
from bot.render.teams import SUBMIT_KEY, evidence_card, teams_card, text_card
from bot.surfaces.commands import dispatch, parse_command
from config.settings import TeamsSettings

log = logging.getLogger(__name__)

SURFACE = "teams"
_AT_MENTION = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)
_VOTES = {"up": Vote.UP, "down": Vote.DOWN, "fixed": Vote.FIXED}


def reference_key(conversation_id: str) -> str:
    return f"teams:conversation:{conversation_id}"[:200]


def save_reference(pipeline: Pipeline, activity: Activity) -> None:
    reference = TurnContext.get_conversation_reference(activity)
    pipeline.remember(key=reference_key(reference.conversation.id), data={"reference": reference.serialize()})


def thread_incident(pipeline: Pipeline, activity: Activity) -> str | None:
    """The incident whose card started this reply chain (channel replies carry ``;messageid=<card id>``)."""
    conversation = activity.conversation.id if activity.conversation else ""
    channel, _, root = (conversation or "").partition(";messageid=")
    if not root:
        return None
    return chat.incident_for_thread(pipeline=pipeline, surface=SURFACE, channel=channel, thread=root)


async def incident_card(pipeline: Pipeline, settings: TeamsSettings, incident_id: str) -> dict[str, Any]:
    incident, analysis = await asyncio.to_thread(pipeline.get_incident, incident_id=incident_id)
    feedback = await asyncio.to_thread(chat.incident_feedback, pipeline=pipeline, incident_id=incident_id)
    return teams_card(incident, analysis, votes=tally_votes(feedback), dashboard_url=settings.dashboard_url)


class SherlogTeamsBot(ActivityHandler):  # type: ignore[misc]  # the SDK ships no type hints
    def __init__(self, *, settings: TeamsSettings, pipeline: Pipeline) -> None:
        self.settings = settings
        self.pipeline = pipeline

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        await asyncio.to_thread(save_reference, self.pipeline, activity)
        user = _user(activity.from_property)
        if isinstance(activity.value, dict) and activity.value.get(SUBMIT_KEY):
            await self._card_action(turn_context, activity.value, user)
            return
        text = _AT_MENTION.sub("", activity.text or "").strip()
        command = parse_command(text)
        hint = await asyncio.to_thread(thread_incident, self.pipeline, activity)
        reply = await asyncio.to_thread(dispatch, command, pipeline=self.pipeline, user=user, surface=SURFACE,
                                        incident_hint=hint)
        if reply.incident is not None and reply.analysis is not None:
            card = await incident_card(self.pipeline, self.settings, reply.incident.id)
            await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))
        else:
            await turn_context.send_activity(MessageFactory.text(reply.text))

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        await asyncio.to_thread(save_reference, self.pipeline, turn_context.activity)
        await super().on_conversation_update_activity(turn_context)

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        await asyncio.to_thread(save_reference, self.pipeline, turn_context.activity)

    async def _card_action(self, turn_context: TurnContext, value: dict[str, Any], user: str) -> None:
        action, incident_id = str(value.get(SUBMIT_KEY)), str(value.get("incident_id") or "")
        service, kind = value.get("service"), value.get("kind")
        if action == "evidence":
            _, analysis = await asyncio.to_thread(self.pipeline.get_incident, incident_id=incident_id)
            hyp = next((h for h in (analysis.hypotheses if analysis else []) if h.service == service
                        and h.kind == kind), None)
            card = evidence_card(hyp) if hyp else text_card("That hypothesis is no longer in the latest analysis.")
            if hyp is not None:
                await asyncio.to_thread(self.pipeline.record_feedback, feedback=Feedback(
                    incident_id=incident_id, analysis_id=analysis.id if analysis else None, service=hyp.service,
                    kind=hyp.kind, vote=Vote.VIEWED, user=user, surface="teams"))
            await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))
            return
        vote = _VOTES.get(action)
        if vote is None or not incident_id:
            await turn_context.send_activity(MessageFactory.text("⚠️ This button is out of date."))
            return
        try:
            await asyncio.to_thread(chat.record_vote, pipeline=self.pipeline, incident_id=incident_id,
                                    analysis_id=value.get("analysis_id"), service=service, kind=kind, vote=vote,
                                    user=user, surface=SURFACE)
        except NotFoundError as e:
            await turn_context.send_activity(MessageFactory.text(f"⚠️ {e}"))
            return
        if vote == Vote.FIXED:
            await asyncio.to_thread(self.pipeline.resolve, incident_id=incident_id, user=user,
                                    cause_service=service, cause_kind=kind)
        card = await incident_card(self.pipeline, self.settings, incident_id)
        if turn_context.activity.reply_to_id:
            updated = MessageFactory.attachment(CardFactory.adaptive_card(card))
            updated.id = turn_context.activity.reply_to_id
            updated.type = ActivityTypes.message
            await turn_context.update_activity(updated)
        else:
            await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))


def _user(account: ChannelAccount | None) -> str:
    if account is None:
        return "unknown"
    return str(account.aad_object_id or account.id or account.name or "unknown")
