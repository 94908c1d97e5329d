"""Ordinary noise is no start of an incident: a routine scale event of an unrelated service, recorded in the change
log long before the alert, must not put the change that explains the incident "after the first anomaly"
(``bot/reasoning/features.py`` ``_Scene.first_onset``)."""

from __future__ import annotations

from bot.domain import ChangeEvent
from bot.reasoning.features import build_candidates
from tests.reasoning.factories import at, context, signal

TOPOLOGY = {"edge": ["orders-api"], "orders-api": ["orders-pg"], "orders-pg": []}


def _cands(events: list[ChangeEvent], signals):  # type: ignore[no-untyped-def]
    ctx = context(service="orders-api", topology=TOPOLOGY, events=events)
    return {(c.service, c.kind) for c in build_candidates(context=ctx, signals=signals, similar=[], runbooks=[])}


CONFIG = ChangeEvent(ts=at(0), kind="config", service="orders-api", text="synced; pruned ReferenceGrant")


def test_a_routine_scale_event_of_an_unrelated_service_does_not_hide_the_change() -> None:
    # the autoscaler's "scaled from 2 to 3 replicas" of a healthy service, 28 minutes before the config change
    scale = signal("changes", "newsletter", "scale", 0.21, -28)
    assert ("orders-api", "config_change") in _cands([CONFIG], [scale])
    assert ("orders-api", "config_change") in _cands([CONFIG], [])


def test_a_loud_signal_before_the_change_still_dates_the_incident() -> None:
    # a failure well under way before the change: the change came after it began and is no suspect
    failing = signal("logs", "orders-pg", "db_down", 0.9, -28)
    assert ("orders-api", "config_change") not in _cands([CONFIG], [failing])
