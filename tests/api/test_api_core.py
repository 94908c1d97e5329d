"""The core REST API through FastAPI with the real pipeline, on SQLite (and PostgreSQL for intake)."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.api.app import create_app
from bot.pipeline.wiring import build_pipeline
from bot.storage import Store

SHARED_AM = "alert-payloads/alertmanager/zulip_alert_firing_2alerts.json"
FIXTURE_ALERT = Path(__file__).resolve().parents[1] / "fixtures" / "bundles" / "inventory-disk" / "alert.json"


def wait_for_analysis(client: TestClient, incident_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/incidents/{incident_id}").json()
        if body["analysis"] is not None:
            return body
        time.sleep(0.1)
    raise AssertionError(f"no analysis for {incident_id} within {timeout} s")


@pytest.fixture
def client(settings):  # type: ignore[no-untyped-def]
    with TestClient(create_app(settings)) as c:
        yield c


def test_alertmanager_webhook_twice_yields_one_incident_with_analysis(client: TestClient) -> None:
    payload = json.loads(FIXTURE_ALERT.read_text())
    first = client.post("/api/v1/alerts/alertmanager", json=payload)
    assert first.status_code == 202, first.text
    assert len(first.json()["created"]) == 1
    incident_id = first.json()["incident_ids"][0]

    again = client.post("/api/v1/alerts/alertmanager", json=payload)
    assert again.status_code == 202
    assert again.json()["created"] == [] and again.json()["incident_ids"] == [incident_id]

    listed = client.get("/api/v1/incidents").json()["items"]
    assert [i["id"] for i in listed] == [incident_id]
    body = wait_for_analysis(client, incident_id)
    assert body["incident"]["service"] == "frontend"
    assert len(body["incident"]["alerts"]) == 1
    analysis = body["analysis"]
    assert analysis["incident_id"] == incident_id
    assert analysis["category"]["label"]
    assert analysis["lacked"] == ["logs", "metrics", "events", "topology"]


@pytest.mark.data
def test_real_alertmanager_payload_from_the_wild(client: TestClient, shared_data: Path) -> None:
    payload = json.loads((shared_data / SHARED_AM).read_text())
    r = client.post("/api/v1/alerts/alertmanager", json=payload)
    assert r.status_code == 202
    # two alerts with distinct fingerprints but the same host and name: grouped into one incident
    assert r.json()["alerts"] == 2
    assert len(set(r.json()["incident_ids"])) == 1


def test_resolved_notification_resolves_the_incident(client: TestClient) -> None:
    payload = json.loads(FIXTURE_ALERT.read_text())
    incident_id = client.post("/api/v1/alerts/alertmanager", json=payload).json()["incident_ids"][0]
    resolved = copy.deepcopy(payload)
    resolved["status"] = "resolved"
    resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2026-03-14T10:20:00Z"
    r = client.post("/api/v1/alerts/alertmanager", json=resolved)
    assert r.json()["resolved"] == [incident_id]
    assert client.get(f"/api/v1/incidents/{incident_id}").json()["incident"]["status"] == "resolved"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (json.dumps({"alerts": "nope", "groupKey": "x"}).encode(), "alerts"),
        (json.dumps({"version": "4", "groupKey": "g", "alerts": [{"status": "exploded", "labels": {}}]}).encode(),
         "status"),
    ],
)
def test_malformed_payload_is_422_with_reason(client: TestClient, body: bytes, fragment: str) -> None:
    r = client.post("/api/v1/alerts/alertmanager", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert fragment in r.json()["detail"]
    assert client.get("/api/v1/incidents").json()["items"] == []


def test_body_over_one_mib_is_413(client: TestClient) -> None:
    big = json.dumps({"title": "x", "description": "a" * (1_100_000)}).encode()
    r = client.post("/api/v1/alerts/generic", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_generic_alert_and_unknown_source(client: TestClient) -> None:
    r = client.post("/api/v1/alerts/generic", json={"title": "Disk almost full", "service": "db-1"})
    assert r.status_code == 202
    assert client.post("/api/v1/alerts/nagios", json={}).status_code == 404


def test_intake_token_required_when_configured(settings) -> None:  # type: ignore[no-untyped-def]
    secured = settings.model_copy(update={"intake": settings.intake.model_copy(update={"token": SecretStr("s3cret")})})
    with TestClient(create_app(secured)) as c:
        assert c.post("/api/v1/alerts/generic", json={"title": "x"}).status_code == 401
        assert c.post("/api/v1/alerts/generic?token=wrong", json={"title": "x"}).status_code == 401
        ok = c.post("/api/v1/alerts/generic", json={"title": "x"}, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 202


def test_feedback_ack_resolve_flow(client: TestClient) -> None:
    incident_id = client.post("/api/v1/alerts/generic", json={"title": "orders errors", "service": "orders"}).json()[
        "incident_ids"][0]
    fb = client.post(f"/api/v1/incidents/{incident_id}/feedback",
                     json={"vote": "up", "service": "orders", "kind": "bad_deploy", "user": "alice"})
    assert fb.status_code == 201
    assert client.post("/api/v1/incidents/inc-missing/feedback", json={"vote": "up"}).status_code == 404
    assert client.post(f"/api/v1/incidents/{incident_id}/ack", json={"user": "bob"}).json()["status"] == "acknowledged"
    done = client.post(f"/api/v1/incidents/{incident_id}/resolve",
                       json={"service": "orders", "kind": "bad_deploy", "resolution": "rolled back v42"}).json()
    assert done["status"] == "resolved" and done["confirmed_kind"] == "bad_deploy"
    assert done["acknowledged_at"] is not None and done["resolved_at"] is not None


def test_health_ready_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    client.post("/api/v1/alerts/generic", json={"title": "x", "service": "y"})
    text = client.get("/metrics").text
    assert "sherlog_alerts_received_total 1.0" in text
    assert "sherlog_stage_seconds" in text


def test_readyz_reports_a_dead_database(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pipeline = build_pipeline(settings)
    with TestClient(create_app(settings, pipeline=pipeline)) as c:
        pipeline.store = Store.open("postgresql+psycopg://nobody@127.0.0.1:1/none", migrate=False)
        r = c.get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"]["database"].startswith("database unreachable")


@pytest.mark.integration
def test_intake_on_postgresql(settings, pg_schema: str) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import PG_URL

    pg = settings.model_copy(update={"storage": settings.storage.model_copy(update={"url": PG_URL,
                                                                                    "schema_name": pg_schema})})
    payload = json.loads(FIXTURE_ALERT.read_text())
    with TestClient(create_app(pg)) as c:
        a = c.post("/api/v1/alerts/alertmanager", json=payload).json()
        b = c.post("/api/v1/alerts/alertmanager", json=payload).json()
        assert a["incident_ids"] == b["incident_ids"] and len(a["created"]) == 1
        wait_for_analysis(c, a["incident_ids"][0])


def test_changes_are_recorded_for_later_analyses(client: TestClient) -> None:
    r = client.post("/api/v1/changes", json={"ts": "2026-03-14T09:20:00Z", "kind": "deploy", "service": "orders",
                                             "text": "orders v1.4.2"})
    assert r.status_code == 201
    store = client.app.state.store  # type: ignore[attr-defined]
    from datetime import UTC, datetime

    events = store.list_change_events(since=datetime(2026, 3, 14, tzinfo=UTC), until=datetime(2026, 3, 15, tzinfo=UTC))
    assert [(e.service, e.text) for e in events] == [("orders", "orders v1.4.2")]
    assert client.post("/api/v1/changes", json={"kind": "x" * 100}).status_code == 422


def test_digest_needs_smtp(settings) -> None:  # type: ignore[no-untyped-def]
    from bot.domain import ConfigError

    wrong = settings.model_copy(update={"digest": settings.digest.model_copy(update={"enabled": True})})
    with pytest.raises(ConfigError, match="smtp.enabled"):
        create_app(wrong)


def test_digest_scheduler_runs_with_the_app(settings) -> None:  # type: ignore[no-untyped-def]
    smtp = settings.smtp.model_copy(update={"enabled": True, "recipients": ["sre@example.com"]})
    on = settings.model_copy(update={"digest": settings.digest.model_copy(update={"enabled": True}), "smtp": smtp})
    app = create_app(on)
    with TestClient(app):
        jobs = app.state.runtime.digest_scheduler.get_jobs()  # the scheduler role of `serve` (all roles)
        assert len(jobs) == 1 and "mon" in str(jobs[0].trigger)


def test_a_resolved_incident_with_its_cause_becomes_searchable(client: TestClient) -> None:
    incident_id = client.post("/api/v1/alerts/generic", json={"title": "Payments 502 from gateway",
                                                               "service": "payments"}).json()["incident_ids"][0]
    client.post(f"/api/v1/incidents/{incident_id}/resolve",
                json={"service": "payments-gw", "kind": "certificate_expired",
                      "resolution": "renewed the expired TLS certificate of payments-gw"})
    hits = client.get("/api/v1/search", params={"q": "expired certificate on payments gateway"}).json()
    found = [h for h in hits["results"] if h["id"] == incident_id] if "results" in hits else []
    assert found, hits
