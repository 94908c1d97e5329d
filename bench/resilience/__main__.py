"""``python -m bench.resilience``: reliability and security figures, one section at a time.

Sections (each a function returning a dict of figures; add one to ``SECTIONS`` to extend the report):

- ``redaction``: share of a labelled secret corpus caught by ``bot.reasoning.redact`` (goal 100% of >= 60
  shapes) and false positives on 500 ordinary log lines (goal < 1%);
- ``fuzz``: Hypothesis-generated inputs to every vendor parser and every HTTP route (served by uvicorn):
  inputs tried / 5xx / hangs (goal >= 5,000 inputs, 0 and 0).

The last line printed is one JSON object with every section's figures.

    .venv/bin/python -m bench.resilience [--only redaction,fuzz] [--parser-examples 500] [--http-examples 80]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

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


SECTIONS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {"redaction": redaction, "fuzz": fuzz}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.resilience", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--parser-examples", type=int, default=500, help="examples per vendor parser")
    parser.add_argument("--http-examples", type=int, default=80, help="examples per route and method")
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    for name in args.only.split(","):
        figures[name] = SECTIONS[name](args)
    print(json.dumps({"bench": "resilience", **figures}, separators=(",", ":")))


if __name__ == "__main__":
    main()
