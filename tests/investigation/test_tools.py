"""Tools against their systems' HTTP boundary (Prometheus through httpx.MockTransport), and the scope
rules one row each."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from bot.investigation import Refused, Scope, Toolbox, ToolResources, ToolStatus
from config.settings import PrometheusSettings
from connectors.prometheus.client import PrometheusConnector

from .factories import T0, at, context, settings


def prometheus(seen: list[dict[str, Any]]) -> PrometheusConnector:
    def handle(request: httpx.Request) -> httpx.Response:
        params = {k: v[-1] for k, v in parse_qs(request.url.query.decode()).items()}
        seen.append(params)
        start = float(params["start"])
        values = [[start + 60 * i, str(10 + i)] for i in range(30)]
        return httpx.Response(200, json={"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {"service": "checkout", "pod": "checkout-abc"}, "values": values}]}})

    conf = PrometheusSettings(url="http://prom.test", queries={"error_rate": "sum(rate(errors_total{service={service}}[5m]))"})
    return PrometheusConnector(settings=conf, client=httpx.Client(base_url="http://prom.test",
                                                                  transport=httpx.MockTransport(handle)))


def toolbox(**resources: Any) -> Toolbox:
    ctx = context()
    ctx.incident.alerts[0].labels["service"] = 'checkout"} or vector(1) #'
    return Toolbox(context=ctx, scope=Scope.for_context(ctx, settings()), resources=ToolResources(**resources))


def test_metrics_query_is_filled_with_the_escaped_service_over_a_bounded_range() -> None:
    seen: list[dict[str, Any]] = []
    box = toolbox(prometheus=prometheus(seen))
    result = box.call("metrics_range", {"service": "checkout", "query": "rate(http_requests_total{service={service}}[5m])",
                                        "start": at(-30).isoformat(), "end": at(10).isoformat(), "step_s": 60})
    assert result.status is ToolStatus.OK, result.text
    assert seen[0]["query"] == 'rate(http_requests_total{service="checkout"}[5m])'
    assert float(seen[0]["start"]) == at(-30).timestamp() and seen[0]["step"] == "60s"
    assert "30 points, min=10 max=39" in result.text and result.id == "tool:1"
    # a hostile service label is in scope, but it is filled in as one escaped string
    result = box.call("metrics_range", {"service": 'checkout"} or vector(1) #', "name": "error_rate"})
    assert result.status is ToolStatus.OK
    assert seen[1]["query"] == 'sum(rate(errors_total{service="checkout\\"} or vector(1) #"}[5m]))'
    assert seen[1]["step"] == "30s"  # the default: 60 minutes in 120 points


@pytest.mark.parametrize("arguments,reason", [
    ({"query": "rate(http_requests_total[5m])"}, "must filter on the service"),
    ({"query": 'up{service={service}} or up{service="payments"}'}, "only through the unquoted {service}"),
    ({"query": 'up{service="{service}"}'}, "only through the unquoted {service}"),
    ({"query": """SELECT v FROM cpu WHERE "service" = {service} OR "service" = 'payments'"""}, "only through"),
    ({"query": 'from(bucket: "b") |> filter(fn: (r) => r.service == {service} or r.service == "pay")'},
     "only through"),
    ({"name": "nope"}, "configured query names (error_rate)"),
    ({"name": "error_rate", "start": "2026-03-01T09:00:00Z", "end": "2026-03-01T12:30:00Z"}, "longer than the 180"),
    ({"name": "error_rate", "start": "2026-03-01T11:00:00Z", "end": "2026-03-01T12:00:00Z", "step_s": 1},
     "at most 720"),
    ({"name": "error_rate", "start": "2026-03-03T11:00:00Z"}, "minutes from the alert"),
    ({"service": "payments", "name": "error_rate"}, "outside this incident's scope"),
])
def test_metrics_arguments_outside_the_scope_are_refused(arguments: dict[str, Any], reason: str) -> None:
    seen: list[dict[str, Any]] = []
    result = toolbox(prometheus=prometheus(seen)).call("metrics_range", {"service": "checkout", **arguments})
    assert result.status is ToolStatus.REFUSED
    assert reason in result.text
    assert seen == []


def test_a_failing_metrics_server_is_an_error_result() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    conn = PrometheusConnector(settings=PrometheusSettings(url="http://prom.test"),
                               client=httpx.Client(base_url="http://prom.test", transport=httpx.MockTransport(down)))
    result = toolbox(prometheus=conn).call("metrics_range", {"service": "checkout", "query": "up{service={service}}"})
    assert result.status is ToolStatus.ERROR and "unreachable" in result.text
    assert result.record()["reason"].startswith("failed: Prometheus at http://prom.test")


def test_without_a_metrics_server_the_incident_series_are_read_by_name() -> None:
    from bot.domain import MetricSeries

    box = toolbox()
    box.context.metrics.append(MetricSeries(service="checkout", metric="latency_p95_ms",
                                            timestamps=[at(m) for m in range(-5, 5)], values=[float(m) for m in range(10)]))
    result = box.call("metrics_range", {"service": "checkout", "name": "latency_p95_ms"})
    assert result.status is ToolStatus.OK and "10 points" in result.text
    assert box.call("metrics_range", {"service": "checkout", "name": "cpu"}).status is ToolStatus.EMPTY


@pytest.mark.parametrize("call,reason", [
    (lambda s: s.service(""), "a service is required"),
    (lambda s: s.service("billing"), "outside this incident's scope"),
    (lambda s: s.in_namespace("kube-system"), "namespace 'kube-system' is outside"),
    (lambda s: s.time(T0 + timedelta(hours=7)), "more than 360 minutes"),
    (lambda s: s.span(T0, T0 - timedelta(minutes=1)), "end must be after start"),
    (lambda s: s.span(T0 - timedelta(hours=4), T0), "longer than the 180 allowed"),
    (lambda s: s.step(T0, T0 + timedelta(hours=1), 0), "at least 1 second"),
])
def test_scope_rules(call: Any, reason: str) -> None:
    ctx = context()
    scope = Scope.for_context(ctx, settings())
    with pytest.raises(Refused, match=reason):
        call(scope)
    assert scope.namespace == "shop" and scope.in_namespace(None) == "shop"
    assert {"checkout", "frontend", "db"} <= scope.services


def test_without_a_namespace_no_kubernetes_object_can_be_read() -> None:
    ctx = context()
    ctx.incident.alerts[0].labels.pop("namespace")
    scope = Scope.for_context(ctx, settings())
    with pytest.raises(Refused, match="names no Kubernetes namespace"):
        scope.in_namespace(None)
    assert Scope.for_context(ctx, settings(), default_namespace="prod").in_namespace(None) == "prod"


def test_logs_come_from_the_configured_log_sources_within_the_window(tmp_path: Any) -> None:
    from connectors.files.logs import FileLogSource

    (tmp_path / "checkout.log").write_text("\n".join([
        "2026-03-01T10:00:00Z ERROR hours before the alert",
        "2026-03-01T11:58:00Z ERROR upstream db:5432 connection refused token=abc123secret",
        "2026-03-01T11:59:00Z INFO request ok",
    ]) + "\n")
    box = toolbox(log_sources=lambda: [FileLogSource(tmp_path)])
    result = box.call("logs_around", {"service": "checkout", "contains": "error"})
    assert result.status is ToolStatus.OK
    assert "connection refused" in result.text and "hours before" not in result.text and "request ok" not in result.text
    assert "abc123secret" not in result.text and "[REDACTED:secret]" in result.text
    assert result.summary == "1 lines of checkout"
    broken = toolbox(log_sources=lambda: [FileLogSource(tmp_path / "missing")]).call("logs_around",
                                                                                   {"service": "checkout"})
    assert broken.status is ToolStatus.EMPTY and broken.text == "no lines"


def test_history_search_without_an_index_reads_the_incident_history() -> None:
    from bot.domain import Document, DocumentType

    box = toolbox()
    box.context.history = [
        Document(id="INC-77", type=DocumentType.INCIDENT, title="checkout pods crash-looping after db failover",
                 text="checkout exited on connection refused to db", root_cause_service="db", root_cause_kind="db_down",
                 resolution="pointed checkout at the new primary"),
        Document(id="RB-1", type=DocumentType.RUNBOOK, title="Disk full", text="free space on the node")]
    result = box.call("search_history", {"query": "checkout crash connection refused"})
    assert result.status is ToolStatus.OK and result.type.value == "incident"
    assert "[INC-77]" in result.text and "cause=db_down in db" in result.text and "new primary" in result.text
    assert "RB-1" not in result.text
    assert box.call("search_history", {"query": "kafka lag", "kind": "runbooks"}).status is ToolStatus.EMPTY


def test_influxdb_queries_get_the_quoted_service_and_the_range() -> None:
    from config.settings import InfluxDBSettings
    from connectors.influxdb.client import InfluxDBConnector

    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(parse_qs(request.url.query.decode())["q"][-1])
        start = int(at(-30).timestamp() * 1_000_000)
        rows = [[start + 60_000_000 * i, 0.5 + i / 100] for i in range(5)]
        return httpx.Response(200, text='{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time",'
                              '"usage"],"values":' + str(rows).replace(" ", "") + "}]}]}\n")

    conf = InfluxDBSettings(url="http://influx.test", version=1, database="telegraf")
    conn = InfluxDBConnector(settings=conf, client=httpx.Client(base_url="http://influx.test",
                                                                 transport=httpx.MockTransport(handle)))
    result = toolbox(influxdb=conn).call("metrics_range", {
        "service": "checkout", "query": 'SELECT mean("usage") FROM cpu WHERE "service" = {service} AND time >= {start} '
                                        "AND time <= {end} GROUP BY time(1m)"})
    assert result.status is ToolStatus.OK and "5 points" in result.text
    assert seen == ["SELECT mean(\"usage\") FROM cpu WHERE \"service\" = 'checkout' AND time >= "
                    "'2026-03-01T11:30:00.000000Z' AND time <= '2026-03-01T12:30:00.000000Z' GROUP BY time(1m)"]
