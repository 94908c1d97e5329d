"""Keyword retrieval: a BM25 index (``bm25s``) with an incident-friendly tokenizer.

The tokenizer lower-cases, splits identifiers (``db_pool-exhausted`` -> ``db pool exhausted``), drops
English stop words and long numbers (values and ids differ between occurrences of the same incident),
and strips common suffixes so "connections" matches "connection".
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

_TOKEN = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    """a an and are as at be been but by can could did do does for from had has have he her his how i if in
    into is it its may me more most my no not of on or our out over she so some such than that the their them
    then there these they this those to too under up us was we were what when where which while who why will
    with would you your after before during about also any all again each other only own same very just been
    being both few further here once off s t don should now""".split()
)
_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ies", "ied", "ed", "es", "s")


def stem(token: str) -> str:
    """A light, deterministic suffix stripper (no dictionary): enough for plural and tense variants."""
    if len(token) <= 4 or token.isdigit():
        return token
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            base = token[: -len(suffix)]
            if suffix in {"ies", "ied"}:
                return base + "y"
            if suffix == "es" and not base.endswith(("ss", "x", "z", "ch", "sh")):
                return token[:-1]  # "queues" -> "queue", "databases" -> "database"
            if suffix == "s" and token.endswith("ss"):
                return token
            return base
    return token


def surface_tokens(text: str) -> list[tuple[str, str]]:
    """``(surface word, normalised token)`` pairs of the words that count for BM25."""
    out: list[tuple[str, str]] = []
    for word in _TOKEN.findall(text.lower()):
        if word in _STOP or (word.isdigit() and len(word) > 4) or len(word) == 1:
            continue
        out.append((word, stem(word)))
    return out


def tokenize(text: str) -> list[str]:
    return [tok for _, tok in surface_tokens(text)]


class KeywordIndex:
    """BM25 over documents in row order, plus document frequencies to explain matches."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._build([tokenize(t) for t in texts])

    @classmethod
    def from_tokens(cls, tokens: Sequence[list[str]]) -> KeywordIndex:
        """The index of texts already run through ``tokenize`` (a caller that keeps each document's
        tokens rebuilds after a new document without tokenising the whole corpus again)."""
        index = cls.__new__(cls)
        index._build(tokens)
        return index

    def _build(self, tokens: Sequence[list[str]]) -> None:
        import bm25s

        self.size = len(tokens)
        corpus = [list(t) or ["\u2205"] for t in tokens]
        self._bm25 = bm25s.BM25()
        self._df: dict[str, int] = {}
        for toks in corpus:
            for tok in set(toks):
                self._df[tok] = self._df.get(tok, 0) + 1
        if self.size:
            self._bm25.index(corpus, show_progress=False)

    def idf(self, token: str) -> float:
        df = self._df.get(token, 0)
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def reference_score(self, text: str) -> float:
        """BM25 of an average-length document holding every query word once: ``sum(idf)`` over the
        query's distinct words (unknown words count with the highest idf). Dividing by it puts a
        BM25 score on an absolute 0..~1 scale, so one weak shared word stays a weak match."""
        return sum(self.idf(t) for t in dict.fromkeys(tokenize(text)))

    def query(
        self, text: str, *, k: int, mask: npt.NDArray[np.bool_] | None = None
    ) -> list[tuple[int, float]]:
        """Up to ``k`` ``(row, BM25 score)`` pairs with a positive score, best first."""
        tokens = [t for t in dict.fromkeys(tokenize(text)) if t in self._df]
        if not tokens or self.size == 0 or k <= 0:
            return []
        k = min(k, self.size)
        weight_mask = mask.astype(np.float32) if mask is not None else None
        rows, scores = self._bm25.retrieve(
            [tokens], k=k, show_progress=False, weight_mask=weight_mask, n_threads=0
        )
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]


def shared_phrases(query: str, text: str, index: KeywordIndex | None, *, limit: int = 3) -> list[str]:
    """Words and two-word phrases of ``query`` found in ``text``, rarest first."""
    q = surface_tokens(query)
    doc_tokens = tokenize(text)
    doc_set = set(doc_tokens)
    doc_pairs = set(zip(doc_tokens, doc_tokens[1:], strict=False))
    phrases: list[tuple[float, str, set[str]]] = []
    covered: set[str] = set()
    for (w1, t1), (w2, t2) in zip(q, q[1:], strict=False):
        if (t1, t2) in doc_pairs and t1 != t2:
            weight = (index.idf(t1) + index.idf(t2)) if index else 2.0
            phrases.append((weight + 1.0, f"{w1} {w2}", {t1, t2}))
    for word, tok in q:
        if tok in doc_set:
            phrases.append((index.idf(tok) if index else 1.0, word, {tok}))
    out: list[str] = []
    for _, phrase, toks in sorted(phrases, key=lambda p: -p[0]):
        if toks <= covered:
            continue
        covered |= toks
        out.append(phrase)
        if len(out) == limit:
            break
    return out
