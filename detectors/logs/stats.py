"""Significance tests for count comparisons, in pure Python (fast to import, no SciPy needed).

Two windows observe a template ``b`` and ``c`` times with exposures ``eb`` and ``ec`` (seconds, or
lines when there are no timestamps). Under "same rate", ``c`` given ``n = b + c`` is Binomial(n, q)
with ``q = ec / (eb + ec)``: the exact conditional test for two Poisson rates.
"""

from __future__ import annotations

import math


def _log_binom_pmf(k: int, n: int, q: float) -> float:
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * math.log(q) + (n - k) * math.log1p(-q))


def _tail_up(k: int, n: int, q: float) -> float:
    """sum_{i >= k} pmf(i), for k above the mean (terms shrink as i grows)."""
    total = 0.0
    term = math.exp(_log_binom_pmf(k, n, q))
    ratio_q = q / (1 - q)
    for i in range(k, n + 1):
        total += term
        if term <= total * 1e-13:
            break
        term *= (n - i) / (i + 1) * ratio_q
    return total


def _tail_down(k: int, n: int, q: float) -> float:
    """sum_{i <= k} pmf(i), for k below the mean (terms shrink as i falls)."""
    total = 0.0
    term = math.exp(_log_binom_pmf(k, n, q))
    ratio_q = (1 - q) / q
    for i in range(k, -1, -1):
        total += term
        if term <= total * 1e-13 or i == 0:
            break
        term *= i / (n - i + 1) * ratio_q
    return total


def binom_sf(k: int, n: int, q: float) -> float:
    """P(X >= k) for X ~ Binomial(n, q)."""
    if k <= 0:
        return 1.0
    if k > n or q <= 0.0:
        return 0.0
    if q >= 1.0:
        return 1.0
    if k >= n * q:
        return min(1.0, _tail_up(k, n, q))
    return max(0.0, 1.0 - _tail_down(k - 1, n, q))


def binom_cdf(k: int, n: int, q: float) -> float:
    """P(X <= k) for X ~ Binomial(n, q)."""
    if k >= n:
        return 1.0
    if k < 0:
        return 0.0
    return binom_sf(n - k, n, 1.0 - q)


def rate_increase_p(b: int, c: int, eb: float, ec: float) -> float:
    """p-value that the current rate ``c/ec`` exceeds the baseline rate ``b/eb`` by chance."""
    if c <= 0 or eb <= 0 or ec <= 0:
        return 1.0
    q = ec / (eb + ec)
    return binom_sf(c, b + c, q)


def rate_decrease_p(b: int, c: int, eb: float, ec: float) -> float:
    """p-value that the current rate is below the baseline rate by chance."""
    if b <= 0 or eb <= 0 or ec <= 0:
        return 1.0
    q = ec / (eb + ec)
    return binom_cdf(c, b + c, q)


def proportion_increase_p(xb: int, nb: int, xc: int, nc: int) -> float:
    """One-sided two-proportion z-test p-value that ``xc/nc`` exceeds ``xb/nb``."""
    if nb <= 0 or nc <= 0:
        return 1.0
    p_pool = (xb + xc) / (nb + nc)
    if p_pool <= 0.0 or p_pool >= 1.0:
        return 1.0
    se = math.sqrt(p_pool * (1 - p_pool) * (1 / nb + 1 / nc))
    z = (xc / nc - xb / nb) / se
    return 0.5 * math.erfc(z / math.sqrt(2))


def significance(p: float, *, tests: int = 1) -> float:
    """A score in [0, 1] from a p-value, Bonferroni-adjusted for ``tests``: 0 at p_adj >= 0.05, 1 at <= 1e-8."""
    p_adj = min(1.0, max(p, 1e-300) * max(1, tests))
    if p_adj >= 0.05:
        return 0.0
    return min(1.0, (-math.log10(p_adj) - 1.30103) / (8 - 1.30103))
