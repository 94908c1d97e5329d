"""The booster read without scikit-learn gives scikit-learn's margins exactly, or scikit-learn reads it."""

from __future__ import annotations

import base64
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from bot.reasoning.scorer import DEFAULT_MODEL_PATH, RankerModel
from bot.reasoning.trees import BoostedTrees, UnsupportedBooster, booster_text, read_booster

ROOT = Path(__file__).resolve().parents[2]
CALLS: list[str] = []


def _rows(n: int, features: int, seed: int, *, infinite: bool = True) -> np.ndarray:
    """Candidate-like rows: mostly zeros, a few large values, missing values (and infinities)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)) * rng.choice([0.0, 1.0, 5.0], size=(n, features))
    x[rng.random(x.shape) < 0.05] = np.nan
    if infinite:
        x[rng.random(x.shape) < 0.01] = np.inf
        x[rng.random(x.shape) < 0.01] = -np.inf
    return x


def _fitted(**params: object) -> tuple[HistGradientBoostingClassifier, np.ndarray]:
    x = _rows(600, 6, seed=1, infinite=False)
    x[:, 5] = np.random.default_rng(2).integers(0, 4, size=len(x))  # a small integer column
    y = ((np.nan_to_num(x[:, 0]) + (x[:, 5] == 2)) > 0.4).astype(int)
    params = {"max_iter": 40, "max_leaf_nodes": 15, "random_state": 0, "early_stopping": False, **params}
    return HistGradientBoostingClassifier(**params).fit(x, y), x  # type: ignore[arg-type]


def _text(booster: object) -> str:
    return base64.b64encode(pickle.dumps(booster)).decode("ascii")


def test_margins_equal_scikit_learn_bit_for_bit_with_missing_values() -> None:
    booster, _ = _fitted()
    trees = read_booster(_text(booster))
    assert isinstance(trees, BoostedTrees)
    rows = _rows(2000, 6, seed=3)
    assert np.array_equal(trees.decision_function(rows), booster.decision_function(rows))
    assert trees.decision_function(np.zeros((0, 6))).shape == (0,)
    with pytest.raises(ValueError, match="6 features"):
        trees.decision_function(np.zeros((2, 5)))


def test_the_shipped_model_is_read_without_scikit_learn_and_saved_unchanged() -> None:
    data = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    model = RankerModel.from_dict(data)
    assert isinstance(model.booster, BoostedTrees)
    reference = pickle.loads(base64.b64decode(data["booster"]))
    rows = _rows(3000, len(model.booster_features), seed=4)
    assert np.array_equal(model.booster.decision_function(rows), reference.decision_function(rows))
    assert model.to_dict()["booster"] == data["booster"]  # what train.py wrote, byte for byte
    assert model.copy().booster is model.booster


def test_categorical_splits_are_left_to_scikit_learn() -> None:
    booster, x = _fitted(categorical_features=[5])
    text = _text(booster)
    with pytest.raises(UnsupportedBooster, match="categorical features"):
        BoostedTrees.from_pickle(base64.b64decode(text), source=text)
    again = read_booster(text)
    assert isinstance(again, HistGradientBoostingClassifier)
    assert np.array_equal(again.decision_function(x), booster.decision_function(x))
    assert booster_text(again) == _text(again)


def _record(what: str) -> None:
    CALLS.append(what)


class _Callback:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (_record, ("called",))


def test_the_reader_calls_nothing_a_pickle_names() -> None:
    raw = pickle.dumps({"booster": _Callback()})
    with pytest.raises(UnsupportedBooster, match="not a HistGradientBoostingClassifier"):
        BoostedTrees.from_pickle(raw, source="")
    assert CALLS == []
    with pytest.raises(UnsupportedBooster, match="unreadable"):
        BoostedTrees.from_pickle(b"\x80\x04not a pickle", source="")


def test_scoring_with_the_shipped_model_does_not_import_scikit_learn() -> None:
    probe = (
        "import sys\n"
        "from bot.reasoning.scorer import default_model\n"
        "model = default_model()\n"
        "model.confidences([{'direct_score': 1.0}, {'decisive_score': 0.5}])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy', 'pandas'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.strip() == "[]", out.stderr
