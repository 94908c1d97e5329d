"""The Slack Web API stand-in answers like the documented API (other tests rely on it)."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import SlackAPI


async def test_documented_answers_errors_and_recording(slack_api: SlackAPI) -> None:
    client = AsyncWebClient(token="xoxb-1", base_url=slack_api.api_url)
    auth = await client.auth_test()
    assert (auth["ok"], auth["user_id"], auth["team_id"]) == (True, "U0SHERBOT", "T0SHERLOG")
    posted = await client.chat_postMessage(channel="C1", text="hi", thread_ts="1.0")
    assert posted["message"]["thread_ts"] == "1.0" and posted["ts"]
    replies = await client.conversations_replies(channel="C1", ts="1.0")
    assert [m["text"] for m in replies["messages"]] == ["hi"]
    user = await client.users_info(user="U7")
    assert user["user"]["id"] == "U7"
    slack_api.fail_next("chat.update", error="message_not_found")
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel="C1", ts=posted["ts"], text="x")
    assert err.value.response["error"] == "message_not_found"
    with pytest.raises(SlackApiError) as unauth:
        await AsyncWebClient(token=None, base_url=slack_api.api_url).chat_postMessage(channel="C1", text="x")
    assert unauth.value.response["error"] == "not_authed"
    assert slack_api.methods() == ["chat.postMessage", "conversations.replies", "users.info", "chat.update",
                                   "chat.postMessage"]
    assert slack_api.calls_to("users.info")[0].http_verb == "GET"
