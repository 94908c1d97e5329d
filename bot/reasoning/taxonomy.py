"""User-defined taxonomies learned from a team's labelled history (multi-label).

A team labels past incidents with its own categories ("config-change", "cloud", "payments", ...).
``TaxonomyClassifier`` is an ensemble over *views* of an incident: TF-IDF word n-grams of the full
text, TF-IDF of a short head (title, keywords, summary) when given, optionally TF-IDF character
n-grams, and any number of sentence-embedding matrices (or an embed function). Each view gets one
class-balanced logistic regression per label; a label's score is the mean of the views' probabilities.
Embedding views are standardised and more strongly regularised than the sparse text views.
Each label's decision threshold is tuned on out-of-fold scores of an inner cross-validation (grouped
when groups are given) to maximise that label's F1, so rare labels are not drowned.

A team may also describe a label with a *lexicon*: words or phrases whose mention speaks for the label
(``*`` matches any word ending, e.g. ``"misconfigur*"``). Rare labels have too few examples for the
learned views to find their words; the lexicon supplies them. For each label with a lexicon, the inner
cross-validation then chooses how to decide (all on the training data): the lexicon alone (any hit),
the learned ensemble alone, or a small logistic regression stacking the ensemble's score with the
lexicon hit count. It takes the simplest of these whose out-of-fold F1 is within one standard error of
the best one's (the one-standard-error rule): with a few dozen positives the F1 differences between the
three are mostly inner-fold noise, and the arg-max kept picking a learned decision that did worse than
the lexicon on held-out data. ``modes`` records the choice per label.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold, KFold
from sklearn.preprocessing import StandardScaler

from bot.domain import InputError

Embed = Callable[[list[str]], npt.NDArray[np.float32]]
Matrix = npt.NDArray[np.floating[Any]]
Embeddings = Matrix | Sequence[Matrix] | None

_GRID = np.arange(0.05, 0.951, 0.025)


def _lexicon_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    parts = []
    for term in terms:
        words = str(term).strip().lower()
        if not words or words == "*":
            continue
        parts.append(r"\b" + re.escape(words).replace(r"\*", r"\w*") + r"\b")
    return re.compile("|".join(parts)) if parts else None


def _logit(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    q = np.clip(p, 1e-4, 1 - 1e-4)
    return np.asarray(np.log(q / (1 - q)))


def _best_threshold(y: npt.NDArray[np.int_], scores: npt.NDArray[np.float64]) -> tuple[float, float]:
    """The F1-best threshold (nearest 0.5 among ties: stabler on small data) and its F1."""
    f1s = np.array([f1_score(y, scores >= t, zero_division=0) for t in _GRID])
    ties = _GRID[f1s >= f1s.max() - 1e-9]
    return float(ties[np.argmin(np.abs(ties - 0.5))]), float(f1s.max())


def _simplest_within_one_se(y: npt.NDArray[np.int_], decisions: Mapping[str, npt.NDArray[np.bool_]],
                            splits: Sequence[tuple[npt.NDArray[np.int_], npt.NDArray[np.int_]]]) -> str:
    """The first (simplest) of ``decisions`` whose pooled out-of-fold F1 is within one standard error of the best.

    The standard error is that of the per-fold F1 difference to the best decision, so a more complex decision is
    only preferred when it wins by more than the folds disagree about it.
    """
    pooled = {name: float(f1_score(y, d, zero_division=0)) for name, d in decisions.items()}
    best = max(pooled, key=lambda name: pooled[name])
    per_fold = {name: np.array([f1_score(y[te], d[te], zero_division=0) for _, te in splits])
                for name, d in decisions.items()}
    for name in decisions:
        diff = per_fold[best] - per_fold[name]
        se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
        if pooled[best] - pooled[name] <= se + 1e-9:
            return name
    return best


@dataclass
class LabelPrediction:
    labels: list[str]
    scores: dict[str, float] = field(default_factory=dict)


def _as_views(embeddings: Embeddings) -> list[Matrix]:
    if embeddings is None:
        return []
    if isinstance(embeddings, np.ndarray):
        return [embeddings]
    return [np.asarray(e) for e in embeddings]


class _Fitted:
    """One fit of every view's per-label models on one training set."""

    def __init__(self, clf: TaxonomyClassifier, texts: list[str], heads: list[str] | None,
                 embs: list[Matrix], y: npt.NDArray[np.int_]) -> None:
        self.vectorizers: list[tuple[str, TfidfVectorizer]] = []
        for name in clf.text_views(heads is not None):
            vec = clf.vectorizer(name)
            x = vec.fit_transform(clf.view_texts(name, texts, heads))
            self.vectorizers.append((name, vec))
            self.models_for(clf, x, y)
        self.scalers: list[StandardScaler] = []
        for e in embs:
            scaler = StandardScaler().fit(np.asarray(e, dtype=np.float64))
            self.scalers.append(scaler)
            self.models_for(clf, scaler.transform(np.asarray(e, dtype=np.float64)), y, c=clf.dense_c)

    models: list[list[LogisticRegression | None]]

    def models_for(self, clf: TaxonomyClassifier, x: csr_matrix | npt.NDArray[np.float64], y: npt.NDArray[np.int_],
                   c: float | None = None) -> None:
        if not hasattr(self, "models"):
            self.models = []
        per_label: list[LogisticRegression | None] = []
        for j in range(y.shape[1]):
            col = y[:, j]
            per_label.append(None if col.sum() < 1 or col.sum() == len(col) else
                             LogisticRegression(max_iter=3000, C=clf.c if c is None else c,
                                                class_weight="balanced").fit(x, col))
        self.models.append(per_label)

    def scores(self, clf: TaxonomyClassifier, texts: list[str], heads: list[str] | None,
               embs: list[Matrix], n_labels: int) -> npt.NDArray[np.float64]:
        xs: list[csr_matrix | npt.NDArray[np.float64]] = [
            vec.transform(clf.view_texts(name, texts, heads)) for name, vec in self.vectorizers]
        if len(embs) != len(self.scalers):
            raise InputError("this taxonomy was trained with other inputs: pass the same heads and embeddings")
        xs += [scaler.transform(np.asarray(e, dtype=np.float64)) for scaler, e in zip(self.scalers, embs, strict=True)]
        if len(xs) != len(self.models):
            raise InputError("this taxonomy was trained with other inputs: pass the same heads and embeddings")
        out = np.zeros((len(texts), n_labels))
        for x, per_label in zip(xs, self.models, strict=True):
            for j, model in enumerate(per_label):
                if model is not None:
                    out[:, j] += model.predict_proba(x)[:, 1]
        return out / len(xs)


