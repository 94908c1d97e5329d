"""Speed of metric scoring: series per second on one core (one process, one thread).

Run from the project root::

    .venv/bin/python -m bench.metric_speed                  # 10,000 series x 1,440 points
    .venv/bin/python -m bench.metric_speed --series 500     # quick

Three scorers over the same synthetic series (noise, daily swing, steps, spikes, gaps), generated
in batches so memory stays small:

- ``baseline``: a windowed-Gaussian z-score (NAB's simplest baseline), vectorised with cumulative
  sums; it sets the reference speed.
- ``online``: Sherlog's causal online detector (``detectors.metrics.online.score_series``) in its
  default configuration (``OnlineParams.default()``, the one measured on NAB: value and context
  detectors), as ``sherlog metrics score`` runs it;
- ``online_gated``: the same detector with ``--profile gated`` (value detector only, magnitude gate);
- ``signals``: the pipeline path, ``detect_metric_signals`` on batches of 50 ``MetricSeries``
  (domain objects in, Signals out), as an analysis calls it.

Figures are series/s and the ratio to the baseline measured in the same process. The last stdout
line is a JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np

from bot.domain.models import MetricSeries
from detectors.metrics import detect_metric_signals
from detectors.metrics.online import OnlineParams, score_series

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def batches(n_series: int, points: int, batch: int, seed: int) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.arange(points)
    done = 0
    while done < n_series:
        m = min(batch, n_series - done)
        level = rng.uniform(1, 1000, (m, 1))
        y = level * (1 + 0.2 * np.sin(2 * np.pi * x / points + rng.uniform(0, 6.3, (m, 1))))
        y += rng.normal(0, 1, (m, points)) * level * 0.02
        steps = rng.random(m) < 0.3
        at = rng.integers(points // 2, points - 10, m)
        for i in np.nonzero(steps)[0]:
            y[i, at[i] :] += level[i, 0] * 0.5
        spikes = rng.integers(0, points, (m, 3))
        np.put_along_axis(y, spikes, np.take_along_axis(y, spikes, 1) * 3, 1)
        gaps = rng.random((m, points)) < 0.005
        y[gaps] = np.nan
        yield y
        done += m


def windowed_gaussian(y: np.ndarray, window: int = 288) -> np.ndarray:
    """z of each point against the mean/std of the ``window`` points before it (NaN-free input)."""
    c1 = np.concatenate(([0.0], np.cumsum(y)))
    c2 = np.concatenate(([0.0], np.cumsum(y * y)))
    idx = np.arange(y.size)
    lo = np.maximum(0, idx - window)
    cnt = np.maximum(idx - lo, 1)
    mean = (c1[idx] - c1[lo]) / cnt
    var = np.maximum((c2[idx] - c2[lo]) / cnt - mean * mean, 1e-12)
    z = np.abs(y - mean) / np.sqrt(var)
    z[:10] = 0.0
    return 1.0 - np.exp(-0.5 * z * z)


def run(n_series: int, points: int, seed: int) -> dict[str, float]:
    ts = np.arange(points) * 60.0
    stamps = [T0 + timedelta(minutes=i) for i in range(points)]
    timings = {"baseline": 0.0, "online": 0.0, "online_gated": 0.0, "signals": 0.0}
    gated = OnlineParams.gated()
    flagged = 0
    for y in batches(n_series, points, 50, seed):
        filled = np.where(np.isnan(y), np.nanmedian(y, axis=1, keepdims=True), y)
        t = time.process_time()
        for row in filled:
            windowed_gaussian(row)
        timings["baseline"] += time.process_time() - t
        t = time.process_time()
        for row in y:
            score_series(row, timestamps=ts)
        timings["online"] += time.process_time() - t
        t = time.process_time()
        for row in y:
            score_series(row, timestamps=ts, params=gated)
        timings["online_gated"] += time.process_time() - t
        series = [
            MetricSeries(service=f"svc{i}", metric="latency_p95_ms", timestamps=stamps, values=row.tolist())
            for i, row in enumerate(y)
        ]
        t = time.process_time()
        flagged += len(detect_metric_signals(series, alert_time=stamps[-1]))
        timings["signals"] += time.process_time() - t
    out = {name: n_series / max(sec, 1e-9) for name, sec in timings.items()}
    out["flagged_share"] = flagged / n_series
    out.update({f"{k}_seconds": v for k, v in timings.items()})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=10_000)
    ap.add_argument("--points", type=int, default=1_440)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    from rich.console import Console
    from rich.table import Table

    res = run(args.series, args.points, args.seed)
    console = Console(file=sys.stdout, width=110)
    t = Table(
        title=f"Metric scoring speed: {args.series:,} series x {args.points:,} points, one core (CPU time)"
    )
    for col in ("scorer", "seconds", "series/s", "points/s", "vs baseline"):
        t.add_column(col)
    for name in ("baseline", "online", "online_gated", "signals"):
        rate = res[name]
        t.add_row(
            name,
            f"{res[name + '_seconds']:.2f}",
            f"{rate:,.0f}",
            f"{rate * args.points:,.0f}",
            f"{rate / res['baseline']:.2f}x",
        )
    console.print(t)
    console.print(f"series flagged by detect_metric_signals: {res['flagged_share']:.1%} (30% carry a step)")
    print(
        json.dumps(
            {
                "series": args.series,
                "points": args.points,
                "online_series_per_s": round(res["online"]),
                "online_gated_series_per_s": round(res["online_gated"]),
                "signals_series_per_s": round(res["signals"]),
                "baseline_series_per_s": round(res["baseline"]),
                "online_vs_baseline": round(res["online"] / res["baseline"], 3),
                "signals_vs_baseline": round(res["signals"] / res["baseline"], 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
