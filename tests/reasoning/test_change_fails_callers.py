"""A change of a dependency, followed by the incident's first failures on its callers that name no mechanism of
their own, is their cause even when the changed component shows nothing (``features._change_fails_callers``)."""

from __future__ import annotations

from bot.domain import ChangeEvent, Signal
from bot.reasoning.features import build_candidates
from bot.reasoning.ranker import rank
from tests.reasoning.factories import at, context, signal

# a probe resolves through the name servers, which load what the zone generator writes
CHAIN = {"probe": ["nameserver"], "nameserver": ["zonegen"], "zonegen": [], "billing": []}


def _change(service: str, minute: float, kind: str = "deploy", text: str = "zonegen 4.1.0") -> ChangeEvent:
    return ChangeEvent(ts=at(minute), kind=kind, service=service, text=text)


def _errors(service: str, minute: float) -> Signal:
    return signal("logs", service, "error_rate_increase", 0.9, minute)  # a new error template


def _top(events: list[ChangeEvent], signals: list[Signal]) -> tuple[str, str]:
    ctx = context(service="probe", title="probe failures", topology=CHAIN, events=events)
    top = rank(context=ctx, signals=signals, similar=[], runbooks=[]).hypotheses[0]
    return top.service, top.kind


def _features(events: list[ChangeEvent], signals: list[Signal]) -> dict[tuple[str, str], dict[str, float]]:
    ctx = context(service="probe", title="probe failures", topology=CHAIN, events=events)
    return {(c.service, c.kind): c.features
            for c in build_candidates(context=ctx, signals=signals, similar=[], runbooks=[])}


def _shift(minute: float) -> Signal:
    # the changed component's own evidence moves right after its change: a new template in its log
    return signal("logs", "zonegen", "log_anomaly", 0.6, minute)


def test_callers_failing_right_after_their_dependencys_change_blame_the_change() -> None:
    signals = [_shift(2), _errors("nameserver", 12), _errors("probe", 13)]
    feats = _features([_change("zonegen", 0)], signals)
    assert feats[("zonegen", "bad_deploy")]["decisive_score"] == 0.72
    assert _top([_change("zonegen", 0)], signals) == ("zonegen", "bad_deploy")


def test_errors_alone_on_the_callers_need_the_change_to_show_on_its_component() -> None:
    signals = [_errors("nameserver", 12), _errors("probe", 13)]
    assert _features([_change("zonegen", 0)], signals)[("zonegen", "bad_deploy")]["decisive_score"] == 0.0
    late = [_shift(20), *signals]  # a shift after the callers' errors is no sign of the change before them
    assert _features([_change("zonegen", 0)], late)[("zonegen", "bad_deploy")]["decisive_score"] == 0.0


def test_a_reported_identity_failure_of_the_caller_is_taken_by_the_change() -> None:
    # the probe's SERVFAIL lines, moved to the name servers, say they no longer answer: how, the change says
    servfail = signal("logs", "probe", "dns_failure", 0.88, 13,
                      attributes={"decisive": True, "culprit": "nameserver", "line": "SERVFAIL from nameserver"})
    feats = _features([_change("zonegen", 0)], [_errors("nameserver", 12), servfail])
    assert feats[("zonegen", "bad_deploy")]["decisive_score"] == 0.88
    assert feats[("nameserver", "dns_failure")]["decisive_score"] < 0.88


def test_callers_already_failing_before_the_change_are_not_its_effect() -> None:
    signals = [_shift(2), _errors("nameserver", -5), _errors("probe", 13)]
    assert _features([_change("zonegen", 0)], signals)[("zonegen", "bad_deploy")]["decisive_score"] == 0.0


def test_a_caller_whose_own_evidence_names_its_mechanism_keeps_it() -> None:
    full = signal("logs", "nameserver", "disk_full", 0.85, 12, attributes={"decisive": True, "line": "No space left on device"})
    feats = _features([_change("zonegen", 0)], [_shift(2), full, _errors("nameserver", 12), _errors("probe", 13)])
    assert feats[("zonegen", "bad_deploy")]["decisive_score"] == 0.0


def test_a_caller_changed_itself_in_the_window_is_its_own_suspect() -> None:
    events = [_change("zonegen", 0), _change("nameserver", 5, text="ns 9.18.2")]
    feats = _features(events, [_shift(2), _errors("nameserver", 12), _errors("probe", 13)])
    assert feats[("zonegen", "bad_deploy")]["decisive_score"] == 0.0


def test_a_failure_elsewhere_first_is_no_effect_of_the_change() -> None:
    # something unrelated to the changed component failed before its callers: the change did not start this
    signals = [_shift(2), _errors("billing", 6), _errors("nameserver", 12), _errors("probe", 13)]
    assert _features([_change("zonegen", 0)], signals)[("zonegen", "bad_deploy")]["decisive_score"] == 0.0


