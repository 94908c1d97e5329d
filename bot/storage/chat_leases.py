"""Leases on delivery rows, with a fencing token: one holder at a time may (re)try to deliver a post.

``Store.claim_chat_post`` inserts an incident's delivery row once; every attempt to deliver it then goes
through ``lease_chat_post``: a compare-and-set ``UPDATE`` that takes a pending or failed row, or one stuck
``posting`` for ``stale_after_s`` (its holder died or lost track), and gives it the next ``lease_token``.

The token fences the holder. ``renew_chat_post`` (just before the message goes out) and
``record_chat_post`` (the outcome) change the row only while it still carries the holder's token and is
``posting``: a holder whose lease ran out while it was slow finds the token taken and must neither post nor
record. The lease also tells its holder the row's state before it (read in the same compare-and-set), and
whether any earlier attempt was made, so a surface that can look its message up does so before posting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from bot.domain import StorageError, utcnow
from bot.storage.store import Store
from bot.storage.tables import ChatPostRow, DeliveryState

POSTING = DeliveryState.POSTING
POSTED = DeliveryState.POSTED
PENDING = DeliveryState.PENDING
FAILED = DeliveryState.FAILED

_TABLE: Any = ChatPostRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PostLease:
    """A held lease on one delivery row."""

    post_id: int
    token: int
    prior: DeliveryState  # the row's state when this lease took it
    attempted: bool  # an earlier attempt was made: its message may already exist

    @property
    def first(self) -> bool:
        return not self.attempted


def lease_chat_post(store: Store, *, post_id: int, stale_after_s: float = 120.0,
                    now: datetime | None = None) -> PostLease | None:
    """Take the row (pending, failed, or ``posting`` untouched for ``stale_after_s``); None when not free."""
    moment = now or utcnow()
    stale = moment - timedelta(seconds=stale_after_s)
    free = or_(_TABLE.c.state.in_([PENDING.value, FAILED.value]),
               and_(_TABLE.c.state == POSTING.value, _TABLE.c.updated_at < stale))
    try:
        with store.engine.begin() as conn:
            row = conn.execute(select(_TABLE.c.state, _TABLE.c.lease_token)
                               .where(_TABLE.c.id == post_id, free)).first()
            if row is None:
                return None
            state, token = DeliveryState(row[0]), int(row[1] or 0)
            won = conn.execute(update(_TABLE)
                               .where(_TABLE.c.id == post_id, _TABLE.c.lease_token == token, free)
                               .values(state=POSTING.value, updated_at=moment, lease_token=token + 1)).rowcount
    except SQLAlchemyError as e:
        raise StorageError(f"database error: {e.__class__.__name__}") from e
    if won != 1:
        return None  # another process took it between the read and the compare-and-set
    return PostLease(post_id=post_id, token=token + 1, prior=state, attempted=token > 0 or state != PENDING)


def renew_chat_post(store: Store, lease: PostLease, *, now: datetime | None = None) -> bool:
    """Restart the lease's clock; False when the lease was lost (then the holder must not post)."""
    return _fenced(store, lease, updated_at=now or utcnow())


def record_chat_post(store: Store, lease: PostLease, *, state: DeliveryState, message_ref: str | None = None,
                     data: dict[str, Any] | None = None) -> bool:
    """The attempt's outcome, written only by the lease's holder; False when the lease was lost.

    ``posting`` records an attempt whose outcome is unknown (the message may still arrive): the row stays
    held until the lease runs out, from now."""
    values: dict[str, Any] = {"state": state.value, "updated_at": utcnow(), "attempts": _TABLE.c.attempts + 1}
    if message_ref is not None:
        values["message_ref"] = message_ref
    if data is not None:
        values["data"] = data
    return _fenced(store, lease, **values)


def _fenced(store: Store, lease: PostLease, **values: Any) -> bool:
    stmt = (update(_TABLE)
            .where(_TABLE.c.id == lease.post_id, _TABLE.c.lease_token == lease.token,
                   _TABLE.c.state == POSTING.value)
            .values(**values))
    try:
        with store.engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount == 1)
    except SQLAlchemyError as e:
        raise StorageError(f"database error: {e.__class__.__name__}") from e
