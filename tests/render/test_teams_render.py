from __future__ import annotations

import jsonschema

from bot.domain import IncidentStatus
from bot.render.teams import card_size, evidence_card, teams_card, text_card

from .adaptive_card_schema import SCHEMA
from .factories import analysis, hypothesis, incident


def _all_text(card: dict) -> str:
    out: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                out.append(node["text"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(card)
    return "\n".join(out)


def test_card_is_valid_and_carries_the_analysis() -> None:
    inc = incident()
    ana = analysis(inc)
    card = teams_card(inc, ana, dashboard_url="https://sherlog.example")
    jsonschema.validate(card, SCHEMA)
    text = _all_text(card)
    assert "**1. db_connection_exhaustion in orders-db**" in text
    assert "▰▰▰▰▰▰▰▱▱▱ 72% · orders-db · db_connection_exhaustion" in text
    assert "1. [Step 1: check the connection pool](https://runbooks.example/db#1)" in text
    assert card["actions"][0]["url"] == f"https://sherlog.example/incidents/{inc.id}"
    submits = [a for c in card["body"] if c["type"] == "Container" for i in c["items"] if i["type"] == "ActionSet"
               for a in i["actions"]]
    assert [a["data"]["sherlog"] for a in submits[:4]] == ["up", "down", "fixed", "evidence"]
    assert submits[0]["data"] == {"sherlog": "up", "incident_id": inc.id, "analysis_id": ana.id, "rank": 1,
                                  "service": "orders-db", "kind": "db_connection_exhaustion"}


def test_schema_subset_rejects_a_wrong_card() -> None:
    bad = {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock", "text": "x", "size": "Huge"}]}
    try:
        jsonschema.validate(bad, SCHEMA)
    except jsonschema.ValidationError:
        return
    raise AssertionError("an invalid size must be rejected")


def test_huge_card_is_shortened_under_28kb_with_a_more_link() -> None:
    inc = incident()
    hyps = [hypothesis(i, f"svc-{i}", "cpu_saturation", 0.5, evidence=40, summary_len=3000) for i in range(1, 12)]
    ana = analysis(inc, hypotheses=hyps, summary="S" * 50_000, recommendations=30, similar=10)
    card = teams_card(inc, ana, max_hypotheses=11, max_evidence=40, dashboard_url="https://sherlog.example")
    jsonschema.validate(card, SCHEMA)
    assert card_size(card) <= 28_000
    assert f"[See the full analysis](https://sherlog.example/incidents/{inc.id})" in _all_text(card)


def test_resolved_card_has_no_vote_buttons_and_other_cards_validate() -> None:
    inc = incident(status=IncidentStatus.RESOLVED)
    card = teams_card(inc, analysis(inc))
    jsonschema.validate(card, SCHEMA)
    assert "Action.Submit" not in str(card)
    jsonschema.validate(text_card("hello", title="t"), SCHEMA)
    jsonschema.validate(evidence_card(hypothesis(1, "a", "oom_kill", 0.3)), SCHEMA)
    jsonschema.validate(teams_card(inc, None), SCHEMA)
