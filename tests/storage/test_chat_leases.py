"""Delivery leases with a fencing token: one holder at a time, and a holder that lost its lease can neither
renew nor record."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import utcnow
from bot.storage import Store
from bot.storage.chat_leases import lease_chat_post, record_chat_post, renew_chat_post
from bot.storage.tables import DeliveryState


def _row(store: Store) -> int:
    assert store.claim_chat_post(incident_id="inc-1", surface="slack", channel="C1")
    row = store.get_chat_post(incident_id="inc-1", surface="slack")
    assert row is not None and row.id is not None
    return row.id


def test_a_held_lease_is_not_taken_until_it_runs_out_and_the_old_holder_is_fenced(any_store: Store) -> None:
    store = any_store
    post_id = _row(store)
    first = lease_chat_post(store, post_id=post_id, stale_after_s=60)
    assert first is not None and first.first and first.prior == DeliveryState.PENDING
    assert lease_chat_post(store, post_id=post_id, stale_after_s=60) is None  # held
    assert renew_chat_post(store, first)
    later = utcnow() + timedelta(seconds=61)
    second = lease_chat_post(store, post_id=post_id, stale_after_s=60, now=later)  # the first ran out
    assert second is not None and second.token == first.token + 1
    assert second.attempted and second.prior == DeliveryState.POSTING  # the first may have posted: look it up
    assert not renew_chat_post(store, first)
    assert not record_chat_post(store, first, state=DeliveryState.POSTED, message_ref="C1:1")
    assert record_chat_post(store, second, state=DeliveryState.POSTED, message_ref="C1:2", data={"ts": "2"})
    row = store.get_chat_post(incident_id="inc-1", surface="slack")
    assert row is not None and row.state == "posted" and row.message_ref == "C1:2" and row.attempts == 1
    assert lease_chat_post(store, post_id=post_id, stale_after_s=0, now=later + timedelta(hours=1)) is None


def test_a_failed_or_in_doubt_attempt_is_leased_again_as_attempted(any_store: Store) -> None:
    store = any_store
    post_id = _row(store)
    first = lease_chat_post(store, post_id=post_id)
    assert first is not None
    assert record_chat_post(store, first, state=DeliveryState.FAILED, data={"error": "http 503"})
    retry = lease_chat_post(store, post_id=post_id)
    assert retry is not None and retry.attempted and retry.prior == DeliveryState.FAILED
    assert record_chat_post(store, retry, state=DeliveryState.POSTING, data={"error": "in doubt"})  # held on
    assert lease_chat_post(store, post_id=post_id, stale_after_s=60) is None
    assert lease_chat_post(store, post_id=post_id, stale_after_s=60, now=utcnow() + timedelta(seconds=61)) is not None
