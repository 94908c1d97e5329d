"""One first-delivery cycle for every surface (Slack post, Teams card, incident e-mail).

A delivery row (``chat_posts``, unique per incident, surface and channel: its insert is the idempotency
key) is leased (``lease_chat_post``: pending, failed, or stuck ``posting`` past its lease), the surface's
``send`` runs, and the result is recorded: ``posted`` with the message's reference (Slack ``ts``, Teams
activity id, Message-ID) before the delivery counts as done, or ``failed`` with the reason for the retry
loop. A process killed between the send and the record leaves the row ``posting``; the next attempt gets
``prior`` = ``posting`` so a surface that can look its message up (Slack, by metadata) does so first.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.domain import utcnow
from bot.storage import Store
from bot.storage.chat_leases import lease_chat_post
from bot.storage.tables import DeliveryState

log = logging.getLogger(__name__)


class DeliveryOutcome(enum.StrEnum):
    POSTED = "posted"  # delivered now
    UPDATED = "updated"  # an existing message edited
    PENDING = "pending"  # failed; the row waits for the retry loop
    SKIPPED = "skipped"  # another process or task holds it, or nothing to do
    GIVEN_UP = "given_up"
    WAITING = "waiting"  # failed earlier; its back-off has not elapsed


@dataclass
class Sent:
    """What a surface's ``send`` returns: the message's reference and what to keep on the row."""

    ref: str | None
    data: dict[str, Any] | None = None  # None: the row's data is kept


async def deliver_first(store: Store, post_id: int, send: Callable[[DeliveryState], Awaitable[Sent]], *,
                        errors: tuple[type[BaseException], ...], prior: DeliveryState | str = DeliveryState.PENDING,
                        stale_after_s: float = 120.0, describe: Callable[[BaseException], str] | None = None,
                        what: str = "delivery") -> DeliveryOutcome:
    """Lease the row, send, record. ``send`` gets the row's state before this attempt."""
    if not await asyncio.to_thread(lease_chat_post, store, post_id=post_id, stale_after_s=stale_after_s):
        return DeliveryOutcome.SKIPPED
    try:
        sent = await send(DeliveryState(prior))
    except errors as e:
        reason = describe(e) if describe is not None else f"{e.__class__.__name__}: {e}"[:200]
        await asyncio.to_thread(store.update_chat_post, post_id=post_id, state=DeliveryState.FAILED,
                                data={"error": reason, "failed_at": utcnow().isoformat()})
        log.warning("%s failed, will retry", what, extra={"post_id": post_id, "error": reason})
        return DeliveryOutcome.PENDING
    await asyncio.to_thread(store.update_chat_post, post_id=post_id, state=DeliveryState.POSTED,
                            message_ref=sent.ref, data=sent.data)
    return DeliveryOutcome.POSTED
