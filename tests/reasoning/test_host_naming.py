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


def _ctx_with_hosts_log(log_lines: list[str], topology: dict[str, list[str]] | None = None):  # type: ignore[no-untyped-def]
    from bot.domain import Alert, Incident, IncidentContext, MetricSeries

    series = [MetricSeries(service="tomcat-web", metric="host_cpu_busy_percent", labels={"instance": f"web-0{i}:9100"},
                           timestamps=[at(0)], values=[10.0]) for i in (1, 2)]
    alert = Alert(name="503s", service="varnish", summary="503s", starts_at=at(10))
    return IncidentContext(incident=Incident(title="503s", service="varnish", alerts=[alert]),
                           topology=topology or {"varnish": ["tomcat-web"], "tomcat-web": ["mysql"]},
                           logs={"web-hosts": log_lines, "varnish": ["GET / 503"]}, metrics=series)


def test_a_log_of_machines_the_metrics_give_one_component_is_that_components_log() -> None:
    from bot.reasoning.features import logs_of_machines

    lines = ["Jun 30 23:59:59 web-01 kernel: Clock: inserting leap second 23:59:60 UTC",
             "Jun 30 23:40:01 web-02 CRON[811]: (www-data) CMD (php /srv/jobs/sitemap.php)"]
    assert logs_of_machines(_ctx_with_hosts_log(lines)) == {"web-hosts": "tomcat-web"}
    # a host the metrics do not give to that component, a line that is no syslog line, or a log the incident knows
    # by name: no move
    assert logs_of_machines(_ctx_with_hosts_log([*lines, "Jun 30 23:41:01 db-1 kernel: x"])) == {}
    assert logs_of_machines(_ctx_with_hosts_log([*lines, "plain text line"])) == {}
    known = {"varnish": ["tomcat-web"], "tomcat-web": ["web-hosts"]}
    assert logs_of_machines(_ctx_with_hosts_log(lines, known)) == {}


def test_a_clock_fault_whose_component_spins_at_full_cpu_is_cpu_saturation() -> None:
    from bot.reasoning.decisive import clock_shapes

    clock = Signal(source=SignalSource.LOGS, detector="logs.decisive", service="tomcat-web", kind="exception_surge",
                   title="leap second", score=0.45, started_at=at(9), attributes={"decisive": True, "rule": "app.clock"})
    cpu = Signal(source=SignalSource.METRICS, detector="metric.changepoint", service="tomcat-web", kind="cpu_saturation",
                 title="cpu 99%", score=0.9, started_at=at(10))
    assert [s.kind for s in clock_shapes([clock, cpu])] == ["cpu_saturation", "cpu_saturation"]
    late = cpu.model_copy(update={"started_at": at(30)})  # the CPU rose long after: no shape of the clock's
    other = cpu.model_copy(update={"service": "mysql"})
    assert clock_shapes([clock, late])[0].kind == "exception_surge"
    assert clock_shapes([clock, other])[0].kind == "exception_surge"
