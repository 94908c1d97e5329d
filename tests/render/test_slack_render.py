from __future__ import annotations

import json

from bot.domain import Feedback, IncidentStatus, Vote
from bot.render.common import confidence_bar, tally_votes
from bot.render.slack import (
    ACTION_FIXED,
    ACTION_UP,
    MAX_SECTION_TEXT,
    evidence_blocks,
    fallback_text,
    parse_button_value,
    slack_blocks,
)

from .factories import analysis, hypothesis, incident


def _texts(blocks: list[dict]) -> str:
    out = []
    for b in blocks:
        if "text" in b:
            out.append(b["text"]["text"])
        for e in b.get("elements", []):
            if "text" in e and isinstance(e["text"], str):
                out.append(e["text"])
    return "\n".join(out)


def test_confidence_bar_is_clamped_and_fixed_width() -> None:
    assert confidence_bar(0.7) == "▰▰▰▰▰▰▰▱▱▱"
    assert confidence_bar(1.5) == "▰" * 10
    assert confidence_bar(-1) == "▱" * 10


def test_blocks_carry_summary_hypotheses_steps_similar_and_buttons() -> None:
    inc = incident()
    ana = analysis(inc)
    blocks = slack_blocks(inc, ana)
    assert blocks[0]["type"] == "header" and "Checkout p99 latency" in blocks[0]["text"]["text"]
    text = _texts(blocks)
    assert "orders-db connections hit the pool limit" in text
    assert "*1. db_connection_exhaustion in orders-db*" in text
    assert "`▰▰▰▰▰▰▰▱▱▱` 72%" in text
    assert "<https://runbooks.example/db#1|Step 1: check the connection pool>" in text
    assert "<https://wiki.example/pm/1|Past pool exhaustion 1> (0.70) — Raised max connections" in text
    assert "*Category:* database (80%)" in text
    assert "Missing evidence: metrics" in text
    actions = [b for b in blocks if b["type"] == "actions"]
    assert len(actions) == 3
    first = actions[0]["elements"]
    assert [e["action_id"] for e in first] == [ACTION_UP, "sherlog_vote_down", ACTION_FIXED, "sherlog_show_evidence"]
    value = parse_button_value(first[0]["value"])
    assert value == {"incident_id": inc.id, "analysis_id": ana.id, "rank": 1, "service": "orders-db",
                     "kind": "db_connection_exhaustion"}


def test_untrusted_text_is_escaped() -> None:
    inc = incident(title="<!channel> & friends")
    ana = analysis(inc, summary="see <https://evil|click> & more")
    blocks = slack_blocks(inc, ana)
    assert blocks[0]["text"]["type"] == "plain_text"  # Slack never parses mentions in plain text
    text = _texts(blocks[1:])
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "&lt;https://evil|click&gt;" in text


def test_votes_are_shown_per_hypothesis_and_a_users_later_vote_replaces_the_earlier() -> None:
    inc = incident()
    ana = analysis(inc)
    fb = [
        Feedback(incident_id=inc.id, service="orders-db", kind="db_connection_exhaustion", vote=Vote.DOWN, user="U1"),
        Feedback(incident_id=inc.id, service="orders-db", kind="db_connection_exhaustion", vote=Vote.UP, user="U1"),
        Feedback(incident_id=inc.id, service="orders-db", kind="db_connection_exhaustion", vote=Vote.UP, user="U2"),
        Feedback(incident_id=inc.id, service="checkout", kind="bad_deploy", vote=Vote.DOWN, user="U2"),
    ]
    votes = tally_votes(fb)
    text = _texts(slack_blocks(inc, ana, votes=votes))
    assert "👍 2 · 👎 0 — <@U1> up, <@U2> up" in text
    assert "👍 0 · 👎 1 — <@U2> down" in text


def test_resolved_incident_has_no_buttons_and_marks_the_confirmed_fix() -> None:
    inc = incident(status=IncidentStatus.RESOLVED, confirmed_service="orders-db",
                   confirmed_kind="db_connection_exhaustion")
    blocks = slack_blocks(inc, analysis(inc))
    assert not [b for b in blocks if b["type"] == "actions"]
    assert blocks[0]["text"]["text"].startswith("🔴 ✅ Resolved: ")
    assert "✅ *confirmed fix*" in _texts(blocks)


