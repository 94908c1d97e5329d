"""A change that made a NetworkPolicy is the selected workload's ``network_policy_block`` finding, decisive when
the policy denies and was made minutes before the alert; only when the row names the pods it selects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain import ChangeEvent
from detectors.changes import detect_change_signals, policy_change

ALERT = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def _event(text: str, kind: str = "k8s", service: str | None = "ledger", minutes_before: int = 6) -> ChangeEvent:
    return ChangeEvent(ts=ALERT - timedelta(minutes=minutes_before), kind=kind, service=service, text=text)


def test_a_deny_policy_made_minutes_before_is_a_decisive_block_on_the_workload_it_selects() -> None:
    texts = [
        ("NetworkPolicy deny-all-ingress applied, podSelector app=billing", "billing"),
        ("networkpolicy.networking.k8s.io/ledger-default-deny created (podSelector: app=ledger)", "ledger"),
        ("argocd: synced NetworkPolicy billing-default-deny (podSelector app.kubernetes.io/name: billing) created",
         "billing"),
    ]
    for text, service in texts:
        sig = policy_change(_event(text), ALERT)
        assert sig is not None, text
        assert (sig.service, sig.kind, sig.attributes["decisive"]) == (service, "network_policy_block", True), text
    found = [s for s in detect_change_signals([_event(texts[0][0])], alert_time=ALERT)
             if s.kind == "network_policy_block"]
    assert [s.service for s in found] == ["billing"]


def test_an_allowing_or_old_policy_is_context_and_other_changes_are_no_policy() -> None:
    allowing = policy_change(_event("NetworkPolicy allow-from-frontend created (podSelector app=ledger)"), ALERT)
    assert allowing is not None and not allowing.attributes["decisive"] and allowing.score < 0.5
    old = policy_change(_event("NetworkPolicy default-deny applied, podSelector app=ledger", minutes_before=90), ALERT)
    assert old is not None and not old.attributes["decisive"]
    # a namespace-wide policy (or a row without the selector): whose traffic it cuts is for the kubectl output to say,
    # not the tool that shipped it
    wide = _event("argocd sync baseline: NetworkPolicy default-deny-ingress added to namespaces shop, media",
                  kind="config", service="baseline")
    assert policy_change(wide, ALERT) is None
    assert policy_change(_event("ConfigMap ledger-config updated: LOG_LEVEL info -> debug", kind="config"), ALERT) is None
    assert policy_change(_event("deny list of the WAF updated", kind="config"), ALERT) is None
    far = _event("NetworkPolicy default-deny applied, podSelector app=ledger", minutes_before=400)
    assert [s for s in detect_change_signals([far], alert_time=ALERT) if s.kind == "network_policy_block"] == []
