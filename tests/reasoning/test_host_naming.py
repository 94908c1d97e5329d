"""A peer named by host: the component whose machine it is, or the caller's one dependency of that kind."""

from __future__ import annotations

from bot.domain import Evidence, EvidenceType, Signal, SignalSource
from bot.reasoning.decisive import REQUESTED_FACTOR, requested_drops, retarget

from .factories import at


def _finding(service: str, kind: str, culprit: str, *, device: bool = False, rule: str = "conn.refused") -> Signal:
    attributes: dict[str, object] = {"decisive": True, "rule": rule, "culprit": culprit, "blame": "peer"}
    if device:
        attributes.update({"culprit_device": True, "blame": "device"})
    return Signal(source=SignalSource.LOGS, detector="logs.decisive", service=service, kind=kind, title=f"{kind} on {service}",
                  score=0.8, started_at=at(9), attributes=attributes,
                  evidence=[Evidence(id=f"log:{service}:1", type=EvidenceType.LOG, summary="line", service=service)])


def _moved(signals: list[Signal]) -> set[tuple[str | None, str | None]]:
    return {(s.service, s.kind) for s in signals if s.attributes.get("decisive")}


KNOWN = ["relay", "authsvc", "web-ui", "mysql", "queue"]
TOPOLOGY = {"relay": ["authsvc"], "web-ui": ["mysql", "queue"], "authsvc": [], "mysql": [], "queue": []}


def test_a_host_that_heads_a_components_own_log_names_that_component() -> None:
    found = _finding("relay", "dependency_failure", "auth1")
    assert _moved(retarget([found], KNOWN, TOPOLOGY, machines={"auth1": "authsvc"})) == {("authsvc", "dependency_failure")}
    assert _moved(retarget([found], KNOWN, TOPOLOGY)) == {("auth1", "dependency_failure")}


def test_a_devices_own_syslog_host_stays_the_machine() -> None:
    found = _finding("authsvc", "hardware_error", "auth1", device=True, rule="kernel.mce")
    assert _moved(retarget([found], KNOWN, TOPOLOGY, machines={"auth1": "authsvc"})) == {("auth1", "hardware_error")}


def test_a_one_label_host_nobody_is_called_is_the_callers_one_dependency_of_that_kind() -> None:
    found = _finding("web-ui", "db_down", "db1", rule="db.mysql_unreachable")
    assert _moved(retarget([found], KNOWN, TOPOLOGY)) == {("mysql", "db_down")}
    # a dependency that is no database does not stand for a database's host
    assert _moved(retarget([found], KNOWN, {"web-ui": ["queue"]})) == {("db1", "db_down")}
    # nor does a domain name (an external endpoint), which stays as the evidence names it
    external = _finding("web-ui", "db_down", "db1.vendor.example", rule="db.mysql_unreachable")
    assert _moved(retarget([external], KNOWN, TOPOLOGY)) == {("db1.vendor.example", "db_down")}


def test_a_session_count_falling_when_an_operator_shut_the_session_is_not_a_partition() -> None:
    admin = Signal(source=SignalSource.LOGS, detector="logs.network", service="edge", kind="config_change", title="admin down",
                   score=0.6, started_at=at(10), attributes={"decisive": False, "rule": "net.admin_down"})
    drop = Signal(source=SignalSource.METRICS, detector="metric.changepoint", service="edge", kind="network_partition",
                  title="bgp sessions down", score=0.9, started_at=at(11), metric="bgp_sessions_up")
    later = drop.model_copy(update={"started_at": at(30)})
    out = requested_drops([admin, drop, later])
    assert out[1].score == round(0.9 * REQUESTED_FACTOR, 4) and out[1].attributes["operator_requested"] is True
    assert out[2].score == 0.9
    assert requested_drops([drop]) == [drop]
