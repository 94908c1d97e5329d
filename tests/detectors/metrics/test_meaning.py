"""What metric names, units and directions mean: standard exporters' series read the right way round."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from bot.domain.models import MetricSeries
from detectors.metrics import detect_metric_signals
from detectors.metrics.capacity import fmt_value, hours_to_exhaustion
from detectors.metrics.kinds import bad_directions, kind_for, rule_for, series_name, unit_of
from tests.detectors.metrics.metric_factories import T0, noisy, series

GIB = 2.0**30

# (metric name as the shipped queries or exporters name it, direction that is bad, kind for a step that way)
NAME_ROWS: tuple[tuple[str, int, str], ...] = (
    ("node_cpu_busy_ratio", 1, "cpu_saturation"),
    ("node_load_per_core", 1, "cpu_saturation"),
    ("node_cpu_seconds_total_idle", -1, "cpu_saturation"),
    ("node_memory_available_ratio", -1, "oom_kill"),
    ("node_memory_MemAvailable_bytes", -1, "oom_kill"),
    ("node_memory_pressure_ratio", 1, "oom_kill"),
    ("node_pressure_memory_waiting_seconds_total", 1, "oom_kill"),
    ("node_cpu_pressure_ratio", 1, "cpu_saturation"),
    ("node_io_pressure_ratio", 1, "disk_io_latency"),
    ("node_oom_kills", 1, "oom_kill"),
    ("node_vmstat_oom_kill", 1, "oom_kill"),
    ("node_filesystem_avail_ratio", -1, "disk_full"),
    ("node_filesystem_avail_bytes", -1, "disk_full"),
    ("node_disk_io_time_ratio", 1, "disk_io_latency"),
    ("disk_busy_percent", 1, "disk_io_latency"),  # a device busy all the time is slow, not full
    ("disk_used_percent", 1, "disk_full"),
    ("disk_util_percent", 1, "disk_io_latency"),  # iostat's %util: the device's busy share, not its space
    ("node_disk_util_ratio", 1, "disk_io_latency"),
    ("filesystem_util_percent", 1, "disk_full"),  # a filesystem's "util" is its space
    ("node_network_receive_drop_total", 1, "packet_loss"),
    ("node_network_errors", 1, "packet_loss"),
    ("container_cpu_throttled_ratio", 1, "cpu_throttling"),
    ("kube_pod_restarts", 1, "crash_loop"),
    ("kube_container_oomkilled", 1, "oom_kill"),
    ("kube_node_not_ready", 1, "node_failure"),
    ("kube_pods_pending", 1, "resource_quota"),
    ("http_requests_rate", -1, "traffic_drop"),
    ("http_requests_rate", 1, "traffic_spike"),
    ("http_5xx_ratio", 1, "error_rate_increase"),
    ("upstream_503_ratio", 1, "error_rate_increase"),  # a server-error code where a status is counted
    ("http_502_per_min", 1, "error_rate_increase"),
    ("http_latency_p99_seconds", 1, "latency_increase"),
    ("process_open_fds", 1, "resource_quota"),
    ("node_filefd_allocated", 1, "resource_quota"),
    ("node_timex_offset_seconds", 1, "exception_surge"),
    ("node_timex_offset_seconds", -1, "exception_surge"),
    ("bgp_sessions_established", -1, "network_partition"),
    ("pg_database_xid_age", 1, "db_down"),
    ("probe_loss_percent", 1, "packet_loss"),
    ("https_success_ratio", -1, "error_rate_increase"),
    ("failed_logins_per_min", 1, "auth_failure_surge"),  # the failure named before what failed
    ("failed_signins_total", 1, "auth_failure_surge"),
)


@pytest.mark.parametrize("metric", ["bgp_sessions_established", "https_success_ratio"])
def test_a_rise_of_sessions_or_success_is_not_a_problem(metric: str) -> None:
    assert kind_for(metric, direction=1, shape="step") is None


@pytest.mark.parametrize(("metric", "not_kind"), [("latency_le_500ms_bucket", "error_rate_increase"),
                                                  ("cache_hit_ratio", "packet_loss"), ("glossary_terms", "packet_loss"),
                                                  ("process_max_fds", "resource_quota"),
                                                  ("http_requests_rate", "exception_surge"),
                                                  ("member_removals_per_min", "memory_leak"),  # a member is no memory
                                                  ("cluster_members", "memory_leak")])
def test_names_near_the_new_rows_keep_their_meaning(metric: str, not_kind: str) -> None:
    assert kind_for(metric, direction=1, shape="step") != not_kind
    assert kind_for(metric, direction=-1, shape="step") != not_kind


@pytest.mark.parametrize(("metric", "direction", "kind"), NAME_ROWS)
def test_name_row(metric: str, direction: int, kind: str) -> None:
    assert direction in bad_directions(metric)
    assert kind_for(metric, direction=direction, shape="step") == kind


@pytest.mark.parametrize("metric", ["node_filesystem_avail_bytes", "node_memory_available_ratio",
                                    "node_cpu_seconds_total_idle", "disk_free_bytes"])
def test_available_free_idle_are_not_bad_when_rising(metric: str) -> None:
    assert bad_directions(metric) == (-1,)
    assert kind_for(metric, direction=1, shape="step") is None


@pytest.mark.parametrize("metric", ["node_filesystem_size_bytes", "node_memory_MemTotal_bytes",
                                    "container_spec_memory_limit_bytes", "db_connections_max"])
def test_sizes_and_limits_are_context_not_signals(metric: str) -> None:
    rule = rule_for(metric)
    assert rule is not None and rule.family == "limit"


def test_cpu_mode_label_names_the_series() -> None:
    assert series_name("node_cpu_seconds_total", {"mode": "idle", "cpu": "0"}) == "node_cpu_seconds_total_idle"
    assert series_name("node_cpu_seconds_total", {}) == "node_cpu_seconds_total"
    assert series_name("other", {"mode": "idle"}) == "other"


@pytest.mark.parametrize(("value", "metric", "text"), [
    (3.5 * GIB, "node_filesystem_avail_bytes", "3.5 GiB"),
    (48 * 2.0**20, "node_filesystem_avail_bytes", "48 MiB"),
    (0.305, "node_filesystem_avail_ratio", "30.5%"),
    (97.0, "disk_used_percent", "97%"),
    (0.25, "http_latency_p99_seconds", "0.25 s"),
    (1234.0, "request_rate", "1234"),
])
def test_values_print_in_their_unit(value: float, metric: str, text: str) -> None:
    assert fmt_value(value, metric) == text
    assert unit_of("node_filesystem_avail_bytes") == "bytes"


def test_time_to_exhaustion_of_an_available_series() -> None:
    assert hours_to_exhaustion("node_filesystem_avail_bytes", 10 * GIB, 100 * GIB, -5 * GIB) == 2.0
    assert hours_to_exhaustion("node_filesystem_avail_bytes", 10 * GIB, 100 * GIB, 1.0) == float("inf")
    assert hours_to_exhaustion("disk_used_bytes", 90 * GIB, 100 * GIB, 5 * GIB) == 2.0


def _fs(service: str, avail: np.ndarray, size: float, mount: str = "/") -> list[MetricSeries]:
    labels = {"mountpoint": mount, "instance": f"{service}:9100"}
    a = series(service, "node_filesystem_avail_bytes", avail)
    s = series(service, "node_filesystem_size_bytes", np.full(avail.size, size))
    return [a.model_copy(update={"labels": labels}), s.model_copy(update={"labels": labels})]


def test_small_fall_of_a_roomy_filesystem_is_not_a_fill() -> None:
    """The live case: `/` 30% free, available bytes down 0.9% of the size at the alert (a CPU burn's logs)."""
    size = 50 * GIB
    avail = 0.30 * size + noisy(90, 0, 2e6, 1)
    avail[60:] -= 0.009 * size
    sigs = detect_metric_signals(_fs("web-1", avail, size), alert_time=T0 + timedelta(minutes=70))
    assert [s for s in sigs if s.kind == "disk_full" and s.score >= 0.5] == []
    assert all("grew steadily" not in s.title for s in sigs)


def test_filesystem_filling_up_is_a_fill_that_fell_in_bytes() -> None:
    size = 64 * 2.0**20
    avail = np.r_[np.full(60, 60 * 2.0**20), np.linspace(60, 1, 20) * 2.0**20, np.full(10, 2.0**20)]
    sigs = detect_metric_signals(_fs("web-1", avail + noisy(90, 0, 1e3, 2), size, "/mnt/drill"),
                                 alert_time=T0 + timedelta(minutes=85))
    top = sigs[0]
    assert top.kind == "disk_full" and top.service == "web-1" and top.score > 0.7
    assert "fell" in top.title and "MiB" in top.title and "/mnt/drill" in top.title
    assert "grew" not in top.title and "-" not in top.title.split("(")[-1][:2]


def test_falling_request_rate_is_a_traffic_drop_described_as_a_fall() -> None:
    y = noisy(120, 500, 10, 3)
    y[80:] = np.linspace(500, 100, 40)
    sigs = detect_metric_signals([series("shop", "http_requests_rate", y)], alert_time=T0 + timedelta(minutes=110))
    assert sigs and sigs[0].kind == "traffic_drop"
    assert "fell" in sigs[0].title and "grew" not in sigs[0].title


def test_cpu_burst_earlier_in_the_window_does_not_hide_the_current_saturation() -> None:
    """A 10-minute burst 40 minutes before the alert, then 100% for the last 2 minutes (30 s scrapes)."""
    y = np.clip(noisy(122, 0.08, 0.02, 4), 0, 1)
    y[40:60] = 0.99  # minutes 20..30 of the hour, 30..40 minutes before the alert
    y[116:] = np.clip(noisy(6, 0.995, 0.003, 5), 0, 1)
    sigs = detect_metric_signals([series("web-1", "node_cpu_busy_ratio", y, step_s=30)],
                                 alert_time=T0 + timedelta(minutes=60))
    assert sigs and sigs[0].kind == "cpu_saturation" and sigs[0].score > 0.8
    assert sigs[0].started_at == T0 + timedelta(minutes=58)
    assert "to 99" in sigs[0].title and "%" in sigs[0].title


def test_memory_available_held_low_is_memory_pressure() -> None:
    y = noisy(90, 0.62, 0.005, 6)
    y[70:] = noisy(20, 0.04, 0.002, 7)
    sigs = detect_metric_signals([series("web-1", "node_memory_available_ratio", y)],
                                 alert_time=T0 + timedelta(minutes=80))
    assert sigs and sigs[0].kind == "oom_kill" and sigs[0].score > 0.7
    assert "fell from 62" in sigs[0].title and "to 3.9" in sigs[0].title


def test_memory_available_dip_far_from_exhaustion_is_not_a_cause() -> None:
    y = noisy(90, 0.62, 0.005, 8)
    y[70:] = noisy(20, 0.50, 0.002, 9)
    sigs = detect_metric_signals([series("web-1", "node_memory_available_ratio", y)],
                                 alert_time=T0 + timedelta(minutes=80))
    assert all(s.score < 0.5 for s in sigs)


def test_cpu_pinned_at_its_ceiling_all_along_is_evidence() -> None:
    y = np.clip(noisy(60, 0.995, 0.002, 10), 0, 1)
    sigs = detect_metric_signals([series("web-1", "node_cpu_busy_ratio", y)], alert_time=T0 + timedelta(minutes=55))
    assert [(s.kind, s.detector) for s in sigs] == [("cpu_saturation", "metric.at_limit")]
    assert "of its limit 100%" in sigs[0].title


def test_raw_idle_cpu_counter_falling_is_a_busy_cpu() -> None:
    rate = np.r_[np.full(60, 1.9), np.full(20, 0.02)] + noisy(80, 0, 0.01, 11)
    counter = np.cumsum(np.clip(rate, 0, None) * 60)
    s = series("web-1", "node_cpu_seconds_total", counter).model_copy(update={"labels": {"mode": "idle"}})
    sigs = detect_metric_signals([s], alert_time=T0 + timedelta(minutes=75))
    assert sigs and sigs[0].kind == "cpu_saturation" and "fell" in sigs[0].title


def test_a_filesystem_mounted_minutes_ago_and_filled_is_at_its_floor() -> None:
    """A fresh tmpfs filled in 12 s: few points, no baseline, but 97% used is evidence by itself; its
    available ratio is read out of 1, not out of the filesystem's size in bytes next to it."""
    size = 64 * 2.0**20
    ratio = np.r_[1.0, np.linspace(1.0, 0.031, 7), 0.031, 0.031]
    labels = {"mountpoint": "/mnt/drill"}
    sigs = detect_metric_signals([
        series("h", "node_filesystem_avail_ratio", ratio, step_s=2).model_copy(update={"labels": labels}),
        series("h", "node_filesystem_size_bytes", np.full(10, size), step_s=2).model_copy(update={"labels": labels}),
        series("h", "node_filesystem_avail_ratio", np.full(10, 0.30), step_s=2).model_copy(
            update={"labels": {"mountpoint": "/"}}),
    ], alert_time=T0 + timedelta(seconds=18))
    assert [(s.kind, s.detector) for s in sigs] == [("disk_full", "metric.at_limit")]
    assert sigs[0].score >= 0.9 and "(/mnt/drill) down to 3.1% of 100%" in sigs[0].title


def test_a_sharp_rise_of_a_low_utilisation_is_not_a_cause() -> None:
    """Disk busy time from 0.01% to 0.2% (a CPU burn's logging) has a huge z and means nothing."""
    io = noisy(90, 0.0001, 0.00002, 12)
    io[70:] = noisy(20, 0.002, 0.0002, 13)
    busy = io.copy() * 400  # the same shape reaching 80% busy does count
    sigs = detect_metric_signals([series("h", "node_disk_io_time_ratio", io),
                                  series("g", "node_disk_io_time_ratio", busy)], alert_time=T0 + timedelta(minutes=80))
    assert [(s.service, s.kind) for s in sigs] == [("g", "disk_io_latency")]


def test_a_short_dip_of_available_memory_does_not_predict_exhaustion() -> None:
    """0.4% of the memory gone in 20 s extrapolates to 'exhausted within 2 h': too little moved to say so."""
    y = np.r_[np.full(60, 0.83), np.linspace(0.83, 0.826, 10)] + noisy(70, 0, 0.00005, 14)
    sigs = detect_metric_signals([series("h", "node_memory_available_ratio", y, step_s=2)],
                                 alert_time=T0 + timedelta(seconds=140))
    assert all(s.score < 0.5 for s in sigs)


def test_an_excursion_over_before_the_alert_is_not_the_alert_s_change() -> None:
    """Memory stalls that stopped a minute before a disk alert are not what the alert is about."""
    y = noisy(90, 0.0, 0.001, 15).clip(0)
    y[50:65] = noisy(15, 0.09, 0.005, 16)
    sigs = detect_metric_signals([series("h", "node_memory_pressure_ratio", y, step_s=2)],
                                 alert_time=T0 + timedelta(seconds=178))
    assert all(s.score < 0.5 for s in sigs)
    held = y.copy()
    held[65:] = noisy(25, 0.09, 0.005, 17)
    sigs = detect_metric_signals([series("h", "node_memory_pressure_ratio", held, step_s=2)],
                                 alert_time=T0 + timedelta(seconds=178))
    assert sigs and sigs[0].kind == "oom_kill" and sigs[0].score > 0.7


def test_a_full_filesystem_that_went_away_before_the_alert_is_not_at_its_floor() -> None:
    ratio = np.r_[np.linspace(1.0, 0.03, 10), np.full(5, 0.03)]
    gone = series("h", "node_filesystem_avail_ratio", ratio, step_s=2)
    assert detect_metric_signals([gone], alert_time=T0 + timedelta(seconds=28))
    assert detect_metric_signals([gone], alert_time=T0 + timedelta(seconds=120)) == []


def test_signals_carry_their_service_s_place_in_the_metric_ranking() -> None:
    db = noisy(100, 10, 1, 18)
    db[50:] += 60
    api = noisy(100, 100, 5, 19)
    api[55:] += 60
    sigs = detect_metric_signals([series("api", "latency_p95_ms", api), series("db", "query_duration_ms", db)],
                                 alert_time=T0 + timedelta(minutes=60), topology={"api": ["db"]})
    positions = {s.service: s.attributes["metric_rank_position"] for s in sigs}
    assert positions == {"db": 1.0, "api": 0.0}  # the dependency explains its caller's latency


@pytest.mark.parametrize("metric", ["hosts_up", "hosts_reachable", "instances_running", "nodes_up", "up_machines"])
def test_a_falling_count_of_live_machines_is_node_failure(metric: str) -> None:
    assert bad_directions(metric) == (-1,)
    assert kind_for(metric, direction=-1, shape="step") == "node_failure"
    assert kind_for(metric, direction=1, shape="step") is None


@pytest.mark.parametrize("metric", ["backend_up_servers", "replset_members_up", "healthy_instances"])
def test_a_balancer_or_replica_set_view_is_not_machines_gone(metric: str) -> None:
    assert kind_for(metric, direction=-1, shape="step") != "node_failure"


@pytest.mark.parametrize("metric", ["cpu_percent", "fpc1_cpu_percent"])
def test_a_cpu_percent_that_rose_but_stays_low_is_not_saturation(metric: str) -> None:
    """A process's CPU from 8% to 20% of its cores moved sharply and is far from its ceiling; the same rise to
    90% is saturation. A CPU percent is a utilisation share like a busy ratio: it counts by how high it got."""
    low = noisy(90, 8.0, 0.3, 21)
    low[70:] = noisy(20, 20.0, 0.3, 22)
    high = low.copy()
    high[70:] = noisy(20, 90.0, 0.3, 23)
    sigs = detect_metric_signals([series("quiet", metric, low), series("busy", metric, high)],
                                 alert_time=T0 + timedelta(minutes=80))
    scores = {s.service: s.score for s in sigs if s.kind == "cpu_saturation"}
    assert scores.get("busy", 0.0) >= 0.5
    assert scores.get("quiet", 0.0) < 0.5 * scores["busy"]


def test_a_fill_that_began_inside_the_window_and_levelled_off_is_dated_where_it_began() -> None:
    """Redis memory flat for 10 minutes, then climbing for 50 to its ceiling and held there: the climb began at
    minute 10, not when the window opened (a leak under way before the window stays dated at its start)."""
    flat = noisy(10, 1.1e9, 1e6, 31)
    climb = np.linspace(1.1e9, 7.9e9, 50) + noisy(50, 0.0, 1e6, 32)
    top = noisy(30, 7.95e9, 1e6, 33)
    y = np.concatenate([flat, climb, top])
    sig = next(s for s in detect_metric_signals([series("redis", "redis_memory_used_bytes", y)],
                                                alert_time=T0 + timedelta(minutes=75)) if s.kind == "memory_leak")
    assert abs((sig.started_at - (T0 + timedelta(minutes=10))).total_seconds()) <= 180
    under_way = np.concatenate([np.linspace(1.1e9, 7.9e9, 60) + noisy(60, 0.0, 1e6, 34), noisy(30, 7.95e9, 1e6, 35)])
    sig = next(s for s in detect_metric_signals([series("redis", "redis_memory_used_bytes", under_way)],
                                                alert_time=T0 + timedelta(minutes=75)) if s.kind == "memory_leak")
    assert sig.started_at == T0


@pytest.mark.parametrize("metric", ["member_removals_per_min", "cluster_members", "org_member_count"])
def test_a_member_is_no_memory(metric: str) -> None:
    rule = rule_for(metric)
    assert rule is None or rule.family != "memory"
