"""Scale-out: alert -> Slack post latency and throughput with 1 and with 2 `sherlog worker` processes.

PostgreSQL and RabbitMQ as deployed (``SHERLOG_TEST_PG_URL``, ``SHERLOG_TEST_AMQP_URL``; a fresh schema and
queue per run). Alerts (one incident each, no LLM) are published to the alerts queue at ``--rate`` per
second; the workers take them from the queue, store them, analyse them from the durable queue and post
them through the outbox to the Slack Web API stand-in (``tests/fakes/slack_api.py``) running in this
process, which timestamps each post. Latency = post time - publish time, per alert.

``--storm`` (``--storm-only``): 2,000 alerts at 50/s to 1 worker (PostgreSQL): the backlog when the stream ends
(alerts not yet posted; alerts not yet analysed) and intake -> analysis p95: from each alert's publish to the
first analysis of its incident saved after the alert was stored (an alert grouped into an incident is analysed
with its group); ``stored_to_analysis_p95_s`` measures from the stored alert instead. ``python -m bench.resilience``
runs the same storm through ``run``.

Run from the project root: ``.venv/bin/python -m bench.scaleout [--alerts 400] [--rate 20] [--storm]``.
The last stdout line is one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("SHERLOG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_SUMMARY = re.compile(r"bench ([0-9a-f]{8}) alert (\d+)")
AMQP_URL = os.environ.get("SHERLOG_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def _payload(run: str, i: int) -> bytes:
    return json.dumps({"version": "4", "status": "firing", "receiver": "bench", "groupKey": f"{run}-{i}", "alerts": [{
        "status": "firing", "fingerprint": f"{run}-{i}",
        "labels": {"alertname": f"Bench{i}", "service": f"{run}-svc-{i}", "instance": f"{run}-host-{i}"},
        "annotations": {"summary": f"bench {run} alert {i}"}, "startsAt": "2026-12-06T12:00:00Z"}]}).encode()


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(workers: int, alerts: int, rate: float, slack: Any) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    from bot.storage import Store
    from connectors.messages import SOURCE_HEADER
    from connectors.rabbitmq import RabbitMQBroker

    run_id = uuid.uuid4().hex[:8]
    schema, queue = f"bench_{run_id}", f"sherlog.bench.{run_id}"
    Store.open(PG_URL, schema=schema).close()  # migrated once, before the workers start
    data = Path(tempfile.mkdtemp(prefix="scaleout-"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "SHERLOG__DATA_DIR": str(data),
           "SHERLOG__RETRIEVAL__BACKEND": "memory", "SHERLOG__STORAGE__URL": PG_URL,
           "SHERLOG__STORAGE__SCHEMA_NAME": schema, "SHERLOG__RABBITMQ__ENABLED": "true",
           "SHERLOG__RABBITMQ__URL": AMQP_URL, "SHERLOG__RABBITMQ__ALERTS_QUEUE": queue,
           "SHERLOG__SLACK__ENABLED": "true", "SHERLOG__SLACK__BOT_TOKEN": "xoxb-bench",
           "SHERLOG__SLACK__SIGNING_SECRET": "s" * 32, "SHERLOG__SLACK__API_URL": slack.api_url,
           "SHERLOG__SLACK__INCIDENT_CHANNEL": "C0BENCH", "SHERLOG__ANALYSIS__POLL_INTERVAL_S": "0.2",
           "SHERLOG__OUTBOX__POLL_INTERVAL_S": "0.2", "SHERLOG__LOG_LEVEL": "WARNING"}
    env.pop("SHERLOG_CONFIG", None)

    async def declare() -> None:
        broker = RabbitMQBroker(url=AMQP_URL, queue=queue)
        await broker.connect()
        await broker.close()

    asyncio.run(declare())
    procs = [subprocess.Popen([sys.executable, "-m", "bot.cli.main", "worker", "--batch-size", "50"], cwd=ROOT,
                              env=env, stdout=(data / f"w{i}.log").open("wb"), stderr=subprocess.STDOUT)
             for i in range(workers)]
    sent: dict[str, float] = {}
    sent_wall: dict[str, float] = {}  # publish time on the wall clock, to compare with the stored analyses
    _warm_up(run_id, queue, workers, slack)
    before = len(slack.calls_to("chat.postMessage"))
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})

    async def publish() -> None:
        broker = RabbitMQBroker(url=AMQP_URL, queue=queue)
        await broker.connect()
        start = time.monotonic()
        for i in range(alerts):
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            sent[f"Bench{i}"] = time.monotonic()
            sent_wall[f"{run_id}-svc-{i}"] = time.time()
            await broker.publish(_payload(run_id, i), headers={SOURCE_HEADER: "alertmanager"})
        await broker.close()

    t0 = time.monotonic()
    asyncio.run(publish())
    stream_end = time.monotonic()
    unanalysed = alerts - len(_first_analyses(engine, run_id))  # published, not yet analysed (in queue or DB)
    deadline = time.monotonic() + 600
    posts: list[Any] = []
    while time.monotonic() < deadline:
        posts = [c for c in slack.calls_to("chat.postMessage")[before:]
                 if not c.body.get("thread_ts") and _alert_name(c, run_id)]
        if len(posts) >= alerts:
            break
        time.sleep(0.2)
    cpu = sum(_cpu_seconds(p.pid) for p in procs)  # the workers' own CPU, warm-up included
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
    first = _first_analyses(engine, run_id)
    lag = [at - sent_wall[svc] for svc, (at, _) in first.items() if svc in sent_wall]  # from publish
    stored_lag = [at - stored for at, stored in first.values()]  # from the stored alert
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()
    latencies = []
    for c in posts:
        name = _alert_name(c, run_id)
        if name in sent:
            latencies.append(c.at - sent[name])
    done = max((c.at for c in posts), default=t0)
    return {"workers": workers, "alerts": alerts, "rate": rate, "posted": len(posts),
            "post_p50_s": round(statistics.median(latencies), 3) if latencies else None,
            "post_p95_s": round(_pct(latencies, 0.95), 3), "alerts_per_s": round(len(posts) / max(done - t0, 1e-9), 1),
            "intake_to_analysis_p50_s": round(_pct(lag, 0.5), 3), "intake_to_analysis_p95_s": round(_pct(lag, 0.95), 3),
            "stored_to_analysis_p95_s": round(_pct(stored_lag, 0.95), 3), "analysed": len(first),
            "backlog_at_stream_end": sum(1 for c in posts if c.at > stream_end) if posts else alerts,
            "unanalysed_at_stream_end": unanalysed, "stream_s": round(stream_end - t0, 1),
            "worker_cpu_ms_per_alert": round(1000 * cpu / alerts, 2) if cpu else None,
            "load_average_1m": round(os.getloadavg()[0], 1)}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (Linux ``/proc``), 0.0 where unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _first_analyses(engine: Any, run_id: str) -> dict[str, tuple[float, float]]:
    """Per alert of this run (by its service label): (when the first analysis of its incident made at or after
    the alert was stored was saved, when the alert was stored), epoch seconds. An alert grouped into an incident
    counts as analysed by the analysis of its group."""
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT al.service, EXTRACT(EPOCH FROM MIN(a.created_at)), EXTRACT(EPOCH FROM MIN(al.received_at)) "
            "FROM alerts al JOIN analyses a ON a.incident_id = al.incident_id AND a.created_at >= al.received_at "
            "WHERE al.service LIKE :run GROUP BY al.service"), {"run": f"{run_id}-svc-%"}).all()
    return {str(svc): (float(at), float(stored)) for svc, at, stored in rows}


def _warm_up(run_id: str, queue: str, workers: int, slack: Any) -> None:
    """Wait until the workers answer: a few alerts posted end to end before the measured stream."""
    from connectors.messages import SOURCE_HEADER
    from connectors.rabbitmq import RabbitMQBroker

    async def publish() -> None:
        broker = RabbitMQBroker(url=AMQP_URL, queue=queue)
        await broker.connect()
        for i in range(4 * workers):
            await broker.publish(_payload("warm" + run_id[4:], 100_000 + i), headers={SOURCE_HEADER: "alertmanager"})
        await broker.close()

    asyncio.run(publish())
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        warm = [c for c in slack.calls_to("chat.postMessage") if "warm" + run_id[4:] in json.dumps(c.body)]
        if len(warm) >= 4 * workers:
            return
        time.sleep(0.2)
    raise SystemExit("workers did not post the warm-up alerts in 180 s")


def _alert_name(call: Any, run_id: str) -> str:
    """``Bench<i>`` of a first post of this run (its title quotes the alert summary), else ""."""
    found = _SUMMARY.search(str(call.body.get("text", "")) + json.dumps(call.body.get("blocks", [])))
    return f"Bench{found.group(2)}" if found and found.group(1) == run_id else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=400)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--storm", action="store_true", help="also 2,000 alerts at 50/s to one worker")
    parser.add_argument("--storm-only", action="store_true", help="only the storm section")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.fakes.slack_api import SlackAPI

    cores = os.cpu_count()
    print(f"machine: {cores} cores (shared); PostgreSQL + RabbitMQ; no LLM; Slack Web API stand-in in this process")
    results = []
    with SlackAPI() as slack:
        for workers in () if args.storm_only else (1, 2):
            r = run(workers, args.alerts, args.rate, slack)
            print(f"{workers} worker(s): {r['posted']}/{r['alerts']} posted, alert->post p50 {r['post_p50_s']} s "
                  f"p95 {r['post_p95_s']} s, {r['alerts_per_s']} alerts/s, publish->analysis p95 "
                  f"{r['intake_to_analysis_p95_s']} s")
            results.append(r)
        if args.storm or args.storm_only:
            r = run(1, 2000, 50.0, slack)
            print(f"storm (2,000 at 50/s, 1 worker): backlog at stream end {r['backlog_at_stream_end']} unposted, "
                  f"{r['unanalysed_at_stream_end']} unanalysed, publish->analysis p95 {r['intake_to_analysis_p95_s']} s")
            results.append({**r, "storm": True})
    print(json.dumps({"cores": cores, "runs": results}))


if __name__ == "__main__":
    main()
