"""Chat ports for game days: Slack (Web API through ``slack_sdk.WebClient``) and the terminal."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.errors import ConfigError, ConnectorError


class SlackChatPort:
    """Posts game-day messages with ``chat.postMessage``; replies go into the message's thread."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._channel_of: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: Any) -> SlackChatPort:
        token = settings.slack.bot_token.get_secret_value() if settings.slack.bot_token else None
        if not token:
            raise ConfigError("slack.bot_token is not set (SHERLOG__SLACK__BOT_TOKEN, an xoxb- token)")
        return cls(WebClient(token=token, base_url=settings.slack.api_url))

    def _send(self, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.client.chat_postMessage(**kwargs)
        except SlackApiError as e:
            raise ConnectorError(f"Slack refused the game-day message: {e.response.get('error')}") from e
        return dict(response.data) if isinstance(response.data, dict) else json.loads(str(response.data))

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]] | None = None) -> str:
        data = self._send(channel=channel, text=text, blocks=blocks)
        ts = str(data["ts"])
        self._channel_of[ts] = str(data.get("channel") or channel)
        return ts

    def reply(self, channel: str, thread: str, text: str, blocks: list[dict[str, Any]] | None = None) -> str:
        data = self._send(channel=self._channel_of.get(thread, channel), thread_ts=thread, text=text, blocks=blocks)
        return str(data["ts"])

    def channel_id(self, channel: str, thread: str) -> str:
        return self._channel_of.get(thread, channel)


class TerminalChatPort:
    """Prints game-day messages, for a drill without Slack (``--dry-run``)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._n = 0

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]] | None = None) -> str:
        self._n += 1
        self.console.print(f"[bold]{escape(channel)}[/] {escape(text)}", highlight=False)
        return f"t{self._n}"

    def reply(self, channel: str, thread: str, text: str, blocks: list[dict[str, Any]] | None = None) -> str:
        self._n += 1
        self.console.print(f"[dim]{escape(channel)} ↳[/] {escape(text)}", highlight=False)
        return f"t{self._n}"

    def channel_id(self, channel: str, thread: str) -> str:
        return channel
