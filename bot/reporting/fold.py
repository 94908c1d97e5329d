"""Reports computed with bounded memory: each report is a ``Fold``, an accumulator fed the scope's incidents
in creation order a page at a time (``run_folds``), so no report holds every incident of its range.

A fold keeps only what its figures need (counters, and the durations a percentile needs), never the
incidents themselves. ``Fold.over`` feeds it a whole ``Snapshot`` instead (the reference the paged path is
tested against).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from bot.reporting.queries import FeedbackTally, IncidentFacts, Snapshot, iter_incident_pages
from bot.reporting.scope import ReportScope
from bot.storage import Store

PAGE_SIZE = 200  # incidents read (with their analyses) per query


class Fold:
    """An accumulator over a report's incidents, oldest first."""

    later: bool = False  # wants the incidents created in the horizon after the scope (``add_later``)
    feedback: bool = False  # wants the feedback on the scope's incidents, counted (``add_feedback``)

    def add(self, facts: IncidentFacts) -> None:
        """One incident of the scope."""

    def add_later(self, facts: IncidentFacts) -> None:
        """One incident created after the scope, within the horizon."""

    def add_feedback(self, tally: FeedbackTally) -> None:
        """The feedback on some of the scope's incidents (each incident's feedback comes once)."""

    def result(self) -> dict[str, Any]:
        raise NotImplementedError

    def over(self, snapshot: Snapshot) -> dict[str, Any]:
        """The figures of a whole snapshot (read into memory beforehand)."""
        for facts in snapshot.incidents:
            self.add(facts)
        for facts in snapshot.later:
            self.add_later(facts)
        if self.feedback:
            self.add_feedback(FeedbackTally.of(snapshot.feedback))
        return self.result()


def run_folds(folds: Sequence[Fold], *, store: Store, scope: ReportScope, horizon: timedelta = timedelta(hours=24),
              q: str | None = None, status: str | None = None, page_size: int = PAGE_SIZE) -> None:
    """Feed every fold the scope's incidents in one read, ``page_size`` incidents at a time, oldest first
    (keyset paging on created_at, id); then call ``result()`` on each."""
    later = any(f.later for f in folds)
    feedback = any(f.feedback for f in folds)
    until = scope.until + horizon if later else scope.until
    for page in iter_incident_pages(store=store, scope=scope, q=q, status=status, page_size=page_size, until=until,
                                    newest_first=False):
        inside = [f for f in page if f.incident.created_at < scope.until]
        after = [f for f in page if f.incident.created_at >= scope.until]
        for fold in folds:
            for facts in inside:
                fold.add(facts)
            for facts in after:
                fold.add_later(facts)
        if feedback and inside:
            tally = FeedbackTally.query(store, [f.incident.id for f in inside])
            for fold in folds:
                if fold.feedback:
                    fold.add_feedback(tally)
