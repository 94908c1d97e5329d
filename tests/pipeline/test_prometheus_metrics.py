"""Prometheus as the metrics source of live incidents: escaping of service names and a dead server.

A real Prometheus (tests/prometheusd.py) scrapes a target (prometheus-client, fresh registry) that
exposes one gauge per service, whose names hold quotes, backslashes, a newline and regex
metacharacters. The pipeline built from settings must read exactly each service's own series, and a
service name from an alert must not change the query. A Prometheus that refuses, drops or stalls
connections, or answers 503, must cost one note and one request, never the analysis.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from bot.domain import Alert, Incident
from bot.pipeline.context import LiveContextProvider
from bot.pipeline.wiring import build_pipeline
from config.settings import load_settings
from tests.processes import free_port
from tests.prometheusd import needs_prometheus, prometheus_server
from tests.webhook_flow import alertmanager_payload, analysis_via_api

LEVEL = {  # service -> the value its gauge reports
    "checkout": 1.0,
    'it\'s "quoted"': 2.0,
    "back\\slash": 3.0,
    "a.b": 4.0,  # as a regex it would match aXb too
    "aXb": 5.0,
    "new\nline": 6.0,
    'c:\\"d"\\': 7.0,
    "tab\there\x01\x7f": 8.0,
}
QUERIES = {"level": "sherlog_test_level{service={service}}", "level_re": "sherlog_test_level{service=~{service}}"}
INJECTIONS = [
    'x"} or vector(1) or up{a="',
    'checkout"} or sherlog_test_level{service=~".+',
    ".*",
    "checkout|a.b",
]


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real Prometheus that has scraped every gauge of ``LEVEL`` a few times."""
    registry = CollectorRegistry()
    gauge = Gauge("sherlog_test_level", "A constant per service", ["service"], registry=registry)
    for service, value in LEVEL.items():
        gauge.labels(service=service).set(value)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        with prometheus_server(tmp_path_factory.mktemp("prometheus"), [port]) as url:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                r = httpx.get(f"{url}/api/v1/query", params={"query": "count_over_time(sherlog_test_level[1m])"})
                counts = [float(s["value"][1]) for s in r.json()["data"]["result"]]
                if len(counts) == len(LEVEL) and min(counts) >= 3:
                    break
                time.sleep(0.5)
            else:
                pytest.fail("prometheus did not scrape the test target three times in 60 s")
            yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _settings(tmp_path: Path, prometheus: dict[str, Any], topology: dict[str, list[str]] | None = None) -> Any:
    return load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"}, topology=topology or {},
                         prometheus={"step": "1s", "lookback_minutes": 1, "timeout_s": 5, "queries": QUERIES,
                                     "default_queries": False,  # these tests count the configured queries
                                     **prometheus})


def _analysis_via_api(settings: Any, service: str, timeout: float = 60.0) -> dict[str, Any]:
    return analysis_via_api(settings, alertmanager_payload(service, alertname="HighLatency", summary="p95 latency above 300 ms"), timeout)


@pytest.mark.integration
@needs_prometheus
def test_each_odd_service_name_reads_exactly_its_own_series(prometheus: str, tmp_path: Path) -> None:
    others = [s for s in LEVEL if s != "checkout"]
    settings = _settings(tmp_path, {"url": prometheus}, topology={"checkout": others})
    pipeline = build_pipeline(settings, with_retriever=False)
    now = datetime.now(UTC)
    incident = Incident(title="checkout slow", service="checkout",
                        alerts=[Alert(name="HighLatency", service="checkout", starts_at=now)])

    context = pipeline.build_context(incident)

    assert isinstance(pipeline.context_provider, LiveContextProvider)
    assert pipeline.context_provider.notes[incident.id] == []
    got: dict[tuple[str, str], list[Any]] = {}
    for s in context.metrics:
        got.setdefault((s.service, s.metric), []).append(s)
    assert set(got) == {(service, metric) for service in LEVEL for metric in QUERIES}
    for (service, _metric), series in got.items():
        (one,) = series  # "a.b" as a regex would also have matched aXb's series
        assert one.labels["service"] == service  # the label value the server holds, read back
        assert len(one.values) >= 3 and set(one.values) == {LEVEL[service]}
        ms = timedelta(milliseconds=1)  # Prometheus keeps times in milliseconds
        assert now - timedelta(minutes=1) - ms <= one.timestamps[0] and one.timestamps[-1] <= now + ms


@pytest.mark.integration
@needs_prometheus
@pytest.mark.parametrize("service", INJECTIONS)
def test_an_injected_service_name_from_a_webhook_matches_nothing(
    prometheus: str, tmp_path: Path, service: str
) -> None:
    analysis = _analysis_via_api(_settings(tmp_path, {"url": prometheus}), service)

    # the queries ran (no failure note) and found no series named like that: nothing to analyse
    assert not [n for n in analysis["notes"] if n.startswith("prometheus")], analysis["notes"]
    assert "metrics" in analysis["lacked"]


@pytest.mark.integration
@needs_prometheus
def test_a_plain_service_from_a_webhook_gets_its_metrics(prometheus: str, tmp_path: Path) -> None:
    analysis = _analysis_via_api(_settings(tmp_path, {"url": prometheus}), "checkout")

    assert not [n for n in analysis["notes"] if n.startswith("prometheus")], analysis["notes"]
    assert "metrics" not in analysis["lacked"]  # the same path does find series when they exist


class _Peer:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts and then closes each one
    at once ("close"), holds it without answering ("hang"), or answers HTTP 503 ("503")."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.accepted = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            if self.behaviour == "hang":
                self._held.append(conn)
                continue
            if self.behaviour == "503":
                conn.settimeout(5)
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    request += chunk
                body = b"upstream unavailable"
                conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self._sock.close()


TOPOLOGY = {"frontend": ["checkout"], "checkout": ["payments"], "payments": []}


def test_a_closed_port_is_one_note_and_the_analysis_completes(tmp_path: Path) -> None:
    settings = _settings(tmp_path, {"url": f"http://127.0.0.1:{free_port()}"}, topology=TOPOLOGY)
    analysis = _analysis_via_api(settings, "checkout")

    assert "metrics" in analysis["lacked"] and analysis["summary"]
    assert [s["source"] for s in analysis["signals"]] == ["alert"]  # the analysis ran on what it had
    (note,) = [n for n in analysis["notes"] if n.startswith("prometheus")]
    assert "unreachable" in note and "check prometheus.url" in note
    assert "5 more queries not sent" in note  # 3 services x 2 queries: stopped after the first


@pytest.mark.parametrize(("behaviour", "says"), [("close", "unreachable"), ("hang", "unreachable"),
                                                ("503", "answered HTTP 503")])
def test_a_dead_server_gets_one_request_and_gives_one_note(tmp_path: Path, behaviour: str, says: str) -> None:
    peer = _Peer(behaviour)
    try:
        url = f"http://sherlog:s3cret-pw@127.0.0.1:{peer.port}"
        settings = _settings(tmp_path, {"url": url, "timeout_s": 0.5}, topology=TOPOLOGY)
        analysis = _analysis_via_api(settings, "checkout")
    finally:
        peer.close()

    assert peer.accepted == 1  # 6 queries were due; after the first failure none was sent
    assert "metrics" in analysis["lacked"] and analysis["summary"]
    (note,) = [n for n in analysis["notes"] if n.startswith("prometheus")]
    assert says in note and "prometheus.url" in note and "5 more queries not sent" in note
    assert f"127.0.0.1:{peer.port}" in note
    assert not [n for n in analysis["notes"] if "s3cret" in n]  # credentials in the URL are not echoed
