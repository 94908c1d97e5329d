"""Datasets: deterministic, balanced over kinds, and train/test never share a (kind, world, service) family,
in one dataset or across datasets of other seeds."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bot.domain.errors import InputError
from bot.domain.vocabulary import ALL_KINDS
from bot.simulation import generate_dataset, validate_bundle
from bot.simulation.dataset import plan_dataset, read_manifest


def test_splits_never_share_a_scenario_and_parameters() -> None:
    cases = plan_dataset(n=1000, seed=5, test_fraction=0.3)
    train = {c.group for c in cases if c.split == "train"}
    test = {c.group for c in cases if c.split == "test"}
    assert train and test and not train & test
    assert 0.25 < sum(c.split == "test" for c in cases) / len(cases) < 0.35
    per_kind = Counter(c.kind for c in cases)
    assert set(per_kind) == set(ALL_KINDS) and max(per_kind.values()) - min(per_kind.values()) <= 1
    test_kinds = {c.kind for c in cases if c.split == "test"}
    assert test_kinds == set(ALL_KINDS), "every kind is evaluated"
    assert len({(c.group, c.seed) for c in cases}) == len(cases)


def test_a_family_is_held_out_whole_and_for_every_seed() -> None:
    # a model trained on one dataset is evaluated on another seed's test split (bench.simulated_eval): no test
    # family (any difficulty of it) may be in that training split
    train = {c.family for seed in (0, 7, 11) for c in plan_dataset(n=800, seed=seed, test_fraction=0.3)
             if c.split == "train"}
    for seed in (5, 2026):
        test = [c for c in plan_dataset(n=800, seed=seed, test_fraction=0.3) if c.split == "test"]
        assert test and not {c.family for c in test} & train
    # a smaller test fraction holds out a subset of the families a larger one holds out
    small = {c.family for c in plan_dataset(n=800, seed=3, test_fraction=0.2) if c.split == "test"}
    large_train = {c.family for c in plan_dataset(n=800, seed=4, test_fraction=0.4) if c.split == "train"}
    assert small and not small & large_train


def test_plan_is_deterministic_for_a_seed() -> None:
    assert plan_dataset(n=200, seed=1) == plan_dataset(n=200, seed=1)
    assert plan_dataset(n=200, seed=1) != plan_dataset(n=200, seed=2)


def test_bad_fraction_or_kind_is_an_input_error() -> None:
    with pytest.raises(InputError):
        plan_dataset(n=10, seed=1, test_fraction=1.0)
    with pytest.raises(InputError, match="unknown kinds"):
        plan_dataset(n=10, seed=1, kinds=("gremlins",))


def test_generate_dataset_writes_valid_bundles_with_opaque_names(tmp_path: Path) -> None:
    root = generate_dataset(tmp_path / "ds", n=6, seed=3, test_fraction=0.5)
    cases = read_manifest(root)
    assert len(cases) == 6
    for case in cases:
        path = root / case.split / case.name
        assert case.name.startswith("case-") and case.kind not in case.name
        assert validate_bundle(path) == []
        truth = json.loads((path / "truth.json").read_text())
        assert (truth["root_cause_kind"], truth["root_cause_service"]) == (case.kind, case.service)
    assert sorted(p.name for p in (root / "train").iterdir()) + sorted(p.name for p in (root / "test").iterdir())
