"""Socket Mode: the same Bolt app over a WebSocket. Slack's side is a local aiohttp WebSocket server that
speaks the documented envelope protocol (hello, envelopes with envelope_id, acks echoing it)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import WSMsgType, web
from pydantic import SecretStr

from bot.pipeline import Pipeline
from bot.storage import Store
from bot.surfaces.slack.routes import SlackSurface
from tests.fakes.slack_api import SlackAPI
from tests.render.factories import analysis, incident


async def test_slash_command_over_socket_mode_is_acked_with_the_answer(slack_settings, store: Store,
                                                                         slack_api: SlackAPI) -> None:  # type: ignore[no-untyped-def]
    inc = store.save_incident(incident=incident())
    store.save_analysis(analysis=analysis(inc))
    acks: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1,
                                      "connection_info": {"app_id": "A0SHERLOG"}}))
        await ws.send_str(json.dumps({
            "envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True,
            "payload": {"command": "/sherlog", "text": "status", "user_id": "U0ALICE", "team_id": "T0SHERLOG",
                        "channel_id": "C0INCIDENTS", "response_url": slack_api.response_url("sock"),
                        "trigger_id": "1.2.3", "api_app_id": "A0SHERLOG"},
        }))
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await acks.put(json.loads(msg.data))
        return ws

    app = web.Application()
    app.router.add_get("/link", socket)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    slack_api.set_socket_url(f"ws://127.0.0.1:{port}/link")

    socket_settings = slack_settings.slack.model_copy(update={"socket_mode": True,
                                                             "app_token": SecretStr("xapp-test-token")})
    surface = SlackSurface(settings=socket_settings, pipeline=Pipeline(settings=slack_settings, store=store),
                           store=store)
    try:
        await surface.start()
        ack = await asyncio.wait_for(acks.get(), timeout=10)
    finally:
        await surface.stop()
        await runner.cleanup()
    assert ack["envelope_id"] == "env-1"
    assert ack["payload"]["response_type"] == "in_channel"
    assert ack["payload"]["text"].startswith("1 open incident(s):")
    [opened] = slack_api.calls_to("apps.connections.open")
    assert opened.token == "xapp-test-token"
