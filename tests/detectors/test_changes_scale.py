"""A scaling event refused for a quota or a ceiling is the scaled workload's limit (``resource_quota``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain import ChangeEvent
from detectors.changes import detect_change_signals, scale_refusal

ALERT = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def _event(text: str, kind: str = "scale", minutes_before: int = 3) -> ChangeEvent:
    return ChangeEvent(ts=ALERT - timedelta(minutes=minutes_before), kind=kind, service="listing", text=text)


def test_a_scale_out_refused_for_quota_is_a_decisive_resource_quota_on_the_workload() -> None:
    texts = [
        "autoscaler: listing desired instances 58, running 32: scale-out rejected, quota for role listing exhausted",
        "HPA listing: failed to scale up to 40 replicas: exceeded quota: compute-quota, requested: cpu=2",
        "scale up of listing denied: max instances (32) reached",
    ]
    for text in texts:
        sig = scale_refusal(_event(text))
        assert sig is not None, text
        assert (sig.service, sig.kind, sig.attributes["decisive"]) == ("listing", "resource_quota", True)
    found = [s for s in detect_change_signals([_event(texts[0])], alert_time=ALERT) if s.kind == "resource_quota"]
    assert len(found) == 1


def test_ordinary_scaling_and_other_kinds_of_event_are_no_refusal() -> None:
    assert scale_refusal(_event("autoscaler: listing scaled from 32 to 40 instances")) is None
    assert scale_refusal(_event("raised the rate limit for the partner API", kind="config")) is None
    assert scale_refusal(_event("scale-out rejected, quota exhausted", minutes_before=3).model_copy(
        update={"service": None})) is None
    old = _event("scale-out rejected: quota exhausted", minutes_before=400)
    assert [s for s in detect_change_signals([old], alert_time=ALERT) if s.kind == "resource_quota"] == []
