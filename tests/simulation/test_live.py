"""Live mode: /metrics in Prometheus exposition format, a growing log stream, the alert webhook."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.simulation.live import LiveSimulation


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def test_live_run_serves_metrics_streams_logs_and_posts_the_alert(tmp_path: Path) -> None:
    received: list[httpx.Request] = []

    def intake(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(202, json={"accepted": True})

    clock = Clock()
    with httpx.Client(transport=httpx.MockTransport(intake)) as http:
        sim = LiveSimulation(kind="db_connection_exhaustion", service="checkout", seed=7, logs_dir=tmp_path / "logs",
                             webhook_url="http://sherlog.test", http=http, speed=10.0, token="s3cret",
                             now=lambda: datetime(2026, 5, 1, 12, 0, tzinfo=UTC), clock=clock, sleep=clock.sleep)
        port = sim.serve_metrics(port=0)
        try:
            sim.step(sim.start_index + 1)
            sizes = {p.name: p.stat().st_size for p in (tmp_path / "logs").iterdir()}
            assert "checkout.log" in sizes and received == []
            scrape = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            families = {f.name: f for f in text_string_to_metric_families(scrape)}
            assert {"latency_p95_ms", "db_connections_in_use", "error_rate"} <= set(families)
            services = {s.labels["service"] for s in families["latency_p95_ms"].samples}
            assert {"checkout", "api-gateway"} <= services

            summary = sim.run(duration_s=600)
        finally:
            sim.close()
    assert summary["alert_posted"] and summary["alert_http_status"] == 202
    assert len(received) == 1
    request = received[0]
    assert request.url.path == "/api/v1/alerts/alertmanager"
    assert request.headers["authorization"] == "Bearer s3cret"
    body = json.loads(request.content)
    assert body["version"] == "4" and body["alerts"][0]["status"] == "firing"
    # logs grew and carry "now"-based timestamps (the stream started at 12:00 UTC)
    checkout = (tmp_path / "logs" / "checkout.log").read_text()
    assert "HikariPool-1" in checkout and "2026-05-01T12:" in checkout
    assert (tmp_path / "logs" / "checkout.log").stat().st_size > sizes["checkout.log"]
    # the pool gauge reached its maximum after the fault
    in_use = sim.registry.get_sample_value("db_connections_in_use", {"service": "checkout"})
    assert in_use is not None and in_use >= 19
