"""Item 11 of issue 17: what the chat vendors receive. Cards are measured as sent and checked against the
official Adaptive Card schema; markdown from an alert title is never a link; the "Show evidence" reply is
cut between pieces of evidence, never inside a code block (slack_sdk's Block Kit models validate it); the
Slack manifest validates against its schema and asks only for scopes Sherlog uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from slack_sdk.models.blocks import Block

from bot.domain import Evidence, EvidenceType
from bot.render.slack import MAX_SECTION_TEXT, evidence_blocks
from bot.render.teams import MAX_CARD_BYTES, card_size, evidence_card, teams_card, text_card

from .factories import analysis, hypothesis, incident

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "data" / "chat-schemas"


@pytest.fixture
def card_schema(shared_data: Path) -> dict[str, Any]:
    return dict(json.loads((shared_data / "chat-schemas" / "adaptive-card-1.4.0.json").read_text()))


def _validate(card: dict[str, Any], schema: dict[str, Any]) -> None:
    assert card["version"] == "1.4"
    jsonschema.validate(card, schema)


def _as_sent(card: dict[str, Any]) -> int:
    return len(json.dumps(card).encode())  # the Bot Framework connector escapes non-ASCII


def test_the_size_check_measures_the_json_as_sent(card_schema: dict[str, Any]) -> None:
    inc = incident(title="支付服务延迟升高" * 40)
    hyps = [hypothesis(r, f"服务{r}", "db_slow_query", 0.5 / r, evidence=8) for r in range(1, 6)]
    for h in hyps:
        for e in h.evidence:
            e.summary = "数据库连接池耗尽，请求排队超时" * 20
    card = teams_card(inc, analysis(inc, hypotheses=hyps))
    assert card_size(card) == _as_sent(card) and _as_sent(card) <= MAX_CARD_BYTES
    _validate(card, card_schema)


def test_evidence_card_is_size_checked(card_schema: dict[str, Any]) -> None:
    h = hypothesis(1, "checkout", "db_slow_query", 0.8, evidence=20)
    for e in h.evidence:
        e.summary = "超时" * 400
        e.detail = "x" * 3000
    card = evidence_card(h)
    assert _as_sent(card) <= MAX_CARD_BYTES
    _validate(card, card_schema)


@pytest.mark.parametrize("title", ["[Reset password](https://evil.example/login) now",
                                   "see ![img](https://evil.example/x.png) and <https://evil.example>"])
def test_markdown_in_a_title_is_not_a_link_in_cards(card_schema: dict[str, Any], title: str) -> None:
    inc = incident(title=title)
    for card in (teams_card(inc, analysis(inc)), text_card(f"1 open incident: {title}", title=title)):
        texts = json.dumps(card)
        assert "](https://evil.example" not in texts.replace("\\\\]", "")
        assert "Reset password" in texts or "img" in texts
        _validate(card, card_schema)


def test_show_evidence_is_cut_between_evidence_never_inside_a_code_block() -> None:
    h = hypothesis(1, "checkout", "db_slow_query", 0.8, evidence=0)
    h.evidence = [Evidence(id=f"e{i}", type=EvidenceType.LOG, summary=f"pool timeout {i}",
                           detail=f"12:00:{i:02d} ERROR Timeout waiting for connection " + "y" * 420)
                  for i in range(20)]
    blocks = evidence_blocks(h, more_url="https://sherlog.example/incidents/inc-1")
    assert len(blocks) > 1
    for block in blocks:
        text = block["text"]["text"]
        assert len(text) <= MAX_SECTION_TEXT and text.count("```") % 2 == 0, text[-200:]
    assert sum(b["text"]["text"].count("pool timeout") for b in blocks) == 20
    for parsed in Block.parse_all(blocks):
        parsed.validate_json()


def test_slack_manifest_validates_and_asks_only_for_used_scopes(shared_data: Path) -> None:
    manifest = yaml.safe_load((ROOT / "config" / "slack-manifest.yaml").read_text())
    schema = json.loads((shared_data / "chat-schemas" / "slack-app-manifest.json").read_text())
    jsonschema.validate(manifest, schema)
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert not scopes & {"channels:read", "groups:read", "users:read", "im:read", "im:write"}
    assert {"chat:write", "commands", "app_mentions:read", "im:history"} <= scopes
