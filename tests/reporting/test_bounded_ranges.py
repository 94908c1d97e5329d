"""Item 5 of issue 17: a report's range is bounded (a range from year 1 froze the server for a minute);
dates at the edges of the calendar give a clear 422, never a 500."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.domain import InputError
from bot.reporting.scope import MAX_DAYS, ReportScope
from tests.web.conftest import make_settings


@pytest.mark.parametrize("since, until", [
    ("0001-01-01", None), ("1900-01-01", "2026-01-01"), ("2000-01-01", "2026-01-01"),
])
def test_a_range_over_the_limit_is_refused_naming_the_limit(since: str, until: str | None) -> None:
    with pytest.raises(InputError, match=str(MAX_DAYS)):
        ReportScope.parse(since=since, until=until)


@pytest.mark.parametrize("params", [{"until": "0001-01-01"}, {"until": "9999-12-31"}, {"since": "9999-12-31"},
                                    {"since": "0001-01-01", "until": "0001-01-02"}])
def test_calendar_edges_are_input_errors(params: dict[str, str]) -> None:
    with pytest.raises(InputError):
        ReportScope.parse(**params)


def test_the_largest_allowed_range_still_works() -> None:
    scope = ReportScope.parse(since="2016-01-01", until="2025-12-31")
    assert len(scope.days) <= MAX_DAYS + 1


def test_report_api_answers_422_fast_and_pages_show_the_error(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    with TestClient(app, raise_server_exceptions=False) as c:
        for url in ("/api/v1/reports/response-times?since=0001-01-01&bucket=day",
                    "/api/v1/reports/incidents-per-day?since=0001-01-01&format=csv",
                    "/api/v1/reports/incidents-per-day?until=0001-01-01"):
            t0 = time.monotonic()
            r = c.get(url)
            assert r.status_code == 422 and time.monotonic() - t0 < 5, (url, r.status_code)
        assert str(MAX_DAYS) in c.get("/api/v1/reports/response-times?since=0001-01-01").json()["detail"]
        for url in ("/?until=9999-12-31", "/incidents?until=9999-12-31", "/?since=0001-01-01"):
            page = c.get(url)
            assert page.status_code == 200, (url, page.status_code)
