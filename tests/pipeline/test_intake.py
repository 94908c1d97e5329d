"""Intake: dedup, correlation, flapping and resolution, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain import Alert, AlertStatus, IncidentStatus, Severity
from bot.pipeline.grouping import GroupingPolicy
from bot.pipeline.intake import IntakeService, learn_topology

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def alert(name: str, service: str | None, *, at: int = 0, status: AlertStatus = AlertStatus.FIRING,
          severity: Severity = Severity.WARNING, **labels: str) -> Alert:
    base = {"alertname": name, **({"service": service} if service else {}), **labels}
    a = Alert(source="alertmanager", name=name, service=service, status=status, severity=severity,
              labels=base, starts_at=T0 + timedelta(minutes=at), summary=f"{name} on {service}")
    if status == AlertStatus.RESOLVED:
        a.ends_at = T0 + timedelta(minutes=at)
    return a


def service(store: Any, **policy: Any) -> IntakeService:
    return IntakeService(store=store, policy=GroupingPolicy(**policy))


def test_repeat_updates_instead_of_duplicating(any_store: Any) -> None:
    intake = service(any_store)
    first = intake.accept([alert("HighLatency", "checkout", pod="checkout-1")])
    assert len(first.created) == 1
    again = alert("HighLatency", "checkout", pod="checkout-1")
    again.summary = "p99 now 4.2 s"  # text varies between notifications; identity does not
    repeat = intake.accept([again])
    assert repeat.created == [] and repeat.updated == [] and repeat.duplicates == 1
    assert repeat.incident_ids == first.created
    assert any_store.count_incidents() == 1
    assert any_store.count_alerts(incident_id=first.created[0]) == 1
    stored = any_store.get_incident(incident_id=first.created[0])
    assert stored.alerts[0].summary == "p99 now 4.2 s"


def test_related_alerts_join_by_service_host_topology_and_labels(any_store: Any) -> None:
    intake = service(any_store, topology={"frontend": ["checkout"], "checkout": ["orders-db"]})
    r = intake.accept([
        alert("HighLatency", "checkout", at=0),
        alert("HighErrorRate", "checkout", at=1),  # same service
        alert("UpstreamErrors", "frontend", at=2),  # calls checkout
        alert("ConnectionsExhausted", "orders-db", at=3),  # checkout depends on it
        alert("DiskFull", "logging", at=3, node="node-7"),  # unrelated
        alert("KubeletPressure", None, at=4, node="node-7:9100"),  # same node as the DiskFull alert
    ])
    assert len(r.created) == 2
    incidents = {i.id: i for i in r.incidents}
    by_name = {a.name: inc_id for inc_id, inc in incidents.items() for a in inc.alerts}
    assert by_name["HighLatency"] == by_name["HighErrorRate"] == by_name["UpstreamErrors"] == by_name[
        "ConnectionsExhausted"]
    assert by_name["DiskFull"] == by_name["KubeletPressure"] != by_name["HighLatency"]


def test_similar_labels_join_and_shared_environment_labels_do_not(any_store: Any) -> None:
    intake = service(any_store)
    r1 = intake.accept([alert("QueueBacklog", None, at=0, queue="billing-jobs", consumer="billing-worker",
                              env="prod", cluster="eu1")])
    r2 = intake.accept([alert("ConsumerLag", None, at=2, queue="billing-jobs", consumer="billing-worker",
                              env="prod", cluster="eu1")])
    assert r2.created == [] and r2.updated == r1.created
    r3 = intake.accept([alert("CertExpiring", None, at=3, domain="api.example.com", env="prod", cluster="eu1")])
    assert len(r3.created) == 1  # env/cluster alone never correlate


def test_window_separates_incidents_of_one_service(any_store: Any) -> None:
    intake = service(any_store, window=timedelta(minutes=30))
    a = intake.accept([alert("HighLatency", "checkout", at=0)])
    b = intake.accept([alert("HighErrorRate", "checkout", at=120)])
    assert len(a.created) == len(b.created) == 1 and a.created != b.created


def test_resolved_alerts_resolve_the_incident_only_when_all_are(any_store: Any) -> None:
    intake = service(any_store)
    r = intake.accept([alert("A", "svc", pod="1"), alert("B", "svc", pod="2")])
    (inc_id,) = r.created
    half = intake.accept([alert("A", "svc", pod="1", status=AlertStatus.RESOLVED, at=5)])
    assert half.resolved == [] and half.updated == [inc_id]
    assert any_store.get_incident(incident_id=inc_id).status == IncidentStatus.OPEN
    done = intake.accept([alert("B", "svc", pod="2", status=AlertStatus.RESOLVED, at=6)])
    assert done.resolved == [inc_id]
    stored = any_store.get_incident(incident_id=inc_id)
    assert stored.status == IncidentStatus.RESOLVED and stored.resolved_at == T0 + timedelta(minutes=6)


def test_flapping_reopens_the_same_incident_and_goes_quiet(any_store: Any) -> None:
    intake = service(any_store, flap_window=timedelta(minutes=10), flap_threshold=2)
    (inc_id,) = intake.accept([alert("Flappy", "svc", at=0)]).created
    events = []
    for cycle in range(4):
        resolved = intake.accept([alert("Flappy", "svc", at=2 * cycle + 1, status=AlertStatus.RESOLVED)])
        fired = intake.accept([alert("Flappy", "svc", at=2 * cycle + 2)])
        assert fired.created == [] and fired.incident_ids == [inc_id]
        events.append((bool(resolved.resolved), bool(fired.updated), fired.suppressed))
    assert any_store.count_incidents() == 1
    assert events[0] == (True, True, [])  # the first flap is still news
    assert events[-1][:2] == (False, False) and events[-1][2]  # later flaps are silent
    assert any_store.get_incident(incident_id=inc_id).status == IncidentStatus.OPEN


def test_refire_long_after_resolution_opens_a_new_incident(any_store: Any) -> None:
    intake = service(any_store, flap_window=timedelta(minutes=10))
    (first,) = intake.accept([alert("Disk", "db", at=0)]).created
    intake.accept([alert("Disk", "db", at=5, status=AlertStatus.RESOLVED)])
    later = intake.accept([alert("Disk", "db", at=240)])
    assert len(later.created) == 1 and later.created[0] != first


def test_orphan_resolve_never_opens_and_update_only_never_creates(any_store: Any) -> None:
    intake = service(any_store)
    r = intake.accept([alert("Gone", "svc", status=AlertStatus.RESOLVED)])
    assert r.created == [] and any_store.list_incidents(status="open") == []
    note = alert("Note", "svc")
    note.raw = {"update_only": True, "note": "looking"}
    assert intake.accept([note]).ignored == 1
    assert any_store.list_incidents(status="open") == []


def test_vendor_lifecycle_ack_note_external_refs(any_store: Any) -> None:
    intake = service(any_store)
    trig = alert("Checkout latency", "checkout")
    trig.fingerprint = "pd:P1"
    trig.raw = {"external_refs": {"pagerduty": "P1"}}
    (inc_id,) = intake.accept([trig]).created
    ack = alert("Checkout latency", "checkout", status=AlertStatus.ACKNOWLEDGED)
    ack.fingerprint = "pd:P1"
    assert intake.accept([ack]).updated == [inc_id]
    stored = any_store.get_incident(incident_id=inc_id)
    assert stored.status == IncidentStatus.ACKNOWLEDGED and stored.external_refs == {"pagerduty": "P1"}
    note = alert("Checkout latency", "checkout")
    note.fingerprint = "pd:P1"
    note.raw = {"update_only": True, "note": "killing slow queries"}
    r = intake.accept([note])
    assert r.updated == [] and r.incident_ids == [inc_id]
    stored = any_store.get_incident(incident_id=inc_id)
    assert stored.alerts[0].raw["notes"] == ["killing slow queries"]
    assert stored.alerts[0].status == AlertStatus.ACKNOWLEDGED  # a note never changes state


def test_severity_escalation_is_an_update(any_store: Any) -> None:
    intake = service(any_store)
    (inc_id,) = intake.accept([alert("Lat", "api", severity=Severity.WARNING)]).created
    r = intake.accept([alert("Lat", "api", severity=Severity.CRITICAL)])
    assert r.updated == [inc_id]
    assert any_store.get_incident(incident_id=inc_id).severity == Severity.CRITICAL


def test_topology_learned_from_labels_and_from_callers(any_store: Any) -> None:
    intake = service(any_store)
    intake.accept([alert("MeshErrors", "gateway", at=0, destination_service="payments", source_service="gateway")])
    assert "payments" in intake.learned_topology()["gateway"]
    later = IntakeService(store=any_store, policy=GroupingPolicy())  # a fresh process reads what was learned
    r = later.accept([alert("PaymentsDown", "payments", at=1)])
    assert r.created == []
    learn_topology(store=any_store, topology={"search": ["elastic"]})
    assert IntakeService(store=any_store).learned_topology()["search"] == ["elastic"]


def test_only_news_triggers_reanalysis(any_store: Any) -> None:
    intake = service(any_store)
    (inc_id,) = intake.accept([alert("HighLatency", "checkout", pod="checkout-1")]).created
    same_kind = intake.accept([alert("HighLatency", "checkout", at=1, pod="checkout-2")])
    assert same_kind.incident_ids == [inc_id] and same_kind.updated == []  # another pod: joined, no re-analysis
    new_kind = intake.accept([alert("HighErrorRate", "checkout", at=2, pod="checkout-2")])
    assert new_kind.updated == [inc_id]
    assert any_store.count_alerts(incident_id=inc_id) == 3


def test_policy_from_settings_merges_both_topologies(tmp_path: Any, store: Any) -> None:
    from config.settings import load_settings

    settings = load_settings(data_dir=tmp_path, topology={"web": ["api"]},
                             intake={"topology": {"api": ["db"]}, "flap_threshold": 5, "group_window_minutes": 7})
    intake = IntakeService.from_settings(settings=settings, store=store)
    assert intake.policy.topology == {"api": ["db"], "web": ["api"]}
    assert intake.policy.flap_threshold == 5 and intake.policy.window == timedelta(minutes=7)
    (inc,) = intake.accept([alert("Errors", "web", at=0)]).created
    assert intake.accept([alert("Slow", "api", at=1)]).incident_ids == [inc]  # joined through the topology


def test_accept_many_answers_each_delivery_as_separate_calls_would(any_store: Any) -> None:
    intake = service(any_store)
    first, repeat, other, resolve = intake.accept_many([
        [alert("HighLatency", "checkout", pod="checkout-1")],
        [alert("HighLatency", "checkout", pod="checkout-1")],  # the same alert again: a duplicate
        [alert("DiskFull", "logging", at=1, node="node-7")],
        [alert("HighLatency", "checkout", at=5, pod="checkout-1", status=AlertStatus.RESOLVED)],
    ])
    assert len(first.created) == 1 and first.incidents[0].status == IncidentStatus.OPEN
    assert repeat.created == [] and repeat.duplicates == 1 and repeat.incident_ids == first.created
    assert len(other.created) == 1 and other.created != first.created
    assert resolve.resolved == first.created and resolve.created == []
    assert any_store.count_alerts() == 2 and any_store.count_incidents() == 2
    assert any_store.get_incident(incident_id=first.created[0]).status == IncidentStatus.RESOLVED


async def test_coalescer_commits_concurrent_deliveries_and_answers_each(any_store: Any) -> None:
    import asyncio

    from bot.pipeline.intake import IntakeCoalescer

    intake = service(any_store)
    calls: list[int] = []

    def accept_many(batches: list[list[Alert]]) -> list[Any]:
        calls.append(len(batches))
        return intake.accept_many(batches)

    coalescer = IntakeCoalescer(accept_many)
    results = await asyncio.gather(*(coalescer.accept([alert("HighLatency", f"svc-{i % 3}", at=i, pod=f"p{i}")])
                                     for i in range(12)))
    assert [r.alerts for r in results] == [1] * 12
    assert sum(len(r.created) for r in results) == 3  # one incident per service, opened once
    assert sum(calls) == 12 and len(calls) < 12  # deliveries shared transactions
    assert any_store.count_alerts() == 12
    bad = Alert(source="alertmanager", name="x" * 10, labels={"alertname": "x"}, starts_at=T0)
    bad.raw = {"update_only": True}  # names an alert never seen: ignored, not an error
    ok, ignored = await asyncio.gather(coalescer.accept([alert("Other", "svc-9", pod="q")]), coalescer.accept([bad]))
    assert len(ok.created) == 1 and ignored.ignored == 1


def test_only_the_root_cause_neighbourhood_joins_through_the_topology(any_store: Any) -> None:
    intake = service(any_store, topology={"api": ["cache", "db"], "web": ["api"]})
    (inc,) = intake.accept([alert("RedisDown", "cache", at=0)]).created
    assert intake.accept([alert("HighLatency", "api", at=1)]).incident_ids == [inc]  # calls the root
    assert intake.accept([alert("Errors", "web", at=2)]).incident_ids == [inc]  # two hops up from it
    # the database is a dependency of a symptom (api), not of the root (cache): another failure
    other = intake.accept([alert("SlowQueries", "db", at=3)])
    assert len(other.created) == 1 and other.created != [inc]


def test_time_counts_from_the_incident_recent_activity(any_store: Any) -> None:
    intake = service(any_store, topology={"web": ["api"]}, cascade_window=timedelta(minutes=10))
    (inc,) = intake.accept([alert("HighLatency", "api", at=0, pod="a")]).created
    for at in (8, 16):  # the incident keeps growing: new pods of the service alert
        assert intake.accept([alert("HighLatency", "api", at=at, pod=f"p{at}")]).incident_ids == [inc]
    # 18 min after the start but 2 min after the latest new alert: still the same cascade
    assert intake.accept([alert("Errors", "web", at=18)]).incident_ids == [inc]
    # repeats and flaps are not activity: long after the last new alert, the service starts a new incident
    intake.accept([alert("HighLatency", "api", at=40, pod="a")])
    late = intake.accept([alert("HighLatency", "api", at=60, pod="late")])
    assert len(late.created) == 1


def test_similar_labels_in_another_cluster_are_another_incident(any_store: Any) -> None:
    intake = service(any_store)
    (inc,) = intake.accept([alert("QueueBacklog", None, at=0, queue="jobs", consumer="w", cluster="eu-1")]).created
    assert intake.accept([alert("ConsumerLag", None, at=1, queue="jobs", consumer="w", cluster="eu-1")]).incident_ids == [inc]
    other = intake.accept([alert("ConsumerLag", None, at=1, queue="jobs", consumer="w", cluster="us-1")])
    assert len(other.created) == 1


def test_workloads_sharing_a_node_are_not_tied_by_it_but_node_alerts_are(any_store: Any) -> None:
    intake = service(any_store)
    (oom,) = intake.accept([alert("ContainerOOMKilled", "cart", at=0, pod="cart-1", node="node-2")]).created
    other = intake.accept([alert("CPUThrottlingHigh", "users", at=1, pod="users-1", node="node-2")])
    assert len(other.created) == 1  # another workload on the same node: its own problem
    node = intake.accept([alert("KubeNodeNotReady", None, at=2, node="node-2")])
    assert node.incident_ids[0] in {oom, *other.created}  # the node alert joins what runs on the node


def test_correlation_sees_what_another_process_added_to_an_incident(any_store: Any) -> None:
    """Each process keeps its correlation index between transactions; a profile another process changed is
    re-indexed, so an alert tied only through what that process added still joins."""
    a, b = service(any_store), service(any_store)
    first = a.accept([alert("HighLatency", "checkout", at=0)])
    a.accept([alert("Unrelated", "billing", at=0)])  # a's index now exists and holds checkout's incident
    b.accept([alert("DiskFull", "checkout", at=1, node="node-9")])  # b adds host node-9 to checkout's incident
    joined = a.accept([alert("KubeletPressure", None, at=2, node="node-9:9100")])  # tied only by node-9
    assert joined.created == [] and joined.incident_ids == first.created
