"""One first-delivery cycle for every surface (Slack post, Teams card, incident e-mail).

A delivery row (``chat_posts``, unique per incident, surface and channel: its insert is the idempotency
key) is leased with a fencing token (``bot.storage.chat_leases``: pending, failed, or stuck ``posting``
past its lease), the surface's ``send`` runs, and the result is recorded by the lease's holder only:
``posted`` with the message's reference (Slack ``ts``, Teams activity id, Message-ID), or ``failed`` with
the reason for the retry loop. ``send`` gets the lease: ``lease.attempted`` says an earlier attempt may
have delivered already (a process killed between the send and the record, a timeout), so a surface that can
look its message up (Slack, by metadata) does so first; ``renew`` just before the message goes out fences a
holder whose lease ran out while it was slow (it raises ``LeaseLost`` and nothing is sent or recorded).

A send whose outcome is unknown (the request went out, no answer came: a timeout, a dropped connection)
raises ``DeliveryInDoubt``: the row stays ``posting`` and held until its lease runs out, so the message,
if it is still on its way, has landed before anyone looks for it and sends again.
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
from bot.storage.chat_leases import PostLease, lease_chat_post, record_chat_post, renew_chat_post
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


class LeaseLost(Exception):
    """The lease ran out and another holder took the row: this attempt must not send or record."""


class DeliveryInDoubt(Exception):
    """The message went out and no answer came: it may or may not have been delivered."""


@dataclass
class Attempt:
    """What ``send`` gets: the lease, and ``renew`` to call just before the message goes out."""

    lease: PostLease
    store: Store

    @property
    def attempted(self) -> bool:
        return self.lease.attempted

    @property
    def prior(self) -> DeliveryState:
        return self.lease.prior

    async def renew(self) -> None:
        """Restart the lease's clock; raises ``LeaseLost`` when another holder has taken the row."""
        if not await asyncio.to_thread(renew_chat_post, self.store, self.lease):
            raise LeaseLost(f"lease {self.lease.token} of delivery {self.lease.post_id} was lost")


async def deliver_first(store: Store, post_id: int, send: Callable[[Attempt], Awaitable[Sent]], *,
                        errors: tuple[type[BaseException], ...], stale_after_s: float = 120.0,
                        describe: Callable[[BaseException], str] | None = None,
                        what: str = "delivery") -> DeliveryOutcome:
    """Lease the row, send, record (each write fenced by the lease's token)."""
    lease = await asyncio.to_thread(lease_chat_post, store, post_id=post_id, stale_after_s=stale_after_s)
    if lease is None:
        return DeliveryOutcome.SKIPPED
    try:
        sent = await send(Attempt(lease=lease, store=store))
    except LeaseLost:
        log.warning("%s lease lost before sending; the new holder delivers it", what, extra={"post_id": post_id})
        return DeliveryOutcome.SKIPPED
    except DeliveryInDoubt as e:
        reason = f"in doubt: {e}"[:200]
        await _record(store, lease, what, state=DeliveryState.POSTING,
                      data={"error": reason, "failed_at": utcnow().isoformat()})
        log.warning("%s outcome unknown; held until its lease runs out, then looked up", what,
                    extra={"post_id": post_id, "error": reason})
        return DeliveryOutcome.PENDING
    except errors as e:
        reason = describe(e) if describe is not None else f"{e.__class__.__name__}: {e}"[:200]
        await _record(store, lease, what, state=DeliveryState.FAILED,
                      data={"error": reason, "failed_at": utcnow().isoformat()})
        log.warning("%s failed, will retry", what, extra={"post_id": post_id, "error": reason})
        return DeliveryOutcome.PENDING
    if not await _record(store, lease, what, state=DeliveryState.POSTED, message_ref=sent.ref, data=sent.data):
        return DeliveryOutcome.SKIPPED
    return DeliveryOutcome.POSTED


async def _record(store: Store, lease: PostLease, what: str, *, state: DeliveryState, message_ref: str | None = None,
                  data: dict[str, Any] | None = None) -> bool:
    if await asyncio.to_thread(record_chat_post, store, lease, state=state, message_ref=message_ref, data=data):
        return True
    # the lease ran out while this attempt ran: the next holder looks the message up before sending
    log.warning("%s not recorded: its lease was lost", what, extra={"post_id": lease.post_id, "state": state.value})
    return False
