"""Shipped exporter queries: scoped to the alert, escaped, mapped to services, replaceable by configuration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from bot.domain.models import Alert
from config.settings import PrometheusSettings
from connectors.alerts.common import service_from_labels
from connectors.prometheus.client import PrometheusConnector, default_jobs, scope_matchers
from connectors.prometheus.defaults import DEFAULT_QUERIES, host_of, service_of_series

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _alert(**labels: str) -> Alert:
    return Alert(name=labels.get("alertname", "X"), labels=labels, starts_at=AT,
                 service=service_from_labels(labels))


class Recorder:
    """A Prometheus that answers every range query with one series carrying ``labels``."""

    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels
        self.queries: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        q = parse_qs(request.url.query.decode())
        self.queries.append(q["query"][0])
        start = float(q["start"][0])
        values = [[start + 30 * i, str(0.1 * i)] for i in range(10)]
        return httpx.Response(200, json={"status": "success", "data": {
            "resultType": "matrix", "result": [{"metric": self.labels, "values": values}]}})


def _connector(fake: Recorder, **kw: Any) -> PrometheusConnector:
    client = httpx.Client(base_url="http://prom.test", transport=httpx.MockTransport(fake))
    return PrometheusConnector(settings=PrometheusSettings(url="http://prom.test", **kw), client=client)


@pytest.mark.parametrize(("labels", "service"), [
    ({"service": "checkout", "pod": "x-1"}, "checkout"),
    ({"pod": "checkout-7c9d8f6b5-x2kbc", "namespace": "shop"}, "checkout"),
    ({"deployment": "ledger", "namespace": "shop"}, "ledger"),
    ({"instance": "web-1:9100", "job": "node"}, "web-1"),
    ({"instance": "web-1:9100", "job": "node-exporter"}, "web-1"),
    ({"instance": "10.0.0.5:8080", "job": "payments"}, "payments"),
    ({"node": "node-3", "instance": "10.1.2.3:8080", "job": "kube-state-metrics"}, "node-3"),
    ({"instance": "[::1]:9100"}, "::1"),
    ({}, "unknown"),
])
def test_series_service_from_labels(labels: dict[str, str], service: str) -> None:
    assert service_of_series(labels) == service


def test_a_host_alert_names_the_host_not_the_exporter_job() -> None:
    assert service_from_labels({"alertname": "HostHighCpuLoad", "instance": "web-1:9100", "job": "node"}) == "web-1"
    assert service_from_labels({"job": "checkout", "instance": "10.0.0.5:8080"}) == "checkout"
    assert host_of("web-1") == "web-1"


def test_host_alert_queries_node_exporter_scoped_to_its_host_only() -> None:
    jobs = default_jobs(_alert(alertname="HostHighCpuLoad", instance='we"b.1:9100', job="node"), [], skip=set())
    names = {name for _, name, _ in jobs}
    assert {"node_cpu_busy_ratio", "node_memory_available_ratio", "node_filesystem_avail_ratio",
            "node_oom_kills", "node_memory_pressure_ratio"} <= names
    assert not names & {"kube_pod_restarts", "container_cpu_throttled_ratio", "kube_node_not_ready"}
    cpu = next(q for _, name, q in jobs if name == "node_cpu_busy_ratio")
    # the host is a quoted, regex-escaped literal with an optional port
    assert 'instance=~"we\\"b\\\\.1(:[0-9]+)?"' in cpu
    fs = next(q for _, name, q in jobs if name == "node_filesystem_avail_ratio")
    assert 'fstype!~"overlay' in fs and "mountpoint!~" in fs


def test_kubernetes_alert_queries_its_namespace_and_workload() -> None:
    alert = _alert(alertname="KubePodCrashLooping", namespace="shop", pod="checkout-7c9d8f6b5-x2kbc")
    m = scope_matchers(alert)
    assert m["kube"] == 'namespace="shop",pod="checkout-7c9d8f6b5-x2kbc"' and m["host"] is None
    jobs = default_jobs(alert, ["checkout"], skip=set())
    names = {name for _, name, _ in jobs}
    assert {"kube_pod_restarts", "kube_container_oomkilled", "container_cpu_throttled_ratio",
            "container_memory_working_set_limit_ratio", "http_requests_rate"} <= names
    assert not any(name.startswith("node_") for name in names)
    red = next(q for _, name, q in jobs if name == "http_5xx_ratio")
    assert 'code=~"5..",job="checkout"' in red
    by_workload = scope_matchers(_alert(namespace="shop", deployment="web.api"))
    assert by_workload["kube"] == 'namespace="shop",pod=~"web\\\\.api-.+"'


def test_fetch_runs_shipped_queries_and_maps_series_to_the_host() -> None:
    fake = Recorder({"instance": "web-1:9100", "job": "node", "mountpoint": "/"})
    alert = _alert(alertname="HostOutOfDiskSpace", instance="web-1:9100", job="node")
    failures: list[str] = []
    series = _connector(fake).fetch_for_alert(alert, now=AT + timedelta(minutes=5), failures=failures)
    assert failures == []
    by_name = {s.metric: s for s in series}
    assert by_name["node_filesystem_avail_ratio"].service == "web-1"
    assert by_name["node_filesystem_avail_ratio"].labels["mountpoint"] == "/"
    assert all(s.service == "web-1" for s in series)
    host_queries = [q for q in DEFAULT_QUERIES if q.scope == "host"]
    svc_queries = [q for q in DEFAULT_QUERIES if q.scope == "svc"]
    # host queries plus the per-service ones (HTTP RED, up) for the alert's service
    assert len(fake.queries) == len(host_queries) + len(svc_queries)


def test_up_is_queried_for_every_target_on_the_host_and_of_the_job_with_its_labels() -> None:
    jobs = default_jobs(_alert(alertname="TargetDown", instance="web-1:8080", job="api"), ["api"], skip=set())
    ups = sorted(q for _, name, q in jobs if name == "up")
    assert ups == ['up{instance=~"web-1(:[0-9]+)?"}', 'up{job="api"}']
    assert not next(q for q in DEFAULT_QUERIES if q.name == "up").queried_service  # series keep their own service
    assert service_of_series({"job": "api", "instance": "web-1:8080"}) == "api"
    assert service_of_series({"job": "node", "instance": "web-1:9100"}) == "web-1"


def test_configured_query_replaces_the_shipped_one_of_that_name_and_extends_the_rest() -> None:
    fake = Recorder({"instance": "web-1:9100", "job": "node"})
    alert = _alert(instance="web-1:9100", job="node")
    conn = _connector(fake, queries={"node_cpu_busy_ratio": "my_cpu{instance=~{service}}", "extra": "x{job={service}}"})
    series = conn.fetch_for_alert(alert, now=AT + timedelta(minutes=5))
    assert 'my_cpu{instance=~"web-1"}' in fake.queries and 'x{job="web-1"}' in fake.queries
    assert sum("node_cpu_seconds_total" in q and "idle" in q and "1 - avg" in q for q in fake.queries) == 0
    assert {"node_cpu_busy_ratio", "extra", "node_memory_available_ratio"} <= {s.metric for s in series}


def test_default_queries_off_sends_only_the_configured_ones() -> None:
    fake = Recorder({"job": "api"})
    conn = _connector(fake, queries={"lat": "lat{service={service}}"}, default_queries=False)
    conn.fetch_for_alert(_alert(instance="web-1:9100", job="node"), now=AT + timedelta(minutes=5))
    assert fake.queries == ['lat{service="web-1"}']
