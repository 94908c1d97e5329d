"""End to end through the real pipeline: an Alertmanager webhook is analysed (evidence of a fixture
bundle), acknowledged and resolved through the REST API; the reports, the pages and the digest then
show it, figures checked against the incident and analysis the API returns."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient
from markupsafe import escape

from bot.api.app import create_app
from bot.domain import Incident, IncidentContext
from bot.pipeline import load_bundle
from bot.pipeline.digest import build_digest
from bot.pipeline.wiring import build_pipeline
from tests.web.conftest import make_settings

BUNDLE = Path(__file__).resolve().parents[1] / "fixtures" / "bundles" / "inventory-disk"


def _context(incident: Incident) -> IncidentContext:
    context, _report = load_bundle(BUNDLE)
    # the bundle's past incidents are left out: indexing them loads the embedding model (slow, not under test)
    return context.model_copy(update={"incident": incident, "history": []})


def test_webhook_to_reports_pages_and_digest(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    pipeline = build_pipeline(settings, with_retriever=False)
    pipeline.context_provider = _context
    app = create_app(settings, pipeline=pipeline)
    truth = json.loads((BUNDLE / "truth.json").read_text())
    with TestClient(app) as c:
        accepted = c.post("/api/v1/alerts/alertmanager", content=(BUNDLE / "alert.json").read_bytes(),
                          headers={"content-type": "application/json"})
        assert accepted.status_code == 202, accepted.text
        incident_id = accepted.json()["incident_ids"][0]
        deadline = time.monotonic() + 90
        body = c.get(f"/api/v1/incidents/{incident_id}").json()
        while body["analysis"] is None and time.monotonic() < deadline:
            time.sleep(0.2)
            body = c.get(f"/api/v1/incidents/{incident_id}").json()
        analysis = body["analysis"]
        assert analysis is not None and analysis["hypotheses"]
        assert c.post(f"/api/v1/incidents/{incident_id}/ack", json={"user": "ana"}).status_code == 200
        resolved = c.post(f"/api/v1/incidents/{incident_id}/resolve", json={
            "user": "ana", "service": truth["root_cause_service"], "kind": truth["root_cause_kind"],
            "resolution": "Freed disk space on inventory"}).json()

        pairs = [(h["service"], h["kind"]) for h in analysis["hypotheses"]]
        cause = (truth["root_cause_service"], truth["root_cause_kind"])
        hits = c.get("/api/v1/reports/hit-rate?days=3650").json()
        assert hits["cases"] == 1
        assert hits["top1_hits"] == int(pairs[0] == cause)
        assert hits["top3_hits"] == int(cause in pairs[:3])
        times = c.get("/api/v1/reports/response-times?days=3650").json()
        start = datetime.fromisoformat(resolved["started_at"] or resolved["created_at"])
        mttr = (datetime.fromisoformat(resolved["resolved_at"]) - start).total_seconds() / 60
        assert times["mttr"]["count"] == 1 and abs(times["mttr"]["p50"] - mttr) < 0.01
        feedback = c.get("/api/v1/reports/feedback?days=3650").json()
        assert feedback["votes"]["fixed"] == 1  # resolving with a cause records a "fixed" vote
        per_day = c.get("/api/v1/reports/incidents-per-day?days=3650").json()
        assert per_day["totals"] == {"storage": 1}  # the confirmed kind's category

        page = c.get(f"/incidents/{incident_id}")
        assert page.status_code == 200
        assert "Confirmed cause: <strong>disk_full</strong> in <strong>inventory</strong>" in page.text
        assert ("first answer was right" in page.text) == (pairs[0] == cause)
        assert str(escape(analysis["summary"][:40])) in page.text
        assert c.get("/?days=3650").status_code == 200 and c.get("/quality?days=3650").status_code == 200

    digest = build_digest(store=pipeline.store, days=7)
    assert digest.figures["incidents"] == 1 and digest.figures["judged"] == 1
