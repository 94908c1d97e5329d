"""Chat questions with an LLM configured: answered by the investigation loop, scoped to the incident."""

from __future__ import annotations

import json
from pathlib import Path

from bot.domain import Alert, Analysis, Incident, IncidentContext
from bot.investigation import ToolResources
from bot.pipeline import chat
from bot.pipeline.service import Pipeline
from bot.pipeline.wiring import open_store
from bot.reasoning.llm import LLMReasoner
from config.settings import load_settings
from tests.fakes.chat_models import ScriptedChatModel, answer_turn, call, tool_turn


def test_a_free_question_is_investigated_in_the_threads_incident(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"},
                             llm={"enabled": True, "investigate": True, "provider": "openai_compatible",
                                  "base_url": "http://127.0.0.1:9/v1"})
    store = open_store(settings)
    alert = Alert(name="HighLatency", service="checkout", labels={"namespace": "shop"})
    incident = Incident(title="checkout slow", service="checkout", alerts=[alert])
    store.save_incident(incident=incident)
    store.save_analysis(analysis=Analysis(incident_id=incident.id, summary="checkout latency is high"))
    stamp = alert.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ")

    def context_of(inc: Incident) -> IncidentContext:
        return IncidentContext(incident=inc, logs={"checkout": [f"{stamp} WARN pool wait 2300ms (max 20 busy)"]})

    model = ScriptedChatModel(responses=[
        tool_turn(call("logs_around", {"service": "checkout", "contains": "pool"}),
                  call("logs_around", {"service": "payments"}, 1)),
        answer_turn(json.dumps({"answer": "Requests wait for a database connection (pool of 20 busy).",
                                "evidence_ids": ["tool:1"]})),
    ])
    llm = LLMReasoner(settings.llm, model=model, tools=ToolResources())
    pipeline = Pipeline(settings=settings, store=store, llm=llm, context_provider=context_of, detectors=[])
    text = chat.answer(pipeline=pipeline, incident_id=incident.id, question="why is checkout slow?")
    assert text.startswith("Requests wait for a database connection")
    assert "(evidence: tool:1)" in text and "logs_around(service=checkout, contains=pool" in text
    refusal = next(m for m in model.seen[-1] if getattr(m, "tool_call_id", None) == "call-logs_around-1")
    assert "'payments' is outside this incident's scope" in str(refusal.content)
    assert "why is checkout slow?" in str(model.seen[0][1].content)
