"""The fuzzing suite (issue 17): Hypothesis-generated input for every vendor payload parser and every HTTP
route of the app served by uvicorn; no input gives a 5xx or a hang and ``/healthz`` answers throughout.

A fixed example budget per target keeps the run bounded (about 30 s here); ``python -m bench.resilience``
runs the same engine with a larger budget and prints the figures."""

from __future__ import annotations

import logging

import pytest

from bench.resilience.fuzz import Tally, fuzz_http, fuzz_parsers

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(300)]

PARSER_EXAMPLES = 150  # per vendor source
HTTP_EXAMPLES = 20  # per route and method


def test_vendor_parsers_raise_nothing_but_payload_errors() -> None:
    tally = Tally()
    fuzz_parsers(tally, PARSER_EXAMPLES)
    assert tally.inputs >= 6 * PARSER_EXAMPLES * 0.9
    assert tally.unexpected == 0, tally.failures


def test_no_route_answers_5xx_or_hangs_and_healthz_stays_up(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    tally = Tally()
    fuzz_http(tally, HTTP_EXAMPLES)
    assert tally.inputs >= 300  # every route was reached
    assert (tally.server_errors, tally.hangs, tally.health_failures) == (0, 0, 0), tally.failures
