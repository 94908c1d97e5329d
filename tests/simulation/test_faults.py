"""The fault catalog's truths follow docs/causes.md's change rule: a change of a component followed within 30
minutes by its own failure with no mechanism named is the change's, so a fault whose truth is that generic failure
must not be drawn right after a change of the culprit."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.simulation import generate_bundle

CHANGE_KINDS = ("deploy", "config", "flag", "feature_flag")
GENERIC_FAILURES = ("crash_loop", "exception_surge")  # their evidence names no mechanism of their own


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _own_changes_before(bundle: Path, minutes: float) -> list[dict[str, str]]:
    truth = json.loads((bundle / "truth.json").read_text())
    onset = _ts(truth["fault_start"])
    events = bundle / "events.jsonl"
    rows = [json.loads(line) for line in events.read_text().splitlines()] if events.is_file() else []
    return [e for e in rows if e["service"] == truth["root_cause_service"] and e["kind"] in CHANGE_KINDS
            and onset - timedelta(minutes=minutes) <= _ts(e["ts"]) <= onset]


@pytest.mark.parametrize("kind", GENERIC_FAILURES)
def test_a_generic_failure_is_never_drawn_right_after_a_change_of_its_culprit(kind: str, tmp_path: Path) -> None:
    checked = 0
    for seed in range(8):
        for difficulty in ("easy", "normal", "hard"):
            bundle = generate_bundle(tmp_path / f"{seed}-{difficulty}", kind=kind, seed=seed, difficulty=difficulty,
                                     history=False)
            checked += (bundle / "events.jsonl").is_file()
            assert _own_changes_before(bundle, 30) == [], (kind, seed, difficulty)
    assert checked >= 12  # most bundles carry a change log (sparse ones do not)


def test_a_bad_deploy_is_drawn_right_after_its_culprit_s_rollout(tmp_path: Path) -> None:
    bundle = generate_bundle(tmp_path / "b", kind="bad_deploy", service="checkout", seed=3, history=False)
    assert [e["kind"] for e in _own_changes_before(bundle, 30)] == ["deploy"]
