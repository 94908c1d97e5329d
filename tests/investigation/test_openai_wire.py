"""The investigation over the OpenAI wire format: the real langchain-openai client against a local
stand-in that answers with ``tool_calls`` and ``usage``; cost accounting checked against that usage."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.investigation import ToolResources
from bot.reasoning.llm import LLMReasoner
from connectors.llm import build_chat_model
from tests.fakes.openai_api import FakeOpenAI, Reply

from .factories import analysis, context, settings


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def test_tool_calls_round_trip_and_usage_is_priced(fake: FakeOpenAI) -> None:
    fake.queue(
        Reply(tool_calls=[("logs_around", {"service": "checkout", "contains": "refused"}),
                          ("topology", '{"service": "checkout"')],  # the second one is malformed JSON
              prompt_tokens=1200, completion_tokens=60),
        Reply(content=json.dumps({"hypotheses": [{"service": "db", "kind": "db_down", "title": "db refuses",
                                                  "confidence": 0.8, "evidence_ids": ["tool:1"]}],
                                  "summary": "db:5432 refuses connections (tool:1)"}),
              prompt_tokens=1800, completion_tokens=150),
    )
    conf = settings(base_url=fake.base_url, model="gpt-test")
    ctx = context()
    out = LLMReasoner(conf, model=build_chat_model(conf), tools=ToolResources()).refine(context=ctx,
                                                                                        analysis=analysis(ctx))
    assert out.llm["used"] is True
    assert [(c["tool"], c["status"]) for c in out.llm["tool_calls"]] == [("logs_around", "ok"), ("topology", "error")]
    # the first request offered the tools in OpenAI's function format
    first = fake.requests[0]
    names = [t["function"]["name"] for t in first["tools"]]
    assert "kubernetes_previous_logs" in names and "metrics_range" in names
    params = next(t for t in first["tools"] if t["function"]["name"] == "logs_around")["function"]["parameters"]
    assert "service" in params["properties"] and params["required"] == ["service"]
    # the second request carried the assistant's calls and one tool message per call id
    second = fake.requests[1]["messages"]
    assistant = next(m for m in second if m["role"] == "assistant")
    ids = [c["id"] for c in assistant["tool_calls"]]
    tool_msgs = [m for m in second if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_msgs] == ids
    assert "connection refused" in tool_msgs[0]["content"] and "not valid JSON" in tool_msgs[1]["content"]
    # tokens and cost are the stand-in's usage, priced by the settings
    assert out.llm["calls"] == 2
    assert out.llm["prompt_tokens"] == 3000 and out.llm["completion_tokens"] == 210
    assert out.llm["cost_usd"] == pytest.approx(3.0 * 0.5 + 0.21 * 1.5)
    db = next(h for h in out.hypotheses if (h.service, h.kind) == ("db", "db_down"))
    assert db.source == "llm" and [e.id for e in db.evidence] == ["tool:1"]


def test_an_http_failure_mid_investigation_keeps_the_deterministic_answer(fake: FakeOpenAI) -> None:
    fake.queue(Reply(tool_calls=[("topology", {"service": "checkout"})]), Reply(status=503))
    conf = settings(base_url=fake.base_url)
    ctx = context()
    base = analysis(ctx)
    out = LLMReasoner(conf, model=build_chat_model(conf), tools=ToolResources()).refine(context=ctx, analysis=base)
    assert out.llm["used"] is False and out.llm["fallback_reason"] == "the LLM endpoint answered HTTP 503"
    assert out.llm["tool_calls"][0]["status"] == "ok"
    assert [(h.kind, h.confidence) for h in out.hypotheses] == [(h.kind, h.confidence) for h in base.hypotheses]
