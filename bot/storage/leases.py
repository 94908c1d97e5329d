"""Named database leases: one holder at a time across every process and replica (the scheduler role).

``acquire`` takes a free or expired lease, or renews the caller's own, in one atomic upsert; a holder
that dies loses it after ``ttl_s``. ``release`` gives it up at shutdown so a standby takes over at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Column, DateTime, Table, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

from bot.domain import utcnow


class LeaseRow(SQLModel, table=True):
    __tablename__ = "leases"

    name: str = Field(primary_key=True, max_length=100)
    owner: str = Field(max_length=200)
    until: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    acquired_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


LEASES: Table = cast(Table, getattr(LeaseRow, "__table__"))  # noqa: B009


def acquire(conn: Connection, *, name: str, owner: str, ttl_s: float, now: datetime | None = None) -> bool:
    """Hold ``name`` for ``ttl_s`` more seconds if it is free, expired or already ours; True when held."""
    moment = now or utcnow()
    until = moment + timedelta(seconds=ttl_s)
    ins: Any = postgresql.insert(LEASES) if conn.dialect.name == "postgresql" else sqlite.insert(LEASES)
    stmt = ins.values(name=name, owner=owner, until=until, acquired_at=moment).on_conflict_do_update(
        index_elements=[LEASES.c.name],
        set_={"owner": owner, "until": until,
              "acquired_at": _keep_if_mine(owner, moment)},
        where=or_(LEASES.c.until < moment, LEASES.c.owner == owner),
    )
    conn.execute(stmt)
    holder = conn.execute(select(LEASES.c.owner).where(LEASES.c.name == name)).scalar()
    return bool(holder == owner)


def _keep_if_mine(owner: str, moment: datetime) -> Any:
    from sqlalchemy import case, literal

    return case((LEASES.c.owner == owner, LEASES.c.acquired_at), else_=literal(moment))


def release(conn: Connection, *, name: str, owner: str) -> None:
    conn.execute(LEASES.delete().where(LEASES.c.name == name, LEASES.c.owner == owner))


def holder(conn: Connection, *, name: str) -> tuple[str, datetime] | None:
    row = conn.execute(select(LEASES.c.owner, LEASES.c.until).where(LEASES.c.name == name)).first()
    return (row[0], row[1]) if row else None
