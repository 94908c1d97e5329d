"""An Analysis as Slack Block Kit blocks (pure functions).

Limits respected (https://api.slack.com/reference/block-kit/blocks): at most 50 blocks per message,
3000 characters per section text, 150 per header, 75 per button label, 2000 per button value, 10
context elements. Past them the message is cut and ends with a "more" link; rendering never fails.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.domain import Analysis, Evidence, Hypothesis, Incident, IncidentStatus
from bot.render.common import (
    VoteTally,
    clip,
    confidence_bar,
    facts,
    fixed_hypothesis,
    incident_link,
    percent,
    safe_url,
    title_line,
    votes_for,
)

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK_TEXT = 3000

ACTION_UP = "sherlog_vote_up"
ACTION_DOWN = "sherlog_vote_down"
ACTION_FIXED = "sherlog_fixed"
ACTION_EVIDENCE = "sherlog_show_evidence"
ACTION_IDS = (ACTION_UP, ACTION_DOWN, ACTION_FIXED, ACTION_EVIDENCE)

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack mrkdwn escaping of the three control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str | None, text: str) -> str:
    label = escape(text).replace("|", "¦")
    url = safe_url(url)
    return f"<{url}|{label}>" if url else label


def _section(text: str, *, more_url: str | None = None, block_id: str | None = None) -> Block:
    if len(text) > MAX_SECTION_TEXT:
        more = f" {link(more_url, 'more')}" if more_url else ""
        text = clip(text, MAX_SECTION_TEXT - len(more)) + more
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": text or " "}}
    if block_id:
        block["block_id"] = block_id
    return block


def _context(*texts: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(t, 2000)} for t in texts[:10] if t]}


def button_value(incident_id: str, analysis_id: str, hypothesis: Hypothesis) -> str:
    data = {"i": incident_id, "a": analysis_id, "r": hypothesis.rank, "s": hypothesis.service[:200],
            "k": hypothesis.kind[:100]}
    return json.dumps(data, separators=(",", ":"))[:MAX_BUTTON_VALUE]


def parse_button_value(value: str) -> dict[str, Any]:
    """The incident, analysis and hypothesis a button points at (``{}`` when unreadable)."""
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return {}
    if not isinstance(data, dict) or not data.get("i"):
        return {}
    return {"incident_id": str(data["i"]), "analysis_id": data.get("a"), "rank": data.get("r"),
            "service": data.get("s"), "kind": data.get("k")}


def _button(action_id: str, label: str, value: str, style: str | None = None) -> Block:
    b: Block = {"type": "button", "action_id": action_id, "value": value,
                "text": {"type": "plain_text", "text": clip(label, MAX_BUTTON_TEXT), "emoji": True}}
    if style:
        b["style"] = style
    return b


def evidence_line(e: Evidence, limit: int = 220) -> str:
    text = f"[{e.type.value}] {clip(e.summary, limit)}"
    return f"• {link(e.url, text)}" if e.url else f"• {escape(text)}"


def _hypothesis_blocks(
    incident: Incident, analysis: Analysis, h: Hypothesis, tally: VoteTally, *, max_evidence: int,
    interactive: bool, more_url: str | None, fixed: bool,
) -> list[Block]:
    lines = [
        f"*{h.rank}. {escape(h.title)}*{'  ✅ *confirmed fix*' if fixed else ''}",
        f"`{confidence_bar(h.confidence)}` {percent(h.confidence)} · `{escape(h.service)}` · {escape(h.kind)}",
    ]
    lines += [evidence_line(e) for e in h.evidence[:max_evidence]]
    if len(h.evidence) > max_evidence:
        lines.append(f"_+{len(h.evidence) - max_evidence} more evidence_")
    blocks = [_section("\n".join(lines), more_url=more_url, block_id=f"hyp_{h.rank}")]
    if not tally.empty:
        parts = [f"👍 {tally.up}", f"👎 {tally.down}"]
        if tally.fixed:
            parts.append(f"✅ fixed it: {tally.fixed}")
        voters = ", ".join(f"<@{u}> {v}" if u.startswith("U") else f"{escape(u)} {v}" for u, v in tally.voters.items())
        blocks.append(_context(" · ".join(parts) + (f" — {voters}" if voters else "")))
    if interactive and incident.status != IncidentStatus.RESOLVED:
        value = button_value(incident.id, analysis.id, h)
        blocks.append({
            "type": "actions",
            "block_id": f"vote_{h.rank}",
            "elements": [
                _button(ACTION_UP, "👍 Right", value),
                _button(ACTION_DOWN, "👎 Wrong", value),
                _button(ACTION_FIXED, "This fixed it", value, style="primary"),
                _button(ACTION_EVIDENCE, "Show evidence", value),
            ],
        })
    return blocks


def slack_blocks(
    incident: Incident,
    analysis: Analysis | None,
    *,
    votes: Mapping[str, VoteTally] | None = None,
    more_url: str | None = None,
    dashboard_url: str | None = None,
    max_hypotheses: int = 5,
    max_evidence: int = 3,
    max_recommendations: int = 6,
    max_similar: int = 3,
    interactive: bool = True,
    max_blocks: int = MAX_BLOCKS,
) -> list[Block]:
    """The incident message: summary, hypotheses with bars, evidence and vote buttons, steps, similar.

    ``more_url`` (or one derived from ``dashboard_url``) is linked wherever text is cut.
    """
    more_url = more_url or incident_link(dashboard_url, incident.id)
    head: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(title_line(incident), MAX_HEADER_TEXT),
                                    "emoji": True}},
        _context(*(f"*{k}:* {escape(v)}" for k, v in facts(incident, analysis))),
    ]
    groups: list[list[Block]] = [head]
    if analysis is None:
        groups.append([_section("_Analysis in progress…_")])
        return _fit(groups, more_url, max_blocks)
    if analysis.summary:
        groups.append([_section(escape(analysis.summary), more_url=more_url, block_id="summary")])
    if not analysis.enough_evidence:
        groups.append([_context("⚠️ Not enough evidence for a confident answer; treat these as leads.")])
    fixed = fixed_hypothesis(incident, analysis)
    if analysis.hypotheses:
        groups.append([{"type": "divider"}, _section("*Likely root causes*")])
        for h in analysis.hypotheses[:max_hypotheses]:
            groups.append(_hypothesis_blocks(incident, analysis, h, votes_for(votes, h), max_evidence=max_evidence,
                                             interactive=interactive, more_url=more_url, fixed=h is fixed))
    else:
        groups.append([_section("_No root-cause candidate yet._")])
    if analysis.recommendations:
        steps = [f"{i}. {link(r.url, r.text) if r.url else escape(r.text)} _({escape(r.source)})_"
                 for i, r in enumerate(analysis.recommendations[:max_recommendations], start=1)]
        groups.append([{"type": "divider"}, _section("*Recommended steps*\n" + "\n".join(steps), more_url=more_url,
                                                     block_id="steps")])
    if analysis.similar_incidents:
        lines = []
        for s in analysis.similar_incidents[:max_similar]:
            resolved = f" — {escape(clip(s.resolution, 200))}" if s.resolution else ""
            lines.append(f"• {link(s.url, s.title)} ({s.score:.2f}){resolved}")
        groups.append([_section("*Similar incidents*\n" + "\n".join(lines), more_url=more_url, block_id="similar")])
    tail = []
    if analysis.lacked:
        tail.append(f"Missing evidence: {escape(', '.join(analysis.lacked))}")
    tail.append(f"analysis {analysis.id}")
    groups.append([_context(*tail)])
    return _fit(groups, more_url, max_blocks)


def _fit(groups: list[list[Block]], more_url: str | None, max_blocks: int) -> list[Block]:
    """Keep whole groups in order while they fit; end with a "more" section when something was left out."""
    out: list[Block] = []
    for i, group in enumerate(groups):
        reserve = 0 if i == len(groups) - 1 else 1
        if len(out) + len(group) + reserve > max_blocks:
            text = f"_Message shortened._ {link(more_url, 'See the full analysis')}" if more_url else (
                "_Message shortened; ask `/sherlog summary` for the rest._")
            out = out[: max_blocks - 1]
            out.append(_section(text, block_id="more"))
            return out
        out.extend(group)
    return out


def fallback_text(incident: Incident, analysis: Analysis | None) -> str:
    """The notification text shown where blocks are not (push notifications, screen readers)."""
    top = analysis.top if analysis else None
    text = escape(title_line(incident))  # plain text is parsed as mrkdwn too: <!here> would ping
    if top is not None:
        text += f" — likely {escape(top.kind)} in {escape(top.service)} ({percent(top.confidence)})"
    return clip(text, MAX_FALLBACK_TEXT)


def tool_call_line(call: Mapping[str, Any], limit: int = 200) -> str:
    """One recorded investigation tool call (``analysis.llm["tool_calls"]``) as a bullet."""
    args = ", ".join(f"{k}={v}" for k, v in (call.get("arguments") or {}).items())
    head = f"`{call.get('id', '?')}` {call.get('tool', '?')}({clip(args, 160)})"
    status = str(call.get("status", "?"))
    detail = call.get("reason") if status not in ("ok", "empty") else call.get("summary")
    timing = f", {float(call.get('duration_ms') or 0):.0f} ms, {int(call.get('size_chars') or 0)} chars"
    return f"• {escape(head)}: *{escape(status)}*{timing}" + (f": {escape(clip(str(detail), limit))}" if detail else "")


MAX_EVIDENCE_SECTIONS = 40  # Slack allows 50 blocks in a message


def evidence_blocks(hypothesis: Hypothesis, *, more_url: str | None = None, limit: int = 20,
                    tool_calls: list[Mapping[str, Any]] | None = None) -> list[Block]:
    """Every piece of evidence of one hypothesis (the "Show evidence" reply), then the tool calls of the
    LLM's investigation, if it made any (what it asked, with what arguments, and what came back)."""
    pieces = [f"*Evidence for {escape(hypothesis.title)}* ({percent(hypothesis.confidence)})"]
    for e in hypothesis.evidence[:limit]:
        piece = evidence_line(e, limit=400)
        if e.detail:
            piece += f"\n```{clip(e.detail, 500).replace('```', 'ʼʼʼ')}```"
        pieces.append(piece)
    if not hypothesis.evidence:
        pieces.append("_No evidence recorded for this hypothesis._")
    if tool_calls:
        pieces.append(f"*The LLM's investigation: {len(tool_calls)} tool call(s)*")
        pieces += [tool_call_line(c) for c in tool_calls[:limit]]
    # whole pieces per section: a cut never lands inside a code block
    sections: list[str] = []
    for piece in pieces:
        if sections and len(sections[-1]) + 1 + len(piece) <= MAX_SECTION_TEXT:
            sections[-1] += "\n" + piece
        else:
            sections.append(piece)
    return [_section(text, more_url=more_url) for text in sections[:MAX_EVIDENCE_SECTIONS]]


