"""`sherlog serve` as a real process: a real Alertmanager v4 payload in, the incident and its analysis out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port, stop, wait_http

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_ALERT = ROOT / "tests" / "fixtures" / "bundles" / "inventory-disk" / "alert.json"


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {**os.environ, "SHERLOG__DATA_DIR": str(tmp_path / "data"), "SHERLOG__RETRIEVAL__BACKEND": "embedded",
           "HF_HUB_OFFLINE": "1"}
    env.pop("SHERLOG_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_http(f"{base}/readyz", proc, timeout=90, interval=0.3):
            if proc.poll() is not None:
                raise AssertionError(f"sherlog serve exited: {proc.stdout.read().decode()[-2000:]}")  # type: ignore[union-attr]
            raise AssertionError("sherlog serve did not become ready in 90 s")
        yield base
    finally:
        stop(proc, timeout=15)


@pytest.mark.slow
def test_serve_accepts_alertmanager_and_serves_the_analysis(server: str) -> None:
    payload = json.loads(FIXTURE_ALERT.read_text())
    with httpx.Client(base_url=server, timeout=10) as http:
        a = http.post("/api/v1/alerts/alertmanager", json=payload)
        b = http.post("/api/v1/alerts/alertmanager", json=payload)
        assert a.status_code == b.status_code == 202
        assert a.json()["incident_ids"] == b.json()["incident_ids"]
        incident_id = a.json()["incident_ids"][0]
        assert len(http.get("/api/v1/incidents").json()["items"]) == 1
        deadline = time.monotonic() + 60
        body: dict = {}  # type: ignore[type-arg]
        while time.monotonic() < deadline:
            body = http.get(f"/api/v1/incidents/{incident_id}").json()
            if body["analysis"]:
                break
            time.sleep(0.2)
        assert body["analysis"], "no analysis served"
        assert body["incident"]["alerts"][0]["name"] == "FrontendHighErrorRate"
        assert body["analysis"]["summary"]
        assert "sherlog_analyses_total" in http.get("/metrics").text
