"""Atomic leases on chat posts: one process at a time may (re)try to deliver a pending post.

``Store.claim_chat_post`` makes one process the owner of an incident's first post; when that post
fails (chat outage), the row stays ``failed`` and any replica's retry loop may take it over — but only
through ``lease_chat_post``, a compare-and-set ``UPDATE`` so two replicas never post the same message.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import SQLAlchemyError

from bot.domain import StorageError, utcnow
from bot.storage.store import Store
from bot.storage.tables import ChatPostRow, DeliveryState

POSTING = DeliveryState.POSTING
POSTED = DeliveryState.POSTED
PENDING = DeliveryState.PENDING
FAILED = DeliveryState.FAILED


def lease_chat_post(store: Store, *, post_id: int, stale_after_s: float = 120.0,
                    now: datetime | None = None) -> bool:
    """Mark the post ``posting`` if it is pending, failed, or stuck posting for ``stale_after_s``; True if won."""
    moment = now or utcnow()
    stale = moment - timedelta(seconds=stale_after_s)
    table = ChatPostRow.__table__  # type: ignore[attr-defined]
    stmt = (
        update(table)
        .where(
            table.c.id == post_id,
            or_(table.c.state.in_([PENDING.value, FAILED.value]),
                and_(table.c.state == POSTING.value, table.c.updated_at < stale)),
        )
        .values(state=POSTING.value, updated_at=moment)
    )
    try:
        with store.engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount == 1)
    except SQLAlchemyError as e:
        raise StorageError(f"database error: {e.__class__.__name__}") from e
