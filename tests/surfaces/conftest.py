"""Fixtures for chat-surface tests: the Slack Web API stand-in, Slack-enabled settings, request signing."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.fakes.slack_api import SlackAPI

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-token"


@pytest.fixture
def slack_api() -> Iterator[SlackAPI]:
    with SlackAPI() as api:
        yield api


@pytest.fixture
def slack_settings(tmp_path: Path, slack_api: SlackAPI):  # type: ignore[no-untyped-def]
    from config.settings import load_settings

    return load_settings(
        data_dir=tmp_path / "data",
        retrieval={"backend": "memory"},
        slack={"enabled": True, "bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET,
               "api_url": slack_api.api_url, "incident_channel": "C0INCIDENTS",
               "routes": {"payments": "C0PAYMENTS", "info": "C0LOWPRIO"}, "max_retries": 2,
               "dashboard_url": "https://sherlog.example"},
    )


def sign(body: str, *, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """Slack's v0 request signature: HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def slash_body(text: str, *, response_url: str, user: str = "U0ALICE", channel: str = "C0INCIDENTS") -> str:
    return urlencode({
        "token": "legacy", "team_id": "T0SHERLOG", "team_domain": "sherlog-test", "channel_id": channel,
        "channel_name": "incidents", "user_id": user, "user_name": user.lower(), "command": "/sherlog",
        "text": text, "api_app_id": "A0SHERLOG", "response_url": response_url, "trigger_id": "1.2.3",
    })


def action_body(*, action_id: str, value: str, channel: str, ts: str, response_url: str,
                user: str = "U0ALICE") -> str:
    payload: dict[str, Any] = {
        "type": "block_actions", "team": {"id": "T0SHERLOG", "domain": "sherlog-test"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0SHERLOG"}, "api_app_id": "A0SHERLOG",
        "token": "legacy", "container": {"type": "message", "message_ts": ts, "channel_id": channel,
                                         "is_ephemeral": False},
        "trigger_id": "1.2.3", "channel": {"id": channel, "name": "incidents"},
        "message": {"type": "message", "ts": ts, "bot_id": "B0SHERBOT", "text": "..."},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "vote_1", "value": value, "type": "button",
                     "action_ts": str(time.time())}],
    }
    return urlencode({"payload": json.dumps(payload)})


def event_body(event: dict[str, Any], *, event_id: str = "Ev0001") -> str:
    return json.dumps({
        "token": "legacy", "team_id": "T0SHERLOG", "api_app_id": "A0SHERLOG", "event": event,
        "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0SHERLOG", "user_id": "U0SHERBOT", "is_bot": True}],
    })
