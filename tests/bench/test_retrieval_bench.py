"""bench.retrieval names a missing or empty dataset folder instead of failing on a division by zero."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import retrieval


def test_a_missing_data_folder_is_a_usage_error_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(SystemExit) as exc:
        retrieval.main(["--only", "postmortems", "--data", str(missing)])
    assert exc.value.code == 2
    assert str(missing) in capsys.readouterr().err


def test_a_folder_without_postmortems_says_so(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        retrieval.main(["--only", "postmortems", "--data", str(tmp_path)])
    assert "no postmortems found" in str(exc.value.code)
