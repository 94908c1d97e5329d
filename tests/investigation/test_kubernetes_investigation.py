"""A scripted investigation reads a crash-looping pod through the real Kubernetes client, against a
local stand-in of the API server, and the answer cites what it fetched."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from kubernetes.client import ApiClient, Configuration, CoreV1Api

from bot.domain import EvidenceType
from bot.investigation import ToolResources
from bot.reasoning.llm import LLMReasoner
from connectors.kubernetes.reader import CoreV1Reader
from tests.fakes.chat_models import ScriptedChatModel, answer_turn, call, tool_turn
from tests.fakes.kubernetes_api import FakeKubernetes

from .factories import POD, PREVIOUS_LOG, analysis, context, events_json, pod_json, settings


@pytest.fixture
def kube() -> Iterator[FakeKubernetes]:
    with FakeKubernetes(pods={("shop", POD): pod_json()}, events=events_json(),
                        previous_logs={("shop", POD, "checkout"): PREVIOUS_LOG}) as server:
        yield server


def reader(kube: FakeKubernetes) -> CoreV1Reader:
    return CoreV1Reader(CoreV1Api(ApiClient(Configuration(host=kube.url))))


def test_model_fetches_previous_logs_and_events_and_cites_them(kube: FakeKubernetes) -> None:
    final = {"hypotheses": [{"service": "checkout", "kind": "crash_loop", "title": "checkout cannot reach db",
                             "confidence": 0.9, "evidence_ids": ["tool:2", "tool:3"]}],
             "summary": "checkout crash-loops: it exits when db:5432 refuses connections (tool:3)."}
    model = ScriptedChatModel(responses=[
        tool_turn(call("kubernetes_pod", {"pod": POD}), call("kubernetes_events", {"name": POD}, 1)),
        tool_turn(call("kubernetes_previous_logs", {"pod": POD, "container": "checkout", "tail": 20})),
        answer_turn(json.dumps(final)),
    ])
    ctx = context()
    reasoner = LLMReasoner(settings(), model=model, tools=ToolResources(kubernetes=reader(kube)))
    out = reasoner.refine(context=ctx, analysis=analysis(ctx))

    assert out.llm["used"] is True and out.llm["investigated"] is True
    calls = out.llm["tool_calls"]
    assert [(c["id"], c["tool"], c["status"]) for c in calls] == [
        ("tool:1", "kubernetes_pod", "ok"), ("tool:2", "kubernetes_events", "ok"),
        ("tool:3", "kubernetes_previous_logs", "ok")]
    assert calls[2]["arguments"] == {"pod": POD, "container": "checkout", "tail": 20}
    assert all(c["duration_ms"] >= 0 and c["size_chars"] > 0 for c in calls)
    # the cited tool results are the evidence of the confirmed hypothesis
    crash = next(h for h in out.hypotheses if h.kind == "crash_loop")
    assert crash.rank == 1
    cited = {e.id: e for e in crash.evidence}
    assert {"tool:2", "tool:3"} <= set(cited)
    assert cited["tool:3"].type is EvidenceType.KUBERNETES
    assert "connection refused" in (cited["tool:3"].detail or "")
    assert "BackOff" in (cited["tool:2"].detail or "") and "etcd" not in (cited["tool:2"].detail or "")
    assert out.summary.startswith("checkout crash-loops")
    # read-only, namespaced reads through the real client
    assert {r.method for r in kube.requests} == {"GET"}
    paths = [r.path for r in kube.requests]
    assert paths == [f"/api/v1/namespaces/shop/pods/{POD}", "/api/v1/namespaces/shop/events",
                     f"/api/v1/namespaces/shop/pods/{POD}/log"]
    log_query = kube.requests[2].query
    assert log_query["previous"] == "true" and log_query["tailLines"] == "20" and log_query["container"] == "checkout"
    assert kube.requests[1].query["fieldSelector"] == f"involvedObject.name={POD}"
    # what the model read: the describe summary and the log, delimited and redacted
    shown = model.sent_text()
    assert "CrashLoopBackOff" in shown and "exitCode=1" in shown and "restarts=6" in shown
    assert '<untrusted-data id="tool:3">' in shown
    assert "hunter22" not in shown and "[REDACTED:url_credentials]" in shown
    assert model.bound_tools[:3] == ["metrics_range", "logs_around", "kubernetes_pod"]
    # usage from the scripted messages' usage metadata, priced by the settings
    assert out.llm["prompt_tokens"] == 300 + 300 + 500 and out.llm["completion_tokens"] == 40 + 40 + 90
    assert out.llm["cost_usd"] == pytest.approx(1.1 * 0.5 + 0.17 * 1.5)


def test_missing_pod_and_other_namespace_are_results_not_crashes(kube: FakeKubernetes) -> None:
    model = ScriptedChatModel(responses=[
        tool_turn(call("kubernetes_pod", {"pod": "checkout-gone-1"}),
                  call("kubernetes_events", {"name": "etcd-0", "namespace": "kube-system"}, 1)),
        answer_turn(json.dumps({"hypotheses": [], "summary": ""})),
    ])
    ctx = context()
    out = LLMReasoner(settings(), model=model, tools=ToolResources(kubernetes=reader(kube))).refine(
        context=ctx, analysis=analysis(ctx))
    first, second = out.llm["tool_calls"]
    assert first["status"] == "error" and "404" in first["reason"]
    assert second["status"] == "refused" and "'kube-system' is outside" in second["reason"]
    assert [r.path for r in kube.requests] == ["/api/v1/namespaces/shop/pods/checkout-gone-1"]
