from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.api.auth import make_session, read_session, safe_next
from tests.web.conftest import make_settings

ADMIN, READER = "admin-token-0123456789", "reader-token-0123456789"


def _app(tmp_path: Path, **auth: str):  # type: ignore[no-untyped-def]
    return create_app(make_settings(tmp_path, **auth))


def test_first_run_is_open_on_loopback_and_closed_elsewhere(tmp_path: Path) -> None:
    app = _app(tmp_path)
    with TestClient(app) as local:
        assert local.get("/api/v1/reports/summary").status_code == 200
        page = local.get("/")
        assert page.status_code == 200 and "SHERLOG__AUTH__ADMIN_TOKEN" in page.text
    with TestClient(app, client=("203.0.113.7", 40000)) as remote:
        r = remote.get("/api/v1/reports/summary")
        assert r.status_code == 403 and "SHERLOG__AUTH__ADMIN_TOKEN" in r.json()["detail"]
        assert remote.get("/api/v1/incidents").status_code == 403
        assert remote.get("/").status_code == 403
        assert remote.get("/healthz").status_code == 200  # probes stay open
        assert remote.post("/api/v1/alerts/generic", json={"name": "x"}).status_code != 403  # intake has its own token


def test_tokens_and_roles(tmp_path: Path) -> None:
    app = _app(tmp_path, admin_token=ADMIN, read_token=READER)
    with TestClient(app) as c:
        assert c.get("/api/v1/reports/summary").status_code == 401  # even loopback needs a token now
        reader = {"Authorization": f"Bearer {READER}"}
        admin = {"X-Sherlog-Token": ADMIN}
        assert c.get("/api/v1/reports/summary", headers=reader).status_code == 200
        assert c.get("/api/v1/incidents", headers=reader).status_code == 200
        created = c.post("/api/v1/alerts/generic", json={"name": "HighErrorRate", "service": "api"}).json()
        incident_id = created["incident_ids"][0]
        assert c.post(f"/api/v1/incidents/{incident_id}/ack", json={"user": "r"}, headers=reader).status_code == 403
        assert c.post(f"/api/v1/incidents/{incident_id}/ack", json={"user": "a"}, headers=admin).status_code == 200
        assert c.get("/api/v1/reports/summary", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_login_session_cookie(tmp_path: Path) -> None:
    app = _app(tmp_path, admin_token=ADMIN, read_token=READER)
    with TestClient(app, follow_redirects=False) as c:
        r = c.get("/quality?days=7")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fquality%3Fdays%3D7"
        assert c.post("/login", data={"token": "nope", "next": "/"}).status_code == 401
        r = c.post("/login", data={"token": READER, "next": "/quality?days=7"})
        assert r.status_code == 303 and r.headers["location"] == "/quality?days=7"
        cookie = r.cookies.get("sherlog_session") or c.cookies.get("sherlog_session")
        assert cookie and "httponly" in r.headers["set-cookie"].lower() and "samesite=strict" in r.headers["set-cookie"].lower()
        assert c.get("/quality").status_code == 200
        assert c.get("/api/v1/reports/feedback").status_code == 200
        page = c.get("/")
        assert ">reader<" in page.text and "SHERLOG__AUTH__ADMIN_TOKEN" not in page.text
        c.post("/logout")
        c.cookies.clear()
        assert c.get("/api/v1/reports/feedback").status_code == 401


def test_session_values_are_signed_and_expire(tmp_path: Path) -> None:
    auth = make_settings(tmp_path, admin_token=ADMIN).auth
    value = make_session(auth, "reader")
    assert read_session(auth, value) == "reader"
    assert read_session(auth, value.replace("reader", "admin", 1)) is None  # tampered role
    assert read_session(auth, make_session(auth, "admin", now=time.time() - 13 * 3600)) is None  # expired
    other = make_settings(tmp_path, admin_token="another-admin-token").auth
    assert read_session(other, value) is None  # changing the token logs everybody out


def test_next_is_never_an_open_redirect() -> None:
    assert safe_next("/incidents?q=x") == "/incidents?q=x"
    for bad in ("https://evil.example", "//evil.example", "/\\evil.example", None, ""):
        assert safe_next(bad) == "/"
