"""``python -m bench.resilience``: reliability and security figures, one section at a time.

Sections (each a function returning a dict of figures; add one to ``SECTIONS`` to extend the report):

- ``redaction``: share of a labelled secret corpus caught by ``bot.reasoning.redact`` (goal 100% of >= 60
  shapes) and false positives on 500 ordinary log lines (goal < 1%);
- ``fuzz``: Hypothesis-generated inputs to every vendor parser and every HTTP route (served by uvicorn):
  inputs tried / 5xx / hangs (goal >= 5,000 inputs, 0 and 0);
- ``sigkill``: ``sherlog serve`` (SQLite, PostgreSQL) and ``sherlog worker`` (RabbitMQ, PostgreSQL) SIGKILLed
  twice during a stream of alerts: acknowledged vs stored vs analysed vs posted, and doubles (goal: all equal,
  none doubled);
- ``storm``: 2,000 alerts at 50/s to one worker on PostgreSQL: unanalysed backlog at the end of the storm and
  intake -> analysis p95 (goal under 10 s).

sigkill and storm need PostgreSQL and RabbitMQ (``SHERLOG_TEST_PG_URL``, ``SHERLOG_TEST_AMQP_URL``; the defaults
are the local services). The last line printed is one JSON object with every section's headline figures.

    .venv/bin/python -m bench.resilience [--only redaction,fuzz | --skip storm] [--parser-examples 500]
        [--http-examples 80] [--sigkill-alerts 300] [--sigkill-runs serve-sqlite,worker-postgresql]
        [--storm-alerts 2000] [--storm-rate 50]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from bench.resilience.faults import RUNS
from bench.resilience.secrets_corpus import SECRETS, ordinary_lines, secret_corpus
from bot.reasoning.redact import SHAPES, redact

PERSONAL = {s.name for s in SHAPES if s.personal}


def redaction(args: argparse.Namespace) -> dict[str, Any]:
    corpus = secret_corpus()
    missed = [(label, line) for label, line, secret in corpus if secret in redact(line)]
    missed_shapes = sorted({label for label, _ in missed})
    lines = ordinary_lines(500)
    flagged = []
    personal = 0
    for line in lines:
        tags = re.findall(r"\[REDACTED:(\w+)\]", redact(line))
        personal += sum(t in PERSONAL for t in tags)
        if any(t not in PERSONAL for t in tags):
            flagged.append(line)
    print(f"redaction: {len(SECRETS)} secret shapes, {len(corpus)} labelled lines: "
          f"{len(corpus) - len(missed)} caught ({100 * (1 - len(missed) / len(corpus)):.1f}%)")
    for label in missed_shapes:
        print(f"  missed shape: {label}")
    print(f"redaction: 500 ordinary log lines: {len(flagged)} with a false secret redaction "
          f"({100 * len(flagged) / len(lines):.1f}%); {personal} personal-data redactions (IP, e-mail: intended)")
    for line in flagged[:10]:
        print(f"  false positive: {line[:140]}")
    return {"secret_shapes": len(SECRETS), "secret_lines": len(corpus),
            "caught_share": round(1 - len(missed) / len(corpus), 4), "missed_shapes": missed_shapes,
            "ordinary_lines": len(lines), "false_positive_share": round(len(flagged) / len(lines), 4),
            "personal_redactions": personal}


def fuzz(args: argparse.Namespace) -> dict[str, Any]:
    from bench.resilience.fuzz import Tally, fuzz_http, fuzz_parsers

    logging.disable(logging.CRITICAL)  # the fuzzed app logs every refused input
    tally = Tally()
    t0 = time.monotonic()
    fuzz_parsers(tally, args.parser_examples)
    parsers = tally.inputs
    fuzz_http(tally, args.http_examples)
    elapsed = time.monotonic() - t0
    logging.disable(logging.NOTSET)
    print(f"fuzz: {tally.inputs} inputs ({parsers} to the vendor parsers, {tally.inputs - parsers} HTTP requests "
          f"to every route) in {elapsed:.0f} s: {tally.server_errors} 5xx, {tally.hangs} hangs, "
          f"{tally.unexpected} parser crashes, {tally.health_failures} /healthz failures")
    for failure in tally.failures:
        print(f"  {failure}")
    return {**tally.as_dict(), "seconds": round(elapsed, 1)}


def sigkill(args: argparse.Namespace) -> dict[str, Any]:
    from bench.resilience.faults import sigkill as run

    return run(_names(args.sigkill_runs, RUNS, "--sigkill-runs"), args.sigkill_alerts, args.sigkill_kills)


def storm(args: argparse.Namespace) -> dict[str, Any]:
    from bench.resilience.faults import storm as run

    return run(args.storm_alerts, args.storm_rate)


SECTIONS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "redaction": redaction, "fuzz": fuzz, "sigkill": sigkill, "storm": storm}


def _names(value: str, allowed: tuple[str, ...] | dict[str, Any], flag: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in names if v not in allowed]
    if unknown:
        raise SystemExit(f"{flag}: unknown {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return names


def _headline(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures the issue asks for, flat; every section's full figures follow under its name."""
    head: dict[str, Any] = {}
    if "fuzz" in figures:
        f = figures["fuzz"]
        head.update({"fuzz_inputs": f["inputs"], "fuzz_5xx": f["5xx"], "fuzz_hangs": f["hangs"]})
    if "redaction" in figures:
        r = figures["redaction"]
        head.update({"secret_shapes": r["secret_shapes"], "secrets_caught_share": r["caught_share"],
                     "redaction_false_positive_share": r["false_positive_share"]})
    if "sigkill" in figures:
        k = figures["sigkill"]
        head.update({"sigkill_alerts": k["alerts"], "sigkill_all_exact": k["all_exact"],
                     "sigkill_doubled_posts": k["doubled_posts"], "sigkill_lost_posts": k["lost_posts"],
                     "sigkill_runs": {r["run"]: {x: r[x] for x in ("acknowledged", "stored", "analysed_once",
                                                                   "posted_once", "posts")} for r in k["runs"]}})
    if "storm" in figures:
        s = figures["storm"]
        head.update({"storm_alerts": s["alerts"], "storm_rate": s["rate"],
                     "storm_unanalysed_at_end": s["unanalysed_at_stream_end"],
                     "storm_unposted_at_end": s["backlog_at_stream_end"],
                     "storm_intake_to_analysis_p95_s": s["intake_to_analysis_p95_s"]})
    return head


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.resilience", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections ({', '.join(SECTIONS)})")
    parser.add_argument("--skip", default="", help="comma-separated sections to leave out")
    parser.add_argument("--parser-examples", type=int, default=500, help="examples per vendor parser")
    parser.add_argument("--http-examples", type=int, default=80, help="examples per route and method")
    parser.add_argument("--sigkill-alerts", type=int, default=300, help="alerts per SIGKILL run")
    parser.add_argument("--sigkill-kills", type=int, default=2, help="SIGKILLs per run")
    parser.add_argument("--sigkill-runs", default=",".join(RUNS), help=f"comma-separated ({', '.join(RUNS)})")
    parser.add_argument("--storm-alerts", type=int, default=2000, help="alerts in the storm")
    parser.add_argument("--storm-rate", type=float, default=50.0, help="storm alerts per second")
    args = parser.parse_args()
    skip = set(_names(args.skip, SECTIONS, "--skip"))
    figures: dict[str, Any] = {}
    for name in _names(args.only, SECTIONS, "--only"):
        if name not in skip:
            figures[name] = SECTIONS[name](args)
    print(json.dumps({"bench": "resilience", **_headline(figures), **figures}, separators=(",", ":")))


if __name__ == "__main__":
    main()
