"""The SIGKILL drill: a stream of alerts into a real ``sherlog serve`` (or ``sherlog worker`` draining RabbitMQ),
the process killed at random points and restarted, then the outcome counted from the database and the Slack
Web API stand-in. Used by ``tests/integration/test_crash_recovery.py`` (which asserts) and by
``python -m bench.resilience`` (which prints the counts).

Each alert is its own incident (distinct service, name and labels), so "once" is countable per alert:
stored once, its incident analysed once, posted to Slack once.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bot.domain import utcnow
from bot.storage import Store, jobs, outbox
from bot.storage.tables import AlertRow, AnalysisRow, ChatPostRow, IncidentRow
from tests.fakes.slack_api import SlackAPI
from tests.integration.fleet import SherlogProcess, sherlog_env

ROOT = Path(__file__).resolve().parents[1]


def alert_payload(i: int) -> dict[str, Any]:
    """One alert of its own incident (distinct service, name and labels: nothing to correlate)."""
    return {"version": "4", "status": "firing", "receiver": "sherlog", "groupKey": f"g{i}", "alerts": [{
        "status": "firing", "labels": {"alertname": f"Crash{i}", "service": f"svc-{i}", "instance": f"host-{i}"},
        "annotations": {"summary": f"service svc-{i} is failing"}, "startsAt": utcnow().isoformat(),
        "fingerprint": f"fp{i:05d}"}]}


def send_all(server: SherlogProcess, n: int, acknowledged: list[int], stop: threading.Event) -> None:
    """Each alert until it is acknowledged (202); a request cut by a kill is sent again after the restart."""
    with httpx.Client(timeout=5) as http:
        for i in range(n):
            while not stop.is_set():
                try:
                    r = http.post(f"{server.base}/api/v1/alerts/alertmanager", json=alert_payload(i))
                except httpx.HTTPError:
                    time.sleep(0.2)
                    continue
                if r.status_code == 202:
                    acknowledged.append(i)
                    break
                time.sleep(0.2)


def settled(store: Store, n: int) -> bool:
    """Nothing pending, every incident there and posted."""
    with store.engine.connect() as conn:
        if jobs.backlog(conn)[jobs.JobState.PENDING.value] or outbox.counts(conn)[outbox.OutboxState.PENDING.value]:
            return False
        incidents = conn.execute(select(func.count()).select_from(IncidentRow)).scalar()
        posted = conn.execute(select(func.count()).select_from(ChatPostRow).where(ChatPostRow.state == "posted")).scalar()
    return incidents == n and posted == n


def wait_settled(store: Store, n: int, timeout: float) -> float:
    """Seconds until settled (or ``timeout``)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout and not settled(store, n):
        time.sleep(0.5)
    return time.monotonic() - t0


@dataclass
class DrillOutcome:
    """What a drill left: per-alert counts from the database and the Slack stand-in."""

    alerts: int
    acknowledged: int  # distinct alerts acknowledged (HTTP 202, or published to the broker)
    stored: int  # alert rows
    stored_once: int  # distinct alerts among them
    incidents: int
    analyses: int  # analysis rows
    analysed_once: int  # distinct incidents analysed
    posts: int  # first posts made to Slack (thread replies left out)
    posted_once: int  # distinct incidents posted
    jobs_left: dict[str, int]
    seconds: float = 0.0

    @property
    def doubled(self) -> dict[str, int]:
        return {"stored": self.stored - self.stored_once, "analysed": self.analyses - self.analysed_once,
                "posted": self.posts - self.posted_once}

    @property
    def exact(self) -> bool:
        """Every acknowledged alert stored, analysed and posted, each exactly once."""
        n = self.alerts
        return (self.acknowledged == self.stored == self.stored_once == self.incidents == self.analyses
                == self.analysed_once == self.posts == self.posted_once == n)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "doubled": self.doubled, "exact": self.exact}


