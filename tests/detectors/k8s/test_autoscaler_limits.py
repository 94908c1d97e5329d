"""An autoscaler held back by its own limits (docs/causes.md): an HPA at ``maxReplicas`` or at its scale-up rate
reads as load, unless a change of the workload lowered the ceiling or set the scale-up policies, which is then the
cause. A describe piped through ``sed`` (no ``Name:``) still shows its Conditions table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain import ChangeEvent, KubeText
from detectors.kubernetes import detect_kubernetes_signals
from detectors.kubernetes.detector import HPA_SPEC_LIMITS
from detectors.kubernetes.rules import match_rule

from .factories import context

AT_CEILING = """$ kubectl -n tickets describe hpa ticket-api | sed -n '/^Metrics/,$p'
Metrics:                                                  ( current / target )
  resource cpu on pods  (as a percentage of request):     231% (1155m) / 60%
Min replicas:                                             4
Max replicas:                                             12
Conditions:
  Type            Status  Reason            Message
  ----            ------  ------            -------
  AbleToScale     True    ReadyForNewScale  recommended size matches current size
  ScalingActive   True    ValidMetricType   the HPA was able to successfully calculate a replica count from cpu
  ScalingLimited  True    TooManyReplicas   the desired replica count is more than the maximum replica count
Events:           <none>
"""

AT_RATE = AT_CEILING.replace("ticket-api", "quote-api").replace(
    "TooManyReplicas   the desired replica count is more than the maximum replica count",
    "ScaleUpLimit      the desired replica count is increasing faster than the maximum scale rate")


def _change(service: str, text: str, hour: int = 9) -> ChangeEvent:
    return ChangeEvent(ts=datetime(2024, 3, 4, hour, 0, tzinfo=UTC), kind="config", service=service, text=text)


def _kinds(signals: list, service: str) -> set[str]:
    return {s.kind for s in signals if s.service == service}


def test_the_table_names_the_fields_each_limit_comes_from() -> None:
    assert HPA_SPEC_LIMITS == {"hpa.max_replicas": (("maxReplicas", "lowered"),),
                               "hpa.scale_up_limit": (("stabilizationWindowSeconds", "raised"), ("scaleUp", "set"))}


def test_the_scale_up_rate_condition_is_read_as_load_by_itself() -> None:
    rule = match_rule("event", "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale "
                      "rate")
    assert rule is not None and (rule.id, rule.kind) == ("hpa.scale_up_limit", "traffic_spike")


@pytest.mark.parametrize(("text", "describe", "service"), [
    ("cost review: ticket-api HPA maxReplicas 40 -> 12", AT_CEILING, "ticket-api"),
    # Terraform's and Helm's spellings of the field
    ("kubernetes_horizontal_pod_autoscaler_v2.ticket_api: spec.max_replicas 40 => 12", AT_CEILING, "ticket-api"),
    ("helm upgrade ticket-api --set autoscaling.maxReplicas=12", AT_CEILING, "ticket-api"),
    ("quote-api HPA behavior added: scaleUp policy Pods 1 per 300s", AT_RATE, "quote-api"),
    ("quote-api hpa: behavior.scaleUp.stabilizationWindowSeconds 0 -> 600", AT_RATE, "quote-api"),
])
def test_a_limit_a_change_of_the_workload_set_is_that_change(text: str, describe: str, service: str) -> None:
    signals = detect_kubernetes_signals(context(KubeText(name="hpa.txt", text=describe),
                                                events=[_change(service, text)]))
    assert "config_change" in _kinds(signals, service)


@pytest.mark.parametrize("changes", [
    [],  # the load reached the ceiling: row `HPA at maxReplicas while traffic rises`
    [_change("ticket-api", "ticket-api HPA maxReplicas 12 -> 40")],  # raised, not lowered
    [_change("ticket-api", "ticket-api image 4.2.0")],  # another field
    [_change("other-api", "other-api HPA maxReplicas 40 -> 12")],  # another workload
    [_change("ticket-api", "ticket-api HPA maxReplicas 40 -> 12", hour=13)],  # after the alert
])
def test_a_ceiling_no_change_lowered_stays_load(changes: list[ChangeEvent]) -> None:
    signals = detect_kubernetes_signals(context(KubeText(name="hpa.txt", text=AT_CEILING), events=changes))
    kinds = _kinds(signals, "ticket-api")
    assert "traffic_spike" in kinds and "config_change" not in kinds


def test_a_scale_up_window_shortened_is_not_what_slowed_the_autoscaler() -> None:
    change = _change("quote-api", "quote-api hpa: behavior.scaleUp.stabilizationWindowSeconds 600 -> 0")
    signals = detect_kubernetes_signals(context(KubeText(name="hpa.txt", text=AT_RATE), events=[change]))
    assert "config_change" not in _kinds(signals, "quote-api")


def test_a_describe_fragment_of_a_deployment_shows_its_conditions() -> None:
    text = """$ kubectl -n payments describe deploy payments-api | sed -n '/^Conditions/,/^OldReplicaSets/p'
Conditions:
  Type             Status  Reason
  ----             ------  ------
  Available        True    MinimumReplicasAvailable
  Progressing      False   ProgressDeadlineExceeded
OldReplicaSets:  payments-api-5c8f7d9b6d (6/6 replicas created)
"""
    signals = detect_kubernetes_signals(context(KubeText(name="deploy.txt", text=text)))
    assert any(s.service == "payments-api" and "ProgressDeadlineExceeded" in s.title for s in signals)


def test_a_change_logged_without_a_zone_is_compared_as_utc() -> None:
    change = ChangeEvent(ts=datetime(2024, 3, 4, 9, 0), kind="config", service="ticket-api",  # noqa: DTZ001
                         text="ticket-api HPA maxReplicas 40 -> 12")
    signals = detect_kubernetes_signals(context(KubeText(name="hpa.txt", text=AT_CEILING), events=[change]))
    assert "config_change" in _kinds(signals, "ticket-api")
