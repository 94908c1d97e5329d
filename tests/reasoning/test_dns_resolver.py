"""Name-resolution failures that callers report point at the cluster DNS, which topologies rarely list."""

from __future__ import annotations

from bot.reasoning.features import build_candidates
from tests.reasoning.factories import context, signal

TOPOLOGY = {
    "frontend": ["checkout", "node-1"],
    "checkout": ["payments", "orders-db", "node-1"],
    "payments": ["orders-db", "node-2"],
    "coredns": ["node-2"],
    "orders-db": ["node-2"],
    "node-1": [],
    "node-2": [],
}


def _log(service: str, text: str, score: float, minute: float):  # type: ignore[no-untyped-def]
    s = signal("logs", service, "dns_failure", score, minute)
    return s.model_copy(update={"title": f"{service}: new log template", "attributes": {"template": text}})


def _cands():  # type: ignore[no-untyped-def]
    signals = [
        _log("coredns", "[ERROR] plugin/errors: 2 payments. A: read udp 10.244.0.3:41234->10.0.0.2:53: i/o timeout",
             0.7, 3),
        _log("checkout", "call to payments failed: dial tcp: lookup payments on 10.96.0.10:53: server misbehaving",
             1.0, 4),
        _log("frontend", "call to checkout failed: dial tcp: lookup checkout on 10.96.0.10:53: no such host", 0.9, 5),
    ]
    ctx = context(service="checkout", topology=TOPOLOGY)
    return {(c.service, c.kind): c for c in build_candidates(context=ctx, signals=signals, similar=[], runbooks=[])}


def test_every_reporter_sits_in_front_of_the_dns_service() -> None:
    cands = _cands()
    dns = cands[("coredns", "dns_failure")]
    assert dns.features["dep_share"] == 1.0
    assert dns.features["callers_anomalous"] > 0.0
    # a caller only has its own report behind it, and it resolved names through the DNS that broke first
    assert cands[("checkout", "dns_failure")].features["dep_share"] < 1.0
    assert cands[("checkout", "dns_failure")].features["dep_earlier"] == 1.0


def test_a_name_that_failed_to_resolve_does_not_blame_the_service_named() -> None:
    cands = _cands()
    # checkout's error names payments, but only because payments' name did not resolve
    assert ("payments", "dns_failure") not in cands or "named" not in cands[("payments", "dns_failure")].origins
    assert cands.get(("payments", "dns_failure")) is None or \
        cands[("payments", "dns_failure")].features["named_kind_by_others"] == 0.0


def test_the_dns_service_is_no_common_dependency_for_other_kinds() -> None:
    signals = [signal("logs", "checkout", "exception_surge", 0.9, 4), signal("logs", "frontend", "exception_surge", 0.8, 5)]
    ctx = context(service="checkout", topology=TOPOLOGY)
    cands = {(c.service, c.kind) for c in build_candidates(context=ctx, signals=signals, similar=[], runbooks=[])}
    assert ("coredns", "exception_surge") not in cands
