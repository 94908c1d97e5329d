"""An Analysis as an Adaptive Card (a plain dict, schema 1.4) for Microsoft Teams (pure functions).

Teams refuses messages past about 28 KB; the card is measured as JSON and shortened (fewer evidence
lines, then fewer hypotheses, then a "more" link) until it fits. Rendering never fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from bot.domain import Analysis, Hypothesis, Incident, IncidentStatus
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

MAX_CARD_BYTES = 28_000
CARD_VERSION = "1.4"
SUBMIT_KEY = "sherlog"  # Action.Submit data carries {"sherlog": "<action>", ...}

Element = dict[str, Any]


def card_size(card: Mapping[str, Any]) -> int:
    """Bytes of the card as the Bot Framework connector sends it (JSON with non-ASCII escaped: a Chinese
    character is 6 bytes on the wire, not 3)."""
    return len(json.dumps(card).encode("ascii"))


_MD_LINK = re.compile(r"\]\s*\(")


def _plain(text: str) -> str:
    """Untrusted text (alert titles, log lines) shown in a card: ``[label](url)`` is broken up so it is
    never rendered as a link (``[Reset password](https://evil.example)`` stays visible as text)."""
    return _MD_LINK.sub("] (", text)


def _text(text: str, **extra: Any) -> Element:
    return {"type": "TextBlock", "text": text, "wrap": True, **extra}


def _submit(title: str, action: str, incident: Incident, analysis: Analysis, h: Hypothesis) -> Element:
    return {"type": "Action.Submit", "title": title,
            "data": {SUBMIT_KEY: action, "incident_id": incident.id, "analysis_id": analysis.id, "rank": h.rank,
                     "service": h.service, "kind": h.kind}}


def _hypothesis(incident: Incident, analysis: Analysis, h: Hypothesis, tally: VoteTally, *, max_evidence: int,
                interactive: bool, fixed: bool) -> Element:
    items: list[Element] = [
        _text(f"**{h.rank}. {_plain(clip(h.title, 300))}**" + ("  ✅ confirmed fix" if fixed else ""), spacing="Medium"),
        _text(f"{confidence_bar(h.confidence)} {percent(h.confidence)} · {h.service} · {h.kind}", isSubtle=True,
              spacing="None", fontType="Monospace"),
    ]
    for e in h.evidence[:max_evidence]:
        line = f"- [{e.type.value}] {_plain(clip(e.summary, 220))}"
        url = safe_url(e.url)
        items.append(_text(f"{line} ([link]({url}))" if url else line, size="Small", spacing="None"))
    if not tally.empty:
        votes = f"👍 {tally.up} · 👎 {tally.down}" + (f" · ✅ fixed it: {tally.fixed}" if tally.fixed else "")
        items.append(_text(votes, size="Small", isSubtle=True, spacing="None"))
    container: Element = {"type": "Container", "items": items, "separator": True}
    if interactive and incident.status != IncidentStatus.RESOLVED:
        container["items"].append({"type": "ActionSet", "actions": [
            _submit("👍 Right", "up", incident, analysis, h),
            _submit("👎 Wrong", "down", incident, analysis, h),
            _submit("This fixed it", "fixed", incident, analysis, h),
            _submit("Show evidence", "evidence", incident, analysis, h),
        ]})
    return container


def _build(incident: Incident, analysis: Analysis | None, *, votes: Mapping[str, VoteTally] | None,
           more_url: str | None, max_hypotheses: int, max_evidence: int, max_recommendations: int,
           max_similar: int, interactive: bool, summary_limit: int, shortened: bool) -> dict[str, Any]:
    body: list[Element] = [
        _text(_plain(clip(title_line(incident), 200)), size="Large", weight="Bolder"),
        {"type": "FactSet", "facts": [{"title": k, "value": _plain(clip(v, 200))} for k, v in facts(incident, analysis)]},
    ]
    if analysis is None:
        body.append(_text("_Analysis in progress…_"))
    else:
        if analysis.summary:
            body.append(_text(_plain(clip(analysis.summary, summary_limit))))
        if not analysis.enough_evidence:
            body.append(_text("⚠️ Not enough evidence for a confident answer; treat these as leads.", color="Warning"))
        fixed = fixed_hypothesis(incident, analysis)
        if analysis.hypotheses:
            body.append(_text("Likely root causes", weight="Bolder", size="Medium", separator=True))
            for h in analysis.hypotheses[:max_hypotheses]:
                body.append(_hypothesis(incident, analysis, h, votes_for(votes, h), max_evidence=max_evidence,
                                        interactive=interactive, fixed=h is fixed))
        if analysis.recommendations and max_recommendations:
            body.append(_text("Recommended steps", weight="Bolder", size="Medium", separator=True))
            for i, r in enumerate(analysis.recommendations[:max_recommendations], start=1):
                step, url = _plain(clip(r.text, 300)), safe_url(r.url)
                body.append(_text(f"{i}. [{step}]({url})" if url else f"{i}. {step}", spacing="None"))
        if analysis.similar_incidents and max_similar:
            body.append(_text("Similar incidents", weight="Bolder", size="Medium", separator=True))
            for s in analysis.similar_incidents[:max_similar]:
                url = safe_url(s.url)
                title = f"[{_plain(clip(s.title, 200))}]({url})" if url else _plain(clip(s.title, 200))
                resolved = f" — {_plain(clip(s.resolution, 200))}" if s.resolution else ""
                body.append(_text(f"- {title} ({s.score:.2f}){resolved}", spacing="None"))
        if analysis.lacked:
            body.append(_text(f"Missing evidence: {', '.join(analysis.lacked)}", size="Small", isSubtle=True))
    if shortened:
        body.append(_text("Card shortened." + (f" [See the full analysis]({more_url})" if more_url else ""),
                          isSubtle=True))
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                            "version": CARD_VERSION, "body": body}
    if more_url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open in Sherlog", "url": more_url}]
    return card


def teams_card(
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
    max_bytes: int = MAX_CARD_BYTES,
) -> dict[str, Any]:
    """The incident card; shortened step by step until its JSON is under ``max_bytes``."""
    more_url = more_url or incident_link(dashboard_url, incident.id)
    attempts = [
        (max_hypotheses, max_evidence, max_recommendations, max_similar, 4000),
        (max_hypotheses, 1, max_recommendations, max_similar, 2000),
        (min(3, max_hypotheses), 1, min(3, max_recommendations), min(2, max_similar), 1000),
        (1, 1, 1, 0, 500),
        (1, 0, 0, 0, 200),
    ]
    card: dict[str, Any] = {}
    for n, (hyp, ev, rec, sim, summary_limit) in enumerate(attempts):
        card = _build(incident, analysis, votes=votes, more_url=more_url, max_hypotheses=hyp, max_evidence=ev,
                      max_recommendations=rec, max_similar=sim, interactive=interactive,
                      summary_limit=summary_limit, shortened=n > 0)
        if card_size(card) <= max_bytes:
            return card
    # a pathological title or facts: keep only the heading and the link
    return {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": CARD_VERSION,
            "body": [_text(_plain(clip(title_line(incident), 200)), weight="Bolder"),
                     _text("Card shortened." + (f" [See the full analysis]({more_url})" if more_url else ""))]}


def text_card(text: str, *, title: str | None = None, max_bytes: int = MAX_CARD_BYTES) -> dict[str, Any]:
    """A plain answer as a card (command replies)."""
    body: list[Element] = []
    if title:
        body.append(_text(_plain(clip(title, 200)), weight="Bolder"))
    body.append(_text(_plain(clip(text, max(200, max_bytes // 2)))))
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                            "version": CARD_VERSION, "body": body}
    limit = max(200, max_bytes // 2)
    while card_size(card) > max_bytes and limit > 100:  # non-ASCII text is up to 6 bytes a character as sent
        limit //= 2
        body[-1] = _text(_plain(clip(text, limit)))
    return card


def evidence_card(hypothesis: Hypothesis, *, limit: int = 20, max_bytes: int = MAX_CARD_BYTES) -> dict[str, Any]:
    """Every piece of evidence of one hypothesis, shortened (fewer pieces, shorter lines) to fit ``max_bytes``."""
    card: dict[str, Any] = {}
    for count, width in ((limit, 400), (limit, 200), (min(limit, 10), 120), (min(limit, 5), 80), (1, 60)):
        card = _evidence_card(hypothesis, limit=count, width=width)
        if card_size(card) <= max_bytes:
            break
    return card


def _evidence_card(hypothesis: Hypothesis, *, limit: int, width: int) -> dict[str, Any]:
    items = [_text(f"**Evidence for {_plain(clip(hypothesis.title, 200))}** ({percent(hypothesis.confidence)})")]
    for e in hypothesis.evidence[:limit]:
        line = f"- [{e.type.value}] {_plain(clip(e.summary, width))}"
        url = safe_url(e.url)
        items.append(_text(f"{line} ([link]({url}))" if url else line, size="Small", spacing="None"))
    if len(hypothesis.evidence) > limit:
        items.append(_text(f"… and {len(hypothesis.evidence) - limit} more in Sherlog.", isSubtle=True))
    if not hypothesis.evidence:
        items.append(_text("No evidence recorded for this hypothesis."))
    return {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": CARD_VERSION, "body": items}
