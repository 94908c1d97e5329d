"""The SIGKILL and storm sections of ``python -m bench.resilience``.

- ``sigkill``: the crash drill of ``tests/crash_drill.py`` (what CI asserts in
  ``tests/integration/test_crash_recovery.py``): ``sherlog serve --all`` on SQLite and on PostgreSQL fed over
  HTTP, and ``sherlog worker`` draining RabbitMQ on PostgreSQL, each SIGKILLed twice at random points and
  restarted; then alerts acknowledged vs stored vs analysed vs posted to the Slack stand-in, and doubles.
- ``storm``: ``bench.scaleout.run``: alerts published to RabbitMQ at a fixed rate to one ``sherlog worker``
  on PostgreSQL; the backlog when the stream ends (alerts not yet analysed, not yet posted) and intake ->
  analysis p50/p95, measured from each alert's publish time to the first analysis of its incident saved after
  the alert was stored (an alert grouped into an incident is analysed with its group).

PostgreSQL and RabbitMQ as in the tests (``SHERLOG_TEST_PG_URL``, ``SHERLOG_TEST_AMQP_URL``); each run uses a
fresh schema and queue and drops the schema afterwards.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

RUNS = ("serve-sqlite", "serve-postgresql", "worker-postgresql")


def sigkill_run(kind: str, n: int, kills: int) -> dict[str, Any]:
    """One drill; the outcome counts as a dict (``exact``: every alert stored, analysed, posted exactly once)."""
    import sqlalchemy

    from bench.scaleout import AMQP_URL, PG_URL
    from bot.storage import Store
    from tests.crash_drill import count_outcome, serve_drill, worker_drill
    from tests.fakes.slack_api import SlackAPI

    workdir = Path(tempfile.mkdtemp(prefix=f"sigkill-{kind}-"))
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    if kind == "serve-sqlite":
        url = f"sqlite:///{workdir / 'data' / 'sherlog.db'}"
        storage, store = {"SHERLOG__STORAGE__URL": url}, Store.open(url)
    else:
        storage = {"SHERLOG__STORAGE__URL": PG_URL, "SHERLOG__STORAGE__SCHEMA_NAME": schema}
        store = Store.open(PG_URL, schema=schema)
    t0 = time.monotonic()
    try:
        with SlackAPI() as slack:
            if kind == "worker-postgresql":
                acknowledged = worker_drill(workdir, storage, store, slack, AMQP_URL, n=n, kills=kills)
            else:
                acknowledged = serve_drill(workdir, storage, store, slack, n=n, kills=kills)
            outcome, _ = count_outcome(store, acknowledged, slack, n)
    finally:
        store.close()
        if kind != "serve-sqlite":
            engine = sqlalchemy.create_engine(PG_URL)
            with engine.begin() as conn:
                conn.execute(sqlalchemy.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()
    outcome.seconds = round(time.monotonic() - t0, 1)
    return {"run": kind, "kills": kills, **outcome.as_dict()}


def sigkill(runs: list[str], n: int, kills: int) -> dict[str, Any]:
    results = []
    for kind in runs:
        r = sigkill_run(kind, n, kills)
        d = r["doubled"]
        print(f"sigkill {kind}: {n} alerts, {kills} kills: acknowledged {r['acknowledged']}, stored {r['stored']}, "
              f"analysed {r['analysed_once']} incidents ({r['analyses']} analyses), posted {r['posted_once']} "
              f"({r['posts']} posts); doubled: stored {d['stored']}, analysed {d['analysed']}, posted {d['posted']}; "
              f"{'exact' if r['exact'] else 'NOT EXACT'} ({r['seconds']:.0f} s)")
        results.append(r)
    return {"alerts": n, "runs": results, "all_exact": all(r["exact"] for r in results),
            "doubled_posts": sum(r["doubled"]["posted"] for r in results),
            "lost_posts": sum(n - r["posted_once"] for r in results)}


def storm(alerts: int, rate: float) -> dict[str, Any]:
    from bench.scaleout import run
    from tests.fakes.slack_api import SlackAPI

    with SlackAPI() as slack:
        r = run(1, alerts, rate, slack)
    print(f"storm: {alerts} alerts at {rate:g}/s to 1 worker on PostgreSQL (stream {r['stream_s']} s): at the end "
          f"of the stream {r['unanalysed_at_stream_end']} unanalysed, {r['backlog_at_stream_end']} unposted; "
          f"publish->analysis p50 {r['intake_to_analysis_p50_s']} s p95 {r['intake_to_analysis_p95_s']} s "
          f"(stored alert->analysis p95 {r['stored_to_analysis_p95_s']} s); alert->post p95 {r['post_p95_s']} s; "
          f"{r['posted']}/{alerts} posted; worker CPU {r['worker_cpu_ms_per_alert']} ms per alert "
          f"(cores: {os.cpu_count()}, shared; load average {r['load_average_1m']})")
    return r
