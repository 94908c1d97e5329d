"""The ranker's booster evaluated without scikit-learn.

``python -m bot.reasoning.train`` stores a fitted scikit-learn ``HistGradientBoostingClassifier``, pickled,
inside the model file. Predicting with it needs only its trees, but unpickling it imports scikit-learn and
SciPy (most of a second of every ``sherlog analyze``). ``read_booster`` reads the same bytes with an unpickler
that builds numpy arrays and inert placeholders and calls nothing else, takes the trees and the baseline out of
the placeholders, and ``BoostedTrees.decision_function`` walks them as scikit-learn does: the same
comparisons (``x <= threshold``, a missing value goes where the split says), the leaves added to the
baseline tree by tree in the same order, so the margins are bit-identical.

A pickle of any other shape (categorical splits, several trees per iteration, a fitted preprocessor,
another estimator, a corrupt file) is left to ``pickle.loads``, that is scikit-learn, as before. The
original bytes are kept, so saving a model that was read this way writes the file unchanged.
"""

from __future__ import annotations

import base64
import io
import logging
import pickle
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

_ESTIMATOR = "HistGradientBoostingClassifier"
_NODE_FIELDS = ("value", "feature_idx", "num_threshold", "missing_go_to_left", "left", "right", "is_leaf",
                "is_categorical")
# the only callables the reader lets a pickle reach: how numpy pickles an array and a scalar
_NUMPY = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "scalar"),
}


class UnsupportedBooster(ValueError):
    """The pickle is not a booster ``BoostedTrees`` can evaluate exactly (scikit-learn reads it instead)."""


class _Placeholder:
    """Stands for any class the pickle names: keeps the constructor arguments and the state, runs nothing."""

    pickled_as = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> _Placeholder:
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__["_args"] = args

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2 and (state[0] is None or isinstance(state[0], dict)):
            state = {**(state[0] or {}), **(state[1] if isinstance(state[1], dict) else {})}
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:
            self.__dict__["_state"] = state


class _InertUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file)
        self._placeholders: dict[tuple[str, str], type[_Placeholder]] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _NUMPY:
            return super().find_class(module, name)
        key = (module, name)
        if key not in self._placeholders:
            self._placeholders[key] = type(name, (_Placeholder,), {"pickled_as": f"{module}.{name}"})
        return self._placeholders[key]


