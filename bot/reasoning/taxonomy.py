"""User-defined taxonomies learned from a team's labelled history (multi-label).

A team labels past incidents with its own categories ("config-change", "cloud", "payments", ...);
``TaxonomyClassifier`` learns one balanced logistic regression per label over TF-IDF word n-grams and,
when an embedding function is given, sentence embeddings of the text. Each label's decision threshold
is tuned by an inner cross-validation to maximise that label's F1, so rare labels are not drowned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold

from bot.domain import InputError

Embed = Callable[[list[str]], npt.NDArray[np.float32]]


@dataclass
class LabelPrediction:
    labels: list[str]
    scores: dict[str, float] = field(default_factory=dict)


class TaxonomyClassifier:
    def __init__(self, *, embed: Embed | None = None, c: float = 1.0, embedding_weight: float = 1.0,
                 tune_thresholds: bool = True, min_examples: int = 2) -> None:
        self.embed = embed
        self.c = c
        self.embedding_weight = embedding_weight
        self.tune_thresholds = tune_thresholds
        self.min_examples = min_examples
        self.labels: list[str] = []
        self._vectorizer: TfidfVectorizer | None = None
        self._models: dict[str, LogisticRegression] = {}
        self.thresholds: dict[str, float] = {}
        self._uses_embeddings = False

    # ---- features -----------------------------------------------------------------
    def _matrix(self, texts: list[str], fit: bool, embeddings: npt.NDArray[np.float32] | None = None) -> csr_matrix:
        lowered = [t.lower() for t in texts]
        if fit:
            self._vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=60000)
            words = self._vectorizer.fit_transform(lowered)
        else:
            assert self._vectorizer is not None, "fit first"
            words = self._vectorizer.transform(lowered)
        parts = [words]
        if fit:
            self._uses_embeddings = embeddings is not None or self.embed is not None
        if self._uses_embeddings:
            if embeddings is None and self.embed is None:
                raise InputError("this taxonomy was trained with embeddings: pass embeddings or an embed function")
            emb = embeddings if embeddings is not None else self.embed(texts)  # type: ignore[misc]
            parts.append(csr_matrix(np.asarray(emb, dtype=np.float64) * self.embedding_weight))
        return hstack(parts).tocsr()

    def _fit_label(self, x: csr_matrix, y: npt.NDArray[np.int_]) -> LogisticRegression | None:
        if y.sum() < 1 or y.sum() == len(y):
            return None
        return LogisticRegression(max_iter=3000, C=self.c, class_weight="balanced").fit(x, y)

    # ---- API ----------------------------------------------------------------------
    def fit(self, texts: Sequence[str], labels: Sequence[Sequence[str]],
            embeddings: npt.NDArray[np.float32] | None = None) -> TaxonomyClassifier:
        if len(texts) != len(labels):
            raise InputError("texts and labels differ in length")
        if len(texts) < 4:
            raise InputError("a taxonomy needs at least 4 labelled incidents to learn from")
        counts: dict[str, int] = {}
        for ls in labels:
            for label in set(ls):
                counts[label] = counts.get(label, 0) + 1
        self.labels = sorted(label for label, n in counts.items() if n >= self.min_examples)
        texts = list(texts)
        emb = embeddings if embeddings is not None else (self.embed(texts) if self.embed else None)
        y = np.array([[label in ls for label in self.labels] for ls in labels], dtype=int).reshape(len(texts), -1)
        self.thresholds = {label: 0.5 for label in self.labels}
        if self.tune_thresholds and len(texts) >= 10:
            self._tune(texts, y, emb)
        x = self._matrix(texts, fit=True, embeddings=emb)
        self._models = {}
        for j, label in enumerate(self.labels):
            model = self._fit_label(x, y[:, j])
            if model is not None:
                self._models[label] = model
        return self

    def _tune(self, texts: list[str], y: npt.NDArray[np.int_], emb: npt.NDArray[np.float32] | None) -> None:
        oof = np.zeros(y.shape, dtype=float)
        folds = KFold(n_splits=min(4, len(texts) // 3), shuffle=True, random_state=0)
        for tr, te in folds.split(texts):
            x_tr = self._matrix([texts[i] for i in tr], fit=True, embeddings=None if emb is None else emb[tr])
            x_te = self._matrix([texts[i] for i in te], fit=False, embeddings=None if emb is None else emb[te])
            for j in range(len(self.labels)):
                model = self._fit_label(x_tr, y[tr, j])
                oof[te, j] = model.predict_proba(x_te)[:, 1] if model is not None else 0.0
        grid = np.arange(0.2, 0.81, 0.05)
        for j, label in enumerate(self.labels):
            scores = [f1_score(y[:, j], oof[:, j] >= t, zero_division=0) for t in grid]
            # prefer the threshold nearest 0.5 among the best (stabler on small data)
            best = max(scores)
            ties = [t for t, s in zip(grid, scores, strict=True) if s >= best - 1e-9]
            self.thresholds[label] = float(min(ties, key=lambda t: abs(t - 0.5)))

    def predict_scores(self, texts: Sequence[str], embeddings: npt.NDArray[np.float32] | None = None
                       ) -> npt.NDArray[np.float64]:
        x = self._matrix(list(texts), fit=False, embeddings=embeddings)
        out = np.zeros((len(texts), len(self.labels)))
        for j, label in enumerate(self.labels):
            model = self._models.get(label)
            if model is not None:
                out[:, j] = model.predict_proba(x)[:, 1]
        return out

    def predict(self, texts: Sequence[str], embeddings: npt.NDArray[np.float32] | None = None
                ) -> list[LabelPrediction]:
        scores = self.predict_scores(texts, embeddings)
        out = []
        for row in scores:
            chosen = [label for j, label in enumerate(self.labels) if row[j] >= self.thresholds[label]]
            out.append(LabelPrediction(labels=chosen, scores={lab: round(float(row[j]), 4)
                                                              for j, lab in enumerate(self.labels)}))
        return out
