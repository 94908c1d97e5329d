"""Models of normal event sequences.

- ``TransitionModel``: which template follows which, per session key (trace/request id, thread, or
  the whole stream). Used inside one analysis: transitions never seen in the baseline are anomalous.
- ``SessionModel``: a model of whole normal sessions (e.g. HDFS block sessions): n-gram transitions
  with start/end markers (DeepLog-like), per-event count bounds, and pairwise count invariants
  (``2*count(a) == count(b)`` in every normal session, as invariant mining finds them), and optionally
  count profiles (``signatures``): events whose count hardly varies across normal sessions (count
  entropy below ``free_entropy`` bits) are "structural", and the tuple of their counts must be one that
  some normal session had; the other ("free") events, e.g. reads served from a block, only keep their
  upper bound. A session is anomalous when it holds an unseen event, an unseen n-gram, a count above
  normal, breaks an invariant, has an unseen structural count profile, or its count vector leaves the
  subspace normal sessions live in (PCA residual, as in Xu et al. 2009). Each rule can be switched off.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from math import gcd, log2
from typing import Any

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
                 min_support: int = 30, invariant_confidence: float = 1.0, subspace: bool = True,
                 subspace_rel: float = 0.1, subspace_quantile: float = 0.99, transitions: bool = True,
                 signatures: bool = False, free_entropy: float = 1.0) -> None:
        if n < 2:
            raise ValueError(f"n must be at least 2 (n-grams of start/end markers and events), got {n}")
        if free_entropy < 0:
            raise ValueError(f"free_entropy is a number of bits >= 0, got {free_entropy}")
        self.n = n
        self.use_transitions = transitions
        self.use_signatures = signatures
        self.free_entropy = free_entropy
        self.count_margin = count_margin
        self.use_invariants = invariants
        self.min_support = min_support
        self.invariant_confidence = invariant_confidence
        self.use_subspace = subspace
        self.subspace_rel = subspace_rel
        self.subspace_quantile = subspace_quantile
        self._columns: dict[int, int] = {}
        self._null: Any = None
        self._tau = 0.0
        self.invariants: list[tuple[int, int, int, int]] = []  # (a, b, ka, kb): ka*count(a) == kb*count(b)
        self.events: set[int] = set()
        self.grams: set[tuple[int, ...]] = set()
        self.max_count: Counter[int] = Counter()
        self.min_count: dict[int, int] = {}
        self.free_events: set[int] = set()
        self.signatures: set[tuple[tuple[int, int], ...]] = set()
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
        if self.use_subspace and vectors:
            self._fit_subspace(vectors)
        if self.use_signatures:
            self.free_events = {ev for ev, h in self.count_entropy(vectors).items() if h >= self.free_entropy}
            self.signatures = {self.signature(v) for v in vectors}
        return self

    def count_entropy(self, vectors: list[Counter[int]]) -> dict[int, float]:
        """Entropy (bits) of each event's count over the given sessions, absent events counting 0."""
        values: dict[int, Counter[int]] = {ev: Counter() for ev in self.events}
        for v in vectors:
            for ev, c in v.items():
                values.setdefault(ev, Counter())[c] += 1
        total = len(vectors)
        out: dict[int, float] = {}
        for ev, dist in values.items():
            absent = total - sum(dist.values())
            probs = [c / total for c in (*dist.values(), absent) if c > 0]
            out[ev] = -sum(p * log2(p) for p in probs)
        return out

    def signature(self, counts: Counter[int]) -> tuple[tuple[int, int], ...]:
        """The counts of the structural (not free) events, as a sorted tuple of (event, count)."""
        return tuple(sorted((ev, c) for ev, c in counts.items() if ev not in self.free_events))

    def _vector(self, counts: Counter[int]) -> Any:
        import numpy as np

        v = np.zeros(len(self._columns))
        for ev, c in counts.items():
            col = self._columns.get(ev)
            if col is not None:
                v[col] = c
        return v

    def _fit_subspace(self, vectors: list[Counter[int]]) -> None:
        """Approximate count invariants: the directions where normal count vectors (nearly) vanish
        (singular values below ``subspace_rel`` of the largest), with a residual threshold that
        ``subspace_quantile`` of the normal sessions stay under (a false-alarm budget on normal data)."""
        import numpy as np

        self._columns = {ev: i for i, ev in enumerate(sorted(self.events))}
        x = np.array([self._vector(v) for v in vectors])
        _u, s, vt = np.linalg.svd(x, full_matrices=False)
        if s.size == 0 or s.max() == 0:
            return
        null = vt[s / s.max() < self.subspace_rel]
        if len(null) == 0:
            return
        self._null = null
        residual = np.abs(x @ null.T).max(axis=1)
        self._tau = float(np.quantile(residual, self.subspace_quantile)) + 1e-6

    def residual(self, seq: Sequence[int]) -> float:
        """How far a session's event counts leave the normal subspace (0 when no subspace was learnt)."""
        if self._null is None:
            return 0.0
        import numpy as np

        return float(np.abs(self._vector(Counter(seq)) @ self._null.T).max())

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
        if self.use_transitions:
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
        if self.use_signatures and self._sessions and self.signature(counts) not in self.signatures:
            reasons.append(f"count profile never seen in normal sessions {list(self.signature(counts))[:6]}")
        if self._null is not None and self.residual(seq) > self._tau:
            reasons.append("event counts off the normal subspace")
        return SessionVerdict(bool(reasons), reasons)

    def is_anomalous(self, seq: Sequence[int]) -> bool:
        return self.judge(seq).anomalous