class TaxonomyClassifier:
    def __init__(self, *, embed: Embed | None = None, c: float = 1.0, dense_c: float = 0.05,
                 char_ngrams: bool = False, tune_thresholds: bool = True, min_examples: int = 2,
                 inner_folds: int = 4, lexicon: Mapping[str, Sequence[str]] | None = None) -> None:
        if lexicon is not None and (not isinstance(lexicon, Mapping) or any(
                isinstance(terms, str) or not isinstance(terms, Sequence) for terms in lexicon.values())):
            raise InputError("a lexicon maps each label to a list of words or phrases")
        self.embed = embed
        self.c = c
        self.dense_c = dense_c
        self.char_ngrams = char_ngrams
        self.tune_thresholds = tune_thresholds
        self.min_examples = min_examples
        self.inner_folds = inner_folds
        self.lexicon = {str(k): [str(t) for t in v] for k, v in (lexicon or {}).items()}
        self._patterns = {k: pat for k, v in self.lexicon.items() if (pat := _lexicon_pattern(v)) is not None}
        self.labels: list[str] = []
        self.thresholds: dict[str, float] = {}
        self.modes: dict[str, str] = {}
        self._stackers: dict[str, LogisticRegression] = {}
        self._fitted: _Fitted | None = None
        self._uses_heads = False

    def lexicon_hits(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """log(1 + mentions of each label's lexicon) per text; zero for labels without one."""
        out = np.zeros((len(texts), len(self.labels)))
        for j, label in enumerate(self.labels):
            pattern = self._patterns.get(label)
            if pattern is not None:
                out[:, j] = [np.log1p(len(pattern.findall(t.lower()))) for t in texts]
        return out

    # ---- views ----------------------------------------------------------------------
    def text_views(self, with_heads: bool) -> list[str]:
        return ["words"] + (["head"] if with_heads else []) + (["chars"] if self.char_ngrams else [])

    @staticmethod
    def vectorizer(name: str) -> TfidfVectorizer:
        if name == "chars":
            return TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True,
                                   max_features=80000, lowercase=True)
        if name == "head":
            return TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, lowercase=True)
        return TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=60000, lowercase=True)

    @staticmethod
    def view_texts(name: str, texts: list[str], heads: list[str] | None) -> list[str]:
        return list(heads) if name == "head" and heads is not None else texts

    def _embeddings(self, texts: list[str], embeddings: Embeddings) -> list[Matrix]:
        views = _as_views(embeddings)
        if not views and self.embed is not None:
            views = [self.embed(texts)]
        return views

    # ---- API ------------------------------------------------------------------------
    def fit(self, texts: Sequence[str], labels: Sequence[Sequence[str]], embeddings: Embeddings = None, *,
            heads: Sequence[str] | None = None, groups: Sequence[str] | None = None) -> TaxonomyClassifier:
        """Learn the taxonomy; ``heads`` are short titles/summaries, ``groups`` keep a group within one inner fold."""
        if len(texts) != len(labels):
            raise InputError("texts and labels differ in length")
        if len(texts) < 4:
            raise InputError("a taxonomy needs at least 4 labelled incidents to learn from")
        if heads is not None and len(heads) != len(texts):
            raise InputError("heads and texts differ in length")
        counts: dict[str, int] = {}
        for ls in labels:
            for label in set(ls):
                counts[label] = counts.get(label, 0) + 1
        self.labels = sorted(label for label, n in counts.items() if n >= self.min_examples)
        text_list = list(texts)
        head_list = list(heads) if heads is not None else None
        self._uses_heads = head_list is not None
        embs = self._embeddings(text_list, embeddings)
        y = np.array([[label in ls for label in self.labels] for ls in labels], dtype=int).reshape(len(texts), -1)
        self.thresholds = {label: 0.5 for label in self.labels}
        self.modes = {label: "learned" for label in self.labels}
        self._stackers = {}
        if self.tune_thresholds and len(texts) >= 10:
            self._tune(text_list, head_list, embs, y, None if groups is None else np.asarray(groups))
        self._fitted = _Fitted(self, text_list, head_list, embs, y)
        return self

    def _splits(self, n: int, groups: npt.NDArray[np.str_] | None) -> list[tuple[npt.NDArray[np.int_], npt.NDArray[np.int_]]]:
        if groups is not None and len(set(groups.tolist())) >= self.inner_folds:
            return list(GroupKFold(n_splits=self.inner_folds).split(np.zeros(n), groups=groups))
        return list(KFold(n_splits=min(self.inner_folds, n // 3), shuffle=True, random_state=0).split(np.zeros(n)))

    def _tune(self, texts: list[str], heads: list[str] | None, embs: list[Matrix], y: npt.NDArray[np.int_],
              groups: npt.NDArray[np.str_] | None) -> None:
        oof = np.zeros(y.shape, dtype=float)
        splits = self._splits(len(texts), groups)
        for tr, te in splits:
            part = _Fitted(self, [texts[i] for i in tr], None if heads is None else [heads[i] for i in tr],
                           [e[tr] for e in embs], y[tr])
            oof[te] = part.scores(self, [texts[i] for i in te], None if heads is None else [heads[i] for i in te],
                                  [e[te] for e in embs], y.shape[1])
        hits = self.lexicon_hits(texts)
        for j, label in enumerate(self.labels):
            threshold, _ = _best_threshold(y[:, j], oof[:, j])
            self.thresholds[label] = threshold
            if label not in self._patterns or y[:, j].sum() < 2 or y[:, j].sum() == len(y):
                continue
            # stacked: the ensemble's out-of-fold score next to the lexicon, thresholds from a second OOF pass
            x = np.column_stack([_logit(oof[:, j]), hits[:, j]])
            second = np.zeros(len(texts))
            for tr, te in splits:
                if 0 < y[tr, j].sum() < len(tr):
                    second[te] = LogisticRegression(class_weight="balanced").fit(x[tr], y[tr, j]).predict_proba(x[te])[:, 1]
            stacked_threshold, _ = _best_threshold(y[:, j], second)
            decisions = {"lexicon": hits[:, j] > 0, "learned": oof[:, j] >= threshold,
                         "stacked": second >= stacked_threshold}
            self.modes[label] = _simplest_within_one_se(y[:, j], decisions, splits)
            if self.modes[label] == "stacked":
                self.thresholds[label] = stacked_threshold
                self._stackers[label] = LogisticRegression(class_weight="balanced").fit(x, y[:, j])
            elif self.modes[label] == "lexicon":
                self.thresholds[label] = 0.5

    def predict_scores(self, texts: Sequence[str], embeddings: Embeddings = None, *,
                       heads: Sequence[str] | None = None) -> npt.NDArray[np.float64]:
        if self._fitted is None:
            raise InputError("this taxonomy has not been trained yet: call fit with labelled incidents first")
        if self._uses_heads and heads is None:
            raise InputError("this taxonomy was trained with heads (title/summary): pass heads too")
        text_list = list(texts)
        embs = self._embeddings(text_list, embeddings)
        scores = self._fitted.scores(self, text_list, list(heads) if self._uses_heads and heads is not None else None,
                                     embs, len(self.labels))
        if any(mode != "learned" for mode in self.modes.values()):
            hits = self.lexicon_hits(text_list)
            for j, label in enumerate(self.labels):
                if self.modes.get(label) == "stacked":
                    x = np.column_stack([_logit(scores[:, j]), hits[:, j]])
                    scores[:, j] = self._stackers[label].predict_proba(x)[:, 1]
                elif self.modes.get(label) == "lexicon":
                    scores[:, j] = (hits[:, j] > 0).astype(float)
        return scores

    def predict(self, texts: Sequence[str], embeddings: Embeddings = None, *,
                heads: Sequence[str] | None = None) -> list[LabelPrediction]:
        scores = self.predict_scores(texts, embeddings, heads=heads)
        out = []
        for row in scores:
            chosen = [label for j, label in enumerate(self.labels) if row[j] >= self.thresholds[label]]
            out.append(LabelPrediction(labels=chosen, scores={lab: round(float(row[j]), 4)
                                                              for j, lab in enumerate(self.labels)}))
        return out
