"""Slack as a chat-surface connector (``sherlog.connectors`` entry point ``slack``); the surface's code stays in
this package. Built when ``slack.enabled``."""

from __future__ import annotations

from typing import Any

from config.settings import SlackSettings
from connectors.plugins import ChatSurface, Connector


def chat_surface(settings: Any, pipeline: Any, store: Any) -> ChatSurface | None:
    if not settings.slack.enabled:
        return None
    from bot.surfaces.slack.routes import SlackSurface  # slack-bolt is imported only when Slack is on

    return SlackSurface(settings=settings.slack, pipeline=pipeline, store=store)


plugin = Connector(name="slack", description="Slack (Events API, Socket Mode, slash commands)",
                   settings_section="slack", settings_model=SlackSettings, chat_surface=chat_surface)
