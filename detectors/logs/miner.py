"""Online template miner: masking, exact-constant matching, evidence-based generalisation.

How a message finds its template:
1. ``mask`` replaces ids, numbers, IPs, hex, UUIDs, durations, sizes and paths by ``<*>``.
2. A cache maps the masked text straight to its cluster: on real logs most lines hit it, which is
   what makes the miner fast (one regex pass and one dict lookup per line).
3. On a miss, the leaf of a small tree (token count, first token) holds the candidate clusters; a
   message joins a cluster when it equals the cluster's template on every constant token.
4. Otherwise it starts a new cluster, and the miner looks for evidence that some position is a
   variable: when ``min_variants`` clusters of the leaf differ from each other in exactly that one
   position, they merge into one template with ``<*>`` there. Words that take two values stay
   constants (``stored as values`` / ``stored as bytes`` are two templates); a position that takes
   many values (user names, host names, file names) becomes a variable.

Merged clusters keep the smallest id; ``resolve(id)`` maps an old id to its surviving cluster.
Memory is bounded: past ``max_clusters`` the least recently seen clusters are dropped, and the cache
is cleared when it grows past ``cache_size``. Ids persist with the state.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from operator import attrgetter
from typing import Any, NamedTuple, cast

from bot.domain.errors import InputError
from bot.domain.models import stable_hash
from detectors.logs.masking import MAX_MESSAGE_CHARS, WILDCARD, mask, shape_of
from detectors.logs.persistence import MinerStore

STATE_VERSION = 2
_ID = attrgetter("id")
LeafKey = tuple[int, str]


class Cluster:
    """One template: its tokens, how many messages it absorbed, and when it was last seen."""

    __slots__ = ("id", "tokens", "size", "last_seen", "key", "merged_into", "_template")

    def __init__(self, cluster_id: int, tokens: list[str], key: LeafKey, size: int = 0, last_seen: int = 0) -> None:
        self.id = cluster_id
        self.tokens = tokens
        self.key = key
        self.size = size
        self.last_seen = last_seen
        self.merged_into: Cluster | None = None
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
        return {"id": self.id, "tokens": self.tokens, "size": self.size, "last_seen": self.last_seen}


class MinedLine(NamedTuple):
    cluster_id: int
    template: str
    is_new: bool


def _leaf_key(tokens: list[str]) -> LeafKey:
    first = tokens[0] if tokens else ""
    return (len(tokens), WILDCARD if WILDCARD in first else first)


def _fits(template: list[str], tokens: list[str]) -> bool:
    for t, m in zip(template, tokens, strict=False):
        if t != m and t != WILDCARD:
            return False
    return True


_NAME = re.compile(r"^\W*[A-Z][A-Za-z_]*\W*$")


def _is_name(token: str) -> bool:
    """A capitalised word (``GET``, ``Stopped``, ``RUNNING``): code speaking, so a constant."""
    return _NAME.match(token) is not None


def _empty_variant(a: str, b: str) -> bool:
    return a != b and (a.replace(WILDCARD, "") == b or b.replace(WILDCARD, "") == a)


class TemplateMiner:
    """Online template mining. ``add`` learns; ``match`` only looks up."""

    def __init__(
        self,
        *,
        min_variants: int = 3,
        max_clusters: int = 100_000,
        cache_size: int = 20_000,
        store: MinerStore | None = None,
    ) -> None:
        if min_variants < 2:
            raise InputError(f"min_variants must be at least 2, got {min_variants}")
        self.min_variants = min_variants
        self.max_clusters = max_clusters
        self.cache_size = cache_size
        self.store = store
        self.clusters: dict[int, Cluster] = {}
        self._tree: dict[LeafKey, list[Cluster]] = {}
        self._cache: dict[str, Cluster] = {}
        self._shapes: dict[str, Cluster] = {}
        self._line_shapes: dict[str, Cluster] = {}
        self._alias: dict[int, int] = {}
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
        before = self._next_id
        found = self._assign(masked)
        found.size += 1
        found.last_seen = self._clock
        return MinedLine(found.id, found.template, self._next_id != before)

    def add_many(self, messages: list[str]) -> list[int]:
        """Mine a batch of messages; their cluster ids (as they stand after the batch).

        The fast path of streams: messages are keyed by their shape (digit runs read as ``0``) and
        looked up with C-level ``map`` calls; only shapes never seen before are masked and mined.
        """
        if not messages:
            return []
        return self._count(self._clusters_of(messages))

    def add_lines(self, lines: list[str], split: Callable[[list[str]], list[str]]) -> list[int]:
        """Mine a batch of raw lines whose header ``split`` cuts off (e.g. ``HeaderFormat.contents``).

        Lines are first keyed by their own shape: two lines of one shape have headers that differ
        only in digits, so their messages have one shape too, and a known line shape skips the header
        split, the masking and the tree. Only lines of a new shape are split and mined.
        """
        if not lines:
            return []
        if max(map(len, lines)) > MAX_MESSAGE_CHARS:
            lines = [x[:MAX_MESSAGE_CHARS] for x in lines]
        shapes = list(map(shape_of, lines))
        lookup = self._line_shapes
        looked_up: list[Cluster | None] = list(map(lookup.get, shapes))
        if None in looked_up:
            if len(lookup) >= self.cache_size:
                lookup.clear()
            missing = [i for i, hit in enumerate(looked_up) if hit is None]
            clusters = self._clusters_of(split([lines[i] for i in missing]))
            for i, cluster in zip(missing, clusters, strict=True):
                looked_up[i] = cluster
                lookup[shapes[i]] = cluster
        return self._count(cast(list[Cluster], looked_up))

    def _clusters_of(self, messages: list[str]) -> list[Cluster]:
        """The cluster of each message (creating clusters as needed), sizes untouched."""
        if max(map(len, messages)) > MAX_MESSAGE_CHARS:
            messages = [m[:MAX_MESSAGE_CHARS] for m in messages]
        shapes = list(map(shape_of, messages))
        lookup = self._shapes
        looked_up: list[Cluster | None] = list(map(lookup.get, shapes))
        if None in looked_up:
            if len(lookup) >= self.cache_size:
                lookup.clear()
            for i, hit in enumerate(looked_up):
                if hit is None:
                    shape = shapes[i]
                    hit = lookup.get(shape)
                    if hit is None:
                        hit = self._assign(mask(messages[i]))
                        lookup[shape] = hit
                    looked_up[i] = hit
        return cast(list[Cluster], looked_up)

    def _count(self, found: list[Cluster]) -> list[int]:
        self._clock += len(found)
        final: dict[Cluster, Cluster] = {}
        for cluster, n in Counter(found).items():
            top = cluster
            while top.merged_into is not None:
                top = top.merged_into
            top.size += n
            top.last_seen = self._clock
            final[cluster] = top
        return list(map(_ID, map(final.__getitem__, found)))

    def _assign(self, masked: str) -> Cluster:
        """The cluster of a masked message, creating or generalising one (sizes untouched)."""
        cluster = self._cache.get(masked)
        if cluster is not None:
            while cluster.merged_into is not None:
                cluster = cluster.merged_into
            return cluster
        tokens = masked.split()
        key = _leaf_key(tokens)
        leaf = self._tree.get(key)
        found = self._find(leaf, tokens) if leaf else None
        if found is None:
            found = Cluster(self._next_id, tokens, key)
            self._next_id += 1
            self.clusters[found.id] = found
            if leaf is None:
                leaf = self._tree[key] = []
            leaf.append(found)
            found = self._generalise(leaf, found)
            if len(self.clusters) > self.max_clusters:
                self._evict()
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
        self._cache[masked] = found
        return found

    def match(self, message: str) -> Cluster | None:
        """The cluster a message belongs to, without learning (None when no template fits)."""
        masked = mask(message)
        cluster = self._cache.get(masked)
        if cluster is not None:
            while cluster.merged_into is not None:
                cluster = cluster.merged_into
            return cluster
        tokens = masked.split()
        leaf = self._tree.get(_leaf_key(tokens))
        return self._find(leaf, tokens) if leaf else None

    def resolve(self, cluster_id: int) -> int:
        """The id of the cluster an id lives on in (after merges)."""
        while cluster_id in self._alias:
            cluster_id = self._alias[cluster_id]
        return cluster_id

    # ---- internals ------------------------------------------------------------------------

    @staticmethod
    def _find(leaf: list[Cluster], tokens: list[str]) -> Cluster | None:
        best: Cluster | None = None
        best_constants = -1
        for cluster in leaf:
            if _fits(cluster.tokens, tokens):
                constants = sum(1 for t in cluster.tokens if t != WILDCARD)
                if constants > best_constants:
                    best, best_constants = cluster, constants
        return best

    def _generalise(self, leaf: list[Cluster], new: Cluster) -> Cluster:
        """Merge ``new`` with siblings that differ from it in one position, once enough of them do."""
        if len(leaf) < 2:
            return new
        tokens = new.tokens
        by_position: dict[int, list[Cluster]] = {}
        for other in leaf:
            if other is new:
                continue
            diff = -1
            for i, (a, b) in enumerate(zip(tokens, other.tokens, strict=False)):
                if a != b:
                    if diff >= 0:
                        diff = -2
                        break
                    diff = i
            if diff >= 0 and not (_is_name(tokens[diff]) and _is_name(other.tokens[diff])):
                by_position.setdefault(diff, []).append(other)
        best_pos, best_group = -1, cast(list[Cluster], [])
        for pos, group in by_position.items():
            if len(group) + 1 >= self.min_variants and len(group) > len(best_group):
                best_pos, best_group = pos, group
            elif not best_group:
                # an empty value is still the variable: "()" next to "(<*>)", "user=" next to "user=<*>"
                empty = [c for c in group if _empty_variant(c.tokens[pos], tokens[pos])]
                if empty:
                    best_pos, best_group = pos, empty
        if best_pos < 0:
            return new
        survivor = min([new, *best_group], key=lambda c: c.id)
        survivor.tokens = list(survivor.tokens)
        survivor.tokens[best_pos] = WILDCARD
        survivor._template = None
        for cluster in [new, *best_group]:
            if cluster is survivor:
                continue
            survivor.size += cluster.size
            survivor.last_seen = max(survivor.last_seen, cluster.last_seen)
            cluster.merged_into = survivor
            self._alias[cluster.id] = survivor.id
            del self.clusters[cluster.id]
            leaf.remove(cluster)
        # the wider template may now cover other clusters of the leaf: fold them in too
        for cluster in list(leaf):
            if cluster is not survivor and _fits(survivor.tokens, cluster.tokens):
                survivor.size += cluster.size
                cluster.merged_into = survivor
                self._alias[cluster.id] = survivor.id
                del self.clusters[cluster.id]
                leaf.remove(cluster)
        return survivor

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
        self._shapes.clear()
        self._line_shapes.clear()
        self._alias = {k: v for k, v in self._alias.items() if v in self.clusters}

    # ---- state ----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "config": {"min_variants": self.min_variants},
            "next_id": self._next_id,
            "clock": self._clock,
            "clusters": [c.to_dict() for c in self.clusters.values()],
            "aliases": [[k, v] for k, v in self._alias.items()],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION:
            raise InputError(
                f"template state version {state.get('version')!r} is not {STATE_VERSION}; delete it to start afresh"
            )
        self.clusters.clear()
        self._tree.clear()
        self._cache.clear()
        self._shapes.clear()
        self._line_shapes.clear()
        for item in state.get("clusters", []):
            tokens = [str(t) for t in item["tokens"]]
            key = _leaf_key(tokens)
            if tokens and key[1] == WILDCARD and item.get("first"):
                key = (key[0], str(item["first"]))
            cluster = Cluster(int(item["id"]), tokens, key, int(item["size"]), int(item.get("last_seen", 0)))
            self.clusters[cluster.id] = cluster
            self._tree.setdefault(key, []).append(cluster)
        self._alias = {int(k): int(v) for k, v in state.get("aliases", [])}
        self._next_id = max([int(state.get("next_id", 1)), *(c + 1 for c in self.clusters)])
        self._clock = int(state.get("clock", 0))

    def save(self) -> None:
        """Write the state to the store given at construction (no-op without one)."""
        if self.store is not None:
            self.store.save(self.state())