def text_blocks(text: str, *, more_url: str | None = None) -> list[Block]:
    """Plain answer text as sections of at most 3000 characters (at most 10 of them)."""
    chunks = [text[i: i + MAX_SECTION_TEXT - 100] for i in range(0, len(text), MAX_SECTION_TEXT - 100)] or [" "]
    blocks = [_section(c) for c in chunks[:10]]
    if len(chunks) > 10:
        blocks.append(_section(f"_Answer shortened._ {link(more_url, 'more')}" if more_url else "_Answer shortened._"))
    return blocks


FEEDBACK_CALLBACK = "sherlog_feedback"


def feedback_view(incident: Incident, analysis: Analysis | None) -> dict[str, Any]:
    """The modal ``/sherlog feedback`` opens: which cause, which vote, an optional comment."""
    hyps = (analysis.hypotheses if analysis else [])[:100]
    options = [{"text": {"type": "plain_text", "text": clip(f"{h.rank}. {h.kind} in {h.service}", 75)},
                "value": clip(f"{h.service}|{h.kind}", 150)} for h in hyps]
    blocks: list[Block] = [_section(f"*{escape(clip(incident.title or incident.id, 500))}* ({incident.id})")]
    if options:
        blocks.append({"type": "input", "block_id": "cause", "label": {"type": "plain_text", "text": "Cause"},
                       "element": {"type": "static_select", "action_id": "value", "options": options,
                                   "initial_option": options[0]}})
    blocks.append({"type": "input", "block_id": "vote", "label": {"type": "plain_text", "text": "Your verdict"},
                   "element": {"type": "radio_buttons", "action_id": "value", "options": [
                       {"text": {"type": "plain_text", "text": "👍 Right"}, "value": "up"},
                       {"text": {"type": "plain_text", "text": "👎 Wrong"}, "value": "down"},
                       {"text": {"type": "plain_text", "text": "✅ This fixed it"}, "value": "fixed"}]}})
    blocks.append({"type": "input", "block_id": "comment", "optional": True,
                   "label": {"type": "plain_text", "text": "Comment"},
                   "element": {"type": "plain_text_input", "action_id": "value", "multiline": True,
                               "max_length": 2000}})
    return {"type": "modal", "callback_id": FEEDBACK_CALLBACK,
            "private_metadata": json.dumps({"i": incident.id, "a": analysis.id if analysis else None}),
            "title": {"type": "plain_text", "text": "Sherlog feedback"},
            "submit": {"type": "plain_text", "text": "Send"}, "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": blocks}


def parse_feedback_view(view: dict[str, Any]) -> dict[str, Any]:
    """The incident, cause, vote and comment of a submitted feedback modal (``{}`` when unreadable)."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        values = view["state"]["values"]
        vote = values["vote"]["value"]["selected_option"]["value"]
    except (KeyError, TypeError, ValueError):
        return {}
    cause = ((values.get("cause") or {}).get("value") or {}).get("selected_option") or {}
    service, _, kind = str(cause.get("value") or "|").partition("|")
    comment = ((values.get("comment") or {}).get("value") or {}).get("value")
    return {"incident_id": meta.get("i"), "analysis_id": meta.get("a"), "vote": vote, "service": service or None,
            "kind": kind or None, "comment": comment or None}
