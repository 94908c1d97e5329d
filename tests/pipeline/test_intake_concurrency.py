"""Several processes accepting overlapping alerts at once never open two incidents for one problem."""

from __future__ import annotations

import multiprocessing
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from bot.domain import Alert

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SERVICES = ["checkout", "search", "auth", "billing", "media"]


def _alerts() -> list[Alert]:
    out = []
    for s_i, svc in enumerate(SERVICES):
        for k in range(4):
            out.append(Alert(source="alertmanager", name=f"Alert{k}", service=svc,
                             labels={"alertname": f"Alert{k}", "service": svc},
                             starts_at=T0 + timedelta(hours=3 * s_i, minutes=k)))
    return out


def _worker(url: str, schema: str | None, seed: int, barrier: Any) -> None:
    from bot.pipeline.intake import IntakeService
    from bot.storage import Store

    store = Store.open(url, schema=schema, migrate=False)
    intake = IntakeService(store=store)
    alerts = _alerts()
    random.Random(seed).shuffle(alerts)
    barrier.wait()
    for a in alerts:
        intake.accept([a])
    store.close()


def test_four_processes_one_incident_per_problem(any_store: Any) -> None:
    url = any_store.engine.url.render_as_string(hide_password=False)
    schema = None
    if any_store.engine.dialect.name == "postgresql":
        with any_store.engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=_worker, args=(url, schema, seed, barrier)) for seed in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert all(p.exitcode == 0 for p in procs)
    incidents = any_store.list_incidents(limit=100)
    assert sorted(i.service for i in incidents) == sorted(SERVICES)
    assert any_store.count_alerts() == 20  # 4 copies of each alert, stored once
    for inc in incidents:
        assert any_store.count_alerts(incident_id=inc.id) == 4
