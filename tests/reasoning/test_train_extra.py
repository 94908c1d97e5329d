"""The trainer's extra labelled bundles (--extra DIR --extra-weight W): which bundles are taken, and their weight."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bot.domain import GroundTruth, InputError
from bot.reasoning.dataset import LabelledCase, load_bundles
from bot.reasoning.ranker import rank
from bot.reasoning.scorer import RankerModel
from bot.reasoning.train import extra_bundles, fit_model, main

from .factories import context, signal


def _bundle(root: Path, name: str, split: str | None) -> Path:
    path = root / name
    path.mkdir(parents=True)
    (path / "alert.json").write_text(json.dumps({"labels": {"alertname": "HighLatency"}}), encoding="utf-8")
    truth: dict[str, object] = {"category": "database", "root_cause_service": "db", "root_cause_kind": "disk_full"}
    if split is not None:
        truth["split"] = split
    (path / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    return path


def test_of_a_split_folder_only_dev_bundles_are_taken_and_the_test_ones_counted(tmp_path: Path) -> None:
    dev = [_bundle(tmp_path, "svc-01-a", "dev"), _bundle(tmp_path, "svc-03-b", "dev")]
    _bundle(tmp_path, "svc-02-c", "test")
    (tmp_path / "notes").mkdir()  # no bundle
    taken, left_out = extra_bundles(tmp_path)
    assert sorted(taken) == sorted(dev) and left_out == 1


def test_an_unsplit_folder_gives_every_labelled_bundle(tmp_path: Path) -> None:
    made = [_bundle(tmp_path, "b1", None), _bundle(tmp_path, "b2", None)]
    unlabelled = tmp_path / "b3"
    unlabelled.mkdir()
    (unlabelled / "alert.json").write_text("{}", encoding="utf-8")
    assert extra_bundles(tmp_path) == (made, 0)


def test_bad_extra_folders_are_refused_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder"):
        extra_bundles(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no labelled bundle"):
        extra_bundles(tmp_path / "empty")
    test_case = _bundle(tmp_path / "one", "svc-02-x", "test")
    with pytest.raises(InputError, match="is a test case"):
        extra_bundles(test_case)
    _bundle(tmp_path / "only-test", "svc-04-y", "test")
    with pytest.raises(InputError, match="no dev case"):
        extra_bundles(tmp_path / "only-test")


def test_a_dev_case_named_alone_is_taken(tmp_path: Path) -> None:
    case = _bundle(tmp_path, "svc-05-z", "dev")
    assert extra_bundles(case) == ([case], 0)


def test_the_command_line_stops_on_a_test_case_or_a_bad_weight_before_reading_any_data(tmp_path: Path) -> None:
    test_case = _bundle(tmp_path / "cases", "svc-02-x", "test")
    with pytest.raises(SystemExit, match="is a test case"):
        main(["--data", str(tmp_path / "nowhere"), "--extra", str(test_case)])
    _bundle(tmp_path / "cases", "svc-01-w", "dev")
    with pytest.raises(SystemExit, match="positive number"):
        main(["--data", str(tmp_path / "nowhere"), "--extra", str(tmp_path / "cases"), "--extra-weight", "0"])


def test_extra_bundles_are_read_from_the_cache_given_and_nothing_is_written_beside_them(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path / "cases", "svc-01-w", "dev")
    case = _cases(1, 9, truth_on_caller=False)[0]
    case.context.events = []
    case.name = str(bundle.resolve())
    cache = tmp_path / "cache.jsonl"
    cache.write_text(case.to_json() + "\n", encoding="utf-8")
    got = load_bundles([bundle], cache=cache)
    assert [c.name for c in got] == [str(bundle.resolve())] and got[0].truth == case.truth
    assert sorted(p.name for p in bundle.iterdir()) == ["alert.json", "truth.json"]


def _cases(n: int, seed: int, *, truth_on_caller: bool) -> list[LabelledCase]:
    """One shape of evidence (a dependency's metric first, a caller's log later); the truth is the dependency
    (as the simulator's bundles say) or the caller's logged kind (as another source of bundles says)."""
    rng = random.Random(seed)
    kinds = ["db_slow_query", "cpu_saturation", "memory_leak", "disk_full"]
    out = []
    for i in range(n):
        kind = rng.choice(kinds)
        decoy = rng.choice([k for k in kinds if k != kind])
        sigs = [signal("metrics", "db", kind, rng.uniform(0.6, 1.0), rng.uniform(0, 3)),
                signal("logs", "checkout", decoy, rng.uniform(0.6, 1.0), rng.uniform(4, 8))]
        truth = ("checkout", decoy) if truth_on_caller else ("db", kind)
        out.append(LabelledCase(name=f"{'x' if truth_on_caller else 's'}{seed}-{i}", context=context(),
                                signals=sigs, similar=[], runbooks=[],
                                truth=GroundTruth(category="database", root_cause_service=truth[0],
                                                  root_cause_kind=truth[1])))
    return out


def _top_services(model: RankerModel, cases: list[LabelledCase]) -> list[str]:
    model.evidence_weights = {}  # the learned part alone: the fixed rule weights learn nothing
    return [rank(context=c.context, signals=c.signals, similar=c.similar, runbooks=c.runbooks,
                 model=model).hypotheses[0].service for c in cases]


def test_the_extra_weight_sets_how_much_the_extra_bundles_count() -> None:
    simulated = _cases(30, 1, truth_on_caller=False)
    other = _cases(30, 2, truth_on_caller=True)
    held_out = _cases(10, 3, truth_on_caller=True)
    alone = fit_model(simulated, folds=3)
    light = fit_model(simulated, folds=3, extra=other, extra_weight=0.1)
    heavy = fit_model(simulated, folds=3, extra=other, extra_weight=10.0)
    assert _top_services(alone, held_out) == ["db"] * 10
    assert _top_services(light, held_out) == ["db"] * 10
    assert _top_services(heavy, held_out) == ["checkout"] * 10
    assert heavy.meta["extra_bundles"] == 30 and heavy.meta["extra_weight"] == 10.0
    assert heavy.meta["bundles"] == 30 and "extra_bundles" not in alone.meta
    with pytest.raises(InputError, match="positive number"):
        fit_model(simulated, folds=3, extra=other, extra_weight=-1.0)
