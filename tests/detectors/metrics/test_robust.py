"""``robust.median`` is ``np.median`` to the bit (sign of zero, infinities and NaN included)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from detectors.metrics.robust import median


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def test_the_median_of_any_float_series_is_numpys() -> None:
    rng = np.random.default_rng(3)
    awkward = np.array([-0.0, 0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e308, -1e308, 5e-324, 0.1, 0.2, 0.3])
    for trial in range(20_000):
        n = int(rng.integers(1, 40))
        if trial % 3 == 0:
            x = rng.choice(awkward, size=n)
        elif trial % 3 == 1:
            x = rng.choice(awkward[:4], size=n)  # signed zeros and ones only: the zero median's sign
        else:
            x = np.round(rng.normal(size=n), int(rng.integers(0, 3)))
        with np.errstate(all="ignore"):
            assert _same(median(x), float(np.median(x))), x


@pytest.mark.parametrize("values", [[1, 2, 3, 4], np.array([3, 1, 2], dtype=np.int64), [0.5, -0.0, 2.5],
                                    np.array([1.5, 2.5], dtype=np.float32), [[1.0, 2.0], [3.0, 4.0]], (7.0,)])
def test_other_inputs_are_numpys_too(values: object) -> None:
    assert _same(median(values), float(np.median(values)))  # type: ignore[arg-type]


def test_an_empty_series_warns_and_is_nan_as_with_numpy() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert math.isnan(median(np.array([])))
    assert caught
