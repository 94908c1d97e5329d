"""Item 6 of issue 17: the incident page once a chat post exists. Times read back from the database are
aware UTC on SQLite (which stores them naive) and on PostgreSQL, so the timeline sorts them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from bot.api.app import create_app
from bot.domain import Alert, Feedback, Incident, Vote
from bot.storage.tables import ChatPostRow, IncidentRow
from tests.conftest import PG_URL

pytestmark = pytest.mark.integration


def _seed(store: Any) -> str:
    incident = store.save_incident(incident=Incident(title="checkout 5xx", fingerprint="f", service="checkout"))
    store.add_alert(incident_id=incident.id, alert=Alert(name="HighErrorRate", service="checkout"))
    assert store.claim_chat_post(incident_id=incident.id, surface="slack", channel="C1")
    row = store.get_chat_post(incident_id=incident.id, surface="slack", channel="C1")
    store.update_chat_post(post_id=row.id, state="posted", message_ref="1.2",
                           data={"permalink": "https://example.slack.com/archives/C1/p12"})
    store.add_feedback(feedback=Feedback(incident_id=incident.id, vote=Vote.UP, user="ana"))
    return str(incident.id)


def test_times_read_back_are_aware_utc(any_store: Any) -> None:
    incident_id = _seed(any_store)
    with Session(any_store.engine) as s:
        post = s.exec(select(ChatPostRow)).one()
        row = s.exec(select(IncidentRow).where(IncidentRow.id == incident_id)).one()
    for value in (post.created_at, post.updated_at, row.created_at, row.updated_at):
        assert value.tzinfo is not None and value.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_incident_page_with_a_chat_post(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    storage: dict[str, Any] = {}
    if backend == "postgresql":
        storage = {"url": PG_URL, "schema_name": request.getfixturevalue("pg_schema")}
    from config.settings import load_settings

    settings = load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"}, storage=storage)
    app = create_app(settings)
    with TestClient(app) as c:
        incident_id = _seed(app.state.store)
        page = c.get(f"/incidents/{incident_id}")
        assert page.status_code == 200, page.text[-2000:]
        assert "Posted to slack C1" in page.text and "https://example.slack.com/archives/C1/p12" in page.text
        app.state.store.close()
