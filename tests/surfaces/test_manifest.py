"""The Slack app manifest shipped in config/ matches what the app listens to."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.surfaces.slack.app import COMMAND

MANIFEST = Path(__file__).resolve().parents[2] / "config" / "slack-manifest.yaml"


def test_manifest_declares_the_command_events_scopes_and_one_request_url() -> None:
    data = yaml.safe_load(MANIFEST.read_text())
    [command] = data["features"]["slash_commands"]
    assert command["command"] == COMMAND
    urls = {command["url"], data["settings"]["event_subscriptions"]["request_url"],
            data["settings"]["interactivity"]["request_url"]}
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
    assert set(data["settings"]["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im"}
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "commands", "app_mentions:read", "im:history"} <= scopes
