"""Microsoft Teams as a chat-surface connector (``sherlog.connectors`` entry point ``teams``); the surface's code
stays in this package. Built when ``teams.enabled``."""

from __future__ import annotations

from typing import Any

from config.settings import TeamsSettings
from connectors.plugins import ChatSurface, Connector


def chat_surface(settings: Any, pipeline: Any, store: Any) -> ChatSurface | None:
    if not settings.teams.enabled:
        return None
    from bot.surfaces.teams.routes import TeamsSurface  # the Bot Framework is imported only when Teams is on

    return TeamsSurface(settings=settings.teams, pipeline=pipeline, store=store)


plugin = Connector(name="teams", description="Microsoft Teams (Bot Framework)", settings_section="teams",
                   settings_model=TeamsSettings, chat_surface=chat_surface)
