"""InfluxDB as a metrics source of live incidents, through the real API intake and pipeline.

An Alertmanager webhook goes to ``POST /api/v1/alerts/alertmanager`` of the app built from settings
(``influxdb.url``/``queries`` set, no Prometheus); the analysis must show what the points written to
a real influxd (tests/influxd.py) say: the alerted service's latency stepped up minutes before the
alert, its caller's a minute later. A dead InfluxDB must cost a note, not the analysis. Service
names reach the queries escaped: a quote in a label value cannot widen the query.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.domain import Alert, ConfigError
from config.settings import InfluxDBSettings, load_settings
from connectors.influxdb.client import InfluxDBConnector, render_query
from tests.influxd import create_db, influxd_server, needs_influxd, write_lines
from tests.processes import free_port
from tests.webhook_flow import alertmanager_payload, analysis_via_api

ALERT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TOPOLOGY = {"frontend": ["checkout"], "checkout": ["payments"], "payments": []}
# service -> (base latency ms, step ms, minutes before the alert the step starts; None: flat)
LATENCY: dict[str, tuple[float, float, int | None]] = {
    "checkout": (120.0, 300.0, 6),
    "frontend": (200.0, 320.0, 5),
    "payments": (40.0, 0.0, None),
    "search": (80.0, 500.0, 6),  # not a neighbour of checkout: never queried for its alert
}
QUERY = (
    'SELECT mean("latency_ms") FROM "http" WHERE "service" = {service} '
    "AND time >= {start} AND time < {end} GROUP BY time(1m) fill(none)"
)


def _tag(value: str) -> str:
    """A tag value in line protocol (InfluxDB 1.x escapes only comma, equals and space)."""
    return value.replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _latency_points() -> list[tuple[str, datetime, float]]:
    """(service, time, latency ms) every 20 s from 60 min before to 10 min after the alert, with noise."""
    rng = random.Random(5)
    out = []
    for service, (base, step, minutes_before) in LATENCY.items():
        for i in range(-180, 30):
            t = ALERT + timedelta(seconds=20 * i)
            stepped = minutes_before is not None and t >= ALERT - timedelta(minutes=minutes_before)
            out.append((service, t, base + (step if stepped else 0.0) + rng.gauss(0.0, 4.0)))
    return out


def _lines(points: list[tuple[str, datetime, float]]) -> list[str]:
    return [f"http,service={_tag(s)} latency_ms={v!r} {int(t.timestamp() * 1000)}" for s, t, v in points]


@pytest.fixture(scope="module")
def influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(url, database) of a running influxd holding ``_latency_points()``."""
    with influxd_server(tmp_path_factory.mktemp("influxd")) as url:
        db = f"sherlog_{uuid.uuid4().hex[:8]}"
        create_db(url, db)
        write_lines(url, db, _lines(_latency_points()))
        yield url, db


def _settings(tmp_path: Path, influxdb: dict[str, Any]) -> Any:
    return load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"}, topology=TOPOLOGY,
                         influxdb={"version": 1, "timeout_s": 5, "queries": {"latency_ms": QUERY}, **influxdb})


def _analysis_via_api(settings: Any, service: str, timeout: float = 60.0) -> dict[str, Any]:
    return analysis_via_api(settings, alertmanager_payload(service, alertname="HighLatency", summary=f"{service} p95 latency above 300 ms", at=ALERT), timeout)


@pytest.mark.integration
@needs_influxd
def test_alert_through_the_api_gets_metric_evidence_from_a_real_influxdb(
    influx: tuple[str, str], tmp_path: Path
) -> None:
    url, db = influx
    analysis = _analysis_via_api(_settings(tmp_path, {"url": url, "database": db}), "checkout")

    assert "metrics" not in analysis["lacked"]
    assert not [n for n in analysis["notes"] if n.startswith("influxdb")], analysis["notes"]
    metric_signals = {s["service"]: s for s in analysis["signals"]
                      if s["source"] == "metrics" and s["detector"] != "metric.origin"}
    # where the metric ranker names an origin, it is the service that changed first, citing its own series
    origins = [s for s in analysis["signals"] if s["detector"] == "metric.origin"]
    assert all(o["service"] == "checkout" and o["evidence"][0]["id"] == "metric:checkout:latency_ms" for o in origins)
    assert "search" not in metric_signals  # only checkout and its neighbours were queried
    for service in ("checkout", "frontend"):  # the alerted service and its caller (a topology neighbour)
        base, step, minutes_before = LATENCY[service]
        assert minutes_before is not None
        sig = metric_signals[service]
        assert sig["metric"] == "latency_ms" and sig["attributes"]["direction"] == 1
        assert sig["attributes"]["before"] == pytest.approx(base, abs=10)
        assert sig["attributes"]["after"] == pytest.approx(base + step, abs=10)
        changed = datetime.fromisoformat(sig["attributes"]["change_time"])
        # per-minute means: the step shows in the minute it started (or the next, half-stepped)
        assert ALERT - timedelta(minutes=minutes_before + 1) <= changed <= ALERT - timedelta(minutes=minutes_before - 1)
        assert sig["evidence"][0]["id"] == f"metric:{service}:latency_ms"
    # the detectors read the call graph from these series: checkout changed first, frontend after it
    assert metric_signals["checkout"]["attributes"]["earliness"] == 1.0
    assert metric_signals["frontend"]["attributes"]["downstream_of"] == ["checkout"]
    # and the ranker weighs them: checkout's hypotheses cite its InfluxDB series and the alert
    mine = [h for h in analysis["hypotheses"] if h["service"] == "checkout"]
    assert mine and all({"metric:checkout:latency_ms", "alert:0"} <= {e["id"] for e in h["evidence"]} for h in mine)
    assert mine[0]["features"]["svc_earliest"] == 1.0


