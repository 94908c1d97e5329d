"""A caller's failures that all name one dependency below it are that dependency's (``dec.named_dependency_failures``)."""

from __future__ import annotations

import json

from bot.domain import Evidence, EvidenceType
from bot.reasoning import decisive as dec
from bot.reasoning.features import build_candidates
from tests.reasoning.factories import context, signal

TOPOLOGY = {"monitor": ["cosmosdb", "s3", "pubsub"], "sms": ["twilio"], "twilio": ["att", "verizon"]}


def _metric(service: str, metric: str, kind: str = "error_rate_increase", score: float = 1.0):  # type: ignore[no-untyped-def]
    return signal("metrics", service, kind, score, 2, metric=metric)


def _template(service: str, text: str, score: float = 0.85, line: str | None = None):  # type: ignore[no-untyped-def]
    s = signal("logs", service, "error_rate_increase", score, 2)
    evidence = [Evidence(id="ex", type=EvidenceType.LOG, summary=line, service=service)] if line else []
    return s.model_copy(update={"detector": "log.new_template", "attributes": {"template": text}, "evidence": evidence})


def _moved(signals):  # type: ignore[no-untyped-def]
    return [(s.service, s.kind, s.attributes.get("reporter")) for s in signals if s.id.endswith(":named")]


def test_an_error_metric_naming_one_dependency_is_that_dependency_s_failure() -> None:
    out = dec.named_dependency_failures([_metric("monitor", "cosmosdb_eastus_error_ratio")], TOPOLOGY)
    assert _moved(out) == [("cosmosdb", "dependency_failure", "monitor")]
    assert all(dec.is_decisive(s) for s in out if s.id.endswith(":named"))


def test_a_failure_count_naming_a_dependency_two_levels_down_and_a_new_error_template() -> None:
    out = dec.named_dependency_failures([_metric("sms", "filtered_att_per_min", kind="saturation")], TOPOLOGY)
    assert _moved(out) == [("att", "dependency_failure", "sms")]
    out = dec.named_dependency_failures(
        [_template("monitor", "monitor=azure_cosmosdb step=CreateDocument result=error status=400")], TOPOLOGY)
    assert _moved(out) == [("cosmosdb", "dependency_failure", "monitor")]


def test_nothing_moves_when_the_text_names_none_or_several_or_the_dependency_speaks_for_itself() -> None:
    assert _moved(dec.named_dependency_failures([_metric("monitor", "http_error_ratio")], TOPOLOGY)) == []
    assert _moved(dec.named_dependency_failures([_metric("monitor", "cosmosdb_pubsub_error_ratio")], TOPOLOGY)) == []
    assert _moved(dec.named_dependency_failures([_metric("monitor", "cosmosdb_requests", kind="saturation")],
                                                TOPOLOGY)) == []
    own = signal("metrics", "cosmosdb", "latency_increase", 0.9, 1)
    assert _moved(dec.named_dependency_failures([_metric("monitor", "cosmosdb_error_ratio"), own], TOPOLOGY)) == []
    # a name that is only part of a token is not named (``pubsub`` in ``pubsubx``), nor a dependency of another service
    assert _moved(dec.named_dependency_failures([_metric("monitor", "pubsubx_error_ratio")], TOPOLOGY)) == []
    assert _moved(dec.named_dependency_failures([_metric("sms", "cosmosdb_error_ratio")], TOPOLOGY)) == []


def test_the_named_dependency_outranks_the_caller_in_the_candidates() -> None:
    ctx = context(service="monitor", topology=TOPOLOGY)
    signals = [_metric("monitor", "cosmosdb_eastus_error_ratio"), signal("logs", "monitor", "error_rate_increase", 0.85, 2)]
    cands = {(c.service, c.kind): c for c in build_candidates(context=ctx, signals=signals, similar=[], runbooks=[])}
    assert cands[("cosmosdb", "dependency_failure")].features["decisive_score"] == 0.7


def test_a_text_naming_a_specific_failure_or_a_caller_with_its_own_decisive_line_moves_nothing() -> None:
    lookup = _template("monitor", "lookup cosmosdb-eastus.documents.azure.com on 10.0.0.2:53: no such host")
    assert _moved(dec.named_dependency_failures([lookup], TOPOLOGY)) == []
    own = signal("logs", "monitor", "db_down", 0.9, 1, attributes={"decisive": True})
    assert _moved(dec.named_dependency_failures([_metric("monitor", "cosmosdb_error_ratio"), own], TOPOLOGY)) == []


def test_a_caller_changed_just_before_its_dependency_s_errors_keeps_them() -> None:
    deploy = signal("changes", "monitor", "deploy", 0.7, -10)
    assert _moved(dec.named_dependency_failures([_metric("monitor", "cosmosdb_error_ratio"), deploy], TOPOLOGY)) == []
    long_before = signal("changes", "monitor", "deploy", 0.7, -40)
    assert _moved(dec.named_dependency_failures([_metric("monitor", "cosmosdb_error_ratio"), long_before],
                                                TOPOLOGY)) == [("cosmosdb", "dependency_failure", "monitor")]


EDGE = {"edge-proxy": ["compute-provider", "lambda", "static-cache"]}
REFUSED = "EDGE_FUNCTION_INVOCATION_FAILED: upstream refused invocation (request blocked by provider traffic policy)"


def _edge_line(upstream: str) -> str:
    return json.dumps({"level": "error", "status": 502, "upstream": upstream, "upstream_status": 403, "msg": REFUSED})


def test_a_structured_line_names_its_upstream_in_a_field_not_only_in_its_message() -> None:
    named = _template("edge-proxy", REFUSED, line=_edge_line("edge-fn.compute-provider.net"))
    assert _moved(dec.named_dependency_failures([named], EDGE)) == [("compute-provider", "dependency_failure", "edge-proxy")]
    # the message alone names nothing; a field naming a host that is no dependency moves nothing
    assert _moved(dec.named_dependency_failures([_template("edge-proxy", REFUSED)], EDGE)) == []
    other = _template("edge-proxy", REFUSED, line=_edge_line("fn.other-vendor.net"))
    assert _moved(dec.named_dependency_failures([other], EDGE)) == []


def test_a_dependency_that_only_serves_less_does_not_speak_for_itself() -> None:
    named = _template("edge-proxy", REFUSED, line=_edge_line("edge-fn.compute-provider.net"))
    fell = signal("metrics", "compute-provider", "traffic_drop", 0.8, 2)
    assert _moved(dec.named_dependency_failures([named, fell], EDGE)) == [
        ("compute-provider", "dependency_failure", "edge-proxy")]
    slower = signal("metrics", "compute-provider", "latency_increase", 0.8, 2)
    assert _moved(dec.named_dependency_failures([named, slower], EDGE)) == []
