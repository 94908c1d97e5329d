"""Drain-style online template miner with masking, a result cache, bounded memory and persistence.

How a message finds its template:
1. ``mask`` replaces ids, numbers, IPs, hex, UUIDs, durations and paths by ``<*>``.
2. A cache maps the masked text straight to its cluster: on real logs most lines hit it, which is
   what makes the miner fast (one regex pass and one dict lookup per line).
3. On a miss, a fixed-depth tree (token count, then the first constant tokens) narrows the candidate
   clusters; the most similar one above ``similarity`` absorbs the message (differing positions
   become ``<*>``), else a new cluster starts.

Memory is bounded: past ``max_clusters`` the least recently seen clusters are dropped, and the cache
is cleared when it grows past ``cache_size``. Ids are integers that persist with the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.domain.errors import InputError
from bot.domain.models import stable_hash
from detectors.logs.masking import WILDCARD, mask
from detectors.logs.persistence import MinerStore

STATE_VERSION = 1


class Cluster:
    """One template: its tokens, how many messages it absorbed, and when it was last seen."""

    __slots__ = ("id", "tokens", "size", "last_seen", "key", "_template")

    def __init__(
        self,
        cluster_id: int,
        tokens: list[str],
        key: tuple[int, tuple[str, ...]],
        size: int = 0,
        last_seen: int = 0,
    ) -> None:
        self.id = cluster_id
        self.tokens = tokens
        self.key = key  # the tree leaf it lives in (fixed at birth, as in Drain)
        self.size = size
        self.last_seen = last_seen
        self._template: str | None = None

    @property
    def template(self) -> str:
        if self._template is None:
            self._template = " ".join(self.tokens)
        return self._template

    @property
    def signature(self) -> str:
        """A hash of the template text: the same in every process, links incidents that share it."""
        return stable_hash(self.template, length=12)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "tokens": self.tokens, "size": self.size, "last_seen": self.last_seen,
                "key": [self.key[0], list(self.key[1])]}


@dataclass(frozen=True, slots=True)
class MinedLine:
    cluster_id: int
    template: str
    is_new: bool


def _is_var(token: str) -> bool:
    return WILDCARD in token


class TemplateMiner:
    """Online template mining. ``add`` learns; ``match`` only looks up."""

    def __init__(
        self,
        *,
        similarity: float = 0.5,
        depth: int = 4,
        max_clusters: int = 100_000,
        cache_size: int = 500_000,
        store: MinerStore | None = None,
    ) -> None:
        if not 0.0 < similarity <= 1.0:
            raise InputError(f"similarity must be in (0, 1], got {similarity}")
        if depth < 3:
            raise InputError(f"depth must be at least 3, got {depth}")
        self.similarity = similarity
        self.prefix_len = depth - 2
        self.max_clusters = max_clusters
        self.cache_size = cache_size
        self.store = store
        self.clusters: dict[int, Cluster] = {}
        self._tree: dict[tuple[int, tuple[str, ...]], list[Cluster]] = {}
        self._cache: dict[str, Cluster] = {}
        self._next_id = 1
        self._clock = 0
        if store is not None:
            state = store.load()
            if state:
                self.load_state(state)

    # ---- learning -------------------------------------------------------------------------

    def add(self, message: str) -> MinedLine:
        """Mine one message (header already stripped): its cluster id and current template."""
        return self.add_masked(mask(message))

    def add_masked(self, masked: str) -> MinedLine:
        self._clock += 1
        cluster = self._cache.get(masked)
        if cluster is not None:
            cluster.size += 1
            cluster.last_seen = self._clock
            return MinedLine(cluster.id, cluster.template, False)
        tokens = masked.split()
        key = self._key(tokens)
        candidates = self._tree.get(key)
        best = self._best(candidates, tokens) if candidates else None
        is_new = best is None
        if best is None:
            best = Cluster(self._next_id, tokens, key)
            self._next_id += 1
            self.clusters[best.id] = best
            self._tree.setdefault(key, []).append(best)
            if len(self.clusters) > self.max_clusters:
                self._evict()
        else:
            self._absorb(best, tokens)
        best.size += 1
        best.last_seen = self._clock
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
        self._cache[masked] = best
        return MinedLine(best.id, best.template, is_new)

    def match(self, message: str) -> Cluster | None:
        """The cluster a message belongs to, without learning (None when no template fits)."""
        masked = mask(message)
        cluster = self._cache.get(masked)
        if cluster is not None:
            return cluster
        tokens = masked.split()
        candidates = self._tree.get(self._key(tokens))
        return self._best(candidates, tokens) if candidates else None

    # ---- internals ------------------------------------------------------------------------

    def _key(self, tokens: list[str]) -> tuple[int, tuple[str, ...]]:
        prefix = tuple(WILDCARD if _is_var(t) else t for t in tokens[: self.prefix_len])
        return (len(tokens), prefix)

    def _best(self, candidates: list[Cluster], tokens: list[str]) -> Cluster | None:
        best: Cluster | None = None
        best_sim = -1.0
        best_params = -1
        n = len(tokens) or 1
        for cluster in candidates:
            same = 0
            params = 0
            for t, m in zip(cluster.tokens, tokens, strict=False):
                if t == WILDCARD:
                    params += 1
                elif t == m:
                    same += 1
            sim = same / n
            if sim > best_sim or (sim == best_sim and params > best_params):
                best, best_sim, best_params = cluster, sim, params
        if best is None:
            return None
        constant = n - best_params
        if len(tokens) == 0 or best_sim >= self.similarity * (constant / n if constant else 1.0):
            return best
        return None

    def _absorb(self, cluster: Cluster, tokens: list[str]) -> None:
        changed = False
        merged = cluster.tokens
        for i, (t, m) in enumerate(zip(merged, tokens, strict=False)):
            if t != m and t != WILDCARD:
                merged[i] = WILDCARD
                changed = True
        if changed:
            cluster._template = None

    def _evict(self) -> None:
        keep = int(self.max_clusters * 0.9)
        ordered = sorted(self.clusters.values(), key=lambda c: c.last_seen, reverse=True)
        dropped = {c.id for c in ordered[keep:]}
        for cid in dropped:
            del self.clusters[cid]
        for key in list(self._tree):
            remaining = [c for c in self._tree[key] if c.id not in dropped]
            if remaining:
                self._tree[key] = remaining
            else:
                del self._tree[key]
        self._cache.clear()

    # ---- state ----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "config": {"similarity": self.similarity, "depth": self.prefix_len + 2},
            "next_id": self._next_id,
            "clock": self._clock,
            "clusters": [c.to_dict() for c in self.clusters.values()],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION:
            raise InputError(f"template state version {state.get('version')!r} is not {STATE_VERSION}; start afresh")
        self.clusters.clear()
        self._tree.clear()
        self._cache.clear()
        for item in state.get("clusters", []):
            tokens = [str(t) for t in item["tokens"]]
            raw_key = item.get("key")
            key = (int(raw_key[0]), tuple(str(t) for t in raw_key[1])) if raw_key else self._key(tokens)
            cluster = Cluster(int(item["id"]), tokens, key, int(item["size"]), int(item.get("last_seen", 0)))
            self.clusters[cluster.id] = cluster
            self._tree.setdefault(key, []).append(cluster)
        self._next_id = max([int(state.get("next_id", 1)), *(c + 1 for c in self.clusters)])
        self._clock = int(state.get("clock", 0))

    def save(self) -> None:
        """Write the state to the store given at construction (no-op without one)."""
        if self.store is not None:
            self.store.save(self.state())
