"""Game days end to end through the Slack Web API stand-in, with a SQLite store and a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.domain.errors import InputError, NotFoundError
from bot.simulation.chat import SlackChatPort
from bot.simulation.gameday import GameDayEngine, score_diagnosis
from tests.fakes.slack_api import SlackAPI


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def slack() -> SlackAPI:
    with SlackAPI() as api:
        yield api


def _engine(slack: SlackAPI, store, clock: FakeClock) -> GameDayEngine:  # type: ignore[no-untyped-def]
    port = SlackChatPort(WebClient(token="xoxb-test", base_url=slack.api_url))
    return GameDayEngine(chat=port, store=store, clock=clock, pace_s=60)


def test_a_game_day_runs_end_to_end_in_slack(slack: SlackAPI, store) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    engine = _engine(slack, store, clock)
    game = engine.start("demo", channel="#sandbox", seed=7, started_by="U1")
    posts = slack.calls_to("chat.postMessage")
    assert len(posts) == 1 and posts[0].body["channel"] == "#sandbox"
    assert "GAME DAY" in posts[0].body["text"] and game["alert"]["service"] in posts[0].body["text"]
    assert posts[0].token == "xoxb-test"

    clock.advance(150)  # 2.5 minutes at one clue a minute: 3 clues due
    assert engine.tick(game["id"]) == 3
    replies = slack.calls_to("chat.postMessage")[1:]
    assert all(r.body["thread_ts"] == game["thread"] for r in replies)
    assert engine.tick(game["id"]) == 0  # nothing new until the next minute

    answer = engine.ask(game["id"], user="U2", question="how is checkout doing?")
    assert "checkout" in answer and "db_connections_in_use" in answer

    wrong = engine.diagnose(game["id"], user="U2", service="api-gateway", kind="bad_deploy")
    assert not wrong["correct"] and wrong["points"] < 30
    assert engine.status(game["id"])["status"] == "running"

    clock.advance(240)
    right = engine.diagnose(game["id"], user="U3", service="checkout", kind="db_connection_exhaustion")
    assert right["correct"] and right["seconds"] == 390.0
    assert 90 < right["points"] < 100  # past the 5 free minutes, speed starts to count
    ended = engine.get(game["id"])
    assert ended["status"] == "ended"
    assert ended["result"]["solved"] and ended["result"]["winner"] == "U3"
    assert ended["result"]["root_cause_service"] == "checkout"
    assert "db_connection_exhaustion" in ended["debrief"] and "U2" in ended["debrief"]
    last = slack.calls_to("chat.postMessage")[-1].body
    assert "Root cause" in last["text"] and last["thread_ts"] == game["thread"]
    # stored for the dashboard, and the channel is free again
    assert [g["id"] for g in engine.history()] == [game["id"]]
    with pytest.raises(NotFoundError):
        engine.active("#sandbox")


def test_one_game_per_channel_and_ending_without_a_diagnosis(slack: SlackAPI, store) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    engine = _engine(slack, store, clock)
    game = engine.start("dns_failure", channel="#drills", seed=3, difficulty="hard")
    with pytest.raises(InputError, match="already running"):
        engine.start("demo", channel="#drills")
    assert engine.active("#drills")["id"] == game["id"]
    clock.advance(3600)
    engine.tick(game["id"])
    assert engine.status(game["id"])["clues_posted"] == len(game["clues"])
    ended = engine.end(game["id"])
    assert ended["result"]["solved"] is False and ended["result"]["root_cause_kind"] == "dns_failure"
    with pytest.raises(InputError, match="ended"):
        engine.diagnose(game["id"], user="U1", service="coredns", kind="dns_failure")


def test_scoring_rewards_correctness_then_speed_then_few_questions() -> None:
    fast = score_diagnosis(service="a", kind="oom_kill", truth_service="a", truth_kind="oom_kill", seconds=120,
                           questions=1)
    slow = score_diagnosis(service="a", kind="oom_kill", truth_service="a", truth_kind="oom_kill", seconds=1800,
                           questions=1)
    chatty = score_diagnosis(service="a", kind="oom_kill", truth_service="a", truth_kind="oom_kill", seconds=120,
                             questions=12)
    near = score_diagnosis(service="a", kind="memory_leak", truth_service="a", truth_kind="oom_kill", seconds=120,
                           questions=1)
    wrong = score_diagnosis(service="b", kind="ddos", truth_service="a", truth_kind="oom_kill", seconds=120,
                            questions=1)
    assert fast["points"] == 100 > slow["points"] > 0
    assert fast["points"] > chatty["points"]
    assert near["category_correct"] and 0 < near["points"] < fast["points"]
    assert wrong["points"] == 0 and not wrong["correct"]


def test_unknown_scenario_is_refused(slack: SlackAPI, store) -> None:  # type: ignore[no-untyped-def]
    engine = _engine(slack, store, FakeClock())
    with pytest.raises(InputError, match="unknown scenario"):
        engine.start("alien_invasion", channel="#sandbox")
    assert slack.calls_to("chat.postMessage") == []


def test_slash_commands_find_the_game_by_channel_id(slack: SlackAPI, store) -> None:  # type: ignore[no-untyped-def]
    """Slack answers chat.postMessage with the channel id; commands later name the channel by that id."""
    engine = _engine(slack, store, FakeClock())
    game = engine.start("oom_kill", channel="C0SANDBOX", seed=2)
    assert engine.active("C0SANDBOX")["id"] == game["id"]
    engine.end(game["id"])
    with pytest.raises(NotFoundError):
        engine.active("C0SANDBOX")
