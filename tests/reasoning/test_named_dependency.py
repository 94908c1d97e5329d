"""A dependency that callers' error text names becomes a candidate, with the kind that text names."""

from __future__ import annotations

from bot.reasoning.features import build_candidates
from tests.reasoning.factories import context, signal


def _log(service: str, text: str, score: float, minute: float):  # type: ignore[no-untyped-def]
    s = signal("logs", service, "error_rate_increase", score, minute)
    return s.model_copy(update={"title": f"{service}: new log template", "attributes": {"template": text}})


def test_callers_naming_a_dependency_make_it_a_candidate_with_the_named_kind() -> None:
    ctx = context(topology={"frontend": ["checkout"], "checkout": ["orders-db"], "search": ["orders-db"]})
    signals = [
        _log("checkout", "call to orders-db failed: could not connect to the database", 0.9, 5),
        _log("search", "call to orders-db failed: could not connect to the database", 0.8, 6),
    ]
    cands = {(c.service, c.kind): c for c in build_candidates(context=ctx, signals=signals, similar=[], runbooks=[])}
    named = cands[("orders-db", "db_down")]
    assert "named" in named.origins
    assert named.features["named_by_others"] == 1.0  # both anomalous services name it
    assert named.features["named_kind_by_others"] == 0.9
    # the reporters themselves are not named by anyone
    assert cands[("checkout", "db_down")].features["named_by_others"] == 0.0


def test_a_service_named_only_in_weak_signals_is_not_blamed() -> None:
    ctx = context(topology={"checkout": ["orders-db"]})
    signals = [_log("checkout", "call to orders-db failed: could not connect to the database", 0.1, 5)]
    feats = [c for c in build_candidates(context=ctx, signals=signals, similar=[], runbooks=[])
             if c.service == "orders-db"]
    assert all("named" not in c.origins and c.features["named_by_others"] == 0.0 for c in feats)
