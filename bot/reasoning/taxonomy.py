"""User-defined taxonomies learned from a team's labelled history (multi-label).

A team labels past incidents with its own categories ("config-change", "cloud", "payments", ...).
``TaxonomyClassifier`` is an ensemble over *views* of an incident: TF-IDF word n-grams of the full
text, TF-IDF of a short head (title, keywords, summary) when given, optionally TF-IDF character
n-grams, and any number of sentence-embedding matrices (or an embed function). Each view gets one
class-balanced logistic regression per label; a label's score is the mean of the views' probabilities.
Each label's decision threshold is tuned on out-of-fold scores of an inner cross-validation (grouped
when groups are given) to maximise that label's F1, so rare labels are not drowned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold, KFold

from bot.domain import InputError

Embed = Callable[[list[str]], npt.NDArray[np.float32]]
Matrix = npt.NDArray[np.float32]
Embeddings = Matrix | Sequence[Matrix] | None

_GRID = np.arange(0.05, 0.951, 0.025)


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
        for e in embs:
            self.models_for(clf, csr_matrix(np.asarray(e, dtype=np.float64)), y)

    models: list[list[LogisticRegression | None]]

    def models_for(self, clf: TaxonomyClassifier, x: csr_matrix, y: npt.NDArray[np.int_]) -> None:
        if not hasattr(self, "models"):
            self.models = []
        per_label: list[LogisticRegression | None] = []
        for j in range(y.shape[1]):
            col = y[:, j]
            per_label.append(None if col.sum() < 1 or col.sum() == len(col) else
                             LogisticRegression(max_iter=3000, C=clf.c, class_weight="balanced").fit(x, col))
        self.models.append(per_label)

    def scores(self, clf: TaxonomyClassifier, texts: list[str], heads: list[str] | None,
               embs: list[Matrix], n_labels: int) -> npt.NDArray[np.float64]:
        xs = [vec.transform(clf.view_texts(name, texts, heads)) for name, vec in self.vectorizers]
        xs += [csr_matrix(np.asarray(e, dtype=np.float64)) for e in embs]
        if len(xs) != len(self.models):
            raise InputError("this taxonomy was trained with other inputs: pass the same heads and embeddings")
        out = np.zeros((len(texts), n_labels))
        for x, per_label in zip(xs, self.models, strict=True):
            for j, model in enumerate(per_label):
                if model is not None:
                    out[:, j] += model.predict_proba(x)[:, 1]
        return out / len(xs)


class TaxonomyClassifier:
    def __init__(self, *, embed: Embed | None = None, c: float = 1.0, char_ngrams: bool = False,
                 tune_thresholds: bool = True, min_examples: int = 2, inner_folds: int = 4) -> None:
        self.embed = embed
        self.c = c
        self.char_ngrams = char_ngrams
        self.tune_thresholds = tune_thresholds
        self.min_examples = min_examples
        self.inner_folds = inner_folds
        self.labels: list[str] = []
        self.thresholds: dict[str, float] = {}
        self._fitted: _Fitted | None = None
        self._uses_heads = False

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
        if self.tune_thresholds and len(texts) >= 10:
            self._tune(text_list, head_list, embs, y, None if groups is None else np.asarray(groups))
        self._fitted = _Fitted(self, text_list, head_list, embs, y)
        return self

    def _tune(self, texts: list[str], heads: list[str] | None, embs: list[Matrix], y: npt.NDArray[np.int_],
              groups: npt.NDArray[np.str_] | None) -> None:
        oof = np.zeros(y.shape, dtype=float)
        n = len(texts)
        if groups is not None and len(set(groups.tolist())) >= self.inner_folds:
            splits = list(GroupKFold(n_splits=self.inner_folds).split(texts, groups=groups))
        else:
            splits = list(KFold(n_splits=min(self.inner_folds, n // 3), shuffle=True, random_state=0).split(texts))
        for tr, te in splits:
            part = _Fitted(self, [texts[i] for i in tr], None if heads is None else [heads[i] for i in tr],
                           [e[tr] for e in embs], y[tr])
            oof[te] = part.scores(self, [texts[i] for i in te], None if heads is None else [heads[i] for i in te],
                                  [e[te] for e in embs], y.shape[1])
        for j, label in enumerate(self.labels):
            scores = np.array([f1_score(y[:, j], oof[:, j] >= t, zero_division=0) for t in _GRID])
            # the threshold nearest 0.5 among the best (stabler on small data)
            ties = _GRID[scores >= scores.max() - 1e-9]
            self.thresholds[label] = float(ties[np.argmin(np.abs(ties - 0.5))])

    def predict_scores(self, texts: Sequence[str], embeddings: Embeddings = None, *,
                       heads: Sequence[str] | None = None) -> npt.NDArray[np.float64]:
        if self._fitted is None:
            raise InputError("this taxonomy has not been trained yet: call fit with labelled incidents first")
        if self._uses_heads and heads is None:
            raise InputError("this taxonomy was trained with heads (title/summary): pass heads too")
        text_list = list(texts)
        embs = self._embeddings(text_list, embeddings)
        return self._fitted.scores(self, text_list, list(heads) if self._uses_heads and heads is not None else None,
                                   embs, len(self.labels))

    def predict(self, texts: Sequence[str], embeddings: Embeddings = None, *,
                heads: Sequence[str] | None = None) -> list[LabelPrediction]:
        scores = self.predict_scores(texts, embeddings, heads=heads)
        out = []
        for row in scores:
            chosen = [label for j, label in enumerate(self.labels) if row[j] >= self.thresholds[label]]
            out.append(LabelPrediction(labels=chosen, scores={lab: round(float(row[j]), 4)
                                                              for j, lab in enumerate(self.labels)}))
        return out
