"""Write-back through the delivery cycle: one idempotency key per incident and kind of write, and a write
that may have reached the vendor is looked up among the vendor's notes before it is sent again.

The vendors are the local REST stand-ins (``tests/fakes``): a note is stored and its answer delayed past the
client's timeout (the answer is lost, the note exists), the vendor is down, an outbox event is delivered
twice, a process died between the vendor call and its record (the row it leaves behind)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.domain import Incident
from bot.pipeline import Pipeline, writeback
from bot.pipeline.writeback import WriteBack
from bot.storage.chat_leases import lease_chat_post
from bot.storage.tables import DeliveryState
from config.settings import OpsgenieSettings, PagerDutySettings
from connectors.alerts import parse_alerts
from connectors.opsgenie.client import OpsgenieConnector
from connectors.opsgenie.writeback import OpsgenieNotes, OpsgenieTool
from connectors.pagerduty.client import PagerDutyConnector
from connectors.pagerduty.writeback import PagerDutyNotes, PagerDutyTool
from tests.fakes.opsgenie_api import OpsgenieAPI, alert
from tests.fakes.pagerduty_api import PagerDutyAPI, incident, webhook

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def pd():  # type: ignore[no-untyped-def]
    with PagerDutyAPI(token="pd-t") as api:
        api.add_incident(incident("PINC1", "Checkout 5xx", created_at=NOW, status="triggered"))
        yield api


@pytest.fixture
def og():  # type: ignore[no-untyped-def]
    with OpsgenieAPI(key="og-t") as api:
        api.add_alert(alert("og-1", "Disk full on db-1", created_at=NOW, status="open"))
        yield api


def _pd_notes(pd: PagerDutyAPI, *, timeout: float = 5.0) -> PagerDutyNotes:
    return PagerDutyNotes(client=httpx.Client(timeout=timeout), token="pd-t", from_email="bot@example.com",
                          api_url=pd.url)


def _pd_incident(pipeline: Pipeline) -> Incident:
    data = incident("PINC1", "Checkout 5xx", created_at=NOW, status="triggered")
    (incident_id,) = pipeline.accept_alerts(parse_alerts(webhook("incident.triggered", data, occurred_at=NOW))).created
    return pipeline.get_incident(incident_id=incident_id)[0]


def _og_incident(pipeline: Pipeline) -> Incident:
    payload = {"action": "Create", "alert": {"alertId": "og-1", "message": "Disk full on db-1", "entity": "db-1",
                                             "createdAt": int(NOW.timestamp() * 1000), "priority": "P2"}}
    (incident_id,) = pipeline.accept_alerts(parse_alerts(payload, source="opsgenie")).created
    return pipeline.get_incident(incident_id=incident_id)[0]


def _sherlog_notes(pd: PagerDutyAPI, ref: str = "PINC1") -> list[str]:
    return [n["content"] for n in pd.notes[ref] if n["content"].startswith("Sherlog analysis")]


def test_an_analysis_note_carries_its_marker_and_a_redelivered_event_writes_nothing(
        settings: Any, store: Any, pd: PagerDutyAPI) -> None:
    pipeline = Pipeline(settings=settings, store=store)
    wb = WriteBack(pipeline=pipeline, tools={"pagerduty": _pd_notes(pd)})
    found = _pd_incident(pipeline)
    pipeline.analyze_incident(incident_id=found.id)
    inc, analysis = pipeline.get_incident(incident_id=found.id)
    assert analysis is not None
    assert wb.on_analysis(inc, analysis) == ["pagerduty"]
    assert wb.on_analysis(inc, analysis) == []  # the outbox delivered analysis.ready again
    (note,) = _sherlog_notes(pd)
    key = writeback.note_key(analysis)
    assert note.endswith(writeback.note_marker(inc.id, key))
    row = store.get_chat_post(incident_id=inc.id, surface="pagerduty", channel=key)
    assert row.state == DeliveryState.POSTED and row.message_ref == writeback.note_marker(inc.id, key)
    assert not pd.calls_to("GET", "/incidents/PINC1/notes")  # the first attempt after the claim: no lookup


def test_a_note_whose_answer_was_lost_is_found_and_not_written_again(settings: Any, store: Any,
                                                                      pd: PagerDutyAPI) -> None:
    """PagerDuty stores the note but its answer comes after the client's timeout: the row fails, and the retry
    finds the note by its marker instead of posting a second one."""
    pipeline = Pipeline(settings=settings, store=store)
    warnings: list[str] = []
    pipeline.events.subscribe("warning.raised", lambda **kw: warnings.append(kw["message"]))
    wb = WriteBack(pipeline=pipeline, tools={"pagerduty": _pd_notes(pd, timeout=0.3)}, retry_backoff_s=0.0)
    inc = _pd_incident(pipeline)
    pipeline.analyze_incident(incident_id=inc.id)
    inc, analysis = pipeline.get_incident(incident_id=inc.id)
    assert analysis is not None
    pd.write_delay_s = 1.0
    assert wb.on_analysis(inc, analysis) == []
    assert warnings and "PagerDuty unreachable" in warnings[0]
    row = store.get_chat_post(incident_id=inc.id, surface="pagerduty", channel=writeback.note_key(analysis))
    assert row.state == DeliveryState.FAILED
    pd.write_delay_s = 0.0
    counts = writeback._run(wb.retry_pending())
    assert counts == {"posted": 1}
    assert len(_sherlog_notes(pd)) == 1  # one note, though two attempts were made
    assert len(pd.calls_to("POST", "/incidents/PINC1/notes")) == 1
    assert pd.calls_to("GET", "/incidents/PINC1/notes")  # the retry looked first
    row = store.get_chat_post(incident_id=inc.id, surface="pagerduty", channel=writeback.note_key(analysis))
    assert row.state == DeliveryState.POSTED and row.data["found"] is True
    assert writeback._run(wb.retry_pending()) == {}  # nothing left


def test_a_process_killed_after_the_vendor_call_leaves_a_row_that_another_process_completes(
        settings: Any, store: Any, pd: PagerDutyAPI) -> None:
    """The state a SIGKILL between the note and its record leaves: the row ``posting`` and the note at
    PagerDuty. Before the lease runs out the row is left alone; after it, the note is found, not doubled."""
    pipeline = Pipeline(settings=settings, store=store)
    tool = _pd_notes(pd)
    inc = _pd_incident(pipeline)
    pipeline.analyze_incident(incident_id=inc.id)
    inc, analysis = pipeline.get_incident(incident_id=inc.id)
    assert analysis is not None
    key = writeback.note_key(analysis)
    assert store.claim_chat_post(incident_id=inc.id, surface="pagerduty", channel=key)
    row = store.get_chat_post(incident_id=inc.id, surface="pagerduty", channel=key)
    assert lease_chat_post(store, post_id=row.id, now=datetime.now(UTC) - timedelta(seconds=5))
    tool.add_note("PINC1", writeback.with_marker(writeback.analysis_note(inc, analysis),
                                                 writeback.note_marker(inc.id, key)))
    other = WriteBack(pipeline=pipeline, tools={"pagerduty": tool}, lease_s=60.0)
    assert other.on_analysis(inc, analysis) == []  # the dead process' lease has not run out: not touched
    assert writeback._run(other.retry_pending()) == {"skipped": 1}
    later = WriteBack(pipeline=pipeline, tools={"pagerduty": tool}, lease_s=2.0)
    assert writeback._run(later.retry_pending()) == {"posted": 1}
    assert len(_sherlog_notes(pd)) == 1
    assert store.get_chat_post(incident_id=inc.id, surface="pagerduty", channel=key).state == DeliveryState.POSTED


def test_an_outage_delays_the_note_and_never_loses_or_doubles_it(settings: Any, store: Any,
                                                                  pd: PagerDutyAPI) -> None:
    pipeline = Pipeline(settings=settings, store=store)
    wb = WriteBack(pipeline=pipeline, tools={"pagerduty": _pd_notes(pd)}, retry_backoff_s=0.0, max_attempts=3)
    inc = _pd_incident(pipeline)
    pipeline.analyze_incident(incident_id=inc.id)
    inc, analysis = pipeline.get_incident(incident_id=inc.id)
    assert analysis is not None
    pd.outage = True
    assert wb.on_analysis(inc, analysis) == []
    assert writeback._run(wb.retry_pending()) == {"pending": 1}  # the lookup fails too: retried, not guessed
    pd.outage = False
    assert writeback._run(wb.retry_pending()) == {"posted": 1}
    assert len(_sherlog_notes(pd)) == 1
    pd.outage = True  # a later failing row gives up after max_attempts and says so
    acked = pipeline.acknowledge(incident_id=inc.id, user="alice")
    assert wb.on_acknowledged(acked, user="alice") == []
    for _ in range(3):
        writeback._run(wb.retry_pending())
    assert writeback._run(wb.retry_pending()) == {"given_up": 1}


def test_a_note_for_an_answer_that_changed_is_not_written_late(settings: Any, store: Any,
                                                                pd: PagerDutyAPI) -> None:
    pipeline = Pipeline(settings=settings, store=store)
    wb = WriteBack(pipeline=pipeline, tools={"pagerduty": _pd_notes(pd)}, retry_backoff_s=0.0)
    inc = _pd_incident(pipeline)
    assert store.claim_chat_post(incident_id=inc.id, surface="pagerduty", channel="note:gone:disk_full")
    row = store.get_chat_post(incident_id=inc.id, surface="pagerduty", channel="note:gone:disk_full")
    store.update_chat_post(post_id=row.id, state=DeliveryState.FAILED, data={"error": "HTTP 503"})
    pipeline.analyze_incident(incident_id=inc.id)  # the current answer is another one
    assert writeback._run(wb.retry_pending()) == {"skipped": 1}
    assert _sherlog_notes(pd) == [] and not pd.calls_to("POST", "/incidents")
    assert store.get_chat_post(incident_id=inc.id, surface="pagerduty",
                               channel="note:gone:disk_full").data == {"superseded": True}


def test_opsgenie_ack_and_close_whose_answers_were_lost_are_found_by_their_notes(settings: Any, store: Any,
                                                                                 og: OpsgenieAPI) -> None:
    pipeline = Pipeline(settings=settings, store=store)
    tool = OpsgenieNotes(client=httpx.Client(timeout=0.3), api_key="og-t", api_url=og.url)
    wb = WriteBack(pipeline=pipeline, tools={"opsgenie": tool}, retry_backoff_s=0.0)
    pipeline.events.subscribe("incident.acknowledged", wb.acknowledged)
    inc = _og_incident(pipeline)
    og.write_delay_s = 1.0
    pipeline.acknowledge(incident_id=inc.id, user="bob")  # the answer is lost: the row fails
    og.write_delay_s = 0.0
    assert writeback._run(wb.retry_pending()) == {"posted": 1}
    acks = [n["note"] for n in og.notes["og-1"] if n["note"].startswith("Acknowledged in Sherlog by bob")]
    assert len(acks) == 1 and "[sherlog:" in acks[0]
    assert len(og.calls_to("POST", "/v2/alerts/og-1/acknowledge")) == 1


def test_the_pdpyras_and_opsgenie_sdk_connectors_write_once_after_a_timeout(
        settings: Any, store: Any, pd: PagerDutyAPI, og: OpsgenieAPI) -> None:
    """pdpyras and opsgenie-sdk repeat a request after a network error; a write must not be repeated blindly."""
    pipeline = Pipeline(settings=settings, store=store)
    pd_connector = PagerDutyConnector(PagerDutySettings(enabled=True, api_token="pd-t", api_url=pd.url,
                                                        from_email="bot@example.com"))
    pd_connector._writer.timeout = 0.3
    og_connector = OpsgenieConnector(OpsgenieSettings(enabled=True, api_key="og-t", api_url=og.url),
                                     retry_delay_s=0.1)
    wb = WriteBack(pipeline=pipeline, tools={"pagerduty": PagerDutyTool(pd_connector),
                                             "opsgenie": OpsgenieTool(og_connector)}, retry_backoff_s=0.0)
    inc = _pd_incident(pipeline)
    pipeline.analyze_incident(incident_id=inc.id)
    inc, analysis = pipeline.get_incident(incident_id=inc.id)
    assert analysis is not None
    pd.write_delay_s = 1.0
    assert wb.on_analysis(inc, analysis) == []
    pd.write_delay_s = 0.0
    assert writeback._run(wb.retry_pending()) == {"posted": 1}
    assert len(pd.calls_to("POST", "/incidents/PINC1/notes")) == 1 and len(_sherlog_notes(pd)) == 1

    og_inc = _og_incident(pipeline)
    pipeline.analyze_incident(incident_id=og_inc.id)
    og_inc, og_analysis = pipeline.get_incident(incident_id=og_inc.id)
    assert og_analysis is not None and wb.on_analysis(og_inc, og_analysis) == ["opsgenie"]
    assert wb.on_analysis(og_inc, og_analysis) == []
    assert len([n for n in og.notes["og-1"] if n["note"].startswith("Sherlog analysis")]) == 1
