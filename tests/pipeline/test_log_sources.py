"""Log sources of live incidents, end to end: an Alertmanager webhook through the API of an app built
from settings, with Loki, Splunk and Elasticsearch played by stand-ins of their HTTP APIs
(tests/connectors/logsources). A service label from the webhook must not change what the sources
are asked for, and a dead source must cost one note and one connection, never the analysis.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from config.settings import load_settings
from tests.connectors.logsources.standin import serve
from tests.connectors.logsources.test_query_escaping import (
    INJECTIONS,
    counting_listener,
    es_standin,
    loki_standin,
    splunk_standin,
)
from tests.webhook_flow import alertmanager_payload, analysis_via_api

STORED = ["checkout", 'it\'s "quoted"\\', "x", "payments"]  # services whose lines the stand-ins hold
TOPOLOGY = {"frontend": ["checkout"], "checkout": ["payments"], "payments": []}


@contextmanager
def _three_sources() -> Iterator[tuple[dict[str, str], dict[str, list[Any]]]]:
    with ExitStack() as stack:
        urls, seen = {}, {}
        for name, handler in (("loki", loki_standin(STORED)), ("splunk", splunk_standin(STORED)),
                              ("elasticsearch", es_standin(STORED))):
            urls[f"{name}_url"], seen[name] = stack.enter_context(serve(handler))
        yield urls, seen


def _settings(tmp_path: Path, logs: dict[str, Any], topology: dict[str, list[str]] | None = None) -> Any:
    return load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"}, topology=topology or {},
                         logs={"window_minutes": 30, **logs})


def _analysis_via_api(settings: Any, service: str, timeout: float = 60.0) -> dict[str, Any]:
    return analysis_via_api(settings, alertmanager_payload(service, alertname="HighErrorRate", summary="5xx above 5%"), timeout)


@pytest.mark.parametrize("service", INJECTIONS)
def test_an_injected_service_name_from_a_webhook_reads_no_lines(tmp_path: Path, service: str) -> None:
    with _three_sources() as (urls, seen):
        analysis = _analysis_via_api(_settings(tmp_path, urls), service)

    assert "logs" in analysis["lacked"]  # every source was asked for that exact name and held none
    sent = {"loki": [r.query["query"][0] for r in seen["loki"]],
            "splunk": [r.form()["search"][0] for r in seen["splunk"]],
            "elasticsearch": [r.json()["query"]["bool"]["filter"][0]["term"]["service.name"] for r in seen["elasticsearch"]]}
    assert sent["elasticsearch"] == [service] and len(sent["loki"]) == 1
    if "*" in service:  # Splunk cannot escape its wildcard: not searched, one note says why
        assert sent["splunk"] == []
        assert [n for n in analysis["notes"] if n.startswith("splunk")] == [
            f"splunk: logs of {service!r}: the service name holds '*', a wildcard in Splunk search that cannot be "
            "escaped; not queried (logs.splunk_search)"]
    else:
        assert len(sent["splunk"]) == 1
        assert not [n for n in analysis["notes"] if n.startswith(("loki", "splunk", "elasticsearch"))]


def test_a_quoted_name_from_a_webhook_reads_exactly_its_own_lines(tmp_path: Path) -> None:
    name = STORED[1]
    with _three_sources() as (urls, seen):
        analysis = _analysis_via_api(_settings(tmp_path, urls), name)

    assert "logs" not in analysis["lacked"]
    assert not [n for n in analysis["notes"] if n.startswith(("loki", "splunk", "elasticsearch"))]
    assert seen["loki"][0].query["query"] == ['{app="it\'s \\"quoted\\"\\\\"}']
    assert seen["splunk"][0].form()["search"][0].startswith('search index=* service="it\'s \\"quoted\\"\\\\" | head ')


@pytest.mark.parametrize("mode", ["closed", "drop"])
def test_a_dead_loki_is_one_note_and_the_analysis_completes(tmp_path: Path, mode: str) -> None:
    with counting_listener(mode) as (url, accepted):
        settings = _settings(tmp_path, {"loki_url": url.replace("http://", "http://sherlog:s3cret-pw@")},
                             topology=TOPOLOGY)
        analysis = _analysis_via_api(settings, "checkout")

    assert accepted[0] == (1 if mode == "drop" else 0)  # three services were due; after the first failure none was asked
    assert "logs" in analysis["lacked"] and analysis["summary"]
    (note,) = [n for n in analysis["notes"] if n.startswith("loki")]
    assert "unreachable" in note and "check logs.loki_url" in note and note.endswith("2 more services not queried")
    assert not [n for n in analysis["notes"] if "s3cret" in n]
