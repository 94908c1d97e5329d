"""``sherlog ingest ...`` / ``sherlog search`` and ``GET /api/v1/search``, on an embedded Chroma index."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bot.api.routes_search import router
from bot.cli.retrieval import ingest_app, parse_since, search_command
from bot.domain import InputError
from config.settings import get_settings, load_settings
from retrieval import Retriever
from tests.fakes.opsgenie_api import OpsgenieAPI, alert
from tests.fakes.pagerduty_api import PagerDutyAPI, incident
from tests.retrieval.conftest import RUNBOOK_MD

INCIDENT_MD = """---
id: INC-7
title: Checkout DB connection pool exhausted
services: [checkout]
category: database
root_cause_kind: db_connection_exhaustion
resolution: Raised the pool size and fixed the leak
---
Checkout requests waited for a database connection.
"""


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[CliRunner, typer.Typer]]:
    monkeypatch.setenv("SHERLOG__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHERLOG__RETRIEVAL__BACKEND", "embedded")
    get_settings.cache_clear()
    app = typer.Typer()
    app.add_typer(ingest_app, name="ingest")
    app.command("search")(search_command)
    yield CliRunner(), app
    get_settings.cache_clear()


def test_ingest_markdown_is_idempotent_and_search_finds_it(
    cli: tuple[CliRunner, typer.Typer], tmp_path: Path
) -> None:
    runner, app = cli
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents" / "inc7.md").write_text(INCIDENT_MD)
    (tmp_path / "incidents" / "bad.md").write_text("---\ntitle: [oops\n---\nx")
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "db.md").write_text(RUNBOOK_MD)

    first = runner.invoke(app, ["ingest", "incidents", str(tmp_path / "incidents")])
    assert first.exit_code == 0, first.output
    assert "1 added, 0 updated, 1 skipped" in first.output
    again = runner.invoke(app, ["ingest", "incidents", str(tmp_path / "incidents")])
    assert "0 added, 0 updated, 2 skipped" in again.output and "unchanged" in again.output
    books = runner.invoke(app, ["ingest", "runbooks", str(tmp_path / "runbooks")])
    assert "5 added" in books.output

    found = runner.invoke(app, ["search", "pool exhausted on checkout", "--k", "2", "--json"])
    assert found.exit_code == 0, found.output
    results = json.loads(found.output)
    assert (
        results[0]["id"] == "INC-7" and results[0]["resolution"] == "Raised the pool size and fixed the leak"
    )
    assert results[1]["url"].startswith("https://wiki.acme.test/runbooks/database#")
    books_only = json.loads(
        runner.invoke(app, ["search", "replication lag", "--type", "runbook", "--json"]).output
    )
    assert {r["type"] for r in books_only} == {"runbook"}
    assert books_only[0]["heading_path"] == ["Replication lag"]
    table = runner.invoke(app, ["search", "certificate", "--k", "1"])
    assert table.exit_code == 0 and "1 results for 'certificate'" in table.output


def test_ingest_pagerduty_and_opsgenie_from_stand_ins(
    cli: tuple[CliRunner, typer.Typer], monkeypatch: pytest.MonkeyPatch
) -> None:
    runner, app = cli
    now = datetime.now(UTC)
    with PagerDutyAPI(token="pd-cli") as pd, OpsgenieAPI(key="og-cli") as og:
        pd.add_incident(
            incident("P1", "Payments OOMKilled", created_at=now - timedelta(days=2), service="payments"),
            notes=["fixed by lowering the heap"],
        )
        og.add_alert(
            alert(
                "a1", "Search DNS SERVFAIL", created_at=now - timedelta(days=3), details={"service": "search"}
            ),
            notes=["scaled CoreDNS, resolved"],
        )
        monkeypatch.setenv("SHERLOG__PAGERDUTY__API_TOKEN", "pd-cli")
        monkeypatch.setenv("SHERLOG__PAGERDUTY__API_URL", pd.url)
        monkeypatch.setenv("SHERLOG__OPSGENIE__API_KEY", "og-cli")
        monkeypatch.setenv("SHERLOG__OPSGENIE__API_URL", og.url)
        get_settings.cache_clear()
        out = runner.invoke(app, ["ingest", "pagerduty", "--since", "30d"])
        assert out.exit_code == 0, out.output
        assert "1 added" in out.output
        assert (
            "0 added, 0 updated, 1 skipped"
            in runner.invoke(app, ["ingest", "pagerduty", "--since", "30d"]).output
        )
        out = runner.invoke(app, ["ingest", "opsgenie", "--since", "2026-01-01"])
        assert out.exit_code == 0, out.output
        assert "1 added" in out.output
    results = json.loads(runner.invoke(app, ["search", "DNS lookups failing", "--k", "1", "--json"]).output)
    assert results[0]["id"] == "opsgenie:a1" and results[0]["resolution"] == "scaled CoreDNS, resolved"


def test_ingest_without_credentials_says_what_to_set(cli: tuple[CliRunner, typer.Typer]) -> None:
    runner, app = cli
    out = runner.invoke(app, ["ingest", "pagerduty"])
    assert out.exit_code == 2
    assert "SHERLOG__PAGERDUTY__API_TOKEN" in out.output


def test_parse_since() -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("90d", now=now) == now - timedelta(days=90)
    assert parse_since("2026-01-31") == datetime(2026, 1, 31, tzinfo=UTC)
    with pytest.raises(InputError, match="ISO date"):
        parse_since("last tuesday")


def test_search_endpoint(tmp_path: Path) -> None:
    app = FastAPI()
    app.include_router(router)
    app.state.settings = load_settings(data_dir=tmp_path, auth={"admin_token": "adm", "read_token": "rd"})
    retriever = Retriever.in_memory()
    retriever.upsert(Retriever.in_memory().documents())  # empty index answers with no results
    app.state.retriever = retriever
    client = TestClient(app)
    assert client.get("/api/v1/search", params={"q": "x"}).status_code == 401
    headers = {"Authorization": "Bearer rd"}
    empty = client.get("/api/v1/search", params={"q": "pool"}, headers=headers)
    assert empty.status_code == 200 and empty.json()["results"] == []
    from tests.retrieval.conftest import history

    retriever.upsert(history())
    body = client.get(
        "/api/v1/search", params={"q": "certificate expired", "k": 2, "type": "incident"}, headers=headers
    ).json()
    assert [r["id"] for r in body["results"]][0] == "inc-cert"
    assert body["results"][0]["resolution"].startswith("Renewed the certificate")
    assert 0 < body["results"][0]["score"] <= 1 and body["results"][0]["why"]
    assert client.get("/api/v1/search", params={"q": "x", "k": 0}, headers=headers).status_code == 422
    assert (
        client.get("/api/v1/search", params={"q": "x", "type": "novel"}, headers=headers).status_code == 422
    )
    del app.state.retriever
    assert client.get("/api/v1/search", params={"q": "x"}, headers=headers).status_code == 503


def test_ingest_sherlog_backfills_resolved_incidents_with_a_confirmed_cause(
    cli: tuple[CliRunner, typer.Typer],
) -> None:
    from bot.domain import Incident, IncidentStatus
    from bot.storage import Store

    runner, app = cli
    now = datetime.now(UTC)
    store = Store.open(get_settings().database_url)
    try:
        store.save_incident(
            incident=Incident(
                id="inc-conf",
                title="Orders queue backlog",
                service="orders",
                status=IncidentStatus.RESOLVED,
                resolved_at=now,
                confirmed_service="orders",
                confirmed_kind="queue_backlog",
                resolution="Added consumers",
                created_at=now - timedelta(days=1),
            )
        )
        store.save_incident(
            incident=Incident(
                id="inc-unconf",
                title="Flaky alert",
                service="orders",
                status=IncidentStatus.RESOLVED,
                resolved_at=now,
            )
        )
        store.save_incident(incident=Incident(id="inc-open", title="Still open", service="orders"))
    finally:
        store.close()
    out = runner.invoke(app, ["ingest", "sherlog"])
    assert out.exit_code == 0, out.output
    assert "1 added, 0 updated, 1 skipped (1 no confirmed cause)" in out.output
    results = json.loads(
        runner.invoke(app, ["search", "consumer lag on orders", "--k", "1", "--json"]).output
    )
    assert results[0]["id"] == "inc-conf" and results[0]["resolution"] == "Added consumers"
