"""E-mail as a surface connector (``sherlog.connectors`` entry point ``email``); the notifier stays in
``bot.surfaces.email``. Built when ``smtp.enabled``."""

from __future__ import annotations

from typing import Any

from config.settings import SMTPSettings
from connectors.plugins import ChatSurface, Connector


def chat_surface(settings: Any, pipeline: Any, store: Any) -> ChatSurface | None:
    if not settings.smtp.enabled:
        return None
    from bot.surfaces.email import EmailNotifier  # only when e-mail is on: the registry loads light

    return EmailNotifier(settings=settings.smtp, pipeline=pipeline, store=store)


plugin = Connector(name="email", description="e-mail (SMTP) notifications", settings_section="smtp",
                   settings_model=SMTPSettings, chat_surface=chat_surface)
