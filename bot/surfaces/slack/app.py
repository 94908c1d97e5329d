"""The Bolt (async) app: `/sherlog`, @mentions, DMs and the vote buttons. Handlers stay thin: they parse,
call ``bot.surfaces.commands`` / ``bot.pipeline.chat`` in a thread, and render with ``bot.render.slack``.

Slack wants an acknowledgement within 3 seconds: light commands are answered in the ack itself; heavy
ones (analysis, search, questions) are acknowledged at once and answered by a lazy listener.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import ConfigError, Feedback, NotFoundError, Vote
from bot.pipeline import chat
from bot.pipeline.service import Pipeline
from bot.render.slack import (
    ACTION_DOWN,
    ACTION_EVIDENCE,
    ACTION_FIXED,
    ACTION_UP,
    FEEDBACK_CALLBACK,
    escape,
    evidence_blocks,
    fallback_text,
    feedback_view,
    parse_button_value,
    parse_feedback_view,
    slack_blocks,
)
from bot.storage import Store
from bot.surfaces.commands import Command, GameDay, Reply, dispatch, gameday_question, parse_command
from bot.surfaces.slack.poster import SURFACE, SlackPoster
from config.settings import SlackSettings

log = logging.getLogger(__name__)

COMMAND = "/sherlog"
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_VOTES = {ACTION_UP: Vote.UP, ACTION_DOWN: Vote.DOWN, ACTION_FIXED: Vote.FIXED}


class SlackHandlers:
    """The listener functions, bound to one pipeline and poster."""

    def __init__(self, *, settings: SlackSettings, pipeline: Pipeline, poster: SlackPoster,
                 gameday: GameDay | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.poster = poster
        self.gameday = gameday

    async def _dispatch(self, command: Command, *, user: str, channel: str | None, hint: str | None = None) -> Reply:
        return await asyncio.to_thread(dispatch, command, pipeline=self.pipeline, user=user, surface=SURFACE,
                                       incident_hint=hint, channel=channel, gameday=self.gameday)

    async def _message(self, reply: Reply) -> dict[str, Any]:
        """Slack message arguments (text, blocks) for a command reply."""
        if reply.incident is not None and reply.analysis is not None:
            blocks = await self.poster.blocks_for(reply.incident, reply.analysis)
            return {"text": fallback_text(reply.incident, reply.analysis), "blocks": blocks}
        return {"text": escape(reply.text)}  # titles, log lines and user text inside: never a ping

    # ---- /sherlog ----------------------------------------------------------------------------

    async def ack_command(self, ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        parsed = parse_command(command.get("text", ""))
        if parsed.name == "feedback" and not parsed.args:
            await self._open_feedback(ack, command, client)
            return
        if parsed.heavy:
            await ack(response_type="ephemeral", text=f"🔎 Working on `{parsed.name}`…")
            return
        reply = await self._dispatch(parsed, user=command.get("user_id", "unknown"), channel=command.get("channel_id"))
        await ack(response_type="in_channel" if reply.public else "ephemeral", **await self._message(reply))

    async def run_command(self, command: dict[str, Any], respond: AsyncRespond) -> None:
        parsed = parse_command(command.get("text", ""))
        if not parsed.heavy:
            return
        reply = await self._dispatch(parsed, user=command.get("user_id", "unknown"), channel=command.get("channel_id"))
        await respond(response_type="in_channel" if reply.public else "ephemeral", replace_original=False,
                      **await self._message(reply))

    async def _open_feedback(self, ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        try:
            incident, analysis = await asyncio.to_thread(chat.find_incident, pipeline=self.pipeline)
        except NotFoundError as e:
            await ack(response_type="ephemeral", text=f"⚠️ {escape(str(e))}")
            return
        await client.views_open(trigger_id=command["trigger_id"], view=feedback_view(incident, analysis))
        await ack()

    async def feedback_submitted(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        data = parse_feedback_view(view)
        if not data.get("incident_id") or data.get("vote") not in {v.value for v in Vote}:
            await ack(response_action="errors", errors={"vote": "Pick a verdict."})
            return
        await ack()
        user = (body.get("user") or {}).get("id", "unknown")
        await asyncio.to_thread(chat.record_vote, pipeline=self.pipeline, incident_id=data["incident_id"],
                                analysis_id=data.get("analysis_id"), service=data.get("service"),
                                kind=data.get("kind"), vote=Vote(data["vote"]), user=user, surface=SURFACE,
                                comment=data.get("comment"))
        if data["vote"] == Vote.FIXED.value and data.get("kind"):
            await asyncio.to_thread(self.pipeline.resolve, incident_id=data["incident_id"], user=user,
                                    cause_service=data.get("service"), cause_kind=data.get("kind"))
        await self.poster.refresh_incident(incident_id=data["incident_id"])

    # ---- buttons -----------------------------------------------------------------------------

    async def ack_action(self, ack: AsyncAck) -> None:
        await ack()

    async def vote(self, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                   respond: AsyncRespond) -> None:
        target = parse_button_value(action.get("value", ""))
        vote = _VOTES.get(action.get("action_id", ""))
        user = (body.get("user") or {}).get("id", "unknown")
        if not target or vote is None:
            await respond(response_type="ephemeral", replace_original=False, text="⚠️ This button is out of date.")
            return
        try:
            await asyncio.to_thread(chat.record_vote, pipeline=self.pipeline, incident_id=target["incident_id"],
                                    analysis_id=target.get("analysis_id"), service=target.get("service"),
                                    kind=target.get("kind"), vote=vote, user=user, surface=SURFACE)
        except NotFoundError as e:
            await respond(response_type="ephemeral", replace_original=False, text=f"⚠️ {escape(str(e))}")
            return
        if vote == Vote.FIXED:
            await asyncio.to_thread(self.pipeline.resolve, incident_id=target["incident_id"], user=user,
                                    cause_service=target.get("service"), cause_kind=target.get("kind"))
        message, channel = body.get("message") or {}, (body.get("channel") or {}).get("id")
        if message.get("ts") and channel:
            await self.poster.refresh(channel=channel, ts=message["ts"], incident_id=target["incident_id"])
        else:  # an ephemeral message: only its response_url can change it
            incident, analysis = await asyncio.to_thread(self.pipeline.get_incident,
                                                         incident_id=target["incident_id"])
            await respond(replace_original=True, text=fallback_text(incident, analysis),
                          blocks=await self.poster.blocks_for(incident, analysis))

    async def show_evidence(self, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                            respond: AsyncRespond) -> None:
        target = parse_button_value(action.get("value", ""))
        user = (body.get("user") or {}).get("id", "")
        channel = (body.get("channel") or {}).get("id")
        incident, analysis = await asyncio.to_thread(self.pipeline.get_incident, incident_id=target["incident_id"])
        hyp = next((h for h in (analysis.hypotheses if analysis else [])
                    if h.service == target.get("service") and h.kind == target.get("kind")), None)
        if hyp is None or not channel:
            await respond(response_type="ephemeral", replace_original=False,
                          text="⚠️ That hypothesis is no longer in the latest analysis.")
            return
        await asyncio.to_thread(self.pipeline.record_feedback, feedback=Feedback(
            incident_id=target["incident_id"], analysis_id=analysis.id if analysis else None, service=hyp.service,
            kind=hyp.kind, vote=Vote.VIEWED, user=user or "unknown", surface="slack"))
        thread = (body.get("message") or {}).get("ts")
        blocks = evidence_blocks(hyp, tool_calls=(analysis.llm if analysis else {}).get("tool_calls"))
        kwargs: dict[str, Any] = {"thread_ts": thread} if thread else {}
        await client.chat_postEphemeral(channel=channel, user=user, text=f"Evidence for {escape(hyp.title)}",
                                        blocks=blocks, **kwargs)

    # ---- mentions and DMs --------------------------------------------------------------------

    async def _answer_in_thread(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        text = _MENTION.sub("", event.get("text", "")).strip()
        channel, ts = event["channel"], event["ts"]
        thread = event.get("thread_ts") or ts
        hint = await asyncio.to_thread(chat.incident_for_thread, pipeline=self.pipeline, surface=SURFACE,
                                       channel=channel, thread=thread) if event.get("thread_ts") else None
        command, user = parse_command(text), event.get("user", "unknown")
        if command.name == "ask" and await asyncio.to_thread(gameday_question, gameday=self.gameday, channel=channel,
                                                             thread=event.get("thread_ts"), user=user,
                                                             question=text):
            return  # a game-day question: the engine answered in its thread
        reply = await self._dispatch(command, user=user, channel=channel, hint=hint)
        await client.chat_postMessage(channel=channel, thread_ts=thread, **await self._message(reply))

    async def mention(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        await self._answer_in_thread(event, client)

    async def direct_message(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        await self._answer_in_thread(event, client)


def gameday_engine(settings: SlackSettings, store: Store) -> GameDay | None:
    """The simulation's game-day engine talking through Slack, when the simulation package is installed."""
    try:
        from bot.simulation.chat import SlackChatPort
        from bot.simulation.gameday import GameDayEngine
    except ImportError:
        return None
    if settings.bot_token is None:
        return None
    from slack_sdk import WebClient

    web = WebClient(token=settings.bot_token.get_secret_value(), base_url=settings.api_url,
                    timeout=int(max(1, settings.timeout_s)))
    engine: GameDay = GameDayEngine(chat=SlackChatPort(web), store=store)
    return engine


