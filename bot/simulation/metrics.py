"""Metric generators: a normal baseline with daily/weekly seasonality and noise, then fault effects.

Series are one value a minute. Every component of a role gets the same metric set, whatever the fault,
so the presence of a file never hints at the culprit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from bot.simulation.faults import Effect
from bot.simulation.world import (
    APP,
    CACHE,
    DATABASE,
    DNS,
    EDGE,
    EXTERNAL,
    NODE,
    QUEUE,
    WORKER,
    Component,
    World,
)

_APP_METRICS = ("request_rate", "latency_p95_ms", "error_rate", "cpu_usage", "cpu_throttled_ratio", "memory_bytes",
                "restarts")
METRICS_BY_ROLE: dict[str, tuple[str, ...]] = {
    EDGE: _APP_METRICS,
    APP: _APP_METRICS,
    WORKER: _APP_METRICS,
    DATABASE: ("request_rate", "latency_p95_ms", "error_rate", "cpu_usage", "memory_bytes", "db_connections_in_use",
               "db_connections_max", "replication_lag_s", "disk_used_ratio", "disk_io_wait_ms", "restarts"),
    CACHE: ("request_rate", "latency_p95_ms", "error_rate", "cpu_usage", "memory_bytes", "disk_used_ratio",
            "disk_io_wait_ms", "restarts"),
    QUEUE: ("request_rate", "latency_p95_ms", "queue_depth", "cpu_usage", "memory_bytes", "disk_used_ratio",
            "disk_io_wait_ms", "restarts"),
    DNS: ("request_rate", "latency_p95_ms", "error_rate", "cpu_usage"),
    EXTERNAL: ("latency_p95_ms", "error_rate"),  # client-side / blackbox probe view
    NODE: ("cpu_usage", "memory_bytes", "disk_used_ratio", "disk_io_wait_ms", "tcp_retransmits"),
}
COUNTERS = {"restarts"}
RATIOS = {"error_rate", "cpu_throttled_ratio", "disk_used_ratio"}


def metrics_for(comp: Component) -> tuple[str, ...]:
    names = METRICS_BY_ROLE[comp.role]
    if comp.uses_db and comp.role in (EDGE, APP, WORKER):
        names = names + ("db_connections_in_use", "db_connections_max")
    return names


@dataclass
class Timeline:
    start: datetime
    minutes: int
    fault_at: int  # index of the first faulty minute
    alert_at: int

    def times(self) -> list[datetime]:
        return [self.start + timedelta(minutes=i) for i in range(self.minutes)]

    def at(self, index: float) -> datetime:
        return self.start + timedelta(minutes=index)


def seasonality(times: list[datetime], amplitude: float) -> np.ndarray:
    """Daily cycle peaking mid-afternoon UTC, quieter weekends."""
    out = np.empty(len(times))
    for i, ts in enumerate(times):
        hour = ts.hour + ts.minute / 60.0
        daily = 1.0 + amplitude * math.sin(2 * math.pi * (hour - 9.0) / 24.0)
        weekly = 0.85 if ts.weekday() >= 5 else 1.0
        out[i] = daily * weekly
    return out


def baseline(comp: Component, metric: str, times: list[datetime], rng: np.random.Generator,
             *, node_load: float = 0.4) -> np.ndarray:
    """A normal series for one metric of one component."""
    n = len(times)
    season = seasonality(times, 0.35)
    noise = rng.normal(0.0, 1.0, n)
    rps = comp.base_rps * season * (1 + 0.05 * noise)
    if metric == "request_rate":
        return np.maximum(rps, 0.0)
    if metric == "latency_p95_ms":
        jitter = rng.normal(0.0, 0.08, n)
        return comp.base_latency_ms * (1 + 0.12 * (season - 1)) * (1 + jitter)
    if metric == "error_rate":
        level = float(rng.uniform(0.0005, 0.004))
        return np.clip(level * (1 + rng.normal(0.0, 0.35, n)), 0.0, 1.0)
    if metric == "cpu_usage":
        if comp.role == NODE:
            return np.clip(node_load * season + rng.normal(0.0, 0.03, n), 0.02, 1.0)
        per_req = float(rng.uniform(0.002, 0.008))
        return np.maximum(0.05, comp.base_rps * per_req * season * (1 + rng.normal(0.0, 0.06, n)))
    if metric == "cpu_throttled_ratio":
        return np.clip(float(rng.uniform(0.005, 0.04)) + rng.normal(0.0, 0.005, n), 0.0, 1.0)
    if metric == "memory_bytes":
        base = float(rng.uniform(16e9, 48e9)) if comp.role == NODE else float(rng.uniform(3e8, 1.4e9))
        sawtooth = (np.arange(n) % int(rng.integers(9, 17))) / 16.0 * 0.06  # GC / cache churn
        return base * (1 + sawtooth + rng.normal(0.0, 0.005, n))
    if metric == "restarts":
        return np.full(n, float(rng.integers(0, 3)))
    if metric == "db_connections_max":
        return np.full(n, 200.0 if comp.role == DATABASE else 20.0)
    if metric == "db_connections_in_use":
        top = 200.0 if comp.role == DATABASE else 20.0
        level = top * float(rng.uniform(0.2, 0.45))
        return np.clip(np.round(level * season + rng.normal(0.0, top * 0.03, n)), 1, top)
    if metric == "replication_lag_s":
        return np.clip(float(rng.uniform(0.05, 0.6)) + rng.exponential(0.15, n), 0.0, None)
    if metric == "disk_used_ratio":
        start = float(rng.uniform(0.35, 0.72))
        return np.clip(start + np.arange(n) * float(rng.uniform(0.00002, 0.0002)) + rng.normal(0.0, 0.0005, n), 0, 1)
    if metric == "disk_io_wait_ms":
        return np.maximum(0.2, float(rng.uniform(1.0, 6.0)) * (1 + rng.normal(0.0, 0.15, n)))
    if metric == "queue_depth":
        return np.maximum(0.0, np.round(float(rng.uniform(5, 60)) * season * (1 + rng.normal(0.0, 0.3, n))))
    if metric == "tcp_retransmits":
        return np.maximum(0.0, float(rng.uniform(0.2, 3.0)) * (1 + rng.normal(0.0, 0.3, n)))
    raise KeyError(metric)


def profile(effect: Effect, timeline: Timeline, *, offset: float = 0.0) -> np.ndarray:
    """How strongly ``effect`` acts at each minute, 0..1."""
    n = timeline.minutes
    t = np.arange(n, dtype=float) - (timeline.fault_at + effect.delay + offset)
    p = np.zeros(n)
    if effect.shape == "ramp":
        span = max(1.0, float(n - 1) - (timeline.fault_at + effect.delay + offset))
        p = np.clip(t / span, 0.0, 1.0)
        p[t < 0] = 0.0
    elif effect.shape == "flap":
        on = ((np.floor(np.maximum(t, 0) / 3.0) % 2) == 0).astype(float)
        p = np.where(t >= 0, on, 0.0)
    elif effect.shape == "burst":
        p = np.where(t >= 0, np.where(t < 6, 1.0, 0.3), 0.0)
    else:
        ramp = max(effect.ramp, 0.01)
        p = np.clip((t + 1) / ramp, 0.0, 1.0)
        p[t < 0] = 0.0
    return p


def apply(series: np.ndarray, effect: Effect, p: np.ndarray, *, severity: float,
          reference: np.ndarray | None = None, rng: np.random.Generator | None = None) -> np.ndarray:
    out = series.copy()
    if effect.op == "mul":
        scale = severity if effect.value >= 1 else min(severity, 1.0)
        out = out * (1 + (effect.value - 1) * p * scale)
    elif effect.op == "add":
        out = out + effect.value * p * severity
    elif effect.op == "set":
        out = out * (1 - p) + effect.value * p
    elif effect.op == "pool_full":
        top = reference if reference is not None else np.full_like(out, 20.0)
        wobble = rng.integers(0, 2, len(out)) if rng is not None else 0
        out = np.where(p > 0, np.round(out * (1 - p) + (top - wobble * (p >= 1)) * p), out)
    elif effect.op == "gap":
        out = np.where(p > 0, np.nan, out)
    elif effect.op == "counter":
        t = np.arange(len(out), dtype=float)
        first = int(np.argmax(p > 0)) if (p > 0).any() else len(out)
        steps = np.where(t >= first, np.floor((t - first) / max(effect.ramp, 0.5)) + 1, 0)
        out = out + steps * effect.value
    return out


def finish(metric: str, series: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.clip(series, 0.0, 1.0) if metric in RATIOS else np.where(
        np.isnan(series), series, np.maximum(series, 0.0))
    return out


def fmt_value(metric: str, value: float) -> str:
    if metric in COUNTERS or metric in ("db_connections_in_use", "db_connections_max", "queue_depth",
                                        "replicas_available"):
        return str(int(round(value)))
    if metric == "memory_bytes":
        return str(int(value))
    if metric in RATIOS or metric == "cpu_usage":
        return f"{value:.4f}"
    return f"{value:.2f}"


def world_metric_plan(world: World) -> list[tuple[str, str]]:
    """Every (component, metric) the world exposes, nodes included."""
    plan = [(name, m) for name in sorted(world.components) for m in metrics_for(world.components[name])]
    node_comp = Component("node", NODE, "node")
    plan += [(node, m) for node in world.nodes for m in metrics_for(node_comp)]
    return plan
