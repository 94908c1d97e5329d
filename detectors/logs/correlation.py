"""Correlation of log signals: within one incident (who started first, what surged together) and
across incidents (recurring template signatures).

- ``annotate_onsets`` adds to each signal's attributes: ``onset_rank`` (1 = the earliest anomalous
  log activity of the whole incident), ``lead_s`` (seconds before the latest onset among the
  signals), ``first_in_service`` and ``co_signals`` (ids of signals of other services that started
  within ``window`` of it). The ranker can prefer the service whose logs went wrong first.
- ``incident_signature`` / ``similar_incidents``: the set of template signatures (hashes of template
  text, the same in every process) an incident's signals rest on, and past incidents ranked by how
  much of it they share (Jaccard).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta

from bot.domain.models import Signal

DEFAULT_WINDOW = timedelta(minutes=2)


def annotate_onsets(signals: list[Signal], *, window: timedelta = DEFAULT_WINDOW) -> list[Signal]:
    """The same signals, with onset attributes added in place (signals without a start are left alone)."""
    starts = {s.id: s.started_at for s in signals if s.started_at is not None}
    timed = sorted((s for s in signals if s.id in starts), key=lambda s: starts[s.id])
    if not timed:
        return signals
    latest = max(starts.values())
    first_by_service: dict[str | None, Signal] = {}
    for rank, sig in enumerate(timed, start=1):
        sig.attributes["onset_rank"] = rank
        sig.attributes["lead_s"] = round((latest - starts[sig.id]).total_seconds(), 3)
        first_by_service.setdefault(sig.service, sig)
    for sig in timed:
        sig.attributes["first_in_service"] = first_by_service.get(sig.service) is sig
        assert sig.started_at is not None
        sig.attributes["co_signals"] = [
            other.id for other in timed
            if other.service != sig.service and other.started_at is not None
            and abs(other.started_at - sig.started_at) <= window
        ]
    return signals


def leading_services(signals: Iterable[Signal]) -> list[tuple[str, float]]:
    """Services ordered by when their first log signal started: (service, seconds after the very first)."""
    first: dict[str, Signal] = {}
    for sig in signals:
        if sig.service is None or sig.started_at is None:
            continue
        seen = first.get(sig.service)
        if seen is None or sig.started_at < seen.started_at:  # type: ignore[operator]
            first[sig.service] = sig
    if not first:
        return []
    ordered = sorted(first.values(), key=lambda s: s.started_at)  # type: ignore[arg-type, return-value]
    t0 = ordered[0].started_at
    assert t0 is not None
    return [(s.service or "", (s.started_at - t0).total_seconds()) for s in ordered]  # type: ignore[operator]


def incident_signature(signals: Iterable[Signal], *, min_score: float = 0.2) -> frozenset[str]:
    """The template signatures of an incident's log signals (those scored at least ``min_score``)."""
    return frozenset(
        str(s.attributes["signature"]) for s in signals
        if s.source == "logs" and s.score >= min_score and s.attributes.get("signature")
    )


def similar_incidents(current: frozenset[str], past: Mapping[str, frozenset[str]], *,
                      min_jaccard: float = 0.2, limit: int = 5) -> list[tuple[str, float]]:
    """Past incidents (id, Jaccard similarity) that share template signatures with the current one."""
    if not current:
        return []
    scored = []
    for incident_id, signature in past.items():
        if not signature:
            continue
        jaccard = len(current & signature) / len(current | signature)
        if jaccard >= min_jaccard:
            scored.append((incident_id, round(jaccard, 4)))
    scored.sort(key=lambda x: x[1], reverse=True)
    return scored[:limit]
