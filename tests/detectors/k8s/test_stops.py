"""Requests an ingress controller loses within seconds of a workload's containers being stopped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain import ChangeEvent
from detectors.kubernetes import detect_kubernetes_signals
from detectors.kubernetes.model import KubeEvent, ObjectRef
from detectors.kubernetes.stops import stop_cut_signals

from .factories import ALERT_TIME, context

T = datetime(2024, 3, 4, 11, 40, tzinfo=UTC)


def _stop(pod: str, at: datetime) -> KubeEvent:
    return KubeEvent(reason="Killing", message="Stopping container web", obj=ObjectRef("Pod", pod), first_seen=at)


def _cut(at: datetime, addr: str = "10.1.2.3:3000") -> str:
    return (f"{at:%Y/%m/%d %H:%M:%S} [error] 31#31: *8841 connect() failed (111: Connection refused) while connecting "
            f'to upstream, client: 10.0.0.4, server: shop.example, request: "GET / HTTP/2.0", upstream: "http://{addr}/"')


def test_requests_cut_right_after_each_stop_of_a_workload_are_its_stops() -> None:
    events = [_stop("web-5f9d8c7b4-a1b2c", T), _stop("web-5f9d8c7b4-d3e4f", T + timedelta(minutes=3))]
    logs = {"ingress": [_cut(T + timedelta(seconds=1)), _cut(T + timedelta(minutes=3, seconds=2))]}
    pods = {"web-5f9d8c7b4-a1b2c": "web", "web-5f9d8c7b4-d3e4f": "web"}
    [cut] = stop_cut_signals(events, logs, pods, {"ingress": ["web"]})
    assert (cut.service, cut.kind, cut.attributes["decisive"], cut.attributes["count"]) == (
        "web", "config_change", True, 2)
    # one stop with cuts could be chance; cuts long after the stops are not theirs; a log of a non-caller is not
    assert stop_cut_signals(events[:1], logs, pods, {"ingress": ["web"]}) == []
    late = {"ingress": [_cut(T + timedelta(minutes=1)), _cut(T + timedelta(minutes=4))]}
    assert stop_cut_signals(events, late, pods, {"ingress": ["web"]}) == []
    assert stop_cut_signals(events, logs, pods, {"ingress": ["api"]}) == []


def test_the_detector_reads_stops_from_event_rows_and_cuts_from_the_ingress_log() -> None:
    rows = [ChangeEvent(ts=ALERT_TIME - timedelta(minutes=m), kind="k8s_event", service="web",
                        text=f"Normal  Killing  pod/web-5f9d8c7b4-{p}  Stopping container web")
            for m, p in ((12, "a1b2c"), (8, "d3e4f"))]
    ctx = context(events=rows)
    ctx.logs = {"ingress": [_cut(ALERT_TIME - timedelta(minutes=12) + timedelta(seconds=1)),
                            _cut(ALERT_TIME - timedelta(minutes=8) + timedelta(seconds=3))]}
    ctx.topology = {"ingress": ["web"]}
    assert [(s.service, s.attributes["rule"]) for s in detect_kubernetes_signals(ctx)
            if s.detector == "k8s.stops"] == [("web", "stop.requests_cut")]


def test_a_line_whose_time_is_no_date_is_skipped_not_a_crash() -> None:
    events = [_stop("web-5f9d8c7b4-a1b2c", T), _stop("web-5f9d8c7b4-d3e4f", T + timedelta(minutes=3))]
    mangled = _cut(T).replace(f"{T:%Y/%m/%d}", "2024/13/45")
    pods = {"web-5f9d8c7b4-a1b2c": "web", "web-5f9d8c7b4-d3e4f": "web"}
    assert stop_cut_signals(events, {"ingress": [mangled, mangled]}, pods, {}) == []
