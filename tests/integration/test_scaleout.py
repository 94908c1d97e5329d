"""Scale-out under failure (issue 18): real processes on PostgreSQL and RabbitMQ, and the one-process default
on SQLite, fed a stream of alerts while processes are SIGKILLed and restarted.

PostgreSQL + RabbitMQ: 2 ``sherlog serve --api``, 2 ``sherlog worker`` and 1 ``sherlog scheduler``. Every
incident gets 10 alerts (one alert name on one service, 10 pods): the even ones through the webhooks of the
two API processes (every fourth incident's third one is a PagerDuty v3 ``incident.triggered`` webhook, which
links the incident, already open, to a PagerDuty incident), the odd ones through the RabbitMQ queue. When half the webhook
alerts are acknowledged, one API process and one worker are SIGKILLed and restarted. SQLite: one
``sherlog serve`` (every role) gets every alert through its webhooks and is SIGKILLed and restarted midway.

Afterwards: every acknowledged alert is stored once, the alerts of one incident form one incident, every
incident is analysed, posted to Slack exactly once (the Slack Web API stand-in counts top-level posts) and,
when linked to PagerDuty, noted there exactly once (the PagerDuty REST API stand-in counts notes).

``SHERLOG_SCALEOUT_ALERTS`` sets the number of alerts (default 2,000, i.e. 200 incidents; a multiple of 10).
The figures are printed (``pytest -s``) as one ``scaleout:`` line per run. Measured here (2 cores shared with
other jobs, load average 10-15): 2,000 alerts take 143-201 s from the first alert to the last check on
PostgreSQL + RabbitMQ (5 processes; 3.1-4.6 min with start-ups) and 50-57 s on SQLite (1.3-1.4 min).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.storage import Store, jobs, outbox
from bot.storage.tables import AlertRow, AnalysisRow, ChatPostRow, IncidentRow
from tests.conftest import PG_URL
from tests.fakes.pagerduty_api import PagerDutyAPI, incident, webhook
from tests.fakes.slack_api import SlackAPI
from tests.integration.fleet import SherlogProcess, sherlog_env

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]  # 400 s of intake + SETTLE_S (400 s)
PER_INCIDENT = 10
N_ALERTS = int(os.environ.get("SHERLOG_SCALEOUT_ALERTS", "2000")) // PER_INCIDENT * PER_INCIDENT
N_INCIDENTS = N_ALERTS // PER_INCIDENT
PD_EVERY = 4  # incidents 0, 4, 8, ... come with a PagerDuty incident
PD_PLACE = 2  # its webhook is the incident's third alert: it links an incident already open (and analysed)
SETTLE_S = float(os.environ.get("SHERLOG_SCALEOUT_SETTLE_S", "400"))  # with the 400 s of intake: under CI's 900 s


@dataclass(frozen=True)
class Delivery:
    """One alert of the stream: where it goes and what is sent."""

    k: int  # its incident
    j: int  # its place in the incident
    source: str  # alertmanager | pagerduty
    body: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        return f"fp{self.k:04d}-{self.j:02d}"


def _pd_id(k: int) -> str:
    return f"PSC{k:04d}"


def _delivery(k: int, j: int, now: datetime) -> Delivery:
    if j == PD_PLACE and k % PD_EVERY == 0:
        data = incident(_pd_id(k), f"Crash{k}", created_at=now, status="triggered", service=f"svc-{k}")
        return Delivery(k, j, "pagerduty", webhook("incident.triggered", data, occurred_at=now))
    return Delivery(k, j, "alertmanager", {
        "version": "4", "status": "firing", "receiver": "sherlog", "groupKey": f"g{k}-{j}", "alerts": [{
            "status": "firing", "annotations": {"summary": f"svc-{k} pod {j} is crash-looping"},
            "labels": {"alertname": f"Crash{k}", "service": f"svc-{k}", "pod": f"svc-{k}-{j}"},
            "startsAt": now.isoformat(), "fingerprint": f"fp{k:04d}-{j:02d}"}]})


def _stream(now: datetime) -> list[Delivery]:
    """Incidents open one after another over the whole run (so that a kill midway cuts intake, analyses,
    posts and notes in flight), and the alerts of one incident are spread over the openings of the next
    tenth or so of the incidents, by both paths, to every process."""
    spread = max(N_INCIDENTS // 100, 1)
    order = sorted((k + j * spread, j, k) for k in range(N_INCIDENTS) for j in range(PER_INCIDENT))
    return [_delivery(k, j, now) for _, j, k in order]


@dataclass
class Sender:
    """Posts each webhook until it is acknowledged (202); a request cut by a kill is sent again."""

    server: SherlogProcess
    deliveries: list[Delivery]
    acknowledged: list[Delivery] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=10) as http:
            for d in self.deliveries:
                while not self.stop.is_set():
                    try:
                        r = http.post(f"{self.server.base}/api/v1/alerts/{d.source}", json=d.body)
                    except httpx.HTTPError:
                        time.sleep(0.2)
                        continue
                    if r.status_code == 202:
                        self.acknowledged.append(d)
                        break
                    time.sleep(0.2)


def _counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        def count(table: Any, *where: Any) -> int:
            return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar() or 0)

        return {"alerts": count(AlertRow), "incidents": count(IncidentRow), "analyses": count(AnalysisRow),
                "slack_posted": count(ChatPostRow, ChatPostRow.surface == "slack", ChatPostRow.state == "posted"),
                "notes_posted": count(ChatPostRow, ChatPostRow.surface == "pagerduty",
                                      ChatPostRow.state == "posted"),
                "notes_open": count(ChatPostRow, ChatPostRow.surface == "pagerduty", ChatPostRow.state != "posted"),
                "jobs_pending": jobs.backlog(conn)[jobs.JobState.PENDING.value],
                "outbox_pending": outbox.counts(conn)[outbox.OutboxState.PENDING.value]}


def _settled(c: dict[str, int], n_pd: int) -> bool:
    return (c["alerts"] == N_ALERTS and c["incidents"] == N_INCIDENTS and c["slack_posted"] == N_INCIDENTS
            and c["notes_posted"] >= n_pd and not c["notes_open"] and not c["jobs_pending"]
            and not c["outbox_pending"])


def _wait_settled(store: Store, n_pd: int) -> dict[str, int]:
    deadline = time.monotonic() + SETTLE_S
    counts = _counts(store)
    while time.monotonic() < deadline and not _settled(counts, n_pd):
        time.sleep(1.0)
        counts = _counts(store)
    return counts


def _check(store: Store, slack: SlackAPI, pd: PagerDutyAPI, *, started: float, at_kill: dict[str, int],
           run: str) -> None:
    """Nothing lost, nothing doubled; prints the run's figures."""
    alerts, analyses, incidents = (t.__table__.c for t in (AlertRow, AnalysisRow, IncidentRow))  # type: ignore[attr-defined,union-attr]
    with store.engine.connect() as conn:
        rows = conn.execute(select(alerts.incident_id, alerts.fingerprint, alerts.name)).all()
        analysed = Counter(r[0] for r in conn.execute(select(analyses.incident_id)))
        refs = {r[0]: (r[1] or {}).get("external_refs", {}) for r in conn.execute(select(incidents.id, incidents.data))}
    fingerprints = Counter(r[1] for r in rows)
    members = Counter(r[0] for r in rows)
    names: dict[str, set[str]] = {}
    for incident_id, _, name in rows:
        names.setdefault(incident_id, set()).add(name)
    posts = [c.body for c in slack.calls_to("chat.postMessage") if not c.body.get("thread_ts")]
    per_incident = Counter(p["metadata"]["event_payload"]["incident_id"] for p in posts)
    pd_ids = [_pd_id(k) for k in range(0, N_INCIDENTS, PD_EVERY)]
    notes = {ref: sum(n["content"].startswith("Sherlog analysis") for n in pd.notes[ref]) for ref in pd_ids}
    duration = time.monotonic() - started
    doubled_posts = sum(n - 1 for n in per_incident.values() if n > 1)
    order = [p["metadata"]["event_payload"]["incident_id"] for p in posts]
    between = {i: order.index(i, order.index(i) + 1) - order.index(i) - 1 for i, n in per_incident.items() if n > 1}
    doubled_notes = sum(n - 1 for n in notes.values() if n > 1)
    print(f"\nscaleout[{run}]: alerts {N_ALERTS} ({N_INCIDENTS} incidents), stored {sum(fingerprints.values())} "
          f"(distinct {len(fingerprints)}), incidents {len(members)}, analysed {len(analysed)} "
          f"({sum(analysed.values())} analyses), slack posts {len(posts)} for {len(per_incident)} incidents "
          f"(doubled {doubled_posts}), pagerduty notes {sum(notes.values())} for {len(pd_ids)} incidents "
          f"(doubled {doubled_notes}, missing {sum(1 for n in notes.values() if n == 0)}), {duration:.0f} s; "
          f"at the kill: {at_kill['alerts']} stored, {at_kill['slack_posted']} posted, "
          f"{at_kill['notes_posted']} noted")
    assert len(fingerprints) == N_ALERTS and set(fingerprints.values()) == {1}  # every alert stored once
    assert len(members) == N_INCIDENTS and set(members.values()) == {PER_INCIDENT}  # 10 alerts, one incident
    assert all(len(n) == 1 for n in names.values())  # never two problems in one incident
    assert len({n for ns in names.values() for n in ns}) == N_INCIDENTS
    assert set(analysed) == set(members)  # every incident analysed
    assert set(per_incident) == set(members)  # every incident posted: none lost
    assert doubled_posts == 0, f"doubled Slack posts (incident: top-level posts between the two): {between}"
    linked = sorted(r["pagerduty"] for r in refs.values() if r.get("pagerduty"))
    assert linked == pd_ids  # every PagerDuty incident linked to its Sherlog incident
    assert notes == dict.fromkeys(pd_ids, 1)  # one note each: none lost, none doubled


