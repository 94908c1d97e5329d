"""Evidence of a live incident from Prometheus, Loki and recorded changes, through their HTTP APIs
(fake peers on ``httpx.MockTransport`` that follow the documented response formats)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx

from bot.domain import Alert, ChangeEvent, Incident
from bot.pipeline.context import LiveContextProvider, neighbours
from config.settings import InfluxDBSettings, PrometheusSettings
from connectors.influxdb.client import InfluxDBConnector

AT = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
TOPOLOGY = {"frontend": ["checkout"], "checkout": ["orders-db"], "orders-db": []}


def prometheus_peer(request: httpx.Request) -> httpx.Response:
    query = parse_qs(request.url.query.decode())["query"][0]
    service = query.split('"')[1]
    start = float(parse_qs(request.url.query.decode())["start"][0])
    values = [[start + 60 * i, str(100 + (900 if service == "checkout" and i > 40 else 0))] for i in range(60)]
    return httpx.Response(200, json={"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"service": service}, "values": values}]}})


def loki_peer(request: httpx.Request) -> httpx.Response:
    params = parse_qs(request.url.query.decode())
    service = params["query"][0].split('"')[1]
    ns = int(params["start"][0])
    if service == "orders-db":
        return httpx.Response(500, text="loki: too many outstanding requests")
    values = [[str(ns + i * 1_000_000_000), f"level=error msg=\"pool exhausted\" svc={service} n={i}"] for i in range(3)]
    return httpx.Response(200, json={"status": "success", "data": {"resultType": "streams", "result": [
        {"stream": {"app": service}, "values": values}]}})


def make_provider(settings, store, influxdb=None):  # type: ignore[no-untyped-def]
    from connectors.loki.logs import LokiLogSource
    from connectors.prometheus.client import PrometheusConnector

    prom = PrometheusConnector(
        settings=PrometheusSettings(url="http://prom:9090", queries={"latency_p95_ms": "latency{service={service}}"},
                                    default_queries=False),
        client=httpx.Client(base_url="http://prom:9090", transport=httpx.MockTransport(prometheus_peer)),
    )
    live = settings.model_copy(update={"topology": TOPOLOGY})
    return LiveContextProvider(
        settings=live, store=store, prometheus=prom, influxdb=influxdb,
        log_sources_factory=lambda: [LokiLogSource(base_url="http://loki:3100",
                                                   client=httpx.AsyncClient(transport=httpx.MockTransport(loki_peer)))],
    )


def test_neighbours_are_one_hop_both_ways() -> None:
    assert neighbours("checkout", TOPOLOGY) == ["checkout", "orders-db", "frontend"]
    assert neighbours(None, TOPOLOGY) == []


def test_live_context_gathers_metrics_logs_changes_and_notes_failures(settings, store) -> None:  # type: ignore[no-untyped-def]
    store.add_change_event(event=ChangeEvent(ts=AT - timedelta(minutes=20), kind="deploy", service="checkout",
                                             text="checkout v2.8.0"))
    store.add_change_event(event=ChangeEvent(ts=AT - timedelta(hours=5), kind="deploy", service="checkout",
                                             text="too old to matter"))
    incident = Incident(title="checkout slow", service="checkout",
                        alerts=[Alert(name="HighLatency", service="checkout", starts_at=AT)])
    provider = make_provider(settings, store)
    context = provider(incident)

    assert {s.service for s in context.metrics} == {"checkout", "orders-db", "frontend"}
    assert all(len(s.values) == 60 for s in context.metrics)
    assert set(context.logs) == {"checkout", "frontend"}
    assert "pool exhausted" in context.logs["checkout"][0]
    assert [e.text for e in context.events] == ["checkout v2.8.0"]
    assert context.topology == TOPOLOGY
    assert any("loki" in n.lower() and "500" in n for n in provider.notes[incident.id])


def test_influxdb_series_join_prometheus_and_its_failures_are_notes(settings, store) -> None:  # type: ignore[no-untyped-def]
    def influx_peer(request: httpx.Request) -> httpx.Response:
        query = request.url.params["q"]
        service = query.split("'")[1]
        if service == "orders-db":
            return httpx.Response(200, text='{"results":[{"statement_id":0,"error":"shard is down"}]}\n')
        start = datetime.fromisoformat(query.split("time >= '")[1].split("'")[0])
        values = [[int((start + timedelta(minutes=i)).timestamp() * 1e6), 50 + (400 if service == "checkout" and i > 50
                                                                              else 0)] for i in range(60)]
        series = {"name": "http", "columns": ["time", "mean"], "values": values}
        return httpx.Response(200, text=json.dumps({"results": [{"statement_id": 0, "series": [series]}]}) + "\n")

    influx = InfluxDBConnector(
        settings=InfluxDBSettings(url="http://influx:8086", version=1, database="m", queries={
            "queue_ms": 'SELECT mean("q") FROM "http" WHERE "service" = {service} AND time >= {start} AND time < {end}'}),
        client=httpx.Client(base_url="http://influx:8086", transport=httpx.MockTransport(influx_peer)),
    )
    provider = make_provider(settings, store, influxdb=influx)
    incident = Incident(title="checkout slow", service="checkout",
                        alerts=[Alert(name="HighLatency", service="checkout", starts_at=AT)])
    context = provider(incident)

    got = {(s.service, s.metric) for s in context.metrics}
    every = {(svc, m) for svc in ("checkout", "orders-db", "frontend") for m in ("latency_p95_ms", "queue_ms")}
    assert got == every - {("orders-db", "queue_ms")}  # Prometheus's and InfluxDB's series, merged
    checkout = next(s for s in context.metrics if s.metric == "queue_ms" and s.service == "checkout")
    assert checkout.timestamps[0] == AT - timedelta(hours=1) and checkout.values[-1] == 450
    assert [n for n in provider.notes[incident.id] if n.startswith("influxdb")] == [
        "influxdb: query 'queue_ms' failed for orders-db: "
        "InfluxDB at http://influx:8086: InfluxDB statement 0 failed: shard is down"]
