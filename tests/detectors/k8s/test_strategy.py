"""A rollout that takes away more capacity than the workload can spare after a change of its strategy
(docs/causes.md): ``Recreate``, or ``maxUnavailable`` raised with ``maxSurge 0``, is the workload's config_change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain import ChangeEvent, KubeText
from detectors.kubernetes import detect_kubernetes_signals
from detectors.kubernetes.strategy import STRATEGY_WORDS

from .factories import context

RECREATED = """$ kubectl -n shop describe deploy cart-service | sed -n '/^Replicas/,/^Selector/p;/^Events/,$p'
Replicas:               10 desired | 10 updated | 10 total | 0 available | 10 unavailable
StrategyType:           Recreate
MinReadySeconds:        0
Events:
  Type    Reason             Age    From                   Message
  ----    ------             ----   ----                   -------
  Normal  ScalingReplicaSet  4m12s  deployment-controller  Scaled down replica set cart-service-5f7c9d8b6 to 0 from 10
  Normal  ScalingReplicaSet  3m41s  deployment-controller  Scaled up replica set cart-service-6b8d4c7f9 to 10
"""

HALVED = """$ kubectl -n media describe deploy media-api
Name:                   media-api
Namespace:              media
Replicas:               12 desired | 6 updated | 12 total | 6 available | 6 unavailable
StrategyType:           RollingUpdate
MinReadySeconds:        30
RollingUpdateStrategy:  50% max unavailable, 0% max surge
"""

GENTLE = HALVED.replace("6 available | 6 unavailable", "11 available | 1 unavailable").replace(
    "50% max unavailable, 0% max surge", "25% max unavailable, 25% max surge")


def _change(service: str, text: str, hour: int = 11) -> ChangeEvent:
    return ChangeEvent(ts=datetime(2024, 3, 4, hour, 50, tzinfo=UTC), kind="deploy", service=service, text=text)


def _strategy(signals: list, service: str) -> list:
    return [s for s in signals if s.service == service and s.detector == "k8s.rollout_strategy"]


@pytest.mark.parametrize("text", ["strategy changed RollingUpdate -> Recreate", "rollingUpdate.maxUnavailable 50%",
                                  "max_surge = 0", "--set strategy.rollingUpdate.max-unavailable=50%"])
def test_the_words_a_change_names_its_strategy_with(text: str) -> None:
    assert STRATEGY_WORDS.search(text)


@pytest.mark.parametrize(("text", "service", "change"), [
    (RECREATED, "cart-service", "cart-service 5.0.0; strategy RollingUpdate -> Recreate"),
    (HALVED, "media-api", "media-api chart: maxUnavailable 25% -> 50%, maxSurge 25% -> 0"),
])
def test_a_changed_strategy_that_took_half_the_pods_is_the_workloads_config(text: str, service: str,
                                                                           change: str) -> None:
    signals = detect_kubernetes_signals(context(KubeText(name="d.txt", text=text), events=[_change(service, change)]))
    found = _strategy(signals, service)
    assert found and found[0].kind == "config_change" and found[0].attributes["decisive"]


@pytest.mark.parametrize(("text", "changes"), [
    (HALVED, []),  # no change of the strategy: the state alone says nothing about this incident
    (HALVED, [_change("media-api", "media-api 4.2.1 rolled out")]),  # a release that left the strategy alone
    (HALVED, [_change("other-api", "other-api maxUnavailable 50%")]),  # another workload's strategy
    (HALVED, [_change("media-api", "media-api maxUnavailable 50%", hour=13)]),  # after the alert
    (GENTLE, [_change("media-api", "media-api maxSurge 25%")]),  # the rollout kept most pods
])
def test_without_a_strategy_change_that_took_the_pods_nothing_is_said(text: str, changes: list) -> None:
    signals = detect_kubernetes_signals(context(KubeText(name="d.txt", text=text), events=changes))
    assert not _strategy(signals, "media-api")


def test_a_change_logged_without_a_zone_is_compared_as_utc() -> None:
    change = ChangeEvent(ts=datetime(2024, 3, 4, 11, 50), kind="deploy", service="media-api",  # noqa: DTZ001
                         text="media-api maxUnavailable 25% -> 50%, maxSurge 25% -> 0")
    signals = detect_kubernetes_signals(context(KubeText(name="d.txt", text=HALVED), events=[change]))
    assert _strategy(signals, "media-api")