@pytest.fixture
def slack_api():  # type: ignore[no-untyped-def]
    with SlackAPI() as api:
        yield api


@pytest.fixture
def pd_api():  # type: ignore[no-untyped-def]
    with PagerDutyAPI(token="pd-scaleout") as api:
        now = datetime.now(UTC)
        for k in range(0, N_INCIDENTS, PD_EVERY):
            api.add_incident(incident(_pd_id(k), f"Crash{k}", created_at=now, status="triggered",
                                      service=f"svc-{k}", number=k + 1))
        yield api


def _vendor_env(pd: PagerDutyAPI) -> dict[str, str]:
    return {"SHERLOG__PAGERDUTY__ENABLED": "true", "SHERLOG__PAGERDUTY__API_TOKEN": "pd-scaleout",
            "SHERLOG__PAGERDUTY__API_URL": pd.url, "SHERLOG__PAGERDUTY__FROM_EMAIL": "sherlog@example.com",
            "SHERLOG__INTAKE__WRITEBACK_LEASE_S": "20", "SHERLOG__INTAKE__WRITEBACK_RETRY_INTERVAL_S": "1"}


def _publish(rabbitmq_url: str, queue: str, deliveries: list[Delivery], published: list[Delivery],
             due: Callable[[Delivery], bool]) -> None:
    """Each queued alert once ``due`` (the webhooks before it in the stream were acknowledged), confirmed by
    the broker (= accepted): the queue keeps pace with the webhooks."""
    from connectors.messages import SOURCE_HEADER
    from connectors.rabbitmq import RabbitMQBroker

    async def main() -> None:
        broker = RabbitMQBroker(url=rabbitmq_url, queue=queue)
        await broker.connect()
        for d in deliveries:
            while not due(d):
                await asyncio.sleep(0.01)
            await broker.publish(json.dumps(d.body).encode(), headers={SOURCE_HEADER: d.source})
            published.append(d)
        await broker.close()

    asyncio.run(main())


