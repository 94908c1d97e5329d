"""Failures a caller reports that live below it (``bot/reasoning/decisive.py``, ``bot/reasoning/features.py``):
a resolver's own failure for the names it serves, a change whose component then restarts in a loop, and a device's
lost sessions to a provider that says it is disrupted. Written for the casebook's sixth postmortem batch (dev cases
pm-139, 149, 153); each test holds a case where the rule must not fire next to one where it must."""

from __future__ import annotations

from bot.domain import ChangeEvent
from bot.reasoning.decisive import resolver_failed_own_name, retarget
from bot.reasoning.features import build_candidates
from tests.reasoning.factories import at, context, signal


def _lookup(service: str, line: str, looked_up: str, minute: float = 3):  # type: ignore[no-untyped-def]
    return signal("logs", service, "dns_failure", 0.85, minute,
                  attributes={"decisive": True, "line": line, "culprit": "dns", "looked_up": looked_up})


DISCOVERY = {"web": ["service-discovery", "api-backend"], "api-backend": ["service-discovery"],
             "intake": ["service-discovery"], "service-discovery": []}


def test_servfail_for_a_name_the_discovery_service_serves_is_that_service_s_failure() -> None:
    sig = _lookup("web", "dial tcp: lookup api-backend.service.consul on 127.0.0.1:53: server misbehaving",
                  "api-backend.service.consul")
    assert resolver_failed_own_name(sig)
    moved = [s for s in retarget([sig], DISCOVERY, DISCOVERY) if s.kind == "dns_failure"]
    assert [s.service for s in moved] == ["service-discovery"]


def test_servfail_for_an_outside_name_stays_with_whoever_serves_that_name() -> None:
    # an outside zone's SERVFAIL (a broken DNSSEC chain, a provider's name servers) is not the local resolver's
    sig = _lookup("web", "dial tcp: lookup api-backend.example.com on 127.0.0.1:53: server misbehaving",
                  "api-backend.example.com")
    assert not resolver_failed_own_name(sig)
    moved = [s for s in retarget([sig], DISCOVERY, DISCOVERY) if s.kind == "dns_failure"]
    assert [s.service for s in moved] == ["api-backend"]


def test_a_name_that_does_not_exist_under_discovery_is_not_the_resolver_s_failure() -> None:
    sig = _lookup("intake", "lookup latency-probe.service.consul on 127.0.0.1:53: no such host",
                  "latency-probe.service.consul")
    assert not resolver_failed_own_name(sig)


def _change(service: str, kind: str, minute: float) -> ChangeEvent:
    return ChangeEvent(ts=at(minute), kind=kind, service=service, text=f"{kind} of {service}")


DNS = {"cdn": ["edge-dns", "storage"], "edge-dns": ["storage"], "storage": []}


def _dns_crash_signals(restart_score: float):  # type: ignore[no-untyped-def]
    return [
        # the CDN's lookups the DNS nodes no longer answer (moved to edge-dns, the reporter keeps a symptom)
        signal("logs", "cdn", "dns_failure", 0.88, 3,
               attributes={"decisive": True, "line": "resolver error: no answer (SERVFAIL from ns1)",
                           "culprit": "edge-dns"}),
        # the DNS nodes' own count of restarts, read from their metrics
        signal("metrics", "edge-dns", "crash_loop", restart_score, 2),
    ]


def test_a_crash_loop_count_after_a_deploy_does_not_hide_the_deploy() -> None:
    ctx = context(service="cdn", topology=DNS, events=[_change("edge-dns", "deploy", 0)])
    cands = {(c.service, c.kind): c for c in build_candidates(context=ctx, signals=_dns_crash_signals(0.65),
                                                               similar=[], runbooks=[])}
    deploy = cands[("edge-dns", "bad_deploy")].features["decisive_score"]
    assert deploy == 0.88
    assert cands[("edge-dns", "dns_failure")].features["decisive_score"] < deploy


def test_a_specific_mechanism_in_the_metrics_still_keeps_the_answer_after_a_deploy() -> None:
    ctx = context(service="cdn", topology=DNS, events=[_change("edge-dns", "deploy", 0)])
    signals = [*_dns_crash_signals(0.65), signal("metrics", "edge-dns", "memory_leak", 0.8, 1)]
    cands = {(c.service, c.kind): c for c in build_candidates(context=ctx, signals=signals, similar=[], runbooks=[])}
    deploy = cands.get(("edge-dns", "bad_deploy"))
    assert deploy is None or deploy.features["decisive_score"] == 0.0


EDGE = {"web": ["edge-rtr"], "edge-rtr": ["scrubbing-provider"], "scrubbing-provider": []}


def _sessions_lost():  # type: ignore[no-untyped-def]
    return signal("logs", "edge-rtr", "network_partition", 0.8, 1,
                  attributes={"decisive": True, "line": "%BGP-5-NBR_RESET: Neighbor 203.0.113.1 reset (hold time expired)"})


def test_lost_sessions_to_a_provider_that_reports_its_disruption_are_the_provider_s_failure() -> None:
    notice = signal("logs", "scrubbing-provider", "dependency_failure", 0.75, 8,
                    attributes={"decisive": True, "line": "Investigating - we are investigating a service disruption"})
    out = retarget([_sessions_lost(), notice], EDGE, EDGE)
    moved = [s for s in out if s.attributes.get("reported_as") == "network_partition"]
    assert [(s.service, s.kind) for s in moved] == [("scrubbing-provider", "dependency_failure")]
    assert any(s.service == "edge-rtr" and s.attributes.get("blames") == "scrubbing-provider" for s in out)


def test_lost_sessions_stay_a_partition_when_nothing_below_reports_a_failure_of_its_own() -> None:
    out = retarget([_sessions_lost()], EDGE, EDGE)
    assert [(s.service, s.kind) for s in out if s.attributes.get("decisive")] == [("edge-rtr", "network_partition")]


def test_the_device_s_own_dependency_failure_line_does_not_rename_its_partition() -> None:
    # "under" leaves the reporter out: a device's own generic failure line is no mechanism below it
    own = signal("logs", "edge-rtr", "dependency_failure", 0.7, 2, attributes={"decisive": True, "line": "x"})
    out = retarget([_sessions_lost(), own], EDGE, EDGE)
    assert ("edge-rtr", "network_partition") in {(s.service, s.kind) for s in out}
    assert not any(s.attributes.get("reported_as") == "network_partition" for s in out)
