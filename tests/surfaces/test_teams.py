"""Teams: the ActivityHandler driven turn by turn by botbuilder's TestAdapter, proactive cards, HTTP auth."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.domain import Vote
from bot.pipeline import Pipeline
from bot.pipeline.wiring import build_pipeline
from bot.storage import Store
from bot.surfaces.teams.bot import SherlogTeamsBot
from bot.surfaces.teams.notifier import TeamsNotifier
from config.settings import load_settings
from tests.render.adaptive_card_schema import SCHEMA
from tests.render.factories import analysis, incident

ADAPTIVE = "application/vnd.microsoft.card.adaptive"


@pytest.fixture
def teams_settings(tmp_path):  # type: ignore[no-untyped-def]
    return load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"},
                         teams={"enabled": True, "channel_id": "Convo1", "dashboard_url": "https://sherlog.example"})


@pytest.fixture
def pipeline(teams_settings, store: Store) -> Pipeline:  # type: ignore[no-untyped-def]
    return Pipeline(settings=teams_settings, store=store)


def _seed(pipeline: Pipeline) -> tuple[Any, Any]:
    inc = pipeline.store.save_incident(incident=incident())  # type: ignore[union-attr]
    ana = analysis(inc)
    pipeline.store.save_analysis(analysis=ana)  # type: ignore[union-attr]
    return inc, ana


def _adapter(bot: SherlogTeamsBot) -> TestAdapter:
    async def logic(turn_context: TurnContext) -> None:
        await bot.on_turn(turn_context)

    return TestAdapter(logic)


def _card(activity: Activity) -> dict[str, Any]:
    [attachment] = activity.attachments
    assert attachment.content_type == ADAPTIVE
    jsonschema.validate(attachment.content, SCHEMA)
    return attachment.content  # type: ignore[no-any-return]


async def test_status_and_help_are_answered_as_text(teams_settings, pipeline: Pipeline) -> None:  # type: ignore[no-untyped-def]
    inc, _ = _seed(pipeline)
    adapter = _adapter(SherlogTeamsBot(settings=teams_settings.teams, pipeline=pipeline))

    def open_incident(reply: Activity, description: str | None = None) -> None:
        assert reply.text.startswith("1 open incident(s):") and inc.id in reply.text

    flow = await adapter.send("<at>Sherlog</at> status")
    flow = await flow.assert_reply(open_incident)
    flow = await flow.send("help")
    await flow.assert_reply(lambda reply, description=None: "`similar <text>`" in reply.text)


async def test_a_vote_on_the_card_is_stored_with_the_user_and_the_card_updated(
        teams_settings, pipeline: Pipeline) -> None:  # type: ignore[no-untyped-def]
    inc, ana = _seed(pipeline)
    adapter = _adapter(SherlogTeamsBot(settings=teams_settings.teams, pipeline=pipeline))
    submit = {"sherlog": "down", "incident_id": inc.id, "analysis_id": ana.id, "rank": 1, "service": "orders-db",
              "kind": "db_connection_exhaustion"}
    await adapter.receive_activity(Activity(type=ActivityTypes.message, value=submit, reply_to_id="card-1"))
    [fb] = pipeline.store.list_feedback(incident_id=inc.id)  # type: ignore[union-attr]
    assert (fb.vote, fb.user, fb.surface, fb.kind) == (Vote.DOWN, "User1", "teams", "db_connection_exhaustion")
    [updated] = adapter.updated_activities
    assert updated.id == "card-1"
    card = _card(updated)
    assert "👍 0 · 👎 1" in json.dumps(card, ensure_ascii=False)


async def test_show_evidence_and_this_fixed_it(teams_settings, pipeline: Pipeline) -> None:  # type: ignore[no-untyped-def]
    inc, ana = _seed(pipeline)
    adapter = _adapter(SherlogTeamsBot(settings=teams_settings.teams, pipeline=pipeline))
    base = {"incident_id": inc.id, "analysis_id": ana.id, "rank": 1, "service": "orders-db",
            "kind": "db_connection_exhaustion"}
    flow = await adapter.send(Activity(type=ActivityTypes.message, value={"sherlog": "evidence", **base}))
    await flow.assert_reply(lambda reply, description=None: "Evidence for db_connection_exhaustion in orders-db"
                            in _card(reply)["body"][0]["text"])
    [viewed] = pipeline.store.list_feedback(incident_id=inc.id)
    assert (viewed.vote.value, viewed.kind, viewed.surface) == ("viewed", "db_connection_exhaustion", "teams")
    await adapter.receive_activity(Activity(type=ActivityTypes.message, value={"sherlog": "fixed", **base},
                                            reply_to_id="card-1"))
    resolved, _ = pipeline.get_incident(incident_id=inc.id)
    assert (resolved.status.value, resolved.confirmed_kind) == ("resolved", "db_connection_exhaustion")
    card = _card(adapter.updated_activities[-1])
    assert "Action.Submit" not in json.dumps(card)  # no more votes on a resolved incident


async def test_proactive_card_is_posted_once_then_updated_in_place(
        teams_settings, pipeline: Pipeline, store: Store) -> None:  # type: ignore[no-untyped-def]
    inc, ana = _seed(pipeline)
    bot = SherlogTeamsBot(settings=teams_settings.teams, pipeline=pipeline)
    adapter = _adapter(bot)
    notifier = TeamsNotifier(settings=teams_settings.teams, pipeline=pipeline, adapter=adapter, store=store)
    assert await notifier.deliver(inc, ana) == "pending"  # the bot was never added to the channel yet
    await adapter.receive_activity(Activity(type=ActivityTypes.conversation_update))  # added: reference stored
    adapter.activity_buffer.clear()
    assert await notifier.retry_pending() == {"posted": 1}
    [card_activity] = adapter.activity_buffer
    assert card_activity.conversation.id == "Convo1"
    card = _card(card_activity)
    assert card["body"][0]["text"] == "🔴 Checkout p99 latency above 2s"
    row = store.get_chat_post(incident_id=inc.id, surface="teams")
    assert row is not None and row.state == "posted" and row.message_ref

    restarted = TeamsNotifier(settings=teams_settings.teams, pipeline=Pipeline(settings=teams_settings,
                                                                                store=store), adapter=adapter,
                               store=store)
    assert await restarted.deliver(inc, ana) == "updated"
    assert len(adapter.activity_buffer) == 1
    [update] = adapter.updated_activities
    assert update.id == row.message_ref


class _Connector(BaseHTTPRequestHandler):
    """The Bot Connector REST API's reply endpoint: POST /v3/conversations/{id}/activities/{activityId}."""

    received: list[tuple[str, dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        type(self).received.append((self.path, body))
        data = json.dumps({"id": "reply-1"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def connector() -> Iterator[str]:
    _Connector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Connector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _activity(service_url: str) -> dict[str, Any]:
    return {"type": "message", "id": "act-1", "text": "<at>Sherlog</at> status", "channelId": "msteams",
            "serviceUrl": service_url, "from": {"id": "29:user", "name": "Alice", "aadObjectId": "aad-alice"},
            "recipient": {"id": "28:bot", "name": "Sherlog"}, "conversation": {"id": "19:chan@thread.tacv2"}}


def test_api_messages_refuses_requests_without_a_bot_framework_token(tmp_path, connector: str) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"},
                             teams={"enabled": True, "app_id": "00000000-0000-0000-0000-000000000001",
                                    "app_password": "secret"})
    with TestClient(create_app(settings, pipeline=build_pipeline(settings, with_retriever=False))) as client:
        resp = client.post("/api/messages", json=_activity(connector))
        assert resp.status_code == 401
        forged = client.post("/api/messages", json=_activity(connector), headers={"Authorization": "Bearer abc.def.ghi"})
        assert forged.status_code == 401
    assert _Connector.received == []


def test_api_messages_answers_through_the_connector_in_emulator_mode(tmp_path, connector: str) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"}, teams={"enabled": True})
    with TestClient(create_app(settings, pipeline=build_pipeline(settings, with_retriever=False))) as client:
        resp = client.post("/api/messages", json=_activity(connector))
        assert resp.status_code == 201
        assert client.app.state.store.get_state(key="teams:conversation:19:chan@thread.tacv2") is not None  # type: ignore[attr-defined]
    [(path, body)] = _Connector.received
    assert unquote(path) == "/v3/conversations/19:chan@thread.tacv2/activities/act-1"
    assert body["text"] == "No open incidents. 🎉" and body["replyToId"] == "act-1"


async def test_ack_or_resolve_never_posts_a_first_card(teams_settings, pipeline: Pipeline, store: Store) -> None:  # type: ignore[no-untyped-def]
    inc, ana = _seed(pipeline)
    bot = SherlogTeamsBot(settings=teams_settings.teams, pipeline=pipeline)
    adapter = _adapter(bot)
    await adapter.receive_activity(Activity(type=ActivityTypes.conversation_update))
    adapter.activity_buffer.clear()
    notifier = TeamsNotifier(settings=teams_settings.teams, pipeline=pipeline, adapter=adapter, store=store)
    assert await notifier.deliver(inc, None, update_only=True) == "skipped"
    assert adapter.activity_buffer == [] and pipeline.store.get_chat_post(  # type: ignore[union-attr]
        incident_id=inc.id, surface="teams") is None
    assert await notifier.deliver(inc, ana) == "posted"
    assert await notifier.deliver(inc, None, update_only=True) == "updated"


async def test_questions_in_a_cards_reply_chain_are_about_that_incident(teams_settings, pipeline: Pipeline,
                                                                       store: Store) -> None:  # type: ignore[no-untyped-def]
    from botbuilder.schema import ConversationAccount

    older, _ = _seed(pipeline)
    newer, _ = _seed(pipeline)  # the latest open incident: what a question outside any thread is about
    bot = SherlogTeamsBot(settings=teams_settings.teams, pipeline=pipeline)
    adapter = _adapter(bot)
    await adapter.receive_activity(Activity(type=ActivityTypes.conversation_update))
    notifier = TeamsNotifier(settings=teams_settings.teams, pipeline=pipeline, adapter=adapter, store=store)
    assert await notifier.deliver(older, pipeline.get_incident(incident_id=older.id)[1]) == "posted"
    card_id = pipeline.store.get_chat_post(incident_id=older.id, surface="teams").message_ref  # type: ignore[union-attr]
    adapter.activity_buffer.clear()
    await adapter.receive_activity(Activity(type=ActivityTypes.message, text="<at>Sherlog</at> summary",
                                            conversation=ConversationAccount(id=f"Convo1;messageid={card_id}")))
    [reply] = adapter.activity_buffer
    assert f"({older.id}," in reply.text
    adapter.activity_buffer.clear()
    await adapter.receive_activity(Activity(type=ActivityTypes.message, text="summary"))
    assert f"({newer.id}," in adapter.activity_buffer[0].text


async def test_a_new_top_cause_and_the_resolution_are_said_in_the_cards_reply_chain(
        teams_settings, pipeline: Pipeline, store: Store) -> None:  # type: ignore[no-untyped-def]
    from tests.render.factories import hypothesis

    inc, ana = _seed(pipeline)
    adapter = _adapter(SherlogTeamsBot(settings=teams_settings.teams, pipeline=pipeline))
    await adapter.receive_activity(Activity(type=ActivityTypes.conversation_update))
    notifier = TeamsNotifier(settings=teams_settings.teams, pipeline=pipeline, adapter=adapter, store=store)
    assert await notifier.deliver(inc, ana) == "posted"
    card_id = pipeline.store.get_chat_post(  # type: ignore[union-attr]
        incident_id=inc.id, surface="teams").message_ref
    adapter.activity_buffer.clear()
    assert await notifier.deliver(inc, ana) == "updated"
    assert adapter.activity_buffer == []  # same top cause: the card is updated, nothing said
    second = analysis(inc, hypotheses=[hypothesis(1, "checkout", "bad_deploy", 0.8)])
    pipeline.store.save_analysis(analysis=second)  # type: ignore[union-attr]
    assert await notifier.deliver(inc, second) == "updated"
    [note] = adapter.activity_buffer
    assert note.conversation.id == f"Convo1;messageid={card_id}"
    assert note.text == "🔄 Updated analysis: now most likely **bad_deploy** in checkout (80%)."
    resolved = pipeline.resolve(incident_id=inc.id, user="U1", cause_service="checkout", cause_kind="bad_deploy")
    assert await notifier.deliver(resolved, None, update_only=True) == "updated"
    assert adapter.activity_buffer[-1].text == "✅ Resolved. Confirmed cause: **bad_deploy** in checkout."
