"""PrometheusConnector against a real Prometheus (Debian package) scraping a target this test serves.

The target (prometheus-client, fresh registry) exposes a disk that fills a little every second and a
request counter; Prometheus scrapes it every second and evaluates one alerting rule. The test then
reads everything back through the connector and runs the early-warning job on the live series.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from bot.pipeline.early_warning import EarlyWarning, EarlyWarningJob, PrometheusSource
from config.settings import PredictionSettings, PrometheusSettings, WatchSettings
from connectors.prometheus.client import PrometheusConnector
from tests.processes import free_port
from tests.prometheusd import needs_prometheus, prometheus_server

pytestmark = [pytest.mark.integration, needs_prometheus]


@pytest.fixture
def target() -> Iterator[tuple[int, Gauge]]:
    registry = CollectorRegistry()
    disk = Gauge("disk_used_ratio", "Share of the volume in use", ["service", "mount"], registry=registry)
    requests = Counter("http_requests", "Requests served", ["service"], registry=registry)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    stop = threading.Event()
    start = time.monotonic()

    def fill() -> None:
        while not stop.is_set():
            elapsed = time.monotonic() - start
            disk.labels(service="db-1", mount="/data").set(0.60 + 0.01 * elapsed)  # full after ~40 s
            requests.labels(service="api").inc(5)
            stop.wait(0.2)

    filler = threading.Thread(target=fill, daemon=True)
    filler.start()
    yield port, disk
    stop.set()
    filler.join(timeout=2)
    server.shutdown()
    server.server_close()


@pytest.fixture
def prometheus(tmp_path: Path, target: tuple[int, Gauge]) -> Iterator[str]:
    target_port, _ = target
    rules = (
        "groups:\n- name: disk\n  interval: 1s\n  rules:\n"
        "  - alert: DiskAlmostFull\n    expr: disk_used_ratio > 0.5\n    labels: {severity: warning}\n"
    )
    with prometheus_server(tmp_path, [target_port], rules=rules) as url:
        yield url


def _wait(pred: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():  # type: ignore[operator]
            return
        time.sleep(0.5)
    pytest.fail("condition not met in time")


def test_real_prometheus_query_range_series_rules_alerts_and_early_warning(prometheus: str) -> None:
    settings = PrometheusSettings(url=prometheus, step="1s")
    with httpx.Client(base_url=prometheus, timeout=5) as client:
        conn = PrometheusConnector(settings=settings, client=client)

        def window() -> tuple[datetime, datetime]:
            now = datetime.now(UTC)
            return now - timedelta(minutes=2), now

        def enough_points() -> bool:
            start, end = window()
            got = conn.query_range("disk_used_ratio", start=start, end=end)
            return bool(got) and len(got[0].values) >= 8

        _wait(enough_points)
        start, end = window()
        (disk,) = conn.query_range("disk_used_ratio", start=start, end=end)
        assert disk.service == "db-1" and disk.metric == "disk_used_ratio"
        assert disk.labels["mount"] == "/data" and disk.labels["job"] == "sherlog-test"
        assert disk.values[-1] > disk.values[0] >= 0.6
        assert all(b > a for a, b in zip(disk.timestamps, disk.timestamps[1:], strict=False))

        (rate,) = conn.query_range(
            'rate(http_requests_total{service="api"}[5s])', start=start, end=end, metric="requests_per_second"
        )
        assert rate.service == "api" and rate.metric == "requests_per_second"
        assert max(v for v in rate.values if v == v) > 5

        names = {s.get("__name__") for s in conn.series(["{job='sherlog-test'}"], start=start, end=end)}
        assert {"disk_used_ratio", "http_requests_total", "up"} <= names
        rules = conn.rules()
        assert [r["name"] for r in rules] == ["DiskAlmostFull"] and rules[0]["group"] == "disk"
        _wait(
            lambda: any(
                a["labels"]["alertname"] == "DiskAlmostFull" and a["state"] == "firing" for a in conn.alerts()
            )
        )

        got: list[EarlyWarning] = []
        prediction = PredictionSettings(
            watches=[WatchSettings(name="data-volume", query="disk_used_ratio", metric="disk_used_ratio")],
            horizon_hours=1,
            lookback_hours=0.05,
            step="1s",
        )
        job = EarlyWarningJob(
            settings=prediction, source=PrometheusSource(conn, step="1s"), on_warning=got.append
        )
        job.run_once()
        assert len(got) == 1
        w = got[0]
        assert w.service == "db-1" and w.kind == "disk_full" and w.labels["mount"] == "/data"
        assert w.eta is not None and datetime.now(UTC) < w.eta < datetime.now(UTC) + timedelta(minutes=2)
