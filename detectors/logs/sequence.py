"""Models of normal event sequences.

- ``TransitionModel``: which template follows which, per session key (trace/request id, thread, or
  the whole stream). Used inside one analysis: transitions never seen in the baseline are anomalous.
- ``SessionModel``: a model of whole normal sessions (e.g. HDFS block sessions): n-gram transitions
  with start/end markers (DeepLog-like), per-event count bounds, and pairwise count invariants
  (``2*count(a) == count(b)`` in every normal session, as invariant mining finds them). A session is
  anomalous when it holds an unseen event, an unseen n-gram, a count above normal, or breaks an invariant.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from math import gcd

_START = -1
_END = -2


class TransitionModel:
    """First-order transitions between template ids, tracked per session key."""

    def __init__(self) -> None:
        self.pairs: set[tuple[int, int]] = set()
        self.counts: Counter[int] = Counter()

    def fit_stream(self, ids: Sequence[int], *, keys: Sequence[str] | None = None) -> None:
        last: dict[str, int] = {}
        for i, tid in enumerate(ids):
            key = keys[i] if keys else ""
            prev = last.get(key, _START)
            self.pairs.add((prev, tid))
            self.counts[tid] += 1
            last[key] = tid

    def unseen_transitions(self, ids: Sequence[int], *, keys: Sequence[str] | None = None) -> list[tuple[int, int]]:
        """(index, previous id) of every event whose transition the model never saw."""
        last: dict[str, int] = {}
        out: list[tuple[int, int]] = []
        for i, tid in enumerate(ids):
            key = keys[i] if keys else ""
            prev = last.get(key, _START)
            if prev != _START and (prev, tid) not in self.pairs:
                out.append((i, prev))
            last[key] = tid
        return out

    def knows(self, tid: int) -> bool:
        return tid in self.counts

    def seen_count(self, tid: int) -> int:
        return self.counts.get(tid, 0)


@dataclass
class SessionVerdict:
    anomalous: bool
    reasons: list[str] = field(default_factory=list)


class SessionModel:
    """Normal-session model over event ids (any hashable ints)."""

    def __init__(self, *, n: int = 3, count_margin: float = 0.0, invariants: bool = True,
                 min_support: int = 30, invariant_confidence: float = 1.0) -> None:
        self.n = n
        self.count_margin = count_margin
        self.use_invariants = invariants
        self.min_support = min_support
        self.invariant_confidence = invariant_confidence
        self.invariants: list[tuple[int, int, int, int]] = []  # (a, b, ka, kb): ka*count(a) == kb*count(b)
        self.events: set[int] = set()
        self.grams: set[tuple[int, ...]] = set()
        self.max_count: Counter[int] = Counter()
        self.min_count: dict[int, int] = {}
        self._sessions = 0

    def _grams(self, seq: Sequence[int]) -> Iterable[tuple[int, ...]]:
        padded = (_START, *seq, _END)
        for size in range(2, self.n + 1):
            for i in range(len(padded) - size + 1):
                yield padded[i: i + size]

    def fit(self, sessions: Iterable[Sequence[int]]) -> SessionModel:
        vectors: list[Counter[int]] = []
        for seq in sessions:
            self._sessions += 1
            self.events.update(seq)
            self.grams.update(self._grams(seq))
            counts = Counter(seq)
            vectors.append(counts)
            for ev, c in counts.items():
                if c > self.max_count[ev]:
                    self.max_count[ev] = c
        if self.use_invariants:
            self.invariants = self._mine_invariants(vectors)
        return self

    def _mine_invariants(self, vectors: list[Counter[int]]) -> list[tuple[int, int, int, int]]:
        """Pairwise count invariants ``ka*count(a) == kb*count(b)`` that hold in every normal session
        where either event occurs, with enough support (invariant mining, Lou et al. 2010, pairwise)."""
        support: Counter[int] = Counter()
        for v in vectors:
            support.update(v.keys())
        events = sorted(e for e, n in support.items() if n >= self.min_support)
        found = []
        for i, a in enumerate(events):
            for b in events[i + 1:]:
                ratios: Counter[tuple[int, int]] = Counter()
                seen = 0
                for v in vectors:
                    ca, cb = v.get(a, 0), v.get(b, 0)
                    if ca == 0 and cb == 0:
                        continue
                    seen += 1
                    if ca and cb:
                        g = gcd(ca, cb)
                        ratios[(cb // g, ca // g)] += 1  # ka*ca == kb*cb with (ka, kb) = (cb, ca) reduced
                if seen < self.min_support or not ratios:
                    continue
                (ka, kb), held = ratios.most_common(1)[0]
                if held >= self.invariant_confidence * seen:
                    found.append((a, b, ka, kb))
        return found

    def judge(self, seq: Sequence[int]) -> SessionVerdict:
        reasons: list[str] = []
        unseen = [e for e in seq if e not in self.events]
        if unseen:
            reasons.append(f"unseen events {sorted(set(unseen))[:5]}")
        missing = [g for g in self._grams(seq) if g not in self.grams]
        if missing:
            reasons.append(f"unseen transitions {missing[:3]}")
        counts = Counter(seq)
        over = [e for e, c in counts.items() if e in self.max_count and c > self.max_count[e] * (1 + self.count_margin)]
        if over:
            reasons.append(f"event counts above normal for {sorted(over)[:5]}")
        broken = [(a, b) for a, b, ka, kb in self.invariants
                  if (counts.get(a, 0) or counts.get(b, 0)) and ka * counts.get(a, 0) != kb * counts.get(b, 0)]
        if broken:
            reasons.append(f"count invariants broken {broken[:3]}")
        return SessionVerdict(bool(reasons), reasons)

    def is_anomalous(self, seq: Sequence[int]) -> bool:
        return self.judge(seq).anomalous
