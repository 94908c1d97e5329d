"""PrometheusConnector against a fake Prometheus at its HTTP boundary (httpx.MockTransport)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from bot.domain.errors import ConfigError, ConnectorError, PayloadError
from bot.domain.models import Alert
from config.settings import PrometheusSettings, load_settings
from connectors.prometheus.client import (
    PrometheusConnector,
    parse_query_range,
    promql_string,
    regex_literal,
    render_query,
)

T0 = 1_700_000_000.0

MATRIX: dict[str, Any] = {
    "status": "success",
    "data": {
        "resultType": "matrix",
        "result": [
            {
                "metric": {"__name__": "node_filesystem_avail_bytes", "instance": "db-1:9100", "job": "node"},
                "values": [[T0 + 30, "120"], [T0, "100"], [T0 + 60, "NaN"]],
            },
            {"metric": {"service": "checkout"}, "values": [[T0, "+Inf"]]},
        ],
    },
}


def test_parse_query_range_whole_response_data_and_result() -> None:
    for payload in (MATRIX, MATRIX["data"], MATRIX["data"]["result"]):
        series = parse_query_range(payload)  # type: ignore[arg-type]
        assert [s.service for s in series] == ["db-1", "checkout"]  # job "node" names the exporter: the host is the service
        first = series[0]
        assert first.metric == "node_filesystem_avail_bytes"
        assert first.labels == {"instance": "db-1:9100", "job": "node"}
        assert first.timestamps[0] == datetime.fromtimestamp(T0, tz=UTC)
        assert first.values[:2] == [100.0, 120.0] and math.isnan(first.values[2])
        assert series[1].metric == "value" and series[1].values == [math.inf]


def test_parse_vector_and_overrides() -> None:
    vec = {"resultType": "vector", "result": [{"metric": {"job": "api"}, "value": [T0, "3"]}]}
    (s,) = parse_query_range(vec, metric="error_rate", service="api-gw")
    assert (s.service, s.metric, s.values) == ("api-gw", "error_rate", [3.0])


@pytest.mark.parametrize(
    "payload",
    [
        {"status": "error", "errorType": "bad_data", "error": "parse error"},
        {"resultType": "scalar", "result": [T0, "1"]},
        {"resultType": "matrix", "result": [{"metric": {}, "values": "x"}]},
        {"resultType": "matrix", "result": "nope"},
    ],
)
def test_parse_rejects_malformed(payload: dict[str, Any]) -> None:
    with pytest.raises(PayloadError):
        parse_query_range(payload)


class FakePrometheus:
    """Answers the documented /api/v1 endpoints and records the requests."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        q = parse_qs(request.url.query.decode())
        path = request.url.path
        if path == "/api/v1/query_range":
            if "bad(" in q["query"][0]:
                return httpx.Response(
                    400, json={"status": "error", "errorType": "bad_data", "error": "1:4: parse error"}
                )
            start, end, step = float(q["start"][0]), float(q["end"][0]), q["step"][0]
            n = int((end - start) // 60) + 1
            values = [[start + 60 * i, str(i)] for i in range(n)]
            return httpx.Response(
                200,
                json={
                    "status": "success",
                    "data": {
                        "resultType": "matrix",
                        "result": [{"metric": {"job": "api", "step": step}, "values": values}],
                    },
                },
            )
        if path == "/api/v1/series":
            return httpx.Response(
                200, json={"status": "success", "data": [{"__name__": "up", "job": m} for m in q["match[]"]]}
            )
        if path == "/api/v1/rules":
            return httpx.Response(
                200,
                json={
                    "status": "success",
                    "data": {
                        "groups": [
                            {
                                "name": "disk",
                                "file": "r.yml",
                                "rules": [{"name": "DiskFilling", "type": "alerting", "query": "x"}],
                            }
                        ]
                    },
                },
            )
        if path == "/api/v1/alerts":
            return httpx.Response(
                200,
                json={
                    "status": "success",
                    "data": {"alerts": [{"labels": {"alertname": "DiskFilling"}, "state": "firing"}]},
                },
            )
        if path == "/api/v1/query":
            return httpx.Response(
                200,
                json={
                    "status": "success",
                    "data": {
                        "resultType": "vector",
                        "result": [{"metric": {"job": "api"}, "value": [T0, "1"]}],
                    },
                },
            )
        return httpx.Response(404, text="404 page not found")


def _connector(fake: FakePrometheus, **kw: Any) -> PrometheusConnector:
    kw.setdefault("default_queries", False)  # these tests are about the configured queries
    settings = PrometheusSettings(url="http://prom.test", **kw)
    client = httpx.Client(base_url="http://prom.test", transport=httpx.MockTransport(fake))
    return PrometheusConnector(settings=settings, client=client)


def test_query_range_series_rules_alerts() -> None:
    fake = FakePrometheus()
    c = _connector(fake, step="1m")
    start = datetime.fromtimestamp(T0, tz=UTC)
    (s,) = c.query_range("up", start=start, end=start + timedelta(minutes=4))
    assert s.values == [0.0, 1.0, 2.0, 3.0, 4.0] and s.labels["step"] == "1m"
    assert c.series(["up", "node_load1"]) == [
        {"__name__": "up", "job": "up"},
        {"__name__": "up", "job": "node_load1"},
    ]
    assert c.rules() == [{"name": "DiskFilling", "type": "alerting", "query": "x", "group": "disk"}]
    assert c.alerts()[0]["state"] == "firing"
    assert c.query("up")[0].values == [1.0]


def test_fetch_for_alert_fills_service_and_reports_failing_queries() -> None:
    fake = FakePrometheus()
    c = _connector(
        fake, lookback_minutes=10, queries={"latency_p95_ms": "lat{service={service}}", "broken": "bad("}
    )
    alert = Alert(name="HighLatency", service="checkout", starts_at=datetime.fromtimestamp(T0, tz=UTC))
    failures: list[str] = []
    series = c.fetch_for_alert(
        alert, services=["checkout", "payments"], now=datetime.fromtimestamp(T0 + 120, tz=UTC), failures=failures
    )
    assert [(s.service, s.metric) for s in series] == [("checkout", "latency_p95_ms"), ("payments", "latency_p95_ms")]
    assert len(series[0].values) == 13  # 10 min before the alert to 2 min after, 1-minute points
    sent = [parse_qs(r.url.query.decode())["query"][0] for r in fake.requests]
    assert sent == ['lat{service="checkout"}', "bad(", 'lat{service="payments"}', "bad("]  # a bad query stops nothing
    assert failures == [
        "query 'broken' failed for checkout, payments: "
        "Prometheus /api/v1/query_range failed (HTTP 400, bad_data): 1:4: parse error"
    ]


def test_render_query_fills_an_escaped_string_and_a_regex_literal_after_a_regex_matcher() -> None:
    evil = 'x"} or vector(1) or up{a="\\\n.*'
    assert render_query("up{service={service}}", service=evil) == 'up{service="x\\"} or vector(1) or up{a=\\"\\\\\\n.*"}'
    assert render_query("up{service=~ {service}, job!~{service}}", service="a.b|c(d)") == (
        'up{service=~ "a\\\\.b\\\\|c\\\\(d\\\\)", job!~"a\\\\.b\\\\|c\\\\(d\\\\)"}'
    )
    assert render_query('sum(up{service={service}}) / sum(up{job=~"api.*"})', service="{service}") == (
        'sum(up{service="{service}"}) / sum(up{job=~"api.*"})'  # filled once, never read again
    )
    assert promql_string("tab\there\r\x01\x7f ü") == '"tab\\there\\r\\x01\\x7f ü"'
    assert regex_literal("\\.+*?()|[]{}^$-a") == "\\\\\\.\\+\\*\\?\\(\\)\\|\\[\\]\\{\\}\\^\\$-a"
    with pytest.raises(ValueError, match="lone surrogate"):
        render_query("up{service={service}}", service="a\ud800")


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ('up{service="{service}"}', "inside a quoted string"),
        ("up{service='{service}'}", "inside a quoted string"),
        ('up{service=~".*{service}-canary"}', "inside a quoted string"),
        ("up{service=~`{service}`}", "inside a quoted string"),
        ("{service}_requests_total", "joined to a name"),
        ("rate(x_{service}[5m])", "joined to a name"),
    ],
)
def test_a_placeholder_that_cannot_be_escaped_is_a_config_error(tmp_path: Any, query: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=rf"prometheus\.queries.*'p95'.*{problem}.*without quotes.*"
                       r"up\{service=\{service\}\}"):
        load_settings(data_dir=tmp_path, prometheus={"queries": {"p95": query}})


