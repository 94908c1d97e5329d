"""Auto-posts against the Slack Web API stand-in: exactly once, edits, thread replies, outages, routing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.domain import Severity
from bot.pipeline import Pipeline
from bot.storage import Store
from bot.surfaces.slack.client import build_client
from bot.surfaces.slack.poster import SlackPoster, route_channel
from tests.fakes.slack_api import SlackAPI
from tests.render.factories import analysis, hypothesis, incident


def _poster(settings, store: Store) -> SlackPoster:  # type: ignore[no-untyped-def]
    pipeline = Pipeline(settings=settings, store=store)
    return SlackPoster(settings=settings.slack, pipeline=pipeline, client=build_client(settings.slack),
                       store=store)


def _saved(store: Store, **kw: object):  # type: ignore[no-untyped-def]
    inc = store.save_incident(incident=incident(**kw))  # type: ignore[arg-type]
    ana = analysis(inc)
    store.save_analysis(analysis=ana)
    return inc, ana


async def test_first_analysis_posts_once_then_edits_and_says_a_new_top_cause_in_the_thread(
        slack_settings, store: Store, slack_api: SlackAPI) -> None:  # type: ignore[no-untyped-def]
    poster = _poster(slack_settings, store)
    inc, ana = _saved(store)
    assert await poster.deliver(inc, ana) == "posted"
    [post] = slack_api.calls_to("chat.postMessage")
    assert post.token == "xoxb-test-token"
    assert post.body["channel"] == "C0INCIDENTS"
    assert post.body["text"].endswith("likely db_connection_exhaustion in orders-db (72%)")
    assert post.body["blocks"][0] == {"type": "header", "text": {
        "type": "plain_text", "text": "🔴 Checkout p99 latency above 2s", "emoji": True}}
    row = store.get_chat_post(incident_id=inc.id, surface="slack")
    assert row is not None and row.state == "posted" and row.message_ref == f"C0INCIDENTS:{row.data['ts']}"

    # same analysis again (a re-run with nothing new): edit, no new post, no thread noise
    assert await poster.deliver(inc, ana) == "updated"
    assert slack_api.methods() == ["chat.postMessage", "chat.update"]

    # a new analysis with another top cause: edit + one thread reply
    second = analysis(inc, hypotheses=[hypothesis(1, "checkout", "bad_deploy", 0.81),
                                       hypothesis(2, "orders-db", "db_connection_exhaustion", 0.1)])
    # a restart: a brand-new poster on the same database must edit, never post again
    restarted = _poster(slack_settings, Store.open(str(store.engine.url)))
    assert await restarted.deliver(inc, second) == "updated"
    assert slack_api.methods() == ["chat.postMessage", "chat.update", "chat.update", "chat.postMessage"]
    reply = slack_api.calls_to("chat.postMessage")[1].body
    row = store.get_chat_post(incident_id=inc.id, surface="slack")
    assert row is not None and reply["thread_ts"] == row.data["ts"]
    assert reply["text"] == "🔄 Updated analysis: now most likely *bad_deploy* in `checkout` (81%)."
    edited = slack_api.message("C0INCIDENTS", row.data["ts"])
    assert edited is not None
    hyp = next(b for b in edited["blocks"] if b.get("block_id") == "hyp_1")
    assert hyp["text"]["text"].startswith("*1. bad_deploy in checkout*")


async def test_two_replicas_delivering_at_once_post_exactly_one_message(
        slack_settings, tmp_path: Path, slack_api: SlackAPI) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    store_a, store_b = Store.open(url), Store.open(url)
    inc, ana = _saved(store_a)
    a, b = _poster(slack_settings, store_a), _poster(slack_settings, store_b)
    outcomes = await asyncio.gather(a.deliver(inc, ana), b.deliver(inc, ana), a.deliver(inc, ana))
    assert outcomes.count("posted") == 1
    assert len(slack_api.calls_to("chat.postMessage")) == 1


async def test_rate_limit_is_retried_after_retry_after(slack_settings, store: Store,
                                                       slack_api: SlackAPI) -> None:  # type: ignore[no-untyped-def]
    poster = _poster(slack_settings, store)
    inc, ana = _saved(store)
    slack_api.fail_next("chat.postMessage", status=429, retry_after=1)
    assert await poster.deliver(inc, ana) == "posted"
    first, second = slack_api.calls_to("chat.postMessage")
    assert second.at - first.at >= 0.9  # Retry-After honoured


async def test_an_outage_keeps_the_post_pending_and_it_is_delivered_later_once(
        slack_settings, store: Store, slack_api: SlackAPI) -> None:  # type: ignore[no-untyped-def]
    slack_settings.slack.retry_backoff_s = 0.0
    poster = _poster(slack_settings, store)
    inc, ana = _saved(store)
    slack_api.fail_next("chat.postMessage", status=503, times=3)  # 1 call + 2 retries, all down
    assert await poster.deliver(inc, ana) == "pending"
    assert len(slack_api.calls_to("chat.postMessage")) == 3
    row = store.get_chat_post(incident_id=inc.id, surface="slack")
    assert row is not None and row.state == "failed" and row.data["error"] == "http 503"
    assert await poster.retry_pending() == {"posted": 1}
    assert await poster.retry_pending() == {}
    assert len(slack_api.calls_to("chat.postMessage")) == 4
    assert store.get_chat_post(incident_id=inc.id, surface="slack").state == "posted"  # type: ignore[union-attr]


async def test_failed_post_waits_for_its_backoff_and_permanent_errors_are_given_up(
        slack_settings, store: Store, slack_api: SlackAPI) -> None:  # type: ignore[no-untyped-def]
    slack_settings.slack.retry_backoff_s = 300.0
    slack_settings.slack.max_retries = 0
    poster = _poster(slack_settings, store)
    inc, ana = _saved(store)
    slack_api.fail_next("chat.postMessage", error="channel_not_found")
    assert await poster.deliver(inc, ana) == "pending"
    assert await poster.retry_pending() == {"given_up": 1}
    other, other_ana = _saved(store, title="Other")
    slack_api.fail_next("chat.postMessage", status=500)
    assert await poster.deliver(other, other_ana) == "pending"
    assert (await poster.retry_pending())["waiting"] == 1


async def test_resolve_edits_the_message_and_replies_in_thread(slack_settings, store: Store,
                                                               slack_api: SlackAPI) -> None:  # type: ignore[no-untyped-def]
    poster = _poster(slack_settings, store)
    inc, ana = _saved(store)
    await poster.deliver(inc, ana)
    resolved = poster.pipeline.resolve(incident_id=inc.id, user="U0BOB", cause_service="orders-db",
                                       cause_kind="db_connection_exhaustion", resolution="Raised the pool.")
    assert await poster.on_lifecycle(resolved, user="U0BOB") == "updated"
    assert await poster.on_lifecycle(resolved, user="U0BOB") == "skipped"  # nothing changed since
    update = slack_api.calls_to("chat.update")[0].body
    assert update["blocks"][0]["text"]["text"].startswith("🔴 ✅ Resolved: ")
    assert not [b for b in update["blocks"] if b["type"] == "actions"]
    note = slack_api.calls_to("chat.postMessage")[1].body
    assert note["text"] == ("✅ Resolved by <@U0BOB>. Confirmed cause: *db_connection_exhaustion* in `orders-db`. "
                            "Raised the pool.")


def test_routing_by_service_then_severity_then_default(slack_settings) -> None:  # type: ignore[no-untyped-def]
    s = slack_settings.slack
    assert route_channel(s, incident(service="payments", severity=Severity.INFO)) == "C0PAYMENTS"
    assert route_channel(s, incident(service="search", severity=Severity.INFO)) == "C0LOWPRIO"
    assert route_channel(s, incident(service="search")) == "C0INCIDENTS"


def _crash_after_post(store: Store, inc_id: str) -> None:
    """What a SIGKILL between chat.postMessage and its record leaves: the row stuck ``posting`` past its lease."""
    from datetime import timedelta

    from sqlmodel import select

    from bot.domain import utcnow
    from bot.storage.tables import ChatPostRow

    with store.session() as s:
        row = s.exec(select(ChatPostRow).where(ChatPostRow.incident_id == inc_id)).one()
        row.state, row.updated_at = "posting", utcnow() - timedelta(hours=1)
        row.data = {}
        s.add(row)
        s.commit()


async def test_a_post_whose_record_was_lost_is_found_by_its_metadata_not_posted_twice(
        slack_settings, store: Store, slack_api: SlackAPI) -> None:  # type: ignore[no-untyped-def]
    poster = _poster(slack_settings, store)
    inc, ana = _saved(store)
    assert await poster.deliver(inc, ana) == "posted"
    [post] = slack_api.calls_to("chat.postMessage")
    assert post.body["metadata"]["event_payload"]["incident_id"] == inc.id
    ts = store.get_chat_post(incident_id=inc.id, surface="slack").data["ts"]  # type: ignore[union-attr]
    _crash_after_post(store, inc.id)

    restarted = _poster(slack_settings, Store.open(str(store.engine.url)))
    assert await restarted.retry_pending() == {"posted": 1}
    assert len(slack_api.calls_to("chat.postMessage")) == 1  # found, not posted again
    [history] = slack_api.calls_to("conversations.history")
    assert history.body["include_all_metadata"] in (True, "true", "1", 1)
    row = store.get_chat_post(incident_id=inc.id, surface="slack")
    assert row is not None and row.state == "posted" and row.data["ts"] == ts


async def test_a_post_that_never_reached_slack_is_posted_after_the_lookup(
        slack_settings, store: Store, slack_api: SlackAPI) -> None:  # type: ignore[no-untyped-def]
    poster = _poster(slack_settings, store)
    inc, _ = _saved(store)
    assert store.claim_chat_post(incident_id=inc.id, surface="slack", channel="C0INCIDENTS")
    _crash_after_post(store, inc.id)  # killed after the lease, before chat.postMessage went out
    assert await poster.retry_pending() == {"posted": 1}
    assert len(slack_api.calls_to("conversations.history")) == 1
    assert len(slack_api.calls_to("chat.postMessage")) == 1


def _age_lease(store: Store, inc_id: str) -> None:
    """The row's lease ran out (its holder is still busy): only its clock moves, not its token."""
    from datetime import timedelta

    from sqlmodel import select

    from bot.domain import utcnow
    from bot.storage.tables import ChatPostRow

    with store.session() as s:
        row = s.exec(select(ChatPostRow).where(ChatPostRow.incident_id == inc_id)).one()
        row.updated_at = utcnow() - timedelta(hours=1)
        s.add(row)
        s.commit()


