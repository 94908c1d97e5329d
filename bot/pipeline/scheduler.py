"""The scheduler role: periodic jobs (early warnings, the weekly digest) run by exactly one process.

Every ``sherlog scheduler`` replica (and ``sherlog serve --all``) schedules the same jobs, but a job body
runs only in the holder of the ``scheduler`` database lease (``bot.storage.leases``). The holder renews it
every third of ``scheduler.lease_s``; when it dies, a standby takes the lease over after ``lease_s`` and
the jobs go on there. ``LeaseGate.gated(fn)`` wraps a job so that the others skip their turn.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from bot.pipeline.queue import runner_id
from bot.storage import Store, leases

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEDULER_LEASE = "scheduler"


class LeaseGate:
    def __init__(self, store: Store, *, name: str = SCHEDULER_LEASE, ttl_s: float = 30.0,
                 owner: str | None = None) -> None:
        self.store = store
        self.name = name
        self.ttl_s = ttl_s
        self.owner = owner or runner_id()
        self._held = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def held(self) -> bool:
        return self._held

    def renew(self) -> bool:
        """Take or renew the lease now; True while this process holds it."""
        try:
            with self.store.engine.begin() as conn:
                held = leases.acquire(conn, name=self.name, owner=self.owner, ttl_s=self.ttl_s)
        except Exception:  # noqa: BLE001 - database unreachable: stop running jobs until it is back
            log.warning("cannot renew the %s lease", self.name, exc_info=True)
            held = False
        if held != self._held:
            log.info("%s lease %s", self.name, "taken" if held else "lost", extra={"owner": self.owner})
        self._held = held
        return held

    def start(self) -> None:
        if self._thread is None:
            self.renew()
            self._thread = threading.Thread(target=self._loop, name=f"{self.name}-lease", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._held:
            try:
                with self.store.engine.begin() as conn:
                    leases.release(conn, name=self.name, owner=self.owner)
            except Exception:  # noqa: BLE001 - it expires anyway
                log.warning("cannot release the %s lease", self.name, exc_info=True)
            self._held = False

    def _loop(self) -> None:
        while not self._stop.wait(self.ttl_s / 3.0):
            self.renew()

    def gated(self, job: Callable[..., T], *, name: str = "job") -> Callable[..., T | None]:
        """``job`` run only while this process holds the lease (checked again right before it runs)."""

        def run(*args: Any, **kwargs: Any) -> T | None:
            if not self.renew():
                log.debug("%s skipped: another scheduler holds the lease", name)
                return None
            return job(*args, **kwargs)

        return run
