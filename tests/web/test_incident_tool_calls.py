"""The dashboard's incident page lists the LLM investigation's tool calls, escaped."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bot.domain import Analysis, Incident, utcnow

CALLS = [
    {"id": "tool:1", "tool": "kubernetes_previous_logs", "arguments": {"pod": "checkout-7d9f-x2", "tail": 50},
     "status": "ok", "duration_ms": 41.7, "size_chars": 1830, "summary": "50 previous-container lines of checkout-7d9f-x2"},
    {"id": "tool:2", "tool": "kubernetes_events", "arguments": {"name": "etcd-0", "namespace": "<b>kube-system</b>"},
     "status": "refused", "duration_ms": 0.1, "size_chars": 0, "summary": "",
     "reason": "refused: namespace 'kube-system' is outside this incident's scope (only 'shop')"},
]


def test_incident_page_shows_tool_calls(client: TestClient, seeded_app) -> None:  # type: ignore[no-untyped-def]
    store = seeded_app.state.store
    inc = Incident(title="checkout crash-looping", service="checkout", created_at=utcnow())
    store.save_incident(incident=inc)
    store.save_analysis(analysis=Analysis(incident_id=inc.id, summary="s", llm={
        "used": True, "model": "gpt-test", "tool_calls": CALLS}))
    text = client.get(f"/incidents/{inc.id}").text
    assert "The LLM's investigation: 2 tool call(s)" in text
    assert "kubernetes_previous_logs" in text and "<code>pod=checkout-7d9f-x2</code>" in text
    assert "refused" in text and "outside this incident" in text
    assert "<b>kube-system</b>" not in text and "&lt;b&gt;kube-system&lt;/b&gt;" in text


def test_incident_page_without_tool_calls_has_no_section(client: TestClient, seeded_app) -> None:  # type: ignore[no-untyped-def]
    store = seeded_app.state.store
    inc = Incident(title="plain", service="web", created_at=utcnow())
    store.save_incident(incident=inc)
    store.save_analysis(analysis=Analysis(incident_id=inc.id, summary="s"))
    assert "tool call(s)" not in client.get(f"/incidents/{inc.id}").text
