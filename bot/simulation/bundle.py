"""Write a scenario as an evidence bundle (ARCHITECTURE.md "Evidence bundles")."""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
from pathlib import Path
from typing import Any

from bot.domain.vocabulary import ALL_KINDS
from bot.simulation.alerts import AlertFacts, payload
from bot.simulation.evidence import EvidenceWriter
from bot.simulation.faults import CATALOG
from bot.simulation.field import apply_field
from bot.simulation.history import human, write_history
from bot.simulation.logs import iso
from bot.simulation.metrics import fmt_value
from bot.simulation.scenario import Scenario, build_scenario, candidates

log = logging.getLogger(__name__)

_THRESHOLDS = {"latency_p95_ms": ("p95 latency", "ms"), "error_rate": ("error ratio", ""),
               "request_rate": ("request rate", "req/s"), "queue_depth": ("queue depth", "messages")}
_EXPR = {"latency_p95_ms": 'histogram_quantile(0.95, sum by (le) (rate(http_server_duration_ms_bucket{{service="{s}"}}[5m])))',
         "error_rate": 'sum(rate(http_requests_total{{service="{s}",code=~"5.."}}[5m])) / sum(rate(http_requests_total{{service="{s}"}}[5m]))',
         "request_rate": 'sum(rate(http_requests_total{{service="{s}"}}[5m]))',
         "queue_depth": 'sum(rabbitmq_queue_messages_ready{{service="{s}"}})'}


def alert_facts(scn: Scenario) -> list[AlertFacts]:
    """The firing alert (plus, at 'hard', a flapping one elsewhere)."""
    tl = scn.timeline
    svc, metric = scn.alert_service, scn.alert_metric
    series = scn.series.get((svc, metric))
    if series is None:  # no such series (an external culprit at 'easy'): fall back to its error ratio
        metric = "error_rate" if (svc, "error_rate") in scn.series else "cpu_usage"
        series = scn.series[(svc, metric)]
    window = [float(v) for v in series[max(0, tl.alert_at - 1): tl.alert_at + 1] if not math.isnan(float(v))]
    value = sum(window) / len(window) if window else 0.0
    base = [float(v) for v in series[: tl.fault_at - 5] if not math.isnan(float(v))]
    normal = sum(base) / len(base) if base else 0.0
    threshold = _threshold(metric, normal, value)
    what, unit = _THRESHOLDS.get(metric, (metric.replace("_", " "), ""))
    shown = f"{value:.1%}" if metric == "error_rate" else f"{value:.4g}{(' ' + unit) if unit else ''}"
    limit = f"{threshold:.0%}" if metric == "error_rate" else f"{threshold:.4g}{(' ' + unit) if unit else ''}"
    is_node = svc in scn.world.nodes
    severity = "critical" if metric in ("error_rate",) or scn.alert_name != "HighLatencyP95" else "warning"
    expr = _EXPR.get(metric, metric + '{{service="{s}"}}').format(s=svc) + f" > {threshold:.4g}"
    facts = [AlertFacts(
        name=scn.alert_name, service=svc, severity=severity,
        summary=f"{what.capitalize()} of {svc} is {shown}",
        description=f"{what.capitalize()} of {'node' if is_node else 'service'} {svc} has been above {limit} for "
                    f"more than 2 minutes (current value {shown}).",
        starts_at=tl.at(tl.alert_at), metric=metric, value=value, threshold=threshold, expr=expr,
        labels={"node": svc} if is_node else {"team": "platform" if svc == scn.world.edge else "product"},
        runbook_url=f"https://runbooks.example.com/{scn.alert_name.lower()}")]
    if scn.flapping:
        facts.append(AlertFacts(
            name="HighLatencyP95", service=scn.flapping, severity="warning",
            summary=f"P95 latency of {scn.flapping} is above 500 ms",
            description=f"P95 latency of service {scn.flapping} has been above 500 ms for more than 2 minutes.",
            starts_at=tl.at(tl.alert_at - scn.rng.uniform(1, 4)), metric="latency_p95_ms", value=520.0,
            threshold=500.0, expr=_EXPR["latency_p95_ms"].format(s=scn.flapping) + " > 500",
            labels={"team": "product"}))
    return facts


def _threshold(metric: str, normal: float, value: float) -> float:
    if metric == "error_rate":
        limit = 0.05
    elif metric == "latency_p95_ms":
        limit = round(max(2.0 * normal, 100.0), -1)
    elif metric == "request_rate" and value < normal:
        return round(normal * 0.5, 1)
    else:
        limit = 2.0 * normal if normal > 0 else 1.0
    return limit if value > limit else max(value * 0.8, 1e-4)


def truth(scn: Scenario) -> dict[str, Any]:
    return {"category": scn.category, "root_cause_service": scn.culprit, "root_cause_kind": scn.kind,
            "keywords": list(CATALOG[scn.kind].keywords),
            "scenario": scn.kind, "params": scn.params, "seed": scn.seed, "difficulty": scn.difficulty,
            "vendor": scn.vendor, "alert_service": scn.alert_service, "world": scn.world.name,
            "fault_start": iso(scn.timeline.at(scn.timeline.fault_at)),
            "secondary": scn.secondary, "red_herrings": [
                {"type": h["type"], "service": h["service"]} for h in scn.herrings]}


