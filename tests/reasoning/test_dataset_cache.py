"""The cached ranker inputs are reused only when the detector code that made them is unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from bot.reasoning import dataset


def test_cache_lines_from_other_detector_code_are_dropped(tmp_path: Path) -> None:
    current = dataset._inputs_fingerprint()
    cache = tmp_path / ".reasoning-cache.jsonl"
    cache.write_text(
        json.dumps({"v": 1, "name": "stale"}) + "\n" + json.dumps({"v": current, "name": "fresh"}) + "\n",
        encoding="utf-8",
    )
    assert list(dataset.iter_cases(tmp_path)) == []  # no bundle folders: nothing to yield
    kept = [json.loads(line)["name"] for line in cache.read_text(encoding="utf-8").splitlines()]
    assert kept == ["fresh"]


def test_fingerprint_names_the_cache_format_and_changes_with_it() -> None:
    value = dataset._inputs_fingerprint()
    version, digest = value.split(":")
    assert version == str(dataset.CACHE_VERSION)
    assert len(digest) == 16 and digest != "0" * 16
