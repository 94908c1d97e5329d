"""The transactional outbox: events written in the transaction of the state change they report.

``write`` adds rows inside the caller's session (no commit); a relay in any process claims rows with a
lease (``claim``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, one atomic ``UPDATE`` on SQLite), hands them to
its subscribers and marks them done (``finish``). A relay that dies mid-delivery leaves a leased row that
another relay claims after the lease (one that stops gracefully hands its undelivered rows back at once:
``release``); a row that keeps failing is given up after ``max_attempts`` with its
last error. PostgreSQL relays are woken by ``NOTIFY sherlog_outbox`` at commit; SQLite relays poll.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import JSON, Column, DateTime, Table, and_, func, insert, or_, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from bot.domain import utcnow
from bot.domain.events import EventType, OutboxEvent

CHANNEL = "sherlog_outbox"


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # given up after max_attempts


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    event: str = Field(max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=OutboxState.PENDING.value, max_length=20, index=True)
    attempts: int = 0
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    available_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    lease_owner: str | None = Field(default=None, max_length=200)
    done_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    last_error: str | None = Field(default=None, max_length=1000)


OUTBOX: Table = cast(Table, getattr(OutboxRow, "__table__"))  # noqa: B009 - SQLModel hides it from typing


@dataclass(frozen=True)
class Claimed:
    id: int
    event: EventType
    payload: dict[str, Any]
    attempts: int
    owner: str


def write(conn: Connection | Session, events: Sequence[OutboxEvent], *, now: datetime | None = None) -> int:
    """Add events inside the caller's transaction; on PostgreSQL a NOTIFY goes out with the commit."""
    if not events:
        return 0
    moment = now or utcnow()
    conn.execute(insert(OUTBOX), [{"event": e.type.value, "payload": e.payload.model_dump(mode="json"),
                                   "state": OutboxState.PENDING.value, "attempts": 0, "created_at": moment,
                                   "available_at": moment} for e in events])
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    if bind.dialect.name == "postgresql":
        conn.execute(text(f"NOTIFY {CHANNEL}"))
    return len(events)


def claim(conn: Connection, *, owner: str, limit: int, lease_s: float, now: datetime | None = None) -> list[Claimed]:
    """Lease up to ``limit`` due rows, oldest first (``available_at`` doubles as the lease's end)."""
    moment = now or utcnow()
    due = and_(OUTBOX.c.state == OutboxState.PENDING.value, OUTBOX.c.available_at <= moment)
    pick = select(OUTBOX.c.id).where(due).order_by(OUTBOX.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    stmt = (update(OUTBOX).where(OUTBOX.c.id.in_(pick.scalar_subquery()), due)
            .values(lease_owner=owner, available_at=moment + timedelta(seconds=lease_s),
                    attempts=OUTBOX.c.attempts + 1)
            .returning(OUTBOX.c.id, OUTBOX.c.event, OUTBOX.c.payload, OUTBOX.c.attempts))
    rows = sorted(conn.execute(stmt).all(), key=lambda r: r[0])
    return [Claimed(id=r[0], event=EventType(r[1]), payload=dict(r[2]), attempts=r[3], owner=owner) for r in rows]


def finish(conn: Connection, row: Claimed, *, error: str | None = None, max_attempts: int = 5,
           retry_after_s: float = 5.0) -> OutboxState:
    """Done, or (with ``error``) retried after ``retry_after_s`` until ``max_attempts``."""
    if error is None:
        state, when = OutboxState.DONE, utcnow()
    else:
        state = OutboxState.FAILED if row.attempts >= max_attempts else OutboxState.PENDING
        when = utcnow() + timedelta(seconds=retry_after_s)
    values: dict[str, Any] = {"state": state.value, "lease_owner": None, "last_error": error[:1000] if error else None}
    if state == OutboxState.DONE:
        values["done_at"] = when
    else:
        values["available_at"] = when
    conn.execute(update(OUTBOX).where(OUTBOX.c.id == row.id, OUTBOX.c.lease_owner == row.owner).values(**values))
    return state


def release(conn: Connection, *, owner: str, ids: Sequence[int], now: datetime | None = None) -> int:
    """Hand back rows ``owner`` claimed and did not deliver (a graceful stop): due at once, the interrupted
    attempt not counted. A row that is no longer ``owner``'s (finished, or taken over) is left alone."""
    if not ids:
        return 0
    stmt = (update(OUTBOX)
            .where(OUTBOX.c.id.in_(list(ids)), OUTBOX.c.lease_owner == owner,
                   OUTBOX.c.state == OutboxState.PENDING.value)
            .values(lease_owner=None, available_at=now or utcnow(), attempts=OUTBOX.c.attempts - 1))
    result: Any = conn.execute(stmt)
    return int(result.rowcount or 0)


def counts(conn: Connection) -> dict[str, int]:
    out = {s.value: 0 for s in OutboxState}
    out.update({str(s): int(n) for s, n in conn.execute(select(OUTBOX.c.state, func.count()).group_by(OUTBOX.c.state))})
    return out


def purge_done(conn: Connection, *, older_than: timedelta) -> int:
    cutoff = utcnow() - older_than
    result: Any = conn.execute(OUTBOX.delete().where(OUTBOX.c.state == OutboxState.DONE.value,
                                                    or_(OUTBOX.c.done_at.is_(None), OUTBOX.c.done_at < cutoff)))
    return int(result.rowcount or 0)
