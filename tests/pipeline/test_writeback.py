"""Write-back to PagerDuty, Opsgenie and Grafana, against stand-ins of their documented REST APIs
(``httpx.MockTransport``): notes on analysis, ack/resolve from Sherlog, annotations on start/resolution."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.domain import AlertStatus
from bot.pipeline import Pipeline, writeback
from connectors.alerts import parse_alerts
from connectors.grafana.client import GrafanaConnector, dashboard_ref, prometheus_graph_url
from connectors.opsgenie.writeback import OpsgenieNotes
from connectors.pagerduty.writeback import PagerDutyNotes


class PagerDutyAPI:
    """PagerDuty REST API v2 stand-in: notes and incident status, with its auth and From rules."""

    def __init__(self) -> None:
        self.notes: dict[str, list[str]] = {}
        self.status: dict[str, str] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != "Token token=pd-token":
            return httpx.Response(401, json={"error": {"message": "Unauthorized", "code": 2006}})
        if "version=2" not in request.headers.get("accept", ""):
            return httpx.Response(406)
        if request.method in {"POST", "PUT"} and not request.headers.get("from"):
            return httpx.Response(400, json={"error": {"message": "Requester User Not Found", "code": 2100}})
        parts = request.url.path.strip("/").split("/")
        body = json.loads(request.content)
        if request.method == "POST" and len(parts) == 3 and parts[0] == "incidents" and parts[2] == "notes":
            self.notes.setdefault(parts[1], []).append(body["note"]["content"])
            return httpx.Response(201, json={"note": {"id": "PN1", "content": body["note"]["content"]}})
        if request.method == "PUT" and len(parts) == 2 and parts[0] == "incidents":
            assert body["incident"]["type"] == "incident_reference"
            self.status[parts[1]] = body["incident"]["status"]
            return httpx.Response(200, json={"incident": {"id": parts[1], "status": body["incident"]["status"]}})
        return httpx.Response(404)


class OpsgenieAPI:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != "GenieKey og-key":
            return httpx.Response(422, json={"message": "Key format is not valid!"})
        parts = request.url.path.strip("/").split("/")  # v2/alerts/{id}/{action}
        if request.method != "POST" or parts[:2] != ["v2", "alerts"] or request.url.params.get("identifierType") != "id":
            return httpx.Response(404)
        self.calls.append((parts[2], parts[3], json.loads(request.content)))
        return httpx.Response(202, json={"result": "Request will be processed", "requestId": "r1"})


class GrafanaAPI:
    def __init__(self) -> None:
        self.annotations: dict[int, dict[str, Any]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != "Bearer gf-token":
            return httpx.Response(401, json={"message": "invalid API key"})
        body = json.loads(request.content)
        if request.method == "POST" and request.url.path == "/api/annotations":
            new_id = len(self.annotations) + 1
            self.annotations[new_id] = body
            return httpx.Response(200, json={"message": "Annotation added", "id": new_id})
        if request.method == "PATCH" and request.url.path.startswith("/api/annotations/"):
            self.annotations[int(request.url.path.rsplit("/", 1)[1])].update(body)
            return httpx.Response(200, json={"message": "Annotation patched"})
        return httpx.Response(404)


def _payload(shared_data: Path, name: str) -> Any:
    return json.loads((shared_data / "alert-payloads" / name).read_text())


@pytest.mark.data
def test_pagerduty_two_way(settings: Any, store: Any, shared_data: Path) -> None:
    pd = PagerDutyAPI()
    pipeline = Pipeline(settings=settings, store=store)
    tool = PagerDutyNotes(client=httpx.Client(transport=httpx.MockTransport(pd)), token="pd-token",
                          from_email="sherlog@example.com", api_url="https://api.pagerduty.test")
    writeback.subscribe(pipeline, tools={"pagerduty": tool})
    (incident_id,) = pipeline.accept_alerts(
        parse_alerts(_payload(shared_data, "pagerduty-v3/zulip_incident.triggered.json"))).created
    pipeline.analyze_incident(incident_id=incident_id)
    assert len(pd.notes["PFQZPSY"]) == 1 and pd.notes["PFQZPSY"][0].startswith("Sherlog analysis of Test Incident 3")
    pipeline.analyze_incident(incident_id=incident_id)  # same answer again: no second note
    assert len(pd.notes["PFQZPSY"]) == 1
    writeback.acknowledge(pipeline=pipeline, incident_id=incident_id, user="alice")
    assert pd.status == {"PFQZPSY": "acknowledged"}
    writeback.resolve(pipeline=pipeline, incident_id=incident_id, user="alice", resolution="restarted")
    assert pd.status == {"PFQZPSY": "resolved"}


@pytest.mark.data
def test_vendor_side_changes_are_not_echoed(settings: Any, store: Any, shared_data: Path) -> None:
    pd = PagerDutyAPI()
    pipeline = Pipeline(settings=settings, store=store)
    tool = PagerDutyNotes(client=httpx.Client(transport=httpx.MockTransport(pd)), token="pd-token",
                          from_email="s@e.com", api_url="https://api.pagerduty.test")
    writeback.subscribe(pipeline, tools={"pagerduty": tool})
    fired = parse_alerts(_payload(shared_data, "pagerduty-v3/zulip_incident.triggered.json"))
    (incident_id,) = pipeline.accept_alerts(fired).created
    resolved = fired[0].model_copy(update={"status": AlertStatus.RESOLVED, "id": "x"})
    assert pipeline.accept_alerts([resolved]).resolved == [incident_id]
    assert pd.status == {}  # PagerDuty told us; we do not tell PagerDuty back


def test_opsgenie_notes_ack_close_and_failures_become_warnings(settings: Any, store: Any) -> None:
    og = OpsgenieAPI()
    pipeline = Pipeline(settings=settings, store=store)
    tool = OpsgenieNotes(client=httpx.Client(transport=httpx.MockTransport(og)), api_key="og-key",
                         api_url="https://api.opsgenie.test")
    writeback.subscribe(pipeline, tools={"opsgenie": tool})
    payload = {"action": "Create", "alert": {"alertId": "og-1", "message": "Disk full on db-1", "entity": "db-1",
                                             "createdAt": 1700000000000, "priority": "P2"}}
    (incident_id,) = pipeline.accept_alerts(parse_alerts(payload, source="opsgenie")).created
    pipeline.analyze_incident(incident_id=incident_id)
    writeback.acknowledge(pipeline=pipeline, incident_id=incident_id, user="bob")
    writeback.resolve(pipeline=pipeline, incident_id=incident_id, user="bob")
    assert [(ref, action) for ref, action, _ in og.calls] == [("og-1", "notes"), ("og-1", "acknowledge"),
                                                             ("og-1", "close")]
    assert og.calls[0][2]["note"].startswith("Sherlog analysis") and og.calls[1][2]["user"] == "bob"

    warnings: list[str] = []
    pipeline.events.subscribe("warning.raised", lambda **kw: warnings.append(kw["message"]))
    broken = writeback.WriteBack(pipeline=pipeline, tools={"opsgenie": OpsgenieNotes(
        client=httpx.Client(transport=httpx.MockTransport(og)), api_key="wrong", api_url="https://x.test")})
    incident = store.get_incident(incident_id=incident_id)
    assert broken.on_acknowledged(incident, user="carol") == []
    assert warnings and "opsgenie.api_key" in warnings[0]


def test_grafana_annotations_for_start_and_resolution(settings: Any, store: Any) -> None:
    gf = GrafanaAPI()
    pipeline = Pipeline(settings=settings, store=store)
    grafana = GrafanaConnector(url="https://grafana.test", token="gf-token",
                               client=httpx.Client(transport=httpx.MockTransport(gf)))
    writeback.subscribe(pipeline, tools={}, grafana=grafana)
    payload = {"receiver": "x", "status": "firing", "orgId": 1, "version": "1", "alerts": [{
        "status": "firing", "labels": {"alertname": "HighMemory", "service": "api"}, "annotations": {},
        "startsAt": "2026-02-01T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "f1",
        "dashboardURL": "https://grafana.test/d/abc-123/api", "panelURL": "https://grafana.test/d/abc-123/api?viewPanel=4"}]}
    (incident_id,) = pipeline.accept_alerts(parse_alerts(payload, source="grafana")).created
    (annotation,) = gf.annotations.values()
    assert annotation["dashboardUID"] == "abc-123" and annotation["panelId"] == 4
    assert annotation["time"] == 1769940000000 and "service:api" in annotation["tags"]
    payload["alerts"][0].update(status="resolved", endsAt="2026-02-01T10:30:00Z")
    assert pipeline.accept_alerts(parse_alerts(payload, source="grafana")).resolved == [incident_id]
    assert annotation["timeEnd"] == 1769941800000


def test_link_helpers() -> None:
    assert dashboard_ref("https://g/d/XyZ_1/slug?orgId=1&viewPanel=12") == ("XyZ_1", 12)
    assert dashboard_ref("https://g/alerting/list") == (None, None)
    url = prometheus_graph_url("http://prom:9090/", 'rate(http_requests_total{code="500"}[5m]) > 1')
    assert url.startswith("http://prom:9090/graph?g0.expr=rate%28http_requests_total%7Bcode%3D%22500%22")


@pytest.mark.data
def test_write_back_from_settings_through_pdpyras_and_opsgenie_sdk(tmp_path: Path, store: Any,
                                                                   shared_data: Path) -> None:
    """The connectors built from settings (pdpyras, opsgenie-sdk) against the local REST stand-ins."""
    from datetime import UTC, datetime

    from config.settings import load_settings
    from tests.fakes.opsgenie_api import OpsgenieAPI, alert
    from tests.fakes.pagerduty_api import PagerDutyAPI, incident

    with PagerDutyAPI(token="pd-t") as pd, OpsgenieAPI(key="og-t") as og:
        pd.add_incident(incident("PFQZPSY", "Test Incident 3", created_at=datetime(2021, 6, 4, tzinfo=UTC),
                                 status="triggered"))
        og.add_alert(alert("ec03dad6-62c8-4c94-b38b-d88f398e900f", "another alert",
                           created_at=datetime(2017, 8, 14, tzinfo=UTC), status="open"))
        settings = load_settings(
            data_dir=tmp_path, retrieval={"backend": "memory"},
            pagerduty={"enabled": True, "api_token": "pd-t", "api_url": pd.url, "from_email": "bot@example.com"},
            opsgenie={"enabled": True, "api_key": "og-t", "api_url": og.url})
        pipeline = Pipeline(settings=settings, store=store)
        assert writeback.subscribe(pipeline) is not None
        pd_alerts = parse_alerts(_payload(shared_data, "pagerduty-v3/zulip_incident.triggered.json"))
        og_alerts = parse_alerts(_payload(shared_data, "opsgenie/zulip_create.json"))
        for found in (pd_alerts, og_alerts):
            (incident_id,) = pipeline.accept_alerts(found).created
            pipeline.analyze_incident(incident_id=incident_id)
            writeback.acknowledge(pipeline=pipeline, incident_id=incident_id, user="dana")
            writeback.resolve(pipeline=pipeline, incident_id=incident_id, user="dana")
        assert [n["content"][:16] for n in pd.notes["PFQZPSY"]] == ["Sherlog analysis"]
        assert pd.incidents["PFQZPSY"]["status"] == "resolved"
        og_alert = og.alerts["ec03dad6-62c8-4c94-b38b-d88f398e900f"]
        assert og_alert["status"] == "closed" and og_alert["acknowledged"] is True
        assert any(n["note"].startswith("Sherlog analysis") for n in og.notes["ec03dad6-62c8-4c94-b38b-d88f398e900f"])