def test_limits_hold_for_huge_analyses_and_a_more_link_is_added() -> None:
    inc = incident(title="T" * 500)
    hyps = [hypothesis(i, f"svc-{i}", "cpu_saturation", 0.5, evidence=30, summary_len=5000) for i in range(1, 30)]
    ana = analysis(inc, hypotheses=hyps, summary="S" * 10_000, recommendations=40, similar=20)
    blocks = slack_blocks(inc, ana, max_hypotheses=30, max_evidence=30, dashboard_url="https://sherlog.example")
    assert len(blocks) <= 50
    assert len(blocks[0]["text"]["text"]) <= 150
    for b in blocks:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= MAX_SECTION_TEXT
        for e in b.get("elements", []):
            if e.get("type") == "button":
                assert len(e["text"]["text"]) <= 75 and len(e["value"]) <= 2000
    assert blocks[-1]["block_id"] == "more"
    assert f"<https://sherlog.example/incidents/{inc.id}|See the full analysis>" in blocks[-1]["text"]["text"]
    summary = next(b for b in blocks if b.get("block_id") == "summary")
    assert summary["text"]["text"].endswith(f"<https://sherlog.example/incidents/{inc.id}|more>")
    assert len(json.dumps(blocks)) < 100_000


def test_no_analysis_yet_and_no_hypotheses() -> None:
    inc = incident()
    assert "Analysis in progress" in _texts(slack_blocks(inc, None))
    assert "No root-cause candidate yet" in _texts(slack_blocks(inc, analysis(inc, hypotheses=[])))


def test_fallback_text_names_the_top_cause_and_evidence_blocks_list_everything() -> None:
    inc = incident()
    ana = analysis(inc)
    assert fallback_text(inc, ana).endswith("likely db_connection_exhaustion in orders-db (72%)")
    h = hypothesis(1, "orders-db", "db_connection_exhaustion", 0.7, evidence=5)
    text = _texts(evidence_blocks(h))
    assert text.count("• ") == 5 and "<https://grafana.example/orders-db/1|[metric]" in text


def test_feedback_view_round_trip() -> None:
    from bot.render.slack import feedback_view, parse_feedback_view

    inc = incident()
    ana = analysis(inc)
    view = feedback_view(inc, ana)
    assert view["type"] == "modal" and len(view["title"]["text"]) <= 24
    assert parse_feedback_view({**view, "state": {"values": {
        "vote": {"value": {"selected_option": {"value": "fixed"}}},
        "cause": {"value": {"selected_option": {"value": "orders-db|db_connection_exhaustion"}}}}}}) == {
        "incident_id": inc.id, "analysis_id": ana.id, "vote": "fixed", "service": "orders-db",
        "kind": "db_connection_exhaustion", "comment": None}
    assert parse_feedback_view({"private_metadata": "{}", "state": {"values": {}}}) == {}


def test_show_evidence_lists_the_llm_tool_calls() -> None:
    h = hypothesis(1, "orders-db", "db_connection_exhaustion", 0.7, evidence=2)
    calls = [{"id": "tool:1", "tool": "logs_around", "arguments": {"service": "orders-db", "contains": "<!channel>"},
              "status": "ok", "duration_ms": 12.4, "size_chars": 900, "summary": "40 lines of orders-db"},
             {"id": "tool:2", "tool": "metrics_range", "arguments": {"service": "payments"}, "status": "refused",
              "duration_ms": 0.0, "size_chars": 0, "reason": "refused: service 'payments' is outside this incident's scope"}]
    blocks = evidence_blocks(h, tool_calls=calls)
    assert len(blocks) == 2
    text = blocks[1]["text"]["text"]
    assert text.startswith("*The LLM's investigation: 2 tool call(s)*")
    assert "`tool:1` logs_around(service=orders-db, contains=&lt;!channel&gt;): *ok*, 12 ms, 900 chars: 40 lines" in text
    assert "*refused*" in text and "outside this incident" in text and "<!channel>" not in text
    assert len(evidence_blocks(h)) == 1
