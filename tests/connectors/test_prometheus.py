"""PrometheusConnector against a fake Prometheus at its HTTP boundary (httpx.MockTransport)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from bot.domain.errors import ConnectorError, PayloadError
from bot.domain.models import Alert
from config.settings import PrometheusSettings
from connectors.prometheus import PrometheusConnector, parse_query_range

T0 = 1_700_000_000.0

MATRIX = {
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
        assert [s.service for s in series] == ["node", "checkout"]
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


def test_fetch_for_alert_fills_service_and_skips_failing_queries() -> None:
    fake = FakePrometheus()
    c = _connector(
        fake, lookback_minutes=10, queries={"latency_p95_ms": 'lat{service="{service}"}', "broken": "bad("}
    )
    alert = Alert(name="HighLatency", service="checkout", starts_at=datetime.fromtimestamp(T0, tz=UTC))
    series = c.fetch_for_alert(alert, now=datetime.fromtimestamp(T0 + 120, tz=UTC))
    assert [(s.service, s.metric) for s in series] == [("checkout", "latency_p95_ms")]
    assert len(series[0].values) == 13  # 10 min before the alert to 2 min after, 1-minute points
    sent = parse_qs(fake.requests[0].url.query.decode())["query"][0]
    assert sent == 'lat{service="checkout"}'


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
