"""Item 8 of issue 17: unauthenticated chat requests get 401/400/503, never 500 or a hang.

Teams: the Bot Framework JWT is checked before the body is decoded; a token is validated off the event
loop with a time limit (botbuilder fetches the OpenID keys with a blocking ``requests.get`` without a
timeout). The OpenID host is unreachable here (no network) and, for the hang case, reached through a
proxy that accepts connections and never answers. Slack: a malformed signature timestamp is 401."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.pipeline.wiring import build_pipeline
from config.settings import load_settings

APP_ID = "00000000-0000-0000-0000-000000000001"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _jwt(alg: str, *, signature: str = "c2ln") -> str:
    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "exp": int(time.time()) + 600,
              "nbf": int(time.time()) - 60, "serviceurl": "https://smba.example"}
    return f"{_b64({'alg': alg, 'typ': 'JWT', 'kid': 'k1'})}.{_b64(claims)}.{signature if alg != 'none' else ''}"


ACTIVITY = {"type": "message", "id": "a1", "text": "status", "channelId": "msteams",
            "serviceUrl": "https://smba.example", "from": {"id": "29:u"}, "recipient": {"id": "28:b"},
            "conversation": {"id": "19:c@thread.tacv2"}}


def _teams_app(tmp_path: Path, **teams: Any) -> Any:
    settings = load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"},
                             teams={"enabled": True, "app_id": APP_ID, "app_password": "pw", **teams})
    return create_app(settings, pipeline=build_pipeline(settings, with_retriever=False))


@pytest.fixture
def teams(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(_teams_app(tmp_path), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("body", [b"{", b"[" * 10_000 + b"]" * 10_000, b"null", json.dumps(ACTIVITY).encode()])
@pytest.mark.parametrize("auth", [None, "Basic dXNlcjpwdw==", "Bearer abc", "Bearer abc.def.ghi",
                                  f"Bearer {_jwt('none')}", f"Bearer {_jwt('HS256')}"])
def test_teams_without_a_valid_token_is_401_before_the_body_is_read(teams: TestClient, body: bytes,
                                                                    auth: str | None) -> None:
    headers = {"content-type": "application/json", **({"Authorization": auth} if auth else {})}
    r = teams.post("/api/messages", content=body, headers=headers)
    assert r.status_code == 401, (auth, body[:10], r.status_code, r.text[:200])


def test_teams_rs256_token_with_openid_host_unreachable_is_503_not_500(teams: TestClient) -> None:
    t0 = time.monotonic()
    r = teams.post("/api/messages", json=ACTIVITY, headers={"Authorization": f"Bearer {_jwt('RS256')}"})
    assert r.status_code in (401, 503), (r.status_code, r.text[:300])
    assert time.monotonic() - t0 < 15


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A TCP server that accepts connections and never answers (a proxy or host that hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=2)
    for conn in accepted:
        conn.close()
    server.close()


def test_teams_token_validation_that_hangs_is_cut_and_the_loop_stays_free(
        tmp_path: Path, black_hole: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", black_hole)  # botbuilder's requests.get goes to the black hole
    monkeypatch.setenv("https_proxy", black_hole)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    app = _teams_app(tmp_path, auth_timeout_s=1.5)
    with TestClient(app, raise_server_exceptions=False) as c:
        results: dict[str, Any] = {}

        def post() -> None:
            results["teams"] = c.post("/api/messages", json=ACTIVITY,
                                      headers={"Authorization": f"Bearer {_jwt('RS256')}"})

        t0 = time.monotonic()
        worker = threading.Thread(target=post)
        worker.start()
        time.sleep(0.3)
        health = c.get("/healthz")  # answered while the token validation hangs
        assert health.status_code == 200 and time.monotonic() - t0 < 1.4
        worker.join(timeout=10)
        assert not worker.is_alive()
        assert results["teams"].status_code == 503, results["teams"].text[:300]
        assert time.monotonic() - t0 < 5


def test_slack_malformed_timestamp_is_401(slack_settings: Any) -> None:
    with TestClient(create_app(slack_settings, pipeline=build_pipeline(slack_settings, with_retriever=False)),
                    raise_server_exceptions=False) as c:
        for headers in ({"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"},
                        {"X-Slack-Request-Timestamp": "1e30", "X-Slack-Signature": "v0=00"},
                        {"X-Slack-Request-Timestamp": "-5", "X-Slack-Signature": "v0=00"},
                        {"X-Slack-Signature": "v0=00"}, {}):
            r = c.post("/slack/events", content=b"{", headers={"content-type": "application/json", **headers})
            assert r.status_code in (400, 401), (headers, r.status_code)