def test_callers_failing_long_after_the_change_are_not_its_effect() -> None:
    signals = [_shift(2), _errors("nameserver", 45), _errors("probe", 46)]
    assert _features([_change("zonegen", 0)], signals)[("zonegen", "bad_deploy")]["decisive_score"] == 0.0


def test_a_callers_errors_that_follow_another_dependencys_failure_are_not_the_changes() -> None:
    # the caller's log changes first, then a store it also depends on goes down, then its errors: they may be the
    # store's
    topology = {**CHAIN, "nameserver": ["zonegen", "store"], "store": []}
    ctx = context(service="probe", title="probe failures", topology=topology, events=[_change("zonegen", 0)])
    signals = [_shift(2), signal("logs", "nameserver", "log_anomaly", 0.6, 5), signal("metrics", "store", "db_down", 0.9, 10),
               _errors("nameserver", 12), _errors("probe", 13)]
    feats = {(c.service, c.kind): c.features
             for c in build_candidates(context=ctx, signals=signals, similar=[], runbooks=[])}
    assert feats[("zonegen", "bad_deploy")]["decisive_score"] == 0.0


def test_a_name_server_known_by_its_own_lines_not_its_name_is_taken_by_the_change() -> None:
    # the same chain with the name servers called "rowan": their own log is BIND's, so the SERVFAILs the probe reports
    # of them are their identity failure, which the generator's change explains
    chain = {"probe": ["rowan"], "rowan": ["zonegen"], "zonegen": []}
    ctx = context(service="probe", title="probe failures", topology=chain, events=[_change("zonegen", 0)])
    ctx.logs["rowan"] = [f"Jun 02 04:1{i}:00 ns-a1 named[880]: zone example.org/IN: NS 'ns{i}.example.org.example.org' "
                         "has no address records (A or AAAA)" for i in range(6)]
    servfail = signal("logs", "probe", "dns_failure", 0.88, 13,
                      attributes={"decisive": True, "culprit": "rowan", "line": "SERVFAIL from rowan"})
    signals = [signal("logs", "rowan", "error_rate_increase", 0.9, 12), servfail]
    feats = {(c.service, c.kind): c.features
             for c in build_candidates(context=ctx, signals=signals, similar=[], runbooks=[])}
    assert feats[("zonegen", "bad_deploy")]["decisive_score"] == 0.88
    top = rank(context=ctx, signals=signals, similar=[], runbooks=[]).hypotheses[0]
    assert (top.service, top.kind) == ("zonegen", "bad_deploy")


def test_a_dependency_known_to_fail_only_from_the_callers_own_reports_is_no_earlier_failure() -> None:
    # the name servers' failed calls to their store were moved to the store (reporter: the name servers); that is
    # the same failure seen from the other end, not another dependency failing first
    topology = {**CHAIN, "nameserver": ["zonegen", "store"], "store": []}
    ctx = context(service="probe", title="probe failures", topology=topology, events=[_change("zonegen", 0)])
    reported = signal("logs", "store", "dependency_failure", 0.6, 12,
                      attributes={"decisive": True, "reporter": "nameserver"})
    signals = [_shift(2), _errors("nameserver", 12), reported, _errors("probe", 13)]
    feats = {(c.service, c.kind): c.features
             for c in build_candidates(context=ctx, signals=signals, similar=[], runbooks=[])}
    assert feats[("zonegen", "bad_deploy")]["decisive_score"] == 0.72
    # a failure of the store's own (its own log) stays an earlier witness
    own = signal("logs", "store", "dependency_failure", 0.6, 12, attributes={"decisive": True})
    feats = {(c.service, c.kind): c.features
             for c in build_candidates(context=ctx, signals=[_shift(2), _errors("nameserver", 12), own,
                                                             _errors("probe", 13)], similar=[], runbooks=[])}
    assert feats[("zonegen", "bad_deploy")]["decisive_score"] == 0.0


def test_a_shift_is_dated_by_its_templates_first_line() -> None:
    # the changed component's new template is measured in a later window than its first line, which came right after
    # the change and before the callers' errors: the component shifted first
    late_window = signal("logs", "zonegen", "log_anomaly", 0.6, 20,
                         attributes={"first_seen": at(2).isoformat()})
    signals = [late_window, _errors("nameserver", 12), _errors("probe", 13)]
    assert _features([_change("zonegen", 0)], signals)[("zonegen", "bad_deploy")]["decisive_score"] == 0.72
    # a template first seen long before the change is no shift after it
    old = signal("logs", "zonegen", "log_anomaly", 0.6, 20, attributes={"first_seen": at(-120).isoformat()})
    assert _features([_change("zonegen", 0)], [old, *signals[1:]])[("zonegen", "bad_deploy")]["decisive_score"] == 0.0
