"""Vendor intake through the real app: PagerDuty signatures, YAML-mapped sources, tokens, service events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from config.settings import load_settings
from connectors.alerts import unregister
from connectors.pagerduty.alerts import signature_for


@pytest.fixture
def client(tmp_path: Path) -> Any:
    settings = load_settings(
        data_dir=tmp_path / "data", retrieval={"backend": "memory"},
        pagerduty={"webhook_secret": "pd-secret"},
        intake={"token": "intake-token", "mappings": {"nagios_t": {
            "fields": {"name": "SERVICEDESC", "service": "HOSTNAME", "status": "SERVICESTATE",
                       "fingerprint": "SERVICEPROBLEMID"},
            "status_map": {"CRITICAL": "firing", "OK": "resolved"}}}},
    )
    with TestClient(create_app(settings)) as c:
        yield c
    unregister("nagios_t")


@pytest.mark.data
def test_pagerduty_signature_checked_on_the_raw_body(client: TestClient, shared_data: Path) -> None:
    body = (shared_data / "alert-payloads/pagerduty-v3/zulip_incident.triggered.json").read_bytes()
    url = "/api/v1/alerts/pagerduty?token=intake-token"
    good = client.post(url, content=body, headers={"content-type": "application/json",
                                                   "x-pagerduty-signature": signature_for(body, "pd-secret")})
    assert good.status_code == 202 and len(good.json()["created"]) == 1
    forged = client.post(url, content=body, headers={"content-type": "application/json",
                                                     "x-pagerduty-signature": signature_for(body, "guess")})
    assert forged.status_code == 401 and "X-PagerDuty-Signature" in forged.json()["detail"]
    unsigned = client.post(url, content=body, headers={"content-type": "application/json"})
    assert unsigned.status_code == 401
    service_event = (shared_data / "alert-payloads/pagerduty-v3/docs_service.updated.json").read_bytes()
    r = client.post(url, content=service_event, headers={"content-type": "application/json",
                                                         "x-pagerduty-signature": signature_for(service_event,
                                                                                                "pd-secret")})
    assert r.status_code == 202 and r.json()["incident_ids"] == []  # valid, holds no alert, not retried


def test_yaml_mapping_is_served_and_token_required(client: TestClient) -> None:
    alert = {"SERVICEDESC": "HTTP", "HOSTNAME": "web-1", "SERVICESTATE": "CRITICAL", "SERVICEPROBLEMID": "42"}
    assert client.post("/api/v1/alerts/nagios_t", json=alert).status_code == 401
    fired = client.post("/api/v1/alerts/nagios_t", json=alert, headers={"authorization": "Bearer intake-token"})
    assert fired.status_code == 202 and len(fired.json()["created"]) == 1
    resolved = client.post("/api/v1/alerts/nagios_t?token=intake-token", json={**alert, "SERVICESTATE": "OK"})
    assert resolved.json()["resolved"] == fired.json()["created"]
    assert client.get("/api/v1/intake/sources").status_code == 401
    sources = {s["name"] for s in client.get("/api/v1/intake/sources?token=intake-token").json()["sources"]}
    assert {"alertmanager", "grafana", "pagerduty", "opsgenie", "datadog", "generic", "nagios_t"} <= sources


@pytest.mark.data
def test_every_vendor_route_accepts_its_payload(client: TestClient, shared_data: Path) -> None:
    root = shared_data / "alert-payloads"
    for source, name in (("alertmanager", "alertmanager/zulip_alert_firing_2alerts.json"),
                         ("grafana", "grafana/zulip_alert_values_v11.json"),
                         ("opsgenie", "opsgenie/zulip_create.json"),
                         ("datadog", "datadog/relay_default_payload_service_check_triggered.json")):
        r = client.post(f"/api/v1/alerts/{source}?token=intake-token", json=json.loads((root / name).read_text()))
        assert r.status_code == 202, (source, r.text)
        assert r.json()["incident_ids"], source
