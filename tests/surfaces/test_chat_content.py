"""Item 11 of issue 17: chat content. A colon after the incident id names that incident; untrusted text
(alert titles, log lines, resolutions, errors) never pings a channel or user in Slack."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.domain import Alert, IncidentStatus, Severity
from bot.pipeline import Pipeline
from bot.pipeline.wiring import build_pipeline
from bot.render.slack import fallback_text
from bot.storage import Store
from bot.surfaces.commands import dispatch, parse_command
from tests.fakes.slack_api import SlackAPI
from tests.render.factories import analysis, incident
from tests.surfaces.conftest import sign, slash_body

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# what makes Slack notify people when it appears unescaped in a message's text
PING = re.compile(r"<!(?:here|channel|everyone)[^>]*>|<@[UW][A-Z0-9]+>|<!subteam\^")


@pytest.fixture
def pipeline(settings, store: Store) -> Pipeline:  # type: ignore[no-untyped-def]
    return Pipeline(settings=settings, store=store)


@pytest.mark.parametrize("args, resolution", [("{id}: restarted", "restarted"), ("{id}:restarted", "restarted"),
                                              ("{id} : restarted the pods", "restarted the pods")])
def test_resolve_with_a_colon_after_the_id_resolves_that_incident(pipeline: Pipeline, args: str,
                                                                  resolution: str) -> None:
    older = pipeline.store.save_incident(incident=incident(title="older"))  # type: ignore[union-attr,arg-type]
    newer = pipeline.store.save_incident(incident=incident(title="newer"))  # type: ignore[union-attr,arg-type]
    dispatch(parse_command("resolve " + args.format(id=older.id)), pipeline=pipeline, user="U1", surface="slack")
    got_older, _ = pipeline.get_incident(incident_id=older.id)
    got_newer, _ = pipeline.get_incident(incident_id=newer.id)
    assert got_older.status == IncidentStatus.RESOLVED and got_newer.status != IncidentStatus.RESOLVED
    assert got_older.confirmed_service is None and got_older.resolution == resolution


def test_fallback_text_is_escaped() -> None:
    inc = incident(title="Checkout down <!here> <@U0BOSS> & <!channel>")
    text = fallback_text(inc, analysis(inc))
    assert not PING.search(text) and "&lt;!here&gt;" in text


class World:
    def __init__(self, client: TestClient, slack: SlackAPI) -> None:
        self.client, self.slack = client, slack
        self.pipeline: Any = client.app.state.pipeline  # type: ignore[attr-defined]

    def command(self, text: str) -> dict[str, Any]:
        body = slash_body(text, response_url=self.slack.response_url())
        resp = self.client.post("/slack/events", content=body, headers={**FORM, **sign(body)})
        assert resp.status_code == 200
        return dict(resp.json()) if resp.content else {}


@pytest.fixture
def world(slack_settings, slack_api: SlackAPI) -> Iterator[World]:  # type: ignore[no-untyped-def]
    app = create_app(slack_settings, pipeline=build_pipeline(slack_settings, with_retriever=False))
    with TestClient(app) as client:
        yield World(client, slack_api)


def test_slack_command_replies_never_ping(world: World) -> None:
    alert = Alert(name="Disk <!here>", service="db", severity=Severity.CRITICAL, summary="full <!channel>",
                  labels={"alertname": "Disk <!here>", "service": "db"})
    created = world.pipeline.accept_alerts([alert]).created[0]
    inc, _ = world.pipeline.get_incident(incident_id=created)
    world.pipeline.store.save_analysis(analysis=analysis(inc))
    texts = [world.command("status").get("text", ""), world.command(f"summary {created}").get("text", ""),
             world.command("ask <!everyone> why").get("text", ""),
             world.command(f"resolve {created}: fixed it <!channel> & <@U0ALL>").get("text", "")]
    for text in texts:
        assert not PING.search(text), text
    assert any("&lt;!" in t for t in texts)  # the text is still shown, escaped