@dataclass(frozen=True)
class BoostedTrees:
    """A binary gradient-boosted tree ensemble as flat node arrays (all trees in one, ``roots`` into it)."""

    baseline: float
    roots: npt.NDArray[np.intp]
    feature: npt.NDArray[np.intp]
    threshold: npt.NDArray[np.float64]
    missing_left: npt.NDArray[np.bool_]
    left: npt.NDArray[np.intp]
    right: npt.NDArray[np.intp]
    is_leaf: npt.NDArray[np.bool_]
    value: npt.NDArray[np.float64]
    depth: int
    n_features_in_: int
    source: str  # the base64 text it was read from (written back unchanged)

    def decision_function(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The raw margin per row, as ``HistGradientBoostingClassifier.decision_function``."""
        data = np.asarray(x, dtype=np.float64)
        if data.ndim != 2 or data.shape[1] != self.n_features_in_:
            raise ValueError(f"expected rows of {self.n_features_in_} features, got shape {data.shape}")
        n = data.shape[0]
        node = np.repeat(self.roots[:, None], n, axis=1)  # trees x rows
        rows = np.broadcast_to(np.arange(n), node.shape)
        for _ in range(self.depth + 1):
            leaf = self.is_leaf[node]
            if leaf.all():
                break
            values = data[rows, self.feature[node]]
            go_left = np.where(np.isnan(values), self.missing_left[node], values <= self.threshold[node])
            node = np.where(leaf, node, np.where(go_left, self.left[node], self.right[node]))
        leaves = self.value[node]
        out = np.zeros(n, dtype=np.float64)
        out += self.baseline
        for tree in leaves:  # tree by tree, as scikit-learn adds them: the same rounding
            out += tree
        return out

    @classmethod
    def from_pickle(cls, raw: bytes, *, source: str) -> BoostedTrees:
        """The trees of a pickled binary ``HistGradientBoostingClassifier`` (``UnsupportedBooster`` otherwise)."""
        try:
            est = _InertUnpickler(io.BytesIO(raw)).load()
        except Exception as e:  # noqa: BLE001 - whatever the bytes are, scikit-learn's reading decides
            raise UnsupportedBooster(f"unreadable without scikit-learn: {type(e).__name__}: {e}") from e
        if not isinstance(est, _Placeholder) or not est.pickled_as.startswith("sklearn.") \
                or not est.pickled_as.endswith("." + _ESTIMATOR):
            raise UnsupportedBooster(f"not a {_ESTIMATOR}: {getattr(est, 'pickled_as', type(est).__name__)}")
        state = est.__dict__
        if state.get("n_trees_per_iteration_") != 1:
            raise UnsupportedBooster("several trees per iteration (more than two classes)")
        if state.get("_preprocessor") is not None:
            raise UnsupportedBooster("a fitted preprocessor (categorical features)")
        n_features = state.get("n_features_in_")
        baseline = state.get("_baseline_prediction")
        if not isinstance(n_features, int) or not isinstance(baseline, np.ndarray) or baseline.shape != (1, 1) \
                or baseline.dtype != np.float64:
            raise UnsupportedBooster("no feature count or baseline of the expected shape")
        trees = [_nodes_of(iteration) for iteration in state.get("_predictors") or []]
        if not trees:
            raise UnsupportedBooster("no trees")
        return cls._flatten(trees, baseline=float(baseline[0, 0]), n_features=n_features, source=source)

    @classmethod
    def _flatten(cls, trees: list[np.ndarray], *, baseline: float, n_features: int, source: str) -> BoostedTrees:
        sizes = np.array([len(t) for t in trees], dtype=np.intp)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
        nodes = np.concatenate(trees)
        shift = np.repeat(offsets, sizes)
        is_leaf = nodes["is_leaf"].astype(bool)
        feature = np.where(is_leaf, 0, nodes["feature_idx"]).astype(np.intp)
        left = np.where(is_leaf, 0, nodes["left"]).astype(np.intp)
        right = np.where(is_leaf, 0, nodes["right"]).astype(np.intp)
        for tree, size in zip(trees, sizes, strict=True):
            inner = ~tree["is_leaf"].astype(bool)
            if ((tree["left"][inner] >= size) | (tree["right"][inner] >= size)).any():
                raise UnsupportedBooster("a split points outside its tree")
        if (feature < 0).any() or (feature >= n_features).any():
            raise UnsupportedBooster("a split on a feature the booster does not have")
        depth = max(int(t["depth"].max()) if "depth" in (t.dtype.names or ()) else len(t) for t in trees)
        return cls(
            baseline=baseline, roots=offsets, feature=feature,
            threshold=nodes["num_threshold"].astype(np.float64),
            missing_left=nodes["missing_go_to_left"].astype(bool),
            left=np.where(is_leaf, 0, left + shift), right=np.where(is_leaf, 0, right + shift),
            is_leaf=is_leaf, value=nodes["value"].astype(np.float64), depth=depth,
            n_features_in_=n_features, source=source,
        )


def _nodes_of(iteration: Any) -> np.ndarray:
    if not isinstance(iteration, list) or len(iteration) != 1 or not isinstance(iteration[0], _Placeholder):
        raise UnsupportedBooster("an iteration that is not one tree")
    nodes = iteration[0].__dict__.get("nodes")
    if not isinstance(nodes, np.ndarray) or nodes.ndim != 1 or not len(nodes) \
            or not set(_NODE_FIELDS) <= set(nodes.dtype.names or ()):
        raise UnsupportedBooster("a tree without the expected node records")
    if nodes["is_categorical"].any():
        raise UnsupportedBooster("categorical splits")
    return nodes


def read_booster(text: str) -> Any:
    """The booster stored as base64 ``text``: ``BoostedTrees`` when it can be evaluated exactly without
    scikit-learn, else the unpickled object (which imports scikit-learn)."""
    raw = base64.b64decode(text)
    try:
        return BoostedTrees.from_pickle(raw, source=text)
    except UnsupportedBooster as e:
        log.info("booster read by scikit-learn", extra={"reason": str(e)})
        return pickle.loads(raw)


def booster_text(booster: Any) -> str:
    """The base64 text a booster is stored as (a ``BoostedTrees`` gives back the text it was read from)."""
    if isinstance(booster, BoostedTrees):
        return booster.source
    return base64.b64encode(pickle.dumps(booster)).decode("ascii")
