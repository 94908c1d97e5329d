"""RabbitMQ for real: 10,000 alerts published, the worker killed midway and restarted as two workers;
every alert ends up in exactly one incident, nothing is lost, poison messages land in the DLQ."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from bot.domain import ConnectorError
from bot.storage import Store
from bot.storage.tables import AlertRow
from connectors.messages import REASON_HEADER, SOURCE_HEADER
from connectors.rabbitmq import RabbitMQBroker

ROOT = Path(__file__).resolve().parents[2]
SERVICES = 100
PER_SERVICE = 100  # 10,000 alerts
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]  # bounded waits: 180 s + 600 s + stops


PER_MESSAGE = 5  # Alertmanager groups: 2,000 messages of 5 alerts


def alert_message(m: int) -> bytes:
    """Message ``m``: one Alertmanager v4 group notification of ``PER_MESSAGE`` alerts of one service."""
    alerts = []
    for i in range(m * PER_MESSAGE, (m + 1) * PER_MESSAGE):
        svc, k = divmod(i, PER_SERVICE)
        alerts.append({"status": "firing", "fingerprint": f"{i:016x}",
                       "labels": {"alertname": f"Symptom{k % 7}", "service": f"svc-{svc:03d}",
                                  "pod": f"svc-{svc:03d}-{k}", "severity": "critical"},
                       "annotations": {"summary": f"symptom {k} on svc-{svc:03d}"},
                       "startsAt": (T0 + timedelta(seconds=k * 5)).isoformat(), "endsAt": "0001-01-01T00:00:00Z"})
    return json.dumps({"version": "4", "groupKey": f"{{}}:{{service=\"svc-{m}\"}}", "status": "firing",
                       "receiver": "sherlog", "alerts": alerts}).encode()


async def publish_all(broker: RabbitMQBroker) -> None:
    messages = SERVICES * PER_SERVICE // PER_MESSAGE
    for start in range(0, messages, 250):
        await asyncio.gather(*(broker.publish(alert_message(m), headers={SOURCE_HEADER: "alertmanager"})
                               for m in range(start, min(messages, start + 250))))
    await broker.publish(b"this is not json")
    await broker.publish(json.dumps({"version": "4", "groupKey": "k", "alerts": [{"status": "exploding"}]}).encode(),
                         headers={SOURCE_HEADER: "alertmanager"})
    await broker.publish(json.dumps({"x": 1}).encode(), headers={SOURCE_HEADER: "nagios-classic"})


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "bot.cli.main", "worker", "--no-analyze", "--batch-size", "200"],
                            cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


async def depth(url: str, queue: str) -> int:
    """Ready messages in ``queue``, read on a fresh connection each time (a long-idle publishing
    connection must not decide whether the test waits); an unanswered probe counts as 'not drained'."""
    probe = RabbitMQBroker(url=url, queue=queue)
    try:
        return await asyncio.wait_for(probe.queue_depth(), timeout=15)
    except (TimeoutError, ConnectorError):
        return 1
    finally:
        await asyncio.wait_for(probe.close(), timeout=15)


def stored(store: Store) -> int:
    return store.count_alerts()


async def test_ten_thousand_alerts_survive_a_killed_worker(tmp_path: Path, rabbitmq_url: str) -> None:
    queue = f"sherlog-test-{uuid.uuid4().hex[:10]}"
    db = tmp_path / "sherlog.db"
    store = Store.open(f"sqlite:///{db}")
    env = {**os.environ, "SHERLOG__DATA_DIR": str(tmp_path / "data"), "SHERLOG__STORAGE__URL": f"sqlite:///{db}",
           "SHERLOG__RABBITMQ__URL": rabbitmq_url, "SHERLOG__RABBITMQ__ALERTS_QUEUE": queue,
           "SHERLOG__RABBITMQ__PREFETCH": "400", "SHERLOG__RETRIEVAL__BACKEND": "memory", "HF_HUB_OFFLINE": "1"}
    env.pop("SHERLOG_CONFIG", None)
    broker = RabbitMQBroker(url=rabbitmq_url, queue=queue)
    workers: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "workers.log"
    try:
        t0 = time.monotonic()
        await publish_all(broker)
        published_s = time.monotonic() - t0
        first = start_worker(env, log)
        workers.append(first)
        deadline = time.monotonic() + 180
        while stored(store) < 3000:
            assert first.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the first worker stored < 3000 alerts in 180 s"
            await asyncio.sleep(0.1)
        first.send_signal(signal.SIGKILL)  # mid-batch, with unacked messages in flight
        first.wait(timeout=10)
        killed_at = stored(store)
        assert killed_at < SERVICES * PER_SERVICE
        workers += [start_worker(env, log), start_worker(env, log)]  # restart as two workers
        deadline = time.monotonic() + 600  # generous: under heavy load SQLite-lock retries slow the drain
        while stored(store) < SERVICES * PER_SERVICE or await depth(rabbitmq_url, queue) > 0:
            assert all(w.poll() is None for w in workers[1:]), log.read_text()[-3000:]
            assert time.monotonic() < deadline, (f"{stored(store)} alerts stored, queue not drained after the restart:\n"
                                                 + log.read_text()[-2000:])
            await asyncio.sleep(0.3)
        await asyncio.sleep(1.0)  # let any redelivered in-flight message settle
        consumed_s = time.monotonic() - t0 - published_s
    finally:
        for w in workers:
            if w.poll() is None:
                w.terminate()
        for w in workers:
            try:
                w.wait(timeout=15)
            except subprocess.TimeoutExpired:
                w.kill()
        await broker.close()

    # every alert exactly once, each in one incident; one incident per service
    with Session(store.engine) as s:
        rows = s.exec(select(func.count(), func.count(func.distinct(AlertRow.fingerprint)))).one()
        per_incident = s.exec(select(AlertRow.incident_id, func.count()).group_by(AlertRow.incident_id)).all()
    assert tuple(rows) == (SERVICES * PER_SERVICE, SERVICES * PER_SERVICE)
    assert len(per_incident) == SERVICES and all(n == PER_SERVICE for _, n in per_incident)
    assert store.count_incidents() == SERVICES
    assert {i.service for i in store.list_incidents(limit=500)} == {f"svc-{k:03d}" for k in range(SERVICES)}

    reasons = await _drain_dlq(broker, queue)
    await broker.close()
    await asyncio.sleep(0.2)
    print(f"published in {published_s:.1f} s, consumed (with a kill and restart) in {consumed_s:.1f} s")
    assert len(reasons) == 3 and all(r.startswith("malformed:") for r in reasons)
    assert any("not JSON" in r for r in reasons) and any("nagios-classic" in r for r in reasons)
    assert any("exploding" in r for r in reasons)
    store.close()


async def _drain_dlq(broker: RabbitMQBroker, queue: str) -> list[str]:
    reasons: list[str] = []
    while (message := await broker.get(broker.dlq_name, timeout=2)) is not None:
        value = (message.headers or {}).get(REASON_HEADER)
        reasons.append(value.decode() if isinstance(value, bytes) else str(value))
        await message.ack()
    assert broker._channel is not None
    for name in (queue, broker.dlq_name):
        await broker._channel.queue_delete(name)
    return reasons
