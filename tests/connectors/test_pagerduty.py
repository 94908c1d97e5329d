"""PagerDutyConnector against the local stand-in of the PagerDuty REST API v2."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import ConnectorError, DocumentType
from config.settings import PagerDutySettings
from connectors.pagerduty.client import PagerDutyConnector, document_from_incident, pick_resolution
from tests.fakes.pagerduty_api import PagerDutyAPI, incident

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def pd() -> Iterator[PagerDutyAPI]:
    with PagerDutyAPI(token="pd-test") as api:
        yield api


def _connector(pd: PagerDutyAPI, **kw: object) -> PagerDutyConnector:
    fields: dict[str, object] = {
        "api_token": "pd-test",
        "api_url": pd.url,
        "from_email": "sre@acme.test",
        **kw,
    }
    return PagerDutyConnector(PagerDutySettings.model_validate(fields))


def test_history_reads_resolved_incidents_with_notes_across_windows_and_pages(pd: PagerDutyAPI) -> None:
    for i in range(120):  # one every 3 days: 360 days, more than two 179-day windows, pages of 100
        pd.add_incident(
            incident(
                f"P{i:03d}",
                f"Checkout DB pool exhausted #{i}",
                created_at=NOW - timedelta(days=3 * i, hours=1),
                number=i,
                service="checkout",
            ),
            notes=["looking at the pool metrics", "Root cause: connection leak; fixed by restarting pods"],
        )
    pd.add_incident(incident("POPEN", "still firing", created_at=NOW - timedelta(days=1), status="triggered"))
    docs = list(_connector(pd).history_documents(since=NOW - timedelta(days=400)))
    assert len(docs) == 120
    assert len({d.id for d in docs}) == 120 and "pagerduty:POPEN" not in {d.id for d in docs}
    doc = next(d for d in docs if d.id == "pagerduty:P007")
    assert doc.type is DocumentType.INCIDENT and doc.services == ["checkout"]
    assert doc.resolution == "Root cause: connection leak; fixed by restarting pods"
    assert "looking at the pool metrics" in doc.text
    assert doc.url == "https://acme.pagerduty.com/incidents/P007"
    lists = pd.calls_to("GET", "/incidents")
    list_calls = [c for c in lists if c.path == "/incidents"]
    assert all(c.query["statuses[]"] == ["resolved"] for c in list_calls)
    assert len(list_calls) >= 3  # several windows, and a second page in one of them
    assert all(c.headers["Authorization"] == "Token token=pd-test" for c in pd.calls)


def test_write_back_note_acknowledge_resolve(pd: PagerDutyAPI) -> None:
    pd.add_incident(incident("PABC", "Checkout 5xx", created_at=NOW, status="triggered"))
    connector = _connector(pd)
    note = connector.add_note("PABC", "Sherlog: most likely bad_deploy of checkout (0.82)")
    assert note["content"].startswith("Sherlog:")
    assert connector.acknowledge("PABC")["status"] == "acknowledged"
    assert connector.resolve("PABC", resolution="rolled back 4.2")["status"] == "resolved"
    put = pd.calls_to("PUT", "/incidents/PABC")[-1]
    assert put.body == {
        "incident": {"type": "incident_reference", "status": "resolved", "resolution": "rolled back 4.2"}
    }
    assert put.headers["From"] == "sre@acme.test"
    assert pd.notes["PABC"][-1]["content"].startswith("Sherlog:")


def test_errors_are_connector_errors_a_user_can_act_on(pd: PagerDutyAPI) -> None:
    with pytest.raises(ConnectorError, match="check pagerduty.api_token"):
        list(_connector(pd, api_token="wrong").history_documents(since=NOW - timedelta(days=1)))
    with pytest.raises(ConnectorError, match="unknown id"):
        _connector(pd).acknowledge("PNOPE")
    with pytest.raises(ConnectorError, match="from_email"):
        _connector(pd, from_email=None).add_note("PABC", "x")


def test_document_from_incident_is_pure() -> None:
    data = incident("PQ", "Disk full", created_at=datetime(2026, 1, 2, tzinfo=UTC), service="logging")
    doc = document_from_incident(
        data,
        [
            {"content": "deleted old indices", "created_at": "2026-01-02T01:00:00Z"},
            {"content": "paging storage team", "created_at": "2026-01-02T00:30:00Z"},
        ],
    )
    assert doc.date == datetime(2026, 1, 2, tzinfo=UTC)
    assert doc.text.index("paging storage team") < doc.text.index("deleted old indices")
    assert doc.resolution == "paging storage team" or doc.resolution == "deleted old indices"
    assert pick_resolution(["ack", "Fixed by rollback", "thanks all"]) == "Fixed by rollback"
    assert pick_resolution([]) is None