def test_placeholders_outside_strings_and_comments_are_accepted(tmp_path: Any) -> None:
    queries = {
        "a": 'sum(rate(x{service={service}, code=~"5.."}[5m])) # per {service}, "quoted\n'
        'or up{job="a\\\\"} or up{service={service}}',  # an escaped backslash ends no string
        "b": "up{service=~{service}} or up{service!={service}}",
        "c": 'label_replace(up, "s", "$1", "job", "(.*)")',
    }
    assert load_settings(data_dir=tmp_path, prometheus={"queries": queries}).prometheus.queries == queries


def test_a_service_that_cannot_be_quoted_is_a_failure_not_a_query() -> None:
    fake = FakePrometheus()
    c = _connector(fake, queries={"lat": "lat{service={service}}"})
    failures: list[str] = []
    alert = Alert(name="x", starts_at=datetime.fromtimestamp(T0, tz=UTC))
    got = c.fetch_for_alert(alert, services=["a\ud800", "ok"], now=alert.starts_at, failures=failures)
    assert [s.service for s in got] == ["ok"] and len(fake.requests) == 1
    assert len(failures) == 1 and "query 'lat' failed for a\ud800" in failures[0] and "lone surrogate" in failures[0]


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (httpx.ConnectError, "unreachable (ConnectError)"),
        (httpx.ReadTimeout, "unreachable (ReadTimeout)"),
        (httpx.Response(502, text="<html>bad gateway</html>"), "answered HTTP 502; "),
        (httpx.Response(503, json={"status": "error", "errorType": "unavailable", "error": "TSDB not ready"}),
         "answered HTTP 503 (unavailable: TSDB not ready)"),
    ],
)
def test_a_dead_server_stops_the_queries_after_one_and_hides_credentials(answer: Any, says: str) -> None:
    sent: list[httpx.Request] = []

    def peer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if isinstance(answer, httpx.Response):
            return answer
        raise answer("down", request=request)

    url = "http://sherlog:s3cret@prom.test:9090"
    c = PrometheusConnector(
        settings=PrometheusSettings(url=url, queries={"a": "a{service={service}}", "b": "b{service={service}}"},
                                    default_queries=False),
        client=httpx.Client(base_url=url, transport=httpx.MockTransport(peer)),
    )
    failures: list[str] = []
    alert = Alert(name="x", starts_at=datetime.fromtimestamp(T0, tz=UTC))
    assert c.fetch_for_alert(alert, services=["s1", "s2", "s3"], now=alert.starts_at, failures=failures) == []
    assert len(sent) == 1
    (failure,) = failures
    assert failure.startswith("Prometheus at http://prom.test:9090") and says in failure
    assert "prometheus.url" in failure and failure.endswith("; 5 more queries not sent")
    assert "s3cret" not in failure


def test_errors_are_actionable() -> None:
    c = _connector(FakePrometheus())
    start = datetime.fromtimestamp(T0, tz=UTC)
    with pytest.raises(ConnectorError, match="bad_data"):
        c.query_range("bad(", start=start, end=start)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    down = PrometheusConnector(
        settings=PrometheusSettings(url="http://prom.test"),
        client=httpx.Client(base_url="http://prom.test", transport=httpx.MockTransport(refuse)),
    )
    with pytest.raises(ConnectorError, match="unreachable"):
        down.alerts()
    with pytest.raises(ConnectorError, match="prometheus.url"):
        PrometheusConnector(settings=PrometheusSettings())
    with pytest.raises(ConnectorError, match="without JSON"):
        c._get("/nothing", {})
