"""The incident list as JSON, streamed: valid JSON of the report's shape, written while the pages are read."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from bot.reporting import ReportOptions, ReportScope, build_report
from bot.reporting.export import stream_json_rows
from bot.reporting.reports import stream_incident_rows
from tests.reporting.conftest import NOW
from tests.reporting.factory import seed_incidents

SCOPE = ReportScope.parse(days=60, now=NOW)


def test_streamed_json_equals_the_whole_report_and_starts_before_the_history_is_read(store) -> None:  # type: ignore[no-untyped-def]
    seeded = seed_incidents(store, now=NOW, days=50, count=700, seed=2, with_chat=False)
    read = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal read
        for row in stream_incident_rows(store=store, scope=SCOPE, page_size=50):
            read += 1
            yield row

    chunks = stream_json_rows({"report": "incidents", "scope": SCOPE.as_dict()}, counted(), batch=20)
    first = [next(chunks), next(chunks)]  # the opening, then the first 20 items
    assert read <= 50  # one page of the 700 incidents read so far
    document = json.loads("".join(first) + "".join(chunks))
    whole = build_report("incidents", store=store, scope=SCOPE, options=ReportOptions())
    assert document["total"] == whole["total"] == len(seeded.incidents) == read
    assert document["items"] == document["rows"] == whole["items"]
    assert document["report"] == "incidents" and document["scope"] == whole["scope"]


def test_streamed_json_is_valid_for_no_rows_and_odd_values() -> None:
    empty = json.loads("".join(stream_json_rows({"report": "incidents"}, iter([]))))
    assert empty == {"report": "incidents", "items": [], "rows": [], "total": 0}
    rows = [{"title": "naïve \u2028 \"quoted\" </script>", "top_confidence": math.nan, "n": math.inf}]
    odd = json.loads("".join(stream_json_rows({}, iter(rows))))
    assert odd["items"] == odd["rows"] == [{"title": rows[0]["title"], "top_confidence": None, "n": None}]


def test_the_spooled_copy_moves_to_disk_past_its_memory_budget(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Memory stays bounded: past the budget, the copy that becomes "rows" is written to a temporary file."""
    import tempfile

    from bot.reporting import export

    rolled: list[bool] = []
    real = tempfile.SpooledTemporaryFile

    class Watched(real):  # type: ignore[misc, valid-type]
        def __exit__(self, *exc: object) -> None:
            rolled.append(bool(self._rolled))
            super().__exit__(*exc)

    monkeypatch.setattr(export, "_SPOOL_BYTES", 4096)
    monkeypatch.setattr(export.tempfile, "SpooledTemporaryFile", Watched)
    rows = ({"id": f"inc-{i}", "title": "x" * 100} for i in range(500))
    document = json.loads("".join(stream_json_rows({}, rows)))
    assert document["total"] == 500 and document["rows"][-1]["id"] == "inc-499"
    assert rolled == [True]
