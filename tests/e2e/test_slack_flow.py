"""Alertmanager webhook in -> exactly one Slack post out, with the analysis' top hypothesis, through the
real FastAPI app, intake, analysis queue, pipeline, event bus, Slack poster and Web API client."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.domain import Incident, IncidentContext
from bot.pipeline import load_bundle
from bot.pipeline.wiring import build_pipeline
from bot.render.common import tally_votes
from bot.render.slack import fallback_text, slack_blocks
from tests.fakes.slack_api import SlackAPI
from tests.surfaces.conftest import slack_api, slack_settings  # noqa: F401 - fixtures

BUNDLE = Path(__file__).resolve().parents[1] / "fixtures" / "bundles" / "inventory-disk"


def _provider(context: IncidentContext):  # type: ignore[no-untyped-def]
    """The bundle's evidence for the incident the webhook created (history left out: no embedding here)."""

    def provide(incident: Incident) -> IncidentContext:
        return context.model_copy(update={"incident": incident, "history": []})

    return provide


def _wait_posted(store: Any, incident_id: str) -> Any:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = store.get_chat_post(incident_id=incident_id, surface="slack")
        if row is not None and row.state == "posted":
            return row
        time.sleep(0.02)
    raise AssertionError("the incident was never posted")


def test_alertmanager_webhook_gives_exactly_one_post_with_the_top_hypothesis(
        slack_settings, slack_api: SlackAPI) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    slack_settings.slack.routes = {"critical": "C0SEV1"}
    context, _ = load_bundle(BUNDLE)
    payload = (BUNDLE / "alert.json").read_text()
    pipeline = build_pipeline(slack_settings, with_retriever=False)
    pipeline.context_provider = _provider(context)
    app = create_app(slack_settings, pipeline=pipeline)
    with TestClient(app) as client:
        resp = client.post("/api/v1/alerts/alertmanager", content=payload,
                           headers={"Content-Type": "application/json"})
        assert resp.status_code == 202
        [incident_id] = resp.json()["created"]
        [post] = slack_api.wait_for("chat.postMessage", timeout=20)
        row = _wait_posted(pipeline.store, incident_id)
        incident, analysis = pipeline.get_incident(incident_id=incident_id)
        assert analysis is not None and analysis.top is not None

        # the pipeline's answer for this evidence (computed again, independently), posted once, to the channel
        # routed by severity; the post must carry exactly the analysis that was made.
        expected = pipeline.analyze_context(_provider(context)(incident)).top
        assert expected is not None
        # ... and on this hand-written bundle that answer is the true cause: inventory's disk filled up
        assert (expected.service, expected.kind) == ("inventory", "disk_full")
        assert (analysis.top.service, analysis.top.kind) == (expected.service, expected.kind)
        assert slack_api.methods() == ["chat.postMessage"]
        assert post.body["channel"] == "C0SEV1"
        assert post.body["text"] == fallback_text(incident, analysis)
        assert post.body["blocks"] == slack_blocks(incident, analysis, votes=tally_votes([]),
                                                   dashboard_url="https://sherlog.example")
        top_block = next(b for b in post.body["blocks"] if b.get("block_id") == "hyp_1")
        assert top_block["text"]["text"].startswith(f"*1. {analysis.top.title}*")
        assert f"`{expected.service}` · {expected.kind}" in top_block["text"]["text"]
        assert row.message_ref == f"C0SEV1:{row.data['ts']}"

        # Alertmanager re-sends the same group: no new incident, no new post
        again = client.post("/api/v1/alerts/alertmanager", content=payload,
                            headers={"Content-Type": "application/json"})
        assert again.status_code == 202 and again.json()["created"] == []
        # a re-analysis (new evidence) edits the message in place
        assert client.post(f"/api/v1/incidents/{incident_id}/analyze").status_code == 202
        [update] = slack_api.wait_for("chat.update", timeout=20)
        assert (update.body["channel"], update.body["ts"]) == ("C0SEV1", row.data["ts"])
        time.sleep(0.2)
        assert len(slack_api.calls_to("chat.postMessage")) == 1