def count_outcome(store: Store, acknowledged: list[int], slack: SlackAPI, n: int) -> tuple[DrillOutcome, dict[str, Any]]:
    """The outcome, and the raw tallies a test asserts on (alert names, analyses and posts per incident)."""
    with store.engine.connect() as conn:
        stored = Counter(dict(conn.execute(select(AlertRow.name, func.count()).group_by(AlertRow.name)).all()))  # type: ignore[call-overload]
        analysed = Counter(dict(conn.execute(
            select(AnalysisRow.incident_id, func.count()).group_by(AnalysisRow.incident_id)).all()))  # type: ignore[call-overload]
        incidents = [r[0] for r in conn.execute(select(IncidentRow.id))]
        backlog = jobs.backlog(conn)
    posts = [c.body for c in slack.calls_to("chat.postMessage") if not c.body.get("thread_ts")]
    per_incident = Counter(p["metadata"]["event_payload"]["incident_id"] for p in posts)
    outcome = DrillOutcome(alerts=n, acknowledged=len(set(acknowledged)), stored=sum(stored.values()),
                           stored_once=len(stored), incidents=len(incidents), analyses=sum(analysed.values()),
                           analysed_once=len(analysed), posts=sum(per_incident.values()),
                           posted_once=len(per_incident), jobs_left=dict(backlog))
    return outcome, {"stored": stored, "analysed": analysed, "incidents": incidents, "posted": per_incident}


def serve_drill(workdir: Path, storage: dict[str, str], store: Store, slack: SlackAPI, *, n: int, kills: int = 2,
                seed: int = 17, settle_s: float = 240.0) -> list[int]:
    """SIGKILL ``sherlog serve --all`` ``kills`` times during a stream of ``n`` alerts posted over HTTP; returns
    the acknowledged alerts once everything settled (or ``settle_s`` passed)."""
    server = SherlogProcess(sherlog_env(workdir, storage, slack), workdir / "serve.log")
    server.start()
    acknowledged: list[int] = []
    stop = threading.Event()
    sender = threading.Thread(target=send_all, args=(server, n, acknowledged, stop), daemon=True)
    sender.start()
    rng = random.Random(seed)
    try:
        for k in range(kills):  # at a random point of the stream, and once more while the backlog drains
            target = n * (k + 1) // (kills + 1) + rng.randint(0, n // 10)
            while len(acknowledged) < min(target, n) and sender.is_alive():
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.5))
            server.kill()
            server.start()
        sender.join(timeout=300)
        if sender.is_alive():
            raise AssertionError("alerts not all acknowledged in 300 s")
        wait_settled(store, n, settle_s)
    finally:
        stop.set()
        server.stop()
    return acknowledged


def worker_drill(workdir: Path, storage: dict[str, str], store: Store, slack: SlackAPI, rabbitmq_url: str, *,
                 n: int, kills: int = 2, seed: int = 23, settle_s: float = 300.0) -> list[int]:
    """``sherlog worker`` (queue intake, analysis, delivery) killed ``kills`` times while it drains ``n`` alerts
    published to a fresh RabbitMQ queue (published = acknowledged by the broker)."""
    from connectors.messages import SOURCE_HEADER
    from connectors.rabbitmq import RabbitMQBroker

    queue = f"sherlog.crash.{uuid.uuid4().hex[:8]}"
    env = sherlog_env(workdir, {**storage, "SHERLOG__RABBITMQ__ENABLED": "true",
                                       "SHERLOG__RABBITMQ__URL": rabbitmq_url, "SHERLOG__RABBITMQ__ALERTS_QUEUE": queue,
                                       "SHERLOG__RABBITMQ__BATCH_SIZE": "20"}, slack)

    async def publish() -> None:
        broker = RabbitMQBroker(url=rabbitmq_url, queue=queue)
        await broker.connect()
        for i in range(n):
            await broker.publish(json.dumps(alert_payload(i)).encode(), headers={SOURCE_HEADER: "alertmanager"})
        await broker.close()

    asyncio.run(publish())
    log = workdir / "worker.log"

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "bot.cli.main", "worker", "--batch-size", "20"], cwd=ROOT,
                                env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)

    def count(table: Any) -> int:
        with store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)

    rng = random.Random(seed)
    proc = start()
    try:
        for k in range(kills):  # once during intake, once while analyses and posts drain
            target = n * (k + 1) // (kills + 1)
            deadline = time.monotonic() + 180
            while (count(AlertRow) if k == 0 else count(AnalysisRow)) < target // (k + 1) \
                    and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.3))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc = start()
        wait_settled(store, n, settle_s)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return list(range(n))
