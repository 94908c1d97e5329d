"""The change probe (``bench/casebook/change_probe.py``) reads dev cases only and adds its red herring faithfully."""

from __future__ import annotations

import json
from pathlib import Path

from bench.casebook.change_probe import classify, dev_cases, with_herrings


def test_dev_cases_are_the_odd_numbered_folders_only(tmp_path: Path) -> None:
    for name in ("k8s-01-a", "k8s-02-b", "pm-33-c", "pm-40-d", "notes"):
        (tmp_path / name).mkdir()
    assert [p.name for p in dev_cases(tmp_path)] == ["k8s-01-a", "pm-33-c"]


def test_the_herring_is_one_deploy_appended_to_a_copy(tmp_path: Path) -> None:
    case = tmp_path / "cases" / "pm-01-x"
    case.mkdir(parents=True)
    (case / "events.jsonl").write_text('{"ts": "2026-01-01T10:00:00Z", "kind": "note", "service": "a", "text": "t"}')
    row = {"case": "pm-01-x", "herring": ("web", 1767261600.0)}  # 2026-01-01T10:00:00Z
    made = with_herrings([row], tmp_path / "cases", tmp_path / "out")
    lines = [json.loads(x) for x in (made[0] / "events.jsonl").read_text().splitlines() if x.strip()]
    assert lines[-1] == {"ts": "2026-01-01T10:00:00Z", "kind": "deploy", "service": "web", "text": "web 9.14.2 rolled out"}
    assert len(lines) == 2
    assert (case / "events.jsonl").read_text().count("\n") == 0  # the original is untouched


def test_classify_tells_a_missed_change_from_a_red_herring_taken() -> None:
    missed = {"truth": ("db", "config_change"), "top": [("db", "crash_loop", 0.5)], "changes": []}
    assert classify(missed) == (True, True, False)
    taken = {"truth": ("db", "db_down"), "top": [("web", "bad_deploy", 0.5)],
             "changes": [("web", "bad_deploy", 3.0, "web 2.0 rolled out")]}
    assert classify(taken) == (False, False, True)
