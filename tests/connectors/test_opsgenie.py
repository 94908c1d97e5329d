"""OpsgenieConnector against the local stand-in of the Opsgenie Alert API v2."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import ConnectorError
from config.settings import OpsgenieSettings
from connectors.opsgenie.client import OpsgenieConnector, app_url_for, document_from_alert
from tests.fakes.opsgenie_api import OpsgenieAPI, alert

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def og() -> Iterator[OpsgenieAPI]:
    with OpsgenieAPI(key="og-test") as api:
        yield api


def _connector(og: OpsgenieAPI, key: str = "og-test") -> OpsgenieConnector:
    return OpsgenieConnector(OpsgenieSettings(api_key=key, api_url=og.url), retries=0, retry_delay_s=0.1)


def test_history_reads_closed_alerts_since_with_details_and_notes(og: OpsgenieAPI) -> None:
    for i in range(150):
        og.add_alert(
            alert(
                f"al-{i}",
                f"Checkout DB pool saturated #{i}",
                created_at=NOW - timedelta(days=i, minutes=5),
                status="closed" if i % 3 else "open",
                description="active connections at max",
                details={"service": "checkout", "region": "eu-1"},
                tags=["db"],
            ),
            notes=["ack, looking", "fixed: raised pool size"],
        )
    docs = list(_connector(og).history_documents(since=NOW - timedelta(days=120)))
    expected = {f"opsgenie:al-{i}" for i in range(120) if i % 3}
    assert {d.id for d in docs} == expected  # 80 alerts over more than one page of 100 results
    doc = next(d for d in docs if d.id == "opsgenie:al-1")
    assert doc.services == ["checkout"]
    assert doc.resolution == "fixed: raised pool size"
    assert "active connections at max" in doc.text and "region=eu-1" in doc.text
    assert doc.date is not None and abs((doc.date - (NOW - timedelta(days=1, minutes=5))).total_seconds()) < 1
    list_calls = [c for c in og.calls_to("GET", "/v2/alerts") if c.path == "/v2/alerts"]
    assert list_calls[0].query["query"][0].startswith("status: closed AND createdAt >= ")
    assert all(c.headers["Authorization"] == "GenieKey og-test" for c in og.calls)


def test_write_back_note_acknowledge_close(og: OpsgenieAPI) -> None:
    og.add_alert(alert("al-x", "Checkout 5xx", created_at=NOW, status="open"))
    connector = _connector(og)
    assert connector.add_note("al-x", "Sherlog: likely bad_deploy of checkout")
    assert connector.acknowledge("al-x")
    assert connector.close("al-x", note="rolled back")
    assert og.alerts["al-x"]["status"] == "closed" and og.alerts["al-x"]["acknowledged"] is True
    assert [n["note"] for n in og.notes["al-x"]] == ["Sherlog: likely bad_deploy of checkout", "rolled back"]
    posted = og.calls_to("POST", "/v2/alerts/al-x/notes")[0]
    assert posted.body["note"].startswith("Sherlog:") and posted.query["identifierType"] == ["id"]


def test_errors_are_connector_errors(og: OpsgenieAPI) -> None:
    with pytest.raises(ConnectorError, match="check opsgenie.api_key"):
        list(_connector(og, key="wrong").history_documents(since=NOW - timedelta(days=1)))
    with pytest.raises(ConnectorError, match="unknown alert"):
        _connector(og).close("nope")


def test_document_from_alert_is_pure() -> None:
    data = {
        "id": "a1",
        "message": "TLS handshake failures",
        "status": "closed",
        "tags": ["service:gateway"],
        "created_at": datetime(2026, 3, 1, tzinfo=UTC),
        "description": "x509 expired",
        "details": {},
    }
    doc = document_from_alert(
        data,
        [{"note": "renewed the cert", "created_at": "2026-03-01T01:00:00Z"}],
        app_url=app_url_for("https://api.eu.opsgenie.com"),
    )
    assert doc.services == ["gateway"]
    assert doc.url == "https://app.eu.opsgenie.com/alert/detail/a1/details"
    assert doc.resolution == "renewed the cert"
    assert app_url_for("http://127.0.0.1:9999") is None