def test_dead_influxdb_is_a_note_and_the_analysis_completes(tmp_path: Path) -> None:
    settings = _settings(tmp_path, {"url": f"http://127.0.0.1:{free_port()}", "database": "metrics"})
    analysis = _analysis_via_api(settings, "checkout")

    assert "metrics" in analysis["lacked"] and analysis["summary"]
    assert [s["source"] for s in analysis["signals"]] == ["alert"]  # the analysis ran on what it had
    (note,) = [n for n in analysis["notes"] if n.startswith("influxdb")]
    assert "unreachable" in note and "influxdb.url" in note
    assert "2 more queries not sent" in note  # checkout, payments, frontend: stopped after the first


@pytest.mark.integration
@needs_influxd
def test_quotes_in_a_service_name_are_escaped_against_a_real_influxdb(influx: tuple[str, str]) -> None:
    url, db = influx
    odd = ["it's", "back\\slash", "x' OR \"service\" =~ /.*/ OR \"service\" = 'y"]
    points = [(name, ALERT - timedelta(minutes=m), float(i * 10 + m)) for i, name in enumerate(odd[:2])
              for m in range(5)]
    write_lines(url, db, _lines(points))
    conn = InfluxDBConnector(settings=InfluxDBSettings(url=url, version=1, database=db,
                                                       queries={"raw": 'SELECT "latency_ms" FROM "http" WHERE '
                                                                '"service" = {service} AND time >= {start} '
                                                                "AND time < {end}"}))
    failures: list[str] = []
    alert = Alert(name="HighLatency", service="it's", starts_at=ALERT)
    got = {s.service: s for s in conn.fetch_for_alert(alert, services=odd, failures=failures)}
    conn.client.close()

    assert failures == []
    for name in odd[:2]:  # a quote or backslash in the name reaches exactly that tag value
        mine = sorted((t, v) for s, t, v in points if s == name)
        assert got[name].timestamps == [t for t, _ in mine] and got[name].values == [v for _, v in mine]
    assert odd[2] not in got  # the injected OR matched nothing, it did not return every service


def test_render_query_quotes_and_escapes_each_language() -> None:
    start, end = ALERT - timedelta(hours=1), ALERT + timedelta(hours=1)
    evil = "x' OR \"service\" =~ /.*/ OR 'y\n${a}\\"
    ql = render_query('SELECT * FROM "http" WHERE "service" = {service} AND time >= {start} AND time < {end}',
                      version=1, service=evil, start=start, end=end)
    assert ql == ("SELECT * FROM \"http\" WHERE \"service\" = 'x\\' OR \"service\" =~ /.*/ OR \\'y\\n${a}\\\\' "
                  "AND time >= '2026-01-01T11:00:00.000000Z' AND time < '2026-01-01T13:00:00.000000Z'")
    flux = render_query('from(bucket: "m") |> range(start: {start}, stop: {end}) '
                        "|> filter(fn: (r) => r.service == {service}) |> map(fn: (r) => ({r with x: 1}))",
                        version=2, service=evil, start=start, end=end)
    assert flux == ('from(bucket: "m") |> range(start: 2026-01-01T11:00:00.000000Z, '
                    'stop: 2026-01-01T13:00:00.000000Z) |> filter(fn: (r) => r.service == '
                    '"x\' OR \\"service\\" =~ /.*/ OR \'y\\n\\${a}\\\\") |> map(fn: (r) => ({r with x: 1}))')
    # a filled-in value is not read again as a placeholder
    assert render_query("{service}", version=1, service="{start}", start=start, end=end) == "'{start}'"
    with pytest.raises(ValueError, match="control characters InfluxQL cannot quote"):
        render_query("{service}", version=1, service="a\rb", start=start, end=end)
    with pytest.raises(ValueError, match="control characters a Flux string cannot hold"):
        render_query("{service}", version=2, service="a\x00b", start=start, end=end)


def test_a_service_that_cannot_be_quoted_is_a_failure_not_a_query() -> None:
    sent: list[httpx.Request] = []

    def empty_answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, text='{"results":[{"statement_id":0}]}\n')

    conn = InfluxDBConnector(
        settings=InfluxDBSettings(url="http://influx.test", version=1, database="m", queries={"q": QUERY}),
        client=httpx.Client(base_url="http://influx.test", transport=httpx.MockTransport(empty_answer)),
    )
    failures: list[str] = []
    assert conn.fetch_for_alert(Alert(name="x", starts_at=ALERT), services=["a\rb", "ok"], failures=failures) == []
    assert len(sent) == 1 and "'ok'" in sent[0].url.params["q"]
    assert len(failures) == 1 and "query 'q' failed for a\rb" in failures[0] and "cannot quote" in failures[0]


def test_quoted_placeholders_are_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"influxdb\.queries.*without quotes"):
        load_settings(data_dir=tmp_path, influxdb={"queries": {"p99": "SELECT p99 FROM m WHERE s = '{service}'"}})
