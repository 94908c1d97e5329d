"""Shipped queries for the standard exporters, so that ``prometheus.url`` alone yields evidence.

node_exporter (per host), kube-state-metrics and cAdvisor (per namespace / workload / node), and HTTP
RED series under their common names (per service). Each query is scoped to what the alert names: a
``{host}`` matcher (``instance`` = the alert's host with any port), ``{kube}`` (``namespace``, and
``pod`` of the alert's pod or workload), ``{ns}`` (``namespace``), ``{node}`` (``node``) or ``{svc}``
(``service`` when the alert carries that label, else ``job``). Values are escaped as PromQL string
literals (and as regexes after ``=~``) by ``connectors.prometheus.promql_string`` / ``regex_literal``,
the machinery ``render_query`` uses. A query whose scope the alert does not name is not sent: an
unscoped node query on a fleet would return every host.

Series are named by the query's name (``node_cpu_busy_ratio``); their service comes from their labels
(``service_of_series``): ``service``, else the ``pod``'s workload (``bot.domain.workloads``), else
``deployment`` / ``statefulset`` / ``daemonset``, else ``job`` unless it names an exporter, else ``node``,
else the ``instance``'s host (port stripped), so node_exporter series map to the host the alert names.
HTTP RED queries aggregate away their labels and take the queried service. ``up`` (host and svc scope) keeps its
labels: each target is its own series, named by its job or its host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.models import Alert
from bot.domain.workloads import workload_of_pod

# jobs that name an exporter, not the thing measured (a node_exporter job is not a service)
EXPORTER_JOBS = re.compile(
    r"^(node|nodes|node[-_]?exporter|prometheus[-_]node[-_]exporter|cadvisor|kubelet|kubernetes[-_]nodes.*|"
    r"kube[-_]state[-_]metrics|blackbox.*|prometheus|windows[-_]exporter|process[-_]exporter)$",
    re.IGNORECASE,
)
HOST_LABELS = ("instance", "host", "hostname", "nodename", "node")
WORKLOAD_LABELS = ("deployment", "statefulset", "daemonset", "workload")

# mountpoints and filesystem types that are the system's, not data: left out of the filesystem queries
FS_FILTER = (
    'fstype!~"overlay|squashfs|nsfs|ramfs|devtmpfs|autofs|proc|sysfs|cgroup2?|fuse\\\\.lxcfs|tracefs",'
    'mountpoint!~"/(run|dev|sys|proc|boot/efi|var/lib/docker|var/lib/containers|var/lib/kubelet|snap)($|/.*)"'
)


@dataclass(frozen=True)
class DefaultQuery:
    name: str  # the series' metric name (what ``detectors.metrics.kinds`` reads)
    scope: str  # host, kube, ns, node or svc: which placeholder the template holds
    template: str
    queried_service: bool = False  # True: the result has no labels; it is the queried service's


def _q(name: str, scope: str, template: str, queried: bool = False) -> DefaultQuery:
    return DefaultQuery(name, scope, template, queried)


_RED_TOTALS = ("http_requests_total", "http_server_requests_seconds_count", "http_server_request_duration_seconds_count")
_RED_BUCKETS = ("http_request_duration_seconds_bucket", "http_server_requests_seconds_bucket",
                "http_server_request_duration_seconds_bucket")
_RED_5XX = (("http_requests_total", "code"), ("http_requests_total", "status"),
            ("http_server_requests_seconds_count", "status"),
            ("http_server_request_duration_seconds_count", "http_response_status_code"))


def _red_rate() -> str:
    return " or ".join(f"sum(rate({m}{{{{svc}}}}[1m]))" for m in _RED_TOTALS)


def _red_5xx() -> str:
    return " or ".join(
        f'sum(rate({m}{{{label}=~"5..",{{svc}}}}[1m])) / sum(rate({m}{{{{svc}}}}[1m]))' for m, label in _RED_5XX
    )


def _red_p99() -> str:
    return " or ".join(f"histogram_quantile(0.99, sum by (le) (rate({m}{{{{svc}}}}[5m])))" for m in _RED_BUCKETS)


DEFAULT_QUERIES: tuple[DefaultQuery, ...] = (
    # node_exporter
    _q("node_cpu_busy_ratio", "host", '1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",{host}}[1m]))'),
    _q("node_load_per_core", "host",
       'node_load1{{host}} / on (instance) count by (instance) (node_cpu_seconds_total{mode="idle",{host}})'),
    _q("node_memory_available_ratio", "host",
       "node_memory_MemAvailable_bytes{{host}} / node_memory_MemTotal_bytes{{host}}"),
    _q("node_memory_pressure_ratio", "host", "rate(node_pressure_memory_waiting_seconds_total{{host}}[1m])"),
    _q("node_cpu_pressure_ratio", "host", "rate(node_pressure_cpu_waiting_seconds_total{{host}}[1m])"),
    _q("node_io_pressure_ratio", "host", "rate(node_pressure_io_waiting_seconds_total{{host}}[1m])"),
    _q("node_oom_kills", "host", "increase(node_vmstat_oom_kill{{host}}[1m])"),
    _q("node_filesystem_avail_ratio", "host",
       f"node_filesystem_avail_bytes{{{FS_FILTER},{{host}}}} / node_filesystem_size_bytes{{{FS_FILTER},{{host}}}}"),
    _q("node_filesystem_avail_bytes", "host", f"node_filesystem_avail_bytes{{{FS_FILTER},{{host}}}}"),
    _q("node_filesystem_size_bytes", "host", f"node_filesystem_size_bytes{{{FS_FILTER},{{host}}}}"),
    _q("node_disk_io_time_ratio", "host", "rate(node_disk_io_time_seconds_total{{host}}[1m])"),
    _q("node_network_drops", "host",
       "sum by (instance) (rate(node_network_receive_drop_total{{host}}[1m]) "
       "+ rate(node_network_transmit_drop_total{{host}}[1m]))"),
    _q("node_network_errors", "host",
       "sum by (instance) (rate(node_network_receive_errs_total{{host}}[1m]) "
       "+ rate(node_network_transmit_errs_total{{host}}[1m]))"),
    # Prometheus' own record of each scrape: 1 when the target answered, 0 when it did not. A target whose ``up``
    # falls to 0 and stays there (or whose series end) while its host's go on is what went away
    # (``detectors/metrics/silence.py``): every target on the alert's host, and every instance of the alert's job.
    _q("up", "host", "up{{host}}"),
    _q("up", "svc", "up{{svc}}"),
    # kube-state-metrics
    _q("kube_pod_restarts", "kube",
       "sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{{kube}}[5m]))"),
    _q("kube_container_oomkilled", "kube",
       'max by (namespace, pod) (kube_pod_container_status_last_terminated_reason{reason="OOMKilled",{kube}})'),
    _q("kube_pods_pending", "kube", 'sum by (namespace, pod) (kube_pod_status_phase{phase="Pending",{kube}})'),
    _q("kube_deployment_replicas_unavailable", "ns", "kube_deployment_status_replicas_unavailable{{ns}}"),
    _q("kube_node_not_ready", "node", 'kube_node_status_condition{condition="Ready",status!="true",{node}}'),
    # cAdvisor
    _q("container_cpu_throttled_ratio", "kube",
       'sum by (namespace, pod) (rate(container_cpu_cfs_throttled_periods_total{container!="",{kube}}[1m])) '
       '/ sum by (namespace, pod) (rate(container_cpu_cfs_periods_total{container!="",{kube}}[1m]))'),
    _q("container_memory_working_set_limit_ratio", "kube",
       'max by (namespace, pod) (container_memory_working_set_bytes{container!="",{kube}} '
       '/ on (namespace, pod, container) (container_spec_memory_limit_bytes{container!="",{kube}} > 0))'),
    # HTTP RED under the common metric names (Prometheus clients, Spring/Micrometer, OpenTelemetry)
    _q("http_requests_rate", "svc", _red_rate(), queried=True),
    _q("http_5xx_ratio", "svc", _red_5xx(), queried=True),
    _q("http_latency_p99_seconds", "svc", _red_p99(), queried=True),
)


def host_of(value: str) -> str:
    """``web-1:9100`` -> ``web-1``; ``[::1]:9100`` -> ``::1``; other values unchanged."""
    v = value.strip()
    if v.startswith("["):
        return v[1:].split("]", 1)[0]
    return v.rsplit(":", 1)[0] if v.count(":") == 1 else v


def is_exporter_job(job: str) -> bool:
    return bool(EXPORTER_JOBS.match(job.strip()))


def alert_host(alert: Alert) -> str | None:
    """The host an alert names (its ``instance`` without the port, ``host``, ``nodename``, ``node``)."""
    for key in HOST_LABELS:
        value = alert.labels.get(key)
        if value:
            return host_of(value)
    return None


def service_of_series(labels: dict[str, str], default: str = "unknown") -> str:
    """The service a series belongs to (see the module docstring for the order)."""
    if labels.get("service"):
        return labels["service"]
    if labels.get("pod"):
        return workload_of_pod(labels["pod"])
    for key in WORKLOAD_LABELS:
        if labels.get(key):
            return labels[key]
    job = labels.get("job", "")
    if job and not is_exporter_job(job):
        return job
    for key in ("node", "nodename", "host", "hostname"):
        if labels.get(key):
            return labels[key]
    if labels.get("instance"):
        return host_of(labels["instance"])
    return job or default
