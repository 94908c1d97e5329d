"""Pack an analysis' evidence for an LLM: redacted, most informative first, within a token budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.domain import Analysis, Evidence
from bot.reasoning import evidence as ev
from bot.reasoning.redact import redact

CHARS_PER_TOKEN = 4  # a coarse, conservative estimate for English text and log lines
MAX_ITEM_CHARS = 600


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // CHARS_PER_TOKEN)


@dataclass
class PackedEvidence:
    items: list[dict[str, Any]]
    ids: set[str]
    weights: dict[str, float]
    dropped: int
    tokens: int


def catalogue(analysis: Analysis) -> dict[str, Evidence]:
    """Every evidence item of the analysis by id: hypotheses', signals' and similar incidents'."""
    found: dict[str, Evidence] = {}

    def add(item: Evidence, bonus: float = 0.0) -> None:
        weight = item.weight + bonus
        if item.id not in found or found[item.id].weight < weight:
            found[item.id] = item.model_copy(update={"weight": min(1.0, weight)})

    for h in analysis.hypotheses:
        for item in h.evidence:
            add(item, 0.1 * h.confidence)
    for sig in analysis.signals:
        for item in ev.from_signal(sig):
            add(item)
    for inc in analysis.similar_incidents:
        add(ev.from_similar(inc))
    return found


def pack(analysis: Analysis, *, budget_tokens: int) -> PackedEvidence:
    """Redacted evidence items, heaviest first, until ``budget_tokens`` is used up."""
    items = sorted(catalogue(analysis).values(), key=lambda e: (-e.weight, e.id))
    packed: list[dict[str, Any]] = []
    used = 0
    dropped = 0
    for item in items:
        text = item.summary if not item.detail else f"{item.summary}\n{item.detail}"
        text = redact(text[:MAX_ITEM_CHARS])
        cost = estimate_tokens(text) + 30
        if used + cost > budget_tokens:
            dropped += 1
            continue
        used += cost
        packed.append({
            "id": item.id,
            "type": item.type.value,
            "service": item.service,
            "ts": item.ts.isoformat() if item.ts else None,
            "weight": float(item.weight),
            "text": text,
        })
    return PackedEvidence(
        items=packed,
        ids={p["id"] for p in packed},
        weights={p["id"]: p["weight"] for p in packed},
        dropped=dropped,
        tokens=used,
    )
