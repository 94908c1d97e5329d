"""Signed Slack requests through FastAPI and the real Bolt app, answered against the Web API stand-in."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.domain import Alert, Severity, Vote
from bot.pipeline.wiring import build_pipeline
from bot.render.slack import ACTION_EVIDENCE, ACTION_FIXED, ACTION_UP, button_value
from bot.storage import jobs
from tests.fakes.slack_api import SlackAPI
from tests.render.factories import analysis
from tests.surfaces.conftest import action_body, event_body, sign, slash_body

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}


class World:
    def __init__(self, client: TestClient, slack: SlackAPI) -> None:
        self.client = client
        self.slack = slack
        self.app: Any = client.app
        self.pipeline = self.app.state.pipeline
        self.store = self.pipeline.store

    def post(self, body: str, headers: dict[str, str], **sign_kw: Any) -> Any:
        return self.client.post("/slack/events", content=body, headers={**headers, **sign(body, **sign_kw)})

    def incident_with_analysis(self, service: str = "checkout") -> tuple[Any, Any]:
        alert = Alert(name="CheckoutLatencyHigh", service=service, severity=Severity.CRITICAL,
                      summary="Checkout p99 latency above 2s", labels={"alertname": "CheckoutLatencyHigh",
                                                                        "service": service})
        result = self.pipeline.accept_alerts([alert])  # queues its analysis; saved here as the runner would
        incident, _ = self.pipeline.get_incident(incident_id=result.created[0])
        ana = analysis(incident)
        with self.store.engine.begin() as conn:
            [job] = jobs.claim(conn, owner="test", limit=1, lease_s=60, incident_ids=[incident.id])
        self.store.save_analysis(analysis=ana, job=job)
        return incident, ana

    def auto_post(self, incident: Any, ana: Any) -> str:
        """Publish analysis.ready as the analysis worker does and wait for the post."""
        before = len(self.slack.calls_to("chat.postMessage"))
        self.pipeline.events.publish("analysis.ready", incident=incident, analysis=ana)
        call = self.slack.wait_for("chat.postMessage", before + 1)[-1]
        row = self._wait_posted(incident.id)
        assert call.body["channel"] == "C0INCIDENTS"
        return str(row.data["ts"])

    def _wait_posted(self, incident_id: str) -> Any:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            row = self.store.get_chat_post(incident_id=incident_id, surface="slack")
            if row is not None and row.state == "posted":
                return row
            time.sleep(0.02)
        raise AssertionError("post never recorded as posted")


@pytest.fixture
def world(slack_settings, slack_api: SlackAPI) -> Iterator[World]:  # type: ignore[no-untyped-def]
    # the runner claims only when woken (a webhook, /sherlog analyze): the scenes below seed analyses themselves
    slack_settings = slack_settings.model_copy(update={"analysis": slack_settings.analysis.model_copy(
        update={"poll_interval_s": 60.0})})
    pipeline = build_pipeline(slack_settings, with_retriever=False)
    app = create_app(slack_settings, pipeline=pipeline)
    with TestClient(app) as client:
        assert client.portal is not None
        client.portal.call(app.state.queue.drain)  # the start-up claim is over: claims now need a wake
        yield World(client, slack_api)


def test_requests_without_a_valid_fresh_signature_are_refused(world: World) -> None:
    body = slash_body("help", response_url=world.slack.response_url())
    assert world.client.post("/slack/events", content=body, headers=FORM).status_code == 401
    bad = {**FORM, **sign(body, secret="not-the-secret")}
    assert world.client.post("/slack/events", content=body, headers=bad).status_code == 401
    replay = world.post(body, FORM, timestamp=int(time.time()) - 6 * 60)  # signed, but 6 minutes old
    assert replay.status_code == 401
    ok = world.post(body, FORM)
    assert ok.status_code == 200 and ok.json()["response_type"] == "ephemeral"
    assert "*Sherlog commands*" in ok.json()["text"]


def test_status_is_answered_in_the_ack_in_channel(world: World) -> None:
    incident, _ = world.incident_with_analysis()
    resp = world.post(slash_body("status", response_url=world.slack.response_url()), FORM)
    assert resp.status_code == 200
    data = resp.json()
    assert data["response_type"] == "in_channel"
    assert data["text"].splitlines() == [
        "1 open incident(s):",
        f"- {incident.id} [critical, open] {incident.title}: likely db_connection_exhaustion in orders-db (72%)",
    ]


def test_heavy_command_is_acknowledged_at_once_and_answered_by_the_lazy_listener(world: World) -> None:
    url = world.slack.response_url("similar")
    started = time.monotonic()
    resp = world.post(slash_body("similar checkout latency", response_url=url), FORM)
    assert time.monotonic() - started < 3.0
    assert resp.json() == {"response_type": "ephemeral", "text": "🔎 Working on `similar`…"}
    [answer] = world.slack.wait_for("response_url")
    assert answer.path == "/response/similar"
    assert answer.body["response_type"] == "in_channel"
    assert answer.body["text"] == "No similar past incident for “checkout latency”."


def test_analyze_command_answers_with_blocks_and_auto_posts_once(world: World) -> None:
    incident, _ = world.incident_with_analysis()
    world.post(slash_body(f"analyze {incident.id}", response_url=world.slack.response_url("an")), FORM)
    [answer] = world.slack.wait_for("response_url")
    assert answer.body["blocks"][0]["type"] == "header"
    assert answer.body["text"].startswith(f"🔴 {incident.title}")
    [post] = world.slack.wait_for("chat.postMessage")  # analysis.ready -> the incident channel
    assert post.body["channel"] == "C0INCIDENTS"
    world.post(slash_body(f"analyze {incident.id}", response_url=world.slack.response_url("again")), FORM)
    world.slack.wait_for("response_url", 2)
    world.slack.wait_for("chat.update")  # the second analysis edits the incident's message
    assert len(world.slack.calls_to("chat.postMessage")) <= 2  # at most one thread note, never a second post
    assert all(c.body.get("thread_ts") for c in world.slack.calls_to("chat.postMessage")[1:])


def test_vote_button_stores_feedback_with_the_user_and_updates_the_message(world: World) -> None:
    incident, ana = world.incident_with_analysis()
    ts = world.auto_post(incident, ana)
    value = button_value(incident.id, ana.id, ana.hypotheses[0])
    resp = world.post(action_body(action_id=ACTION_UP, value=value, channel="C0INCIDENTS", ts=ts,
                                  response_url=world.slack.response_url("vote"), user="U0CAROL"), FORM)
    assert resp.status_code == 200
    [update] = world.slack.wait_for("chat.update")
    assert update.body["channel"] == "C0INCIDENTS" and update.body["ts"] == ts
    votes = [b for b in update.body["blocks"] if b["type"] == "context" and "👍" in b["elements"][0]["text"]]
    assert votes[0]["elements"][0]["text"] == "👍 1 · 👎 0 — <@U0CAROL> up"
    [fb] = world.store.list_feedback(incident_id=incident.id)
    assert (fb.vote, fb.user, fb.surface, fb.service, fb.kind, fb.analysis_id) == (
        Vote.UP, "U0CAROL", "slack", "orders-db", "db_connection_exhaustion", ana.id)


def test_this_fixed_it_resolves_with_the_cause_and_show_evidence_answers_privately(world: World) -> None:
    incident, ana = world.incident_with_analysis()
    ts = world.auto_post(incident, ana)
    value = button_value(incident.id, ana.id, ana.hypotheses[0])
    world.post(action_body(action_id=ACTION_EVIDENCE, value=value, channel="C0INCIDENTS", ts=ts,
                           response_url=world.slack.response_url("ev")), FORM)
    [eph] = world.slack.wait_for("chat.postEphemeral")
    assert (eph.body["user"], eph.body["thread_ts"]) == ("U0ALICE", ts)
    assert eph.body["blocks"][0]["text"]["text"].startswith("*Evidence for db_connection_exhaustion in orders-db*")
    [viewed] = world.store.list_feedback(incident_id=incident.id)
    assert (viewed.vote, viewed.user, viewed.kind) == (Vote.VIEWED, "U0ALICE", "db_connection_exhaustion")
    world.post(action_body(action_id=ACTION_FIXED, value=value, channel="C0INCIDENTS", ts=ts,
                           response_url=world.slack.response_url("fix")), FORM)
    world.slack.wait_for("chat.update")
    resolved, _ = world.pipeline.get_incident(incident_id=incident.id)
    assert (resolved.status.value, resolved.confirmed_service, resolved.confirmed_kind) == (
        "resolved", "orders-db", "db_connection_exhaustion")
    votes = {(f.vote, f.user) for f in world.store.list_feedback(incident_id=incident.id)}
    assert (Vote.FIXED, "U0ALICE") in votes
    note = [c for c in world.slack.wait_for("chat.postMessage", 2) if c.body.get("thread_ts") == ts]
    assert note and note[0].body["text"].startswith("✅ Resolved by <@U0ALICE>.")


def test_mention_in_an_incident_thread_is_answered_in_that_thread(world: World) -> None:
    incident, ana = world.incident_with_analysis()
    ts = world.auto_post(incident, ana)
    event = {"type": "app_mention", "user": "U0ALICE", "text": "<@U0SHERBOT> why is checkout slow?",
             "ts": f"{time.time():.6f}", "thread_ts": ts, "channel": "C0INCIDENTS", "event_ts": "1"}
    resp = world.post(event_body(event), JSON)
    assert resp.status_code == 200
    reply = world.slack.wait_for("chat.postMessage", 2)[-1]
    assert reply.body["thread_ts"] == ts and reply.body["channel"] == "C0INCIDENTS"
    assert "db_connection_exhaustion" in reply.body["text"]


def test_direct_message_is_answered_in_thread_and_bot_messages_are_ignored(world: World) -> None:
    world.incident_with_analysis()
    dm = {"type": "message", "channel_type": "im", "user": "U0ALICE", "text": "status", "ts": "1700000000.000100",
          "channel": "D0ALICE", "event_ts": "1700000000.000100"}
    world.post(event_body(dm, event_id="Ev1"), JSON)
    [reply] = world.slack.wait_for("chat.postMessage")
    assert (reply.body["channel"], reply.body["thread_ts"]) == ("D0ALICE", "1700000000.000100")
    assert reply.body["text"].startswith("1 open incident(s):")
    own = {**dm, "bot_id": "B0OTHER", "subtype": "bot_message", "ts": "1700000000.000200", "event_ts": "2"}
    world.post(event_body(own, event_id="Ev2"), JSON)
    time.sleep(0.3)
    assert len(world.slack.calls_to("chat.postMessage")) == 1


def test_url_verification_challenge(world: World) -> None:
    body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    resp = world.post(body, JSON)
    assert resp.status_code == 200 and resp.json() == {
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_game_day_questions_and_diagnoses_go_to_the_simulation_engine(world: World) -> None:
    from slack_sdk import WebClient

    from bot.simulation.chat import SlackChatPort
    from bot.simulation.gameday import GameDayEngine

    engine = GameDayEngine(chat=SlackChatPort(WebClient(token="xoxb-test-token", base_url=world.slack.api_url)),
                           store=world.store)
    game = engine.start("demo", channel="C0INCIDENTS", started_by="U0ALICE")
    thread, truth = game["thread"], game["scenario"]
    asked = {"type": "app_mention", "user": "U0BOB", "text": f"<@U0SHERBOT> how is {truth['service']}?",
             "ts": f"{time.time():.6f}", "thread_ts": thread, "channel": "C0INCIDENTS", "event_ts": "3"}
    world.post(event_body(asked, event_id="EvGame1"), JSON)
    answer = world.slack.wait_for("chat.postMessage", 2)[-1]
    assert answer.body["thread_ts"] == thread and f"Dashboard `{truth['service']}`" in answer.body["text"]

    world.post(slash_body("diagnose nowhere dns_failure", response_url=world.slack.response_url("d1"),
                          user="U0BOB"), FORM)
    [wrong] = world.slack.wait_for("response_url")
    assert wrong.body["text"] == "Diagnosis recorded (not it): dns_failure in nowhere."
    world.post(slash_body(f"diagnose {truth['service']} {truth['kind']}", response_url=world.slack.response_url("d2"),
                          user="U0BOB"), FORM)
    world.slack.wait_for("response_url", 2)
    replies = [c.body["text"] for c in world.slack.calls_to("chat.postMessage") if c.body.get("thread_ts") == thread]
    assert any(t.startswith(":tada: <@U0BOB> found it in ") for t in replies)
    assert engine.get(game["id"])["status"] == "ended"


def test_feedback_command_opens_a_modal_and_the_submission_is_stored(world: World) -> None:
    from urllib.parse import urlencode

    incident, ana = world.incident_with_analysis()
    ts = world.auto_post(incident, ana)
    resp = world.post(slash_body("feedback", response_url=world.slack.response_url("fb")), FORM)
    assert resp.status_code == 200 and resp.text == ""
    [opened] = world.slack.wait_for("views.open")
    view = opened.body["view"]
    assert opened.body["trigger_id"] == "1.2.3" and view["callback_id"] == "sherlog_feedback"
    cause = next(b for b in view["blocks"] if b.get("block_id") == "cause")
    assert [o["value"] for o in cause["element"]["options"]] == [
        "orders-db|db_connection_exhaustion", "checkout|bad_deploy", "payments|dependency_failure"]
    submitted = {**view, "id": "V0001", "state": {"values": {
        "cause": {"value": {"type": "static_select", "selected_option": cause["element"]["options"][1]}},
        "vote": {"value": {"type": "radio_buttons", "selected_option": {"value": "up"}}},
        "comment": {"value": {"type": "plain_text_input", "value": "the deploy at 11:58 broke it"}}}}}
    payload = {"type": "view_submission", "team": {"id": "T0SHERLOG"}, "user": {"id": "U0DAVE"},
               "api_app_id": "A0SHERLOG", "token": "legacy", "trigger_id": "4.5.6", "view": submitted}
    body = urlencode({"payload": json.dumps(payload)})
    assert world.post(body, FORM).status_code == 200
    [update] = world.slack.wait_for("chat.update")
    assert update.body["ts"] == ts
    [fb] = world.store.list_feedback(incident_id=incident.id)
    assert (fb.vote, fb.user, fb.service, fb.kind, fb.comment, fb.analysis_id) == (
        Vote.UP, "U0DAVE", "checkout", "bad_deploy", "the deploy at 11:58 broke it", ana.id)


def test_an_event_resent_after_a_timeout_is_not_answered_twice(world: World) -> None:
    world.incident_with_analysis()
    dm = {"type": "message", "channel_type": "im", "user": "U0ALICE", "text": "status", "ts": "1700000000.000300",
          "channel": "D0ALICE", "event_ts": "1700000000.000300"}
    body = event_body(dm, event_id="EvRetry")
    world.post(body, JSON)
    world.slack.wait_for("chat.postMessage")
    again = world.post(body, {**JSON, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert again.status_code == 200
    time.sleep(0.3)
    assert len(world.slack.calls_to("chat.postMessage")) == 1


def test_endpoints_answer_404_when_the_surfaces_are_off(settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings, pipeline=build_pipeline(settings, with_retriever=False))
    with TestClient(app) as client:
        assert client.post("/slack/events", content="x", headers=FORM).status_code == 404
        assert client.post("/api/messages", json={}).status_code == 404


def test_socket_mode_refuses_http_events(slack_settings) -> None:  # type: ignore[no-untyped-def]
    from pydantic import SecretStr

    slack_settings.slack.socket_mode = True
    slack_settings.slack.signing_secret = None
    slack_settings.slack.app_token = SecretStr("xapp-x")
    app = create_app(slack_settings, pipeline=build_pipeline(slack_settings, with_retriever=False))
    client = TestClient(app)  # no lifespan: the WebSocket is not opened here
    body = slash_body("status", response_url="http://127.0.0.1:9/none")
    assert client.post("/slack/events", content=body, headers=FORM).status_code == 404
