"""Item 10 of issue 17: open intake is announced, login is throttled, bodies are bounded, links are
http(s) only, pages carry security headers, the database's error text stays inside, resolve takes only
vocabulary kinds, and the API schema needs a token when tokens are set."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.domain import Alert, Incident
from bot.render.common import safe_url
from tests.conftest import PG_URL
from tests.web.conftest import make_settings

ADMIN = "admin-token-for-tests-0123456789"


def _seed(store: Any, **alert: Any) -> str:
    incident = store.save_incident(incident=Incident(title="t", fingerprint="f", service="api"))
    store.add_alert(incident_id=incident.id, alert=Alert(name="HighErrorRate", service="api", **alert))
    return str(incident.id)


def test_open_intake_on_a_public_address_is_warned_at_start_and_noted_by_readyz(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    app = create_app(make_settings(tmp_path), bind_host="0.0.0.0")
    with TestClient(app) as c:
        body = c.get("/readyz").json()
    assert any("intake" in n and "token" in n for n in body.get("notes", [])), body
    assert any("intake" in r.getMessage() and "token" in r.getMessage() for r in caplog.records)


def test_no_note_on_loopback_or_with_an_intake_token(tmp_path: Path) -> None:
    for app in (create_app(make_settings(tmp_path), bind_host="127.0.0.1"),
                create_app(load(tmp_path / "b", intake={"token": "intake-secret-123"}), bind_host="0.0.0.0")):
        with TestClient(app) as c:
            assert not c.get("/readyz").json().get("notes")


def load(path: Path, **kw: Any) -> Any:
    from config.settings import load_settings

    return load_settings(data_dir=path / "data", retrieval={"backend": "memory"}, **kw)


def test_login_is_throttled_per_client_with_retry_after(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, admin_token=ADMIN))) as c:
        codes = [c.post("/login", data={"token": f"guess-{i}"}).status_code for i in range(12)]
        assert codes[:5] == [401] * 5 and 429 in codes
        limited = c.post("/login", data={"token": "guess-x"})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert c.post("/login", data={"token": ADMIN}, follow_redirects=False).status_code == 429  # even the right one


@pytest.mark.parametrize("url, body", [
    ("/api/v1/incidents/{id}/feedback", {"vote": "up", "comment": "x" * 20_000}),
    ("/api/v1/incidents/{id}/resolve", {"resolution": "x" * 20_000}),
    ("/api/v1/incidents/{id}/ack", {"user": "x" * 20_000}),
    ("/api/v1/changes", {"text": "x" * 1_000_000}),
])
def test_write_bodies_are_bounded(tmp_path: Path, url: str, body: dict[str, Any]) -> None:
    app = create_app(make_settings(tmp_path))
    with TestClient(app) as c:
        incident_id = _seed(app.state.store)
        r = c.post(url.format(id=incident_id), json=body)
        assert r.status_code in (413, 422), (url, r.status_code)


def test_a_huge_body_on_any_write_endpoint_is_413(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    with TestClient(app) as c:
        incident_id = _seed(app.state.store)
        for url in (f"/api/v1/incidents/{incident_id}/feedback", "/api/v1/warnings/silence", "/login"):
            assert c.post(url, content=b"x" * 3_000_000, headers={"content-type": "application/json"}
                          ).status_code == 413, url


@pytest.mark.parametrize("url, safe", [
    ("https://grafana.example/d/1", True), ("http://prom:9090/graph?g0.expr=up", True),
    ("javascript:alert(1)", False), ("JavaScript:alert(1)", False), (" javascript:alert(1)", False),
    ("data:text/html,<script>", False), ("vbscript:x", False), ("//evil.example", False), ("ftp://x", False),
])
def test_safe_url(url: str, safe: bool) -> None:
    assert (safe_url(url) is not None) is safe


def test_javascript_links_are_never_served_and_pages_carry_security_headers(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    with TestClient(app) as c:
        incident_id = _seed(app.state.store, generator_url="javascript:alert(document.cookie)")
        page = c.get(f"/incidents/{incident_id}")
        assert page.status_code == 200
        assert "javascript:" not in page.text
        for path in (f"/incidents/{incident_id}", "/", "/login"):
            headers = c.get(path).headers
            assert "frame-ancestors 'none'" in headers["content-security-policy"]
            assert "default-src 'self'" in headers["content-security-policy"]
            assert headers["x-frame-options"] == "DENY"
            assert headers["x-content-type-options"] == "nosniff"


def test_resolve_refuses_a_kind_outside_the_vocabulary(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    with TestClient(app) as c:
        incident_id = _seed(app.state.store)
        r = c.post(f"/api/v1/incidents/{incident_id}/resolve", json={"service": "api", "kind": "not_a_kind"})
        assert r.status_code == 422 and "kind" in r.text
        bad_vote = c.post(f"/api/v1/incidents/{incident_id}/feedback", json={"vote": "up", "kind": "not_a_kind"})
        assert bad_vote.status_code == 422
        assert c.post(f"/api/v1/incidents/{incident_id}/resolve", json={"service": "api", "kind": "oom_kill"}
                      ).status_code == 200


def test_database_error_text_never_reaches_the_client(tmp_path: Path, pg_schema: str) -> None:
    settings = load(tmp_path, storage={"url": PG_URL, "schema_name": pg_schema})
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/api/v1/alerts/generic", json={"name": "Down", "service": "s" * 500})
        assert r.status_code in (422, 500, 503), r.status_code
        assert "varying" not in r.text and "StringDataRightTruncation" not in r.text and "psycopg" not in r.text
        r = c.post("/api/v1/alerts/generic", json={"name": "Bad\u0000Name", "service": "api"})
        assert r.status_code == 422 and "0x00" not in r.text and "NUL" not in r.text.upper().replace("NULL", "")
        app.state.store.close()


def test_openapi_and_docs_need_a_token_when_tokens_are_set(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, admin_token=ADMIN))) as c:
        assert c.get("/openapi.json").status_code == 401
        assert c.get("/docs").status_code in (401, 303)
        ok = c.get("/openapi.json", headers={"Authorization": f"Bearer {ADMIN}"})
        assert ok.status_code == 200 and "/api/v1/incidents" in ok.json()["paths"]
        assert c.get("/docs", headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 200


@pytest.mark.parametrize("body", [b"{", b"[" * 100 + b"]" * 100, b'{"vote": NaN}', b"x" * 100])
@pytest.mark.parametrize("url", ["/api/v1/incidents/x/feedback", "/api/v1/incidents/x/resolve",
                                 "/api/v1/incidents/x/ack", "/api/v1/warnings/silence", "/api/v1/warnings/scan"])
def test_unauthenticated_writes_are_refused_before_the_body_is_read(tmp_path: Path, url: str, body: bytes) -> None:
    with TestClient(create_app(make_settings(tmp_path, admin_token=ADMIN))) as c:
        r = c.post(url, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 401, (url, body[:10], r.status_code, r.text[:100])
