"""The change log's entries plus the changes only a log states (``detectors.changes.with_log_changes``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain import ChangeEvent
from detectors.changes import with_log_changes

AT = datetime(2025, 9, 2, 3, 10, tzinfo=UTC)
LOG = {"edge-fw": [
    "2025-09-02T03:00:00Z INFO cfgd heartbeat ok",
    "2025-09-02T03:10:00Z INFO cfgd configuration profile fw-2025-09 applied by user netops (commit 77ab)",
]}


@pytest.mark.parametrize("kind", ["maintenance", "note"])
def test_an_entry_that_types_no_change_keeps_the_line_that_states_one(kind: str) -> None:
    window = ChangeEvent(ts=AT, kind=kind, service="edge-fw", text="MOP 17: put the new firewall in service")
    found = with_log_changes([window], LOG, known=["edge-fw"])
    assert [e.kind for e in found] == [kind, "config"]
    assert "configuration profile fw-2025-09 applied" in found[1].text


def test_a_change_log_entry_of_the_same_change_tells_it_better() -> None:
    told = ChangeEvent(ts=AT, kind="config", service="edge-fw", text="firewall profile fw-2025-09")
    assert with_log_changes([told], LOG, known=["edge-fw"]) == [told]
