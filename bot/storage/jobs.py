"""The durable analysis queue: one row per incident waiting for an analysis.

A row is written in the SAME transaction as the intake that creates or changes the incident (``enqueue``
with the intake's session), claimed with a lease (``claim``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, one
atomic ``UPDATE ... WHERE lease expired`` on SQLite, whose writers are serialised), and deleted in the same
transaction as the analysis is saved (``complete``). A process that dies mid-analysis leaves a row whose
lease expires; any runner claims it again (a runner that stops gracefully hands its rows back at once:
``release``). A row that keeps failing stops after ``max_attempts`` as
``dead`` with its last error and never blocks the others; new evidence for its incident revives it.

Coalescing: ``version`` grows with every enqueue. A completion deletes the row only if no enqueue came in
since the claim; otherwise the row is released so the newer evidence gets its own analysis (one at a time
per incident, however many alerts arrived meanwhile).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Column, DateTime, Table, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from bot.domain import utcnow

log = logging.getLogger(__name__)


class JobState(enum.StrEnum):
    PENDING = "pending"
    DEAD = "dead"  # failed max_attempts times; revived by the next enqueue


class AnalysisJobRow(SQLModel, table=True):
    __tablename__ = "analysis_jobs"

    incident_id: str = Field(primary_key=True, max_length=64)
    state: str = Field(default=JobState.PENDING.value, max_length=20, index=True)
    version: int = 1
    attempts: int = 0
    requested_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    last_error: str | None = Field(default=None, max_length=1000)


JOBS: Table = cast(Table, getattr(AnalysisJobRow, "__table__"))  # noqa: B009 - SQLModel hides it from typing


class LeaseLost(Exception):
    """The row was claimed by another runner (this one's lease expired); its result is dropped."""


@dataclass(frozen=True)
class Job:
    incident_id: str
    version: int
    attempts: int
    owner: str


def _insert(dialect: str) -> Any:
    return postgresql.insert(JOBS) if dialect == "postgresql" else sqlite.insert(JOBS)


def enqueue(conn: Connection | Session, incident_ids: Iterable[str], *, now: datetime | None = None) -> int:
    """Queue an analysis of each incident inside the caller's transaction (no commit here).

    An incident already waiting gets a newer ``version`` (one row, coalesced); a dead one is revived with
    its attempts reset (new evidence, a new chance)."""
    ids = list(dict.fromkeys(incident_ids))
    if not ids:
        return 0
    moment = now or utcnow()
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    stmt = _insert(bind.dialect.name).values(
        [{"incident_id": i, "state": JobState.PENDING.value, "version": 1, "attempts": 0, "requested_at": moment}
         for i in ids])
    dead = JOBS.c.state == JobState.DEAD.value
    stmt = stmt.on_conflict_do_update(
        index_elements=[JOBS.c.incident_id],
        set_={"version": JOBS.c.version + 1, "state": JobState.PENDING.value,
              "attempts": _case(dead, 0, JOBS.c.attempts),
              "lease_until": _case(dead, None, JOBS.c.lease_until),
              "lease_owner": _case(dead, None, JOBS.c.lease_owner)},
    )
    conn.execute(stmt)
    return len(ids)


def _case(cond: Any, then: Any, otherwise: Any) -> Any:
    from sqlalchemy import case, literal, null

    value = null() if then is None else literal(then)
    return case((cond, value), else_=otherwise)


def claim(conn: Connection, *, owner: str, limit: int, lease_s: float, now: datetime | None = None,
          incident_ids: list[str] | None = None) -> list[Job]:
    """Lease up to ``limit`` pending rows whose lease is free or expired (oldest request first), only
    among ``incident_ids`` when given."""
    if limit <= 0 or incident_ids == []:
        return []
    moment = now or utcnow()
    free = and_(JOBS.c.state == JobState.PENDING.value,
                or_(JOBS.c.lease_until.is_(None), JOBS.c.lease_until < moment))
    if incident_ids is not None:
        free = and_(free, JOBS.c.incident_id.in_(incident_ids))
    pick = select(JOBS.c.incident_id).where(free).order_by(JOBS.c.requested_at).limit(limit)
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    stmt = (update(JOBS).where(JOBS.c.incident_id.in_(pick.scalar_subquery()), free)
            .values(lease_owner=owner, lease_until=moment + timedelta(seconds=lease_s), attempts=JOBS.c.attempts + 1)
            .returning(JOBS.c.incident_id, JOBS.c.version, JOBS.c.attempts))
    return [Job(incident_id=r[0], version=r[1], attempts=r[2], owner=owner) for r in conn.execute(stmt).all()]


def renew(conn: Connection, *, owner: str, incident_ids: list[str], lease_s: float) -> int:
    """Extend this owner's leases (a long analysis is not taken over while its runner lives)."""
    if not incident_ids:
        return 0
    stmt = (update(JOBS).where(JOBS.c.incident_id.in_(incident_ids), JOBS.c.lease_owner == owner)
            .values(lease_until=utcnow() + timedelta(seconds=lease_s)))
    return int(conn.execute(stmt).rowcount or 0)


def complete(conn: Connection | Session, job: Job) -> bool:
    """Inside the transaction that saves the analysis: delete the row, or release it when a newer enqueue
    came in since the claim. False when the lease was lost (another runner owns the row now)."""
    owned = and_(JOBS.c.incident_id == job.incident_id, JOBS.c.lease_owner == job.owner)
    done: Any = conn.execute(delete(JOBS).where(owned, JOBS.c.version == job.version))
    if done.rowcount:
        return True
    released: Any = conn.execute(update(JOBS).where(owned).values(lease_owner=None, lease_until=None, attempts=0))
    return bool(released.rowcount)


def release(conn: Connection, *, owner: str, incident_ids: Iterable[str]) -> int:
    """Hand back rows ``owner`` claimed and did not finish (a graceful stop): claimable at once, the
    interrupted attempt not counted. A row that is no longer ``owner``'s is left alone; an analysis of a
    released row that still ends later is not saved (``complete`` finds the lease gone)."""
    ids = list(incident_ids)
    if not ids:
        return 0
    stmt = (update(JOBS)
            .where(JOBS.c.incident_id.in_(ids), JOBS.c.lease_owner == owner, JOBS.c.state == JobState.PENDING.value)
            .values(lease_owner=None, lease_until=None, attempts=JOBS.c.attempts - 1))
    return int(conn.execute(stmt).rowcount or 0)


def fail(conn: Connection, job: Job, *, error: str, max_attempts: int, retry_after_s: float) -> JobState:
    """Record a failed attempt: retried after ``retry_after_s``, or ``dead`` after ``max_attempts``."""
    state = JobState.DEAD if job.attempts >= max_attempts else JobState.PENDING
    conn.execute(update(JOBS).where(JOBS.c.incident_id == job.incident_id, JOBS.c.lease_owner == job.owner)
                 .values(state=state.value, last_error=error[:1000], lease_owner=None,
                         lease_until=utcnow() + timedelta(seconds=retry_after_s)))
    return state


def backlog(conn: Connection) -> dict[str, int]:
    """Rows per state (``pending`` includes leased rows)."""
    rows = conn.execute(select(JOBS.c.state, func.count()).group_by(JOBS.c.state)).all()
    out = {s.value: 0 for s in JobState}
    out.update({str(state): int(n) for state, n in rows})
    return out


def get(conn: Connection, incident_id: str) -> AnalysisJobRow | None:
    row = conn.execute(select(JOBS).where(JOBS.c.incident_id == incident_id)).mappings().first()
    return AnalysisJobRow.model_validate(dict(row)) if row else None
