"""The /incidents page lists its range a page at a time, with a next-page link; bad paging values get 422."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.domain import utcnow
from bot.storage.tables import IncidentRow
from tests.reporting.rowwatch import bulk_incidents, watch_rows
from tests.web.conftest import make_settings

ROW = re.compile(r'<td><a href="/incidents/(inc-[a-z0-9-]+)">')
NEXT = re.compile(r'<a href="([^"]+)" rel="next"')


@pytest.fixture
def many(tmp_path: Path) -> Iterator[tuple[TestClient, list[str]]]:
    from bot.api.app import create_app

    app = create_app(make_settings(tmp_path))
    now = utcnow() - timedelta(minutes=1)
    incidents = bulk_incidents(app.state.store, now=now, count=250, days=10, seed=4)
    newest_first = [i.id for i in sorted(incidents, key=lambda i: (i.created_at, i.id), reverse=True)]
    with TestClient(app) as client:
        yield client, newest_first


def _page(client: TestClient, url: str) -> tuple[list[str], str | None]:
    r = client.get(url)
    assert r.status_code == 200, r.text
    found = NEXT.search(r.text)
    return ROW.findall(r.text), found.group(1).replace("&amp;", "&") if found else None


def test_the_list_pages_through_every_incident_once(many) -> None:  # type: ignore[no-untyped-def]
    client, newest_first = many
    with watch_rows(client.app.state.store, IncidentRow) as watch:  # type: ignore[attr-defined]
        first, nxt = _page(client, "/incidents?days=30")
    assert first == newest_first[:100] and nxt is not None
    assert "250 incidents" in client.get("/incidents?days=30").text
    assert watch.peak["incidents"] <= 101  # one page (and one more to know there is a next page)
    second, nxt = _page(client, nxt)
    third, last = _page(client, nxt or "")
    assert second == newest_first[100:200] and third == newest_first[200:] and last is None
    assert "days=30" in (nxt or "")  # the filters ride along
    small, nxt = _page(client, "/incidents?days=30&limit=40&status=resolved")
    resolved = ROW.findall(client.get("/incidents?days=30&status=resolved&limit=500").text)
    assert small == resolved[:40] and nxt is not None and "status=resolved" in nxt
    assert _page(client, nxt)[0] == resolved[40:80]


@pytest.mark.parametrize("query", ["after=not-a-cursor", "after=" + "A" * 300, "after=MjAyNi0xMS0yMA", "limit=0",
                                   "limit=501", "limit=ten", "after="])
def test_bad_paging_values_are_refused_clearly(many, query: str) -> None:  # type: ignore[no-untyped-def]
    client, _ = many
    r = client.get(f"/incidents?days=30&{query}")
    if query == "after=":  # empty: the first page
        assert r.status_code == 200
        return
    assert r.status_code == 422, (query, r.status_code)
    assert "after" in r.text or "limit" in r.text