def write_bundle(scn: Scenario, out_dir: Path, *, history: bool = True) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    for sub in ("logs", "metrics", "history", "kubernetes"):
        if (out_dir / sub).is_dir():
            shutil.rmtree(out_dir / sub)
    for name in ("events.jsonl", "topology.json"):
        (out_dir / name).unlink(missing_ok=True)
    ev = EvidenceWriter(scn)
    facts = alert_facts(scn)
    timed = ev.timed_logs()
    field = apply_field(scn, ev, timed, ev.events(), facts)
    scn.vendor, scn.alert_service = field.vendor, field.alert_service
    (out_dir / "alert.json").write_text(json.dumps(payload(scn.vendor, field.facts), indent=2) + "\n",
                                        encoding="utf-8")
    if field.kube_files:
        kube_dir = out_dir / "kubernetes"
        kube_dir.mkdir()
        for name, text in sorted(field.kube_files.items()):
            (kube_dir / name).write_text(text, encoding="utf-8")
    if not field.plan.sparse:
        _write_logs_metrics_events(scn, out_dir, field.logs, field.events)
    if history:
        _write_bundle_history(scn, out_dir / "history")
    (out_dir / "truth.json").write_text(json.dumps({**truth(scn), "field": field.plan.summary()}, indent=2) + "\n",
                                        encoding="utf-8")
    log.debug("bundle written", extra={"path": str(out_dir), "kind": scn.kind})
    return out_dir


def _write_logs_metrics_events(scn: Scenario, out_dir: Path, logs: dict[str, list[str]],
                               events: list[dict[str, str]]) -> None:
    logs_dir = out_dir / "logs"
    logs_dir.mkdir()
    for name, lines in logs.items():
        (logs_dir / f"{name}.log").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    metrics_dir = out_dir / "metrics"
    metrics_dir.mkdir()
    times = [iso(t, 0) for t in scn.timeline.times()]
    dropped = set(scn.dropped_metrics)
    for (name, metric), values in sorted(scn.series.items()):
        if (name, metric) in dropped:
            continue
        rows = ["timestamp,value"] + [f"{t},{fmt_value(metric, float(v))}" for t, v in zip(times, values, strict=False)
                                      if not math.isnan(float(v))]
        (metrics_dir / f"{name}.{metric}.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    with (out_dir / "events.jsonl").open("w", encoding="utf-8") as fh:
        for event in events:
            fh.write(json.dumps(event) + "\n")
    (out_dir / "topology.json").write_text(json.dumps(scn.world.topology(), indent=2) + "\n", encoding="utf-8")


def _write_bundle_history(scn: Scenario, out: Path) -> None:
    """A team's history: some past incidents and runbooks; a similar incident and the right runbook are
    likely but (at 'normal' and 'hard') not certain, and other kinds' documents are always there."""
    rng = random.Random(f"bundle-history:{scn.kind}:{scn.culprit}:{scn.seed}:{scn.difficulty}")
    p_similar = {"easy": 1.0, "normal": 0.8, "hard": 0.6}[scn.difficulty]
    if scn.kind == "db_connection_exhaustion" and scn.difficulty != "hard":
        p_similar = 1.0  # the demo scenario always finds its look-alike and runbook
    include: list[tuple[str, str]] = []
    if rng.random() < p_similar:
        options = candidates(CATALOG[scn.kind], scn.world)
        same = scn.culprit if rng.random() < 0.6 or len(options) == 1 else rng.choice(options)
        include.append((scn.kind, same))
    for _ in range(rng.randint(0, 2)):  # look-alikes: same category, other kind
        kinds = [k for k in ALL_KINDS if k != scn.kind]
        include.append((rng.choice(kinds), ""))
    include = [(k, s or rng.choice(candidates(CATALOG[k], scn.world))) for k, s in include]
    runbooks = rng.sample([k for k in ALL_KINDS if k != scn.kind], rng.randint(8, 14))
    if rng.random() < p_similar:
        runbooks.append(scn.kind)
    write_history(out, world=scn.world, seed=scn.seed, n_incidents=rng.randint(10, 16),
                  before=scn.timeline.at(0), include=include, runbook_kinds=sorted(set(runbooks)))


def generate_bundle(out_dir: str | Path, kind: str = "db_connection_exhaustion", service: str | None = None,
                    seed: int = 7, difficulty: str = "normal", vendor: str | None = None, *,
                    world: str | None = None, history: bool = True) -> Path:
    """Write one complete evidence bundle for a fault of ``kind`` into ``out_dir`` and return its path.

    Deterministic for its arguments. ``service`` picks the culprit (else the seed does); ``vendor``
    the alert format (else the seed does). Raises ``InputError`` for an unknown kind, service or vendor.
    """
    scn = build_scenario(kind, service=service, seed=seed, difficulty=difficulty, world=world, vendor=vendor)
    return write_bundle(scn, Path(out_dir), history=history)


__all__ = ["alert_facts", "generate_bundle", "human", "truth", "write_bundle"]