def test_two_api_two_workers_and_a_scheduler_on_postgresql_and_rabbitmq_lose_and_double_nothing(
        tmp_path: Path, pg_schema: str, rabbitmq_url: str, slack_api: SlackAPI, pd_api: PagerDutyAPI) -> None:
    queue = f"sherlog.scaleout.{uuid.uuid4().hex[:8]}"
    store = Store.open(PG_URL, schema=pg_schema)
    env = sherlog_env(tmp_path, {"SHERLOG__STORAGE__URL": PG_URL, "SHERLOG__STORAGE__SCHEMA_NAME": pg_schema,
                                 "SHERLOG__RABBITMQ__ENABLED": "true", "SHERLOG__RABBITMQ__URL": rabbitmq_url,
                                 "SHERLOG__RABBITMQ__ALERTS_QUEUE": queue, "SHERLOG__RABBITMQ__BATCH_SIZE": "20",
                                 **_vendor_env(pd_api)}, slack_api)
    apis = [SherlogProcess(env, tmp_path / f"api{i}.log", ("serve", "--api")) for i in range(2)]
    workers = [SherlogProcess(env, tmp_path / f"worker{i}.log", ("worker", "--batch-size", "20")) for i in range(2)]
    scheduler = SherlogProcess(env, tmp_path / "scheduler.log", ("scheduler",))
    fleet = [*apis, *workers, scheduler]
    stream = _stream(datetime.now(UTC))
    hooks = [d for d in stream if d.j % 2 == 0]
    queued = [d for d in stream if d.j % 2 == 1]
    senders = [Sender(api, [d for d in hooks if (d.k + d.j // 2) % 2 == i]) for i, api in enumerate(apis)]
    published: list[Delivery] = []
    position = {id(d): n for n, d in enumerate(stream)}
    hooks_before = {id(d): sum(1 for h in hooks if position[id(h)] < position[id(d)]) for d in queued}

    def due(d: Delivery) -> bool:
        return sum(len(s.acknowledged) for s in senders) >= hooks_before[id(d)]

    try:
        for process in fleet:
            process.start()
        started = time.monotonic()
        threads = [threading.Thread(target=s.run, daemon=True) for s in senders]
        threads.append(threading.Thread(target=_publish, args=(rabbitmq_url, queue, queued, published, due),
                                        daemon=True))
        for t in threads:
            t.start()
        while sum(len(s.acknowledged) for s in senders) < len(hooks) // 2 and any(t.is_alive() for t in threads):
            time.sleep(0.02)
        time.sleep(random.Random(18).uniform(0.0, 0.5))
        at_kill = _counts(store)
        apis[1].kill()  # one API process and one worker, midway
        workers[0].kill()
        workers[0].start()
        apis[1].start()
        for t in threads:
            t.join(timeout=400)
        assert not any(t.is_alive() for t in threads), "alerts not all acknowledged in 400 s"
        counts = _wait_settled(store, len(range(0, N_INCIDENTS, PD_EVERY)))
    finally:
        for s in senders:
            s.stop.set()
        for process in fleet:
            process.stop()
    try:
        assert sorted(d.fingerprint for s in senders for d in s.acknowledged) == sorted(d.fingerprint for d in hooks)
        assert len(published) == len(queued)
        assert _settled(counts, len(range(0, N_INCIDENTS, PD_EVERY))), counts
        _check(store, slack_api, pd_api, started=started, at_kill=at_kill,
               run="postgresql+rabbitmq, 2 api 2 workers 1 scheduler")
    finally:
        store.close()


def test_one_process_on_sqlite_loses_and_doubles_nothing(tmp_path: Path, slack_api: SlackAPI,
                                                         pd_api: PagerDutyAPI) -> None:
    """``sherlog serve`` (every role in one process) gets every alert through its webhooks; SIGKILLed midway."""
    url = f"sqlite:///{tmp_path / 'data' / 'sherlog.db'}"
    env = sherlog_env(tmp_path, {"SHERLOG__STORAGE__URL": url, **_vendor_env(pd_api)}, slack_api)
    server = SherlogProcess(env, tmp_path / "serve.log")
    stream = _stream(datetime.now(UTC))
    sender = Sender(server, stream)
    store: Store | None = None
    try:
        server.start()
        store = Store.open(url)
        started = time.monotonic()
        thread = threading.Thread(target=sender.run, daemon=True)
        thread.start()
        while len(sender.acknowledged) < len(stream) // 2 and thread.is_alive():
            time.sleep(0.02)
        time.sleep(random.Random(19).uniform(0.0, 0.5))
        at_kill = _counts(store)
        server.kill()
        server.start()
        thread.join(timeout=400)
        assert not thread.is_alive(), "alerts not all acknowledged in 400 s"
        counts = _wait_settled(store, len(range(0, N_INCIDENTS, PD_EVERY)))
    finally:
        sender.stop.set()
        server.stop()
    try:
        assert sorted(d.fingerprint for d in sender.acknowledged) == sorted(d.fingerprint for d in stream)
        assert _settled(counts, len(range(0, N_INCIDENTS, PD_EVERY))), counts
        _check(store, slack_api, pd_api, started=started, at_kill=at_kill, run="sqlite, 1 serve")
    finally:
        store.close()
