"""A change of a component whose own evidence shifts right after it, followed by fresh errors on the components it
calls, is their cause (``features._change_fails_dependencies``) -- unless those errors name a component the failing
one calls itself: then they report that dependency's failure (an SMS sender's ``provider=smsgw ... timed out``),
not what the changed component above now sends (``features._names_own_dependency``)."""

from __future__ import annotations

from bot.domain import ChangeEvent, Signal
from bot.reasoning.features import build_candidates
from tests.reasoning.factories import at, context, signal

# a portal calls the OTP sender, which hands messages to an SMS provider
CHAIN = {"portal": ["otp-sender"], "otp-sender": ["smsgw", "ledger"], "smsgw": [], "ledger": []}


def _features(signals: list[Signal]) -> dict[tuple[str, str], dict[str, float]]:
    events = [ChangeEvent(ts=at(0), kind="deploy", service="portal", text="portal 9.1.0")]
    ctx = context(service="otp-sender", title="OTP delivery failures", topology=CHAIN, events=events)
    return {(c.service, c.kind): c.features
            for c in build_candidates(context=ctx, signals=signals, similar=[], runbooks=[])}


def _sender_errors(text: str) -> Signal:
    return signal("logs", "otp-sender", "error_rate_increase", 0.9, 12,
                  attributes={"template": text, "example": text})


def _portal_shift() -> Signal:
    return signal("logs", "portal", "log_anomaly", 0.6, 2)  # a new template in the portal's log after its deploy


def test_fresh_errors_below_a_change_that_shifted_first_are_the_changes() -> None:
    feats = _features([_portal_shift(), _sender_errors("otp send failed: upstream rejected request <*>")])
    assert feats[("portal", "bad_deploy")]["decisive_score"] > 0.0


def test_errors_naming_the_failing_components_own_provider_are_not_the_changes() -> None:
    errors = _sender_errors("otp send failed provider=smsgw: POST https://rest.smsgw.example/send: connect timed out")
    feats = _features([_portal_shift(), errors])
    assert feats[("portal", "bad_deploy")]["decisive_score"] == 0.0


def test_naming_the_changed_component_itself_keeps_the_change() -> None:
    # the sender names the portal (its caller, the changed component): that is no dependency of its own
    feats = _features([_portal_shift(), _sender_errors("otp send failed for request from portal: bad payload <*>")])
    assert feats[("portal", "bad_deploy")]["decisive_score"] > 0.0
