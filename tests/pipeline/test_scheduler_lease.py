"""The scheduler role's database lease: with three replicas the early-warning job runs once per interval,
and a standby takes over when the holder dies (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from bot.domain import utcnow
from bot.pipeline.scheduler import LeaseGate
from bot.storage import Store, leases

pytestmark = pytest.mark.integration


def test_three_schedulers_run_the_job_once_per_interval(any_store: Store) -> None:
    runs: list[str] = []
    lock = threading.Lock()
    gates = [LeaseGate(any_store, ttl_s=5, owner=f"replica-{i}") for i in range(3)]

    def job_of(owner: str):  # type: ignore[no-untyped-def]
        def job() -> None:
            with lock:
                runs.append(owner)
        return job

    jobs = [gate.gated(job_of(gate.owner), name="early-warning") for gate in gates]
    intervals = 6
    for _ in range(intervals):  # each replica's scheduler fires at the same tick, in parallel
        threads = [threading.Thread(target=job) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(0.05)
    assert len(runs) == intervals
    assert len(set(runs)) == 1  # the holder keeps it while alive


def test_a_standby_takes_over_after_the_holders_lease(any_store: Store) -> None:
    with any_store.engine.begin() as conn:
        assert leases.acquire(conn, name="scheduler", owner="a", ttl_s=30)
        assert not leases.acquire(conn, name="scheduler", owner="b", ttl_s=30)
        assert leases.acquire(conn, name="scheduler", owner="a", ttl_s=30)  # renewal
        later = utcnow() + timedelta(seconds=31)  # a was killed: nobody renewed
        assert leases.acquire(conn, name="scheduler", owner="b", ttl_s=30, now=later)
        assert leases.holder(conn, name="scheduler")[0] == "b"  # type: ignore[index]


def test_a_stopped_scheduler_hands_over_at_once(any_store: Store) -> None:
    first, second = LeaseGate(any_store, ttl_s=60, owner="first"), LeaseGate(any_store, ttl_s=60, owner="second")
    first.start()
    assert first.held and not second.renew()
    first.stop()
    assert second.renew()