def _incident_posts(slack_api: SlackAPI, inc_id: str) -> list[dict[str, object]]:
    return [c.body for c in slack_api.calls_to("chat.postMessage")
            if (c.body.get("metadata") or {}).get("event_payload", {}).get("incident_id") == inc_id]


async def test_a_post_that_lands_after_its_sender_gave_up_is_found_not_posted_twice(
        slack_settings, store: Store, slack_api: SlackAPI) -> None:  # type: ignore[no-untyped-def]
    """chat.postMessage is answered only after the client's timeout (Slack slow, or a full accept queue):
    the message still lands. The row stays held for the lease, then the message is found by its metadata."""
    slack_settings.slack.timeout_s = 1.0
    slack_settings.slack.post_lease_s = 1.0  # the lease is then 4 x the timeout: 4 s
    slack_settings.slack.retry_backoff_s = 0.0
    poster = _poster(slack_settings, store)
    inc, ana = _saved(store)
    slack_api.delay_next("chat.postMessage", seconds=2.5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await poster.deliver(inc, ana) == "pending"  # timed out after 1 s; the message is on its way
    held = store.get_chat_post(incident_id=inc.id, surface="slack")
    outcomes: list[dict[str, int]] = []
    while loop.time() < started + 15 and not outcomes[-1:] == [{"posted": 1}]:
        outcomes.append(await poster.retry_pending())
        await asyncio.sleep(0.25)
    await asyncio.sleep(max(0.0, started + 3.0 - loop.time()))  # past the moment the late message landed
    assert len(_incident_posts(slack_api, inc.id)) == 1
    assert held is not None and held.state == "posting" and held.data["error"].startswith("in doubt")
    assert outcomes[0] == {"skipped": 1} and outcomes[-1] == {"posted": 1}  # held, then found
    row = store.get_chat_post(incident_id=inc.id, surface="slack")
    assert row is not None and row.state == "posted"
    assert slack_api.message("C0INCIDENTS", row.data["ts"]) is not None  # the one that landed late


async def test_an_attempt_whose_lease_ran_out_never_posts_after_the_next_holder(
        slack_settings, tmp_path: Path, slack_api: SlackAPI) -> None:  # type: ignore[no-untyped-def]
    """Replica A leases a failed post and is stuck in its lookup past the lease; replica B takes the row over
    and posts. When A wakes up it has lost its lease: it neither posts nor overwrites B's record."""
    slack_settings.slack.retry_backoff_s = 0.0
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    store_a, store_b = Store.open(url), Store.open(url)
    inc, _ = _saved(store_a)
    assert store_a.claim_chat_post(incident_id=inc.id, surface="slack", channel="C0INCIDENTS")
    row = store_a.get_chat_post(incident_id=inc.id, surface="slack")
    assert row is not None and row.id is not None
    store_a.update_chat_post(post_id=row.id, state="failed", data={"error": "http 503"})
    a, b = _poster(slack_settings, store_a), _poster(slack_settings, store_b)
    gate = slack_api.hold_next("conversations.history")
    first = asyncio.create_task(a.retry_pending())
    await asyncio.to_thread(slack_api.wait_for, "conversations.history", 1)  # A holds the lease, stuck
    _age_lease(store_a, inc.id)
    assert await b.retry_pending() == {"posted": 1}
    gate.set()
    assert await first == {"skipped": 1}
    [post] = _incident_posts(slack_api, inc.id)
    row = store_b.get_chat_post(incident_id=inc.id, surface="slack")
    assert row is not None and row.state == "posted"
    assert slack_api.message("C0INCIDENTS", row.data["ts"])["metadata"] == post["metadata"]  # type: ignore[index]


async def test_the_lookup_reads_every_page_of_the_channel_history(
        slack_settings, store: Store, slack_api: SlackAPI) -> None:  # type: ignore[no-untyped-def]
    """250 messages posted to the channel after the incident's: its message is on the second page."""
    from slack_sdk import WebClient

    poster = _poster(slack_settings, store)
    inc, ana = _saved(store)
    assert await poster.deliver(inc, ana) == "posted"
    busy = WebClient(token="xoxb-test-token", base_url=slack_api.api_url)
    for i in range(250):
        busy.chat_postMessage(channel="C0INCIDENTS", text=f"other {i}")
    _crash_after_post(store, inc.id)
    restarted = _poster(slack_settings, Store.open(str(store.engine.url)))
    assert await restarted.retry_pending() == {"posted": 1}
    assert len(_incident_posts(slack_api, inc.id)) == 1
    assert len(slack_api.calls_to("conversations.history")) == 2
