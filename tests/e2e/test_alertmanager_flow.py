"""THE flagship end-to-end test: real Prometheus and Alertmanager (Debian packages) page Sherlog.

A metrics target served by this test (prometheus-client) crosses a rule's threshold; Prometheus fires;
Alertmanager posts its v4 webhook to a real ``sherlog serve`` process; the incident appears with its
analysis; Alertmanager's repeat notifications add no incident; when the metric recovers, the resolved
notification resolves the incident. Every wait is bounded and every process is killed at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = shutil.which("prometheus")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.timeout(600),  # its bounded waits add up to ~290 s, plus the processes' start-up
    pytest.mark.skipif(not (PROMETHEUS and ALERTMANAGER),
                       reason="needs `apt-get install -y prometheus prometheus-alertmanager`"),
]


def wait_for(what: str, check: Callable[[], Any], *, timeout: float, procs: dict[str, subprocess.Popen[bytes]],
             interval: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace")[-3000:] if proc.stdout else ""
                raise AssertionError(f"{name} exited with {proc.returncode} while waiting for {what}:\n{out}")
        try:
            last = check()
        except httpx.HTTPError:
            last = None
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def processes() -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    procs: dict[str, subprocess.Popen[bytes]] = {}
    yield procs
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def start(procs: dict[str, subprocess.Popen[bytes]], name: str, args: list[str], **kw: Any) -> None:
    procs[name] = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


def test_prometheus_fires_alertmanager_pages_sherlog(tmp_path: Path,
                                                     processes: dict[str, subprocess.Popen[bytes]]) -> None:
    sherlog_port, target_port, prom_port, am_port = free_port(), free_port(), free_port(), free_port()
    sherlog = f"http://127.0.0.1:{sherlog_port}"

    # 1. the metrics target: a queue depth well above the rule's threshold
    registry = CollectorRegistry()
    depth = Gauge("orders_queue_depth", "Messages waiting in the orders queue", ["service"], registry=registry)
    depth.labels(service="checkout").set(500)
    server, thread = start_http_server(target_port, addr="127.0.0.1", registry=registry)
    try:
        # 2. Sherlog, as a user runs it
        env = {**os.environ, "SHERLOG__DATA_DIR": str(tmp_path / "sherlog"), "SHERLOG__RETRIEVAL__BACKEND": "memory",
               "HF_HUB_OFFLINE": "1"}
        env.pop("SHERLOG_CONFIG", None)
        start(processes, "sherlog", [sys.executable, "-m", "bot.cli.main", "serve", "--port", str(sherlog_port)],
              cwd=ROOT, env=env)

        # 3. Alertmanager: one receiver, Sherlog's webhook, short waits, cluster listening disabled
        (tmp_path / "am.yml").write_text(f"""
route:
  receiver: sherlog
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: sherlog
    webhook_configs:
      - url: {sherlog}/api/v1/alerts/alertmanager
        send_resolved: true
""")
        start(processes, "alertmanager", [ALERTMANAGER, f"--config.file={tmp_path / 'am.yml'}",  # type: ignore[list-item]
                                           f"--storage.path={tmp_path / 'am-data'}",
                                           f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address=",
                                           "--log.level=warn"])

        # 4. Prometheus: scrape the target every second, evaluate the rule every second
        (tmp_path / "rules.yml").write_text("""
groups:
  - name: sherlog-e2e
    interval: 1s
    rules:
      - alert: OrdersQueueBacklog
        expr: orders_queue_depth > 100
        labels:
          severity: critical
        annotations:
          summary: "Orders queue backlog on {{ $labels.service }}"
          description: "{{ $value }} messages waiting"
""")
        (tmp_path / "prometheus.yml").write_text(f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [{tmp_path / 'rules.yml'}]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:{am_port}"]
scrape_configs:
  - job_name: orders
    static_configs:
      - targets: ["127.0.0.1:{target_port}"]
""")
        start(processes, "prometheus", [PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}",  # type: ignore[list-item]
                                         f"--storage.tsdb.path={tmp_path / 'prom-data'}",
                                         f"--web.listen-address=127.0.0.1:{prom_port}",
                                         f"--web.external-url=http://127.0.0.1:{prom_port}",
                                         "--rules.alert.resend-delay=1s", "--log.level=warn"])

        with httpx.Client(base_url=sherlog, timeout=5) as http:
            wait_for("sherlog ready", lambda: http.get("/readyz").status_code == 200, timeout=90, procs=processes)

            def the_incident() -> dict[str, Any] | None:
                items = http.get("/api/v1/incidents").json()["items"]
                return items[0] if items else None

            incident = wait_for("the incident from Alertmanager", the_incident, timeout=60, procs=processes)
            assert incident["service"] == "checkout" and incident["severity"] == "critical"
            assert incident["source"] == "alertmanager"

            def analysed() -> dict[str, Any] | None:
                body: dict[str, Any] = http.get(f"/api/v1/incidents/{incident['id']}").json()
                return body if body["analysis"] else None

            body = wait_for("its analysis", analysed, timeout=60, procs=processes)
            (alert,) = body["incident"]["alerts"]
            assert alert["name"] == "OrdersQueueBacklog" and alert["fingerprint"].startswith("am:")
            assert alert["generator_url"].startswith(f"http://127.0.0.1:{prom_port}/graph")  # Prometheus graph link
            assert body["analysis"]["summary"]

            # Alertmanager re-sends the firing group every repeat_interval: no second incident, no second alert
            def notifications() -> float:
                for line in http.get("/metrics").text.splitlines():
                    if line.startswith("sherlog_alerts_received_total"):
                        return float(line.split()[-1])
                return 0.0

            wait_for("a repeat notification", lambda: notifications() >= 2, timeout=30, procs=processes)
            items = http.get("/api/v1/incidents").json()["items"]
            assert [i["id"] for i in items] == [incident["id"]]
            assert len(http.get(f"/api/v1/incidents/{incident['id']}").json()["incident"]["alerts"]) == 1

            # the metric recovers: Prometheus resolves, Alertmanager sends resolved, the incident resolves
            depth.labels(service="checkout").set(3)
            resolved = wait_for(
                "the resolution",
                lambda: http.get(f"/api/v1/incidents/{incident['id']}").json()["incident"]["status"] == "resolved",
                timeout=45, procs=processes)
            assert resolved
            assert len(http.get("/api/v1/incidents").json()["items"]) == 1
    finally:
        server.shutdown()
        thread.join(timeout=5)
