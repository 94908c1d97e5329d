"""Live mode: a simulated production Sherlog can watch.

A ``LiveSimulation`` replays one scenario in accelerated time from "now": it exposes every metric
as a Prometheus gauge (``latency_p95_ms{service="checkout"}``) on its own registry, appends log lines
to ``<logs_dir>/<service>.log`` as their time comes, and POSTs the vendor alert to a running Sherlog's
intake (``<sherlog_url>/api/v1/alerts/<vendor>``) when the alert fires. The clock and the sleep are
injected so tests run it without waiting.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from bot.domain.errors import ConnectorError
from bot.simulation.alerts import payload
from bot.simulation.bundle import alert_facts
from bot.simulation.evidence import EvidenceWriter
from bot.simulation.scenario import build_scenario

log = logging.getLogger(__name__)

LEAD_MINUTES = 20  # the stream starts this many simulated minutes before the fault


class LiveSimulation:
    def __init__(self, *, kind: str, service: str | None = None, seed: int = 7, logs_dir: Path,
                 webhook_url: str | None = None, http: httpx.Client | None = None, speed: float = 6.0,
                 vendor: str = "alertmanager", token: str | None = None, registry: CollectorRegistry | None = None,
                 now: Callable[[], datetime] | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.scn = build_scenario(kind, service=service, seed=seed, difficulty="normal", vendor=vendor)
        tl = self.scn.timeline
        self.start_index = max(0, tl.fault_at - LEAD_MINUTES)
        wall = (now or (lambda: datetime.now(UTC)))()
        tl.start = wall.replace(second=0, microsecond=0) - timedelta(minutes=self.start_index)
        self.logs = EvidenceWriter(self.scn).timed_logs()
        self.logs_dir = logs_dir
        self.webhook_url = webhook_url
        self.http = http
        self.token = token
        self.speed = speed
        self.clock, self.sleep = clock, sleep
        self.registry = registry or CollectorRegistry()
        self.gauges: dict[str, Gauge] = {}
        for _, metric in sorted(self.scn.series):
            if metric not in self.gauges:
                self.gauges[metric] = Gauge(metric, f"simulated {metric.replace('_', ' ')}", ["service"],
                                            registry=self.registry)
        self._cursor = {name: 0 for name in self.logs}
        self._server: Any = None
        self.alert_status: int | None = None
        self.lines_written = 0
        self.minute = float(self.start_index)

    def serve_metrics(self, *, host: str = "127.0.0.1", port: int = 0) -> int:
        """Start the /metrics endpoint; returns the bound port."""
        self._server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return int(self._server.server_port)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def step(self, minute: float) -> None:
        """Advance the simulated clock to ``minute`` (index into the scenario timeline)."""
        tl = self.scn.timeline
        self.minute = min(minute, float(tl.minutes - 1))
        index = int(self.minute)
        for (name, metric), values in self.scn.series.items():
            value = float(values[index])
            if not math.isnan(value):
                self.gauges[metric].labels(service=name).set(value)
        until = tl.at(self.minute)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        for name, lines in self.logs.items():
            start = self._cursor[name]
            end = start
            while end < len(lines) and lines[end][0] <= until:
                end += 1
            if end > start:
                with (self.logs_dir / f"{name}.log").open("a", encoding="utf-8") as fh:
                    fh.write("\n".join(text for _, text in lines[start:end]) + "\n")
                self.lines_written += end - start
                self._cursor[name] = end
        if self.alert_status is None and self.minute >= tl.alert_at:
            self._post_alert()

    def _post_alert(self) -> None:
        body = payload(self.scn.vendor, alert_facts(self.scn))
        if not self.webhook_url or self.http is None:
            self.alert_status = 0
            (self.logs_dir.parent / "alert.json").write_text(json.dumps(body, indent=2), encoding="utf-8")
            return
        url = self.webhook_url.rstrip("/")
        if "/api/v1/alerts" not in url:
            url = f"{url}/api/v1/alerts/{self.scn.vendor}"
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = self.http.post(url, json=body, headers=headers)
        except httpx.HTTPError as e:
            raise ConnectorError(f"could not post the simulated alert to {url}: {e}") from e
        self.alert_status = response.status_code
        log.info("simulated alert posted", extra={"url": url, "status": response.status_code})

    def run(self, *, duration_s: float) -> dict[str, Any]:
        """Stream for ``duration_s`` real seconds (or until the scenario ends)."""
        began = self.clock()
        last = self.scn.timeline.minutes - 1
        while True:
            elapsed = self.clock() - began
            minute = self.start_index + elapsed * self.speed
            self.step(minute)
            if elapsed >= duration_s or minute >= last:
                break
            self.sleep(0.25)
        return self.summary()

    def summary(self) -> dict[str, Any]:
        tl = self.scn.timeline
        return {"kind": self.scn.kind, "culprit": self.scn.culprit, "alert_service": self.scn.alert_service,
                "simulated_minutes": round(self.minute - self.start_index, 2),
                "fault_at": tl.at(tl.fault_at).isoformat(), "alert_posted": self.alert_status is not None,
                "alert_http_status": self.alert_status, "log_lines": self.lines_written}
