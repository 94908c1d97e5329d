"""Item 7 of issue 17: bad intake input gets a clear 4xx naming the problem, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from connectors.alerts import parse_alerts
from connectors.alerts.common import TIME_NOTE
from connectors.pagerduty.alerts import signature_for
from tests.web.conftest import make_settings

SECRET = "pd-test-secret"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    from config.settings import load_settings

    settings = load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"},
                             pagerduty={"webhook_secret": SECRET})
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


def _am(**fields: Any) -> dict[str, Any]:
    return {"version": "4", "groupKey": "g", "receiver": "r", "status": "firing",
            "alerts": [{"status": "firing", "labels": {"alertname": "Down", "service": "api"}, **fields}]}


def _pd(occurred_at: Any = "2026-01-01T00:00:00Z", **incident: Any) -> dict[str, Any]:
    data = {"id": "P1", "type": "incident", "title": "Down", "status": "triggered", **incident}
    return {"event": {"id": "E1", "event_type": "incident.triggered", "resource_type": "incident",
                      "occurred_at": occurred_at, "data": data}}


def _post(c: TestClient, source: str, body: bytes | Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    if source == "pagerduty":
        headers["x-pagerduty-signature"] = signature_for(raw, SECRET)
    return c.post(f"/api/v1/alerts/{source}", content=raw, headers=headers)


DEEP = b"[" * 10_000 + b"]" * 10_000
DEEP_OBJECT = b'{"a":' * 10_000 + b"1" + b"}" * 10_000


@pytest.mark.parametrize("source", ["alertmanager", "grafana", "pagerduty", "opsgenie", "datadog", "generic"])
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["list", "object"])
def test_deeply_nested_json_is_422(client: TestClient, source: str, body: bytes) -> None:
    r = _post(client, source, body)
    assert r.status_code == 422 and "nest" in r.json()["detail"], r.text[:300]


def test_pagerduty_signature_is_checked_before_the_body_is_parsed(client: TestClient) -> None:
    for body in (DEEP, b"{", b'{"event": 1}'):
        r = client.post("/api/v1/alerts/pagerduty", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 401, (body[:10], r.status_code)


TIMES: list[tuple[str, Any]] = [
    ("alertmanager", _am(startsAt=100000000000000000000)),
    ("alertmanager", _am(startsAt=1e300)),
    ("alertmanager", _am(startsAt={"x": 1})),
    ("alertmanager", _am(endsAt=-1e20)),
    ("alertmanager", b'{"version":"4","groupKey":"g","alerts":[{"labels":{"service":"a"},"startsAt":NaN}]}'),
    ("alertmanager", b'{"version":"4","groupKey":"g","alerts":[{"labels":{"service":"a"},"startsAt":Infinity}]}'),
    ("generic", {"name": "Down", "starts_at": 1e300}),
    ("generic", {"name": "Down", "starts_at": "99999-01-01T00:00:00Z"}),
    ("pagerduty", _pd(occurred_at=1e30)),
    ("grafana", {"version": "1", "orgId": 1, "alerts": [{"labels": {"alertname": "x"}, "startsAt": 1e25}]}),
    ("opsgenie", {"action": "Create", "alert": {"alertId": "a", "message": "m", "createdAt": 1e300}}),
]


@pytest.mark.parametrize("source, body", TIMES)
def test_out_of_range_times_keep_the_alert_with_a_note(client: TestClient, source: str, body: Any) -> None:
    """An alert whose time cannot be read is still the on-call's signal: it is stored with the receive time and
    an annotation saying which time was unreadable (connectors/alerts/common.py), never a 500 and never lost."""
    r = _post(client, source, body)
    assert r.status_code == 202, (r.status_code, r.text[:300])
    payload = json.loads(body) if isinstance(body, bytes) else body
    alerts = parse_alerts(payload, source=source)
    if "endsAt" not in json.dumps(payload):  # an unreadable end time is simply no end time
        assert any(TIME_NOTE in a.annotations for a in alerts), [a.annotations for a in alerts]
    assert all(a.ends_at is None or a.ends_at.year > 1970 for a in alerts)


# (source, payload, the field the 422 must name)
WRONG_TYPES: list[tuple[str, Any, str]] = [
    ("alertmanager", _am(generatorURL=5), "alerts[0].generatorURL"),
    ("alertmanager", _am(fingerprint=["a"]), "alerts[0].fingerprint"),
    ("alertmanager", _am(status=1), "alerts[0].status"),
    ("alertmanager", {**_am(), "commonLabels": {"service": {"x": 1}}}, "commonLabels.service"),
    ("alertmanager", _am(annotations={"summary": ["a", "b"]}), "alerts[0].annotations.summary"),
    ("generic", {"name": "Down", "url": {"x": 1}}, "url"),
    ("generic", {"name": "Down", "summary": {"x": 1}}, "summary"),
    ("generic", [{"name": "Down", "labels": {"team": [1]}}], "[0].labels.team"),
    ("generic", {"name": {"first": "Down"}}, "name"),
    ("pagerduty", _pd(teams=5), "event.data.teams"),
    ("pagerduty", _pd(title={"x": 1}), "event.data.title"),
    ("opsgenie", {"action": "Create", "alert": {"alertId": "a", "message": ["m"]}}, "alert.message"),
    ("datadog", {"alert_id": "1", "alert_title": {"t": 1}, "alert_status": "x"}, "alert_title"),
    ("grafana", {"version": "1", "orgId": 1, "alerts": [{"labels": {"a": "x"}, "panelURL": 3}]}, "alerts[0].panelURL"),
]


@pytest.mark.parametrize("source, body, field", WRONG_TYPES)
def test_wrong_types_are_422_naming_the_field(client: TestClient, source: str, body: Any, field: str) -> None:
    r = _post(client, source, body)
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert field in r.json()["detail"]


@pytest.mark.parametrize("source, body", [
    ("alertmanager", _am(generatorURL="https://prom.example/graph", fingerprint="abc",
                         annotations={"summary": "s"}, startsAt="2026-01-01T00:00:00Z")),
    ("generic", {"name": "Down", "url": "https://x.example", "id": 42, "labels": {"port": 8080, "canary": True}}),
    ("pagerduty", _pd(teams=[{"summary": "payments"}])),
])
def test_right_types_are_accepted(client: TestClient, source: str, body: Any) -> None:
    r = _post(client, source, body)
    assert r.status_code == 202, r.text[:300]


@pytest.mark.parametrize("url", ["/api/v1/incidents?offset=10000000000000000000000000000",
                                 "/api/v1/incidents?offset=1e28", "/api/v1/incidents?limit=1e3"])
def test_out_of_range_query_numbers_are_422(client: TestClient, url: str) -> None:
    assert client.get(url).status_code == 422


def test_make_settings_helper_still_builds_an_app(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path))) as c:
        assert c.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize("body", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b'{"vote": NaN}', b'{"text": Infinity}'])
@pytest.mark.parametrize("url", ["/api/v1/incidents/x/feedback", "/api/v1/changes", "/api/v1/warnings/silence"])
def test_non_finite_numbers_in_a_body_are_422_not_500(client: TestClient, url: str, body: bytes) -> None:
    """Found by the fuzzer: the 422 detail echoed NaN back and JSON encoding it raised (a 500)."""
    r = client.post(url, content=body, headers={"content-type": "application/json"})
    assert r.status_code in (201, 404, 422), (r.status_code, r.text[:200])


@pytest.mark.parametrize("url", ["/api/v1/incidents/x/feedback", "/api/v1/incidents/x/resolve", "/api/v1/changes",
                                 "/api/v1/warnings/silence", "/api/v1/incidents/x/ack"])
def test_deep_json_on_model_endpoints_is_422(client: TestClient, url: str) -> None:
    """Found by the fuzzer: FastAPI's own body decoding recursed 20,000 levels (RecursionError, 500)."""
    r = client.post(url, content=b"[" * 20_000 + b"]" * 20_000, headers={"content-type": "application/json"})
    assert r.status_code == 422 and "nested" in r.text