def build_slack_app(*, settings: SlackSettings, pipeline: Pipeline, client: AsyncWebClient,
                    poster: SlackPoster, gameday: GameDay | None = None) -> AsyncApp:
    """The Bolt app; requests are verified with the signing secret (replays past 5 minutes refused)."""
    if settings.signing_secret is None and not settings.socket_mode:
        raise ConfigError("slack.signing_secret is not set (SHERLOG__SLACK__SIGNING_SECRET, from the app's "
                          "Basic Information page)")
    app = AsyncApp(
        name="sherlog",
        client=client,
        signing_secret=settings.signing_secret.get_secret_value() if settings.signing_secret else None,
        request_verification_enabled=settings.signing_secret is not None,
        raise_error_for_unhandled_request=False,
    )
    h = SlackHandlers(settings=settings, pipeline=pipeline, poster=poster,
                      gameday=gameday if gameday is not None else gameday_engine(settings, poster.store))
    app.command(COMMAND)(ack=h.ack_command, lazy=[h.run_command])
    for action_id in _VOTES:
        app.action(action_id)(ack=h.ack_action, lazy=[h.vote])
    app.action(ACTION_EVIDENCE)(ack=h.ack_action, lazy=[h.show_evidence])
    app.view(FEEDBACK_CALLBACK)(h.feedback_submitted)
    app.event("app_mention")(h.mention)
    app.event("message")(h.direct_message)
    return app


__all__ = ["COMMAND", "SlackHandlers", "build_slack_app", "slack_blocks"]
