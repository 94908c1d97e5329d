import pytest
from scipy import stats as scipy_stats

from detectors.logs.stats import binom_cdf, binom_sf, proportion_increase_p, rate_increase_p, significance


@pytest.mark.parametrize(("k", "n", "q"), [(3, 10, 0.2), (0, 5, 0.5), (40, 100, 0.3), (1, 1, 0.5), (90, 3000, 0.02)])
def test_binomial_tails_match_scipy(k: int, n: int, q: float) -> None:
    assert binom_sf(k, n, q) == pytest.approx(scipy_stats.binom.sf(k - 1, n, q), rel=2e-2, abs=1e-9)
    assert binom_cdf(k, n, q) == pytest.approx(scipy_stats.binom.cdf(k, n, q), rel=2e-2, abs=1e-9)


def test_rate_increase_needs_evidence() -> None:
    assert rate_increase_p(10, 11, 100.0, 100.0) > 0.3
    assert rate_increase_p(10, 60, 100.0, 100.0) < 1e-6
    # the same counts in a much longer current window are no surge
    assert rate_increase_p(10, 60, 100.0, 1000.0) > 0.5


def test_proportion_and_significance() -> None:
    assert proportion_increase_p(10, 1000, 80, 1000) < 1e-8
    assert significance(0.5) == 0.0
    assert significance(1e-12) == 1.0
    assert significance(1e-4, tests=1000) < significance(1e-4)
