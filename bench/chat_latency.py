"""Time from an Alertmanager webhook to the Slack post, through the whole app (no LLM).

The real FastAPI app (intake, analysis queue, pipeline, event bus, Slack poster, ``AsyncWebClient``)
runs in-process; Slack is the local Web API stand-in (``tests/fakes/slack_api.py``), which stamps each
call on arrival. Each round sends a new alert group (a new incident) whose evidence is one bundle's
(logs, metrics, changes, topology; history left out unless ``--with-history``), the bundles taken in
turn: the hand-written fixture and/or ``--simulated N`` generated ones. The baseline, measured in the
same process, is ``Pipeline.analyze_context`` alone on the same evidence: the ratio says how much the
delivery path adds around the analysis. Also reported: the ``/sherlog status`` ack time and how often
the posted top cause is the bundle's truth (the ranker's quality, not the chat path's).

    .venv/bin/python -m bench.chat_latency [--rounds 30] [--bundle PATH ...] [--simulated N] [--with-history]

Goal: p95 webhook -> post under 1 second without an LLM.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import hmac
import json
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table

from bot.api.app import create_app
from bot.domain import Incident, IncidentContext
from bot.pipeline import load_bundle
from bot.pipeline.wiring import build_pipeline
from config.settings import load_settings
from tests.fakes.slack_api import SlackAPI

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BUNDLE = ROOT / "tests" / "fixtures" / "bundles" / "inventory-disk"
SECRET = "bench-signing-secret"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[idx]


def _payload(base: dict[str, Any], i: int) -> str:
    """The bundle's webhook as a new alert group (its own labels and fingerprint) for round ``i``."""
    data = copy.deepcopy(base)
    for alert in data.get("alerts", []):
        alert["labels"] = {**alert.get("labels", {}), "bench_round": str(i)}
        alert["fingerprint"] = hashlib.sha256(f"{alert.get('fingerprint', '')}-{i}".encode()).hexdigest()[:16]
    data["groupKey"] = f"{data.get('groupKey', '')}-{i}"
    return json.dumps(data)


def _signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={sig}",
            "Content-Type": "application/x-www-form-urlencoded"}


def _top_level_posts(slack: SlackAPI) -> list[Any]:
    return [c for c in slack.calls_to("chat.postMessage") if not c.body.get("thread_ts")]


def _wait_top_level(slack: SlackAPI, count: int, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        posts = _top_level_posts(slack)
        if len(posts) >= count:
            return posts[count - 1]
        time.sleep(0.002)
    raise TimeoutError(f"no incident post number {count} within {timeout:.0f} s")


class _Case:
    def __init__(self, path: Path, *, with_history: bool) -> None:
        context, _ = load_bundle(path)
        self.name = path.name
        self.context = context if with_history else context.model_copy(update={"history": []})
        self.payload = json.loads((path / "alert.json").read_text())
        truth_path = path / "truth.json"
        self.truth = json.loads(truth_path.read_text()) if truth_path.is_file() else None


def run(*, bundles: list[Path], rounds: int, with_history: bool, warmup: int) -> dict[str, Any]:
    cases = [_Case(p, with_history=with_history) for p in bundles]
    current = {"case": cases[0]}

    def provide(incident: Incident) -> IncidentContext:
        return current["case"].context.model_copy(update={"incident": incident})

    with tempfile.TemporaryDirectory() as tmp, SlackAPI() as slack:
        settings = load_settings(
            data_dir=Path(tmp) / "data", retrieval={"backend": "memory"},
            slack={"enabled": True, "bot_token": "xoxb-bench", "signing_secret": SECRET, "api_url": slack.api_url,
                   "incident_channel": "C0BENCH"},
        )
        pipeline = build_pipeline(settings, with_retriever=False)
        pipeline.context_provider = provide

        baseline: list[float] = []
        for i in range(warmup + rounds):
            current["case"] = cases[i % len(cases)]
            t0 = time.perf_counter()
            pipeline.analyze_context(provide(current["case"].context.incident))
            baseline.append((time.perf_counter() - t0) * 1000.0)
        baseline = baseline[warmup:]

        latencies: list[float] = []
        hits, judged = 0, 0
        acks: list[float] = []
        with TestClient(create_app(settings, pipeline=pipeline)) as client:
            for i in range(warmup + rounds):
                case = current["case"] = cases[i % len(cases)]
                before = len(_top_level_posts(slack))
                t0 = time.monotonic()
                resp = client.post("/api/v1/alerts/alertmanager", content=_payload(case.payload, i),
                                   headers={"Content-Type": "application/json"})
                resp.raise_for_status()
                post = _wait_top_level(slack, before + 1)
                if i >= warmup:
                    latencies.append((post.at - t0) * 1000.0)
                    top = next((b for b in post.body.get("blocks", []) if b.get("block_id") == "hyp_1"), None)
                    truth = case.truth
                    if truth:
                        judged += 1
                        want = f"`{truth['root_cause_service']}` · {truth['root_cause_kind']}"
                        hits += bool(top and want in top["text"]["text"])
                for incident_id in resp.json()["created"]:  # close it so the next round is a new incident
                    pipeline.resolve(incident_id=incident_id, user="bench")
            body = urlencode({"command": "/sherlog", "text": "status", "user_id": "U0BENCH", "team_id": "T0",
                              "channel_id": "C0BENCH", "response_url": slack.response_url(), "trigger_id": "1"})
            for _ in range(warmup + rounds):
                t0 = time.perf_counter()
                client.post("/slack/events", content=body, headers=_signed(body)).raise_for_status()
                acks.append((time.perf_counter() - t0) * 1000.0)
            acks = acks[warmup:]
        posts = len(_top_level_posts(slack))

    return {
        "rounds": rounds,
        "posts": posts,
        "webhook_to_post_p50_ms": round(_pct(latencies, 0.5), 1),
        "webhook_to_post_p95_ms": round(_pct(latencies, 0.95), 1),
        "webhook_to_post_max_ms": round(max(latencies), 1),
        "analysis_only_p50_ms": round(statistics.median(baseline), 1),
        "delivery_ratio_p50": round(_pct(latencies, 0.5) / statistics.median(baseline), 2),
        "slash_status_ack_p95_ms": round(_pct(acks, 0.95), 1),
        "bundles": len(cases),
        "top_matches_truth": round(hits / judged, 3) if judged else None,
        "goal_p95_ms": 1000,
        "goal_met": _pct(latencies, 0.95) < 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, action="append", help="evidence bundle folder (repeatable); "
                        "default: the hand-written fixture tests/fixtures/bundles/inventory-disk")
    parser.add_argument("--simulated", type=int, default=0, help="also generate this many simulated bundles "
                        "(bot.simulation, one fault kind each, Alertmanager payloads)")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--with-history", action="store_true", help="index the bundle's history on every analysis")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    bundles = list(args.bundle or [DEFAULT_BUNDLE])
    with tempfile.TemporaryDirectory() as tmp:
        if args.simulated:
            from bot.domain.vocabulary import ALL_KINDS
            from bot.simulation import generate_bundle

            for n in range(args.simulated):
                kind = ALL_KINDS[(n * 7) % len(ALL_KINDS)]
                bundles.append(generate_bundle(Path(tmp) / f"sim-{n}-{kind}", kind=kind, seed=100 + n,
                                               vendor="alertmanager", history=args.with_history))
        result = run(bundles=bundles, rounds=args.rounds, with_history=args.with_history, warmup=args.warmup)

    table = Table(title=f"Webhook -> Slack post ({args.rounds} incidents over {len(bundles)} bundle(s), no LLM)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, str(value))
    Console().print(table)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
