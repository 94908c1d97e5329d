"""A team's own taxonomy as a product feature: read a labelled history, train, save, load, label analyses.

``TaxonomyClassifier`` (bot.reasoning.taxonomy) is the learner; this module is what the CLI
(``sherlog taxonomy``) and the pipeline use around it:

* ``read_history`` reads a team's labelled incidents from CSV or JSON lines (text fields + a labels field
  holding one or more labels separated by ``;`` or a JSON list);
* ``train_taxonomy`` trains on the text views only (no embeddings, so a model runs anywhere), skips labels
  with too few examples, and estimates each label's F1 by an outer cross-validation (grouped when a group
  field is given) while thresholds/modes are chosen by the classifier's inner cross-validation;
* ``save_model``/``load_model`` write and read a JSON file holding only numbers and words (vocabularies,
  idf weights, logistic-regression coefficients): loading never runs code from the file, and a file of
  another format version is refused with a clear message;
* ``incident_text`` is the text an analysis is labelled from (alert text, category, top hypotheses, signals).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold, KFold

from bot.domain import Analysis, Incident, IncidentContext, InputError, TeamLabel
from bot.reasoning.taxonomy import TaxonomyClassifier, _Fitted

FORMAT = "sherlog-taxonomy"
FORMAT_VERSION = 1
DEFAULT_TEXT_FIELDS = ("title", "summary", "description", "root_cause", "resolution", "text")
MIN_FOR_CV = 5  # a label needs this many examples (and as many without it) for a cross-validated F1


class TaxonomyModelError(InputError):
    """A taxonomy model file that cannot be used (missing, damaged, another format version)."""


# ---- reading a labelled history ------------------------------------------------------------


@dataclass
class LabelledHistory:
    texts: list[str]
    labels: list[list[str]]
    groups: list[str] | None
    text_fields: list[str]
    source: str
    skipped_rows: int = 0  # rows with no text at all


def split_labels(value: Any) -> list[str]:
    """``"a; b"``, ``'["a", "b"]'`` or a list -> ``["a", "b"]`` (trimmed, empty parts dropped, order kept)."""
    if value is None:
        return []
    items: list[Any]
    if isinstance(value, list | tuple):
        items = list(value)
    else:
        text = str(value).strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                parsed = None
            items = parsed if isinstance(parsed, list) else text.strip("[]").split(";")
        else:
            items = text.split(";")
    out: list[str] = []
    for item in items:
        label = str(item).strip()
        if label and label not in out:
            out.append(label)
    return out


def _records(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The records of a CSV or JSON-lines file and the field names seen."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read it as UTF-8 text ({e})") from None
    if not text.strip():
        raise InputError(f"{path}: the file is empty")
    suffix = path.suffix.lower()
    as_json = suffix in {".jsonl", ".ndjson", ".json"} or (suffix != ".csv" and text.lstrip().startswith("{"))
    records: list[dict[str, Any]] = []
    if as_json:
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{path}:{n}: not a JSON object on one line ({e.msg}); "
                                 "give JSON lines (one object per line) or a CSV file") from None
            if not isinstance(record, dict):
                raise InputError(f"{path}:{n}: each line must be a JSON object")
            records.append(record)
        names: list[str] = []
        for record in records:
            names += [k for k in record if k not in names]
        return records, names
    reader = csv.DictReader(text.splitlines())
    names = [n for n in (reader.fieldnames or []) if n]
    try:
        records = [dict(row) for row in reader]
    except csv.Error as e:
        raise InputError(f"{path}: not a valid CSV file ({e})") from None
    return records, names


def read_history(path: Path, *, text_fields: Sequence[str] | None = None, labels_field: str = "labels",
                 group_field: str | None = None) -> LabelledHistory:
    """A team's labelled incidents from CSV or JSON lines."""
    records, names = _records(path)
    if not records:
        raise InputError(f"{path}: no records (only a header?)")
    known = ", ".join(names) or "none"
    if labels_field not in names:
        raise InputError(f"{path}: no labels field {labels_field!r} (fields: {known}); choose one with --labels-field")
    if text_fields:
        unknown = [f for f in text_fields if f not in names]
        if unknown:
            raise InputError(f"{path}: unknown text field(s) {', '.join(unknown)} (fields: {known})")
        fields = list(text_fields)
    else:
        fields = [f for f in DEFAULT_TEXT_FIELDS if f in names]
        if not fields:
            raise InputError(f"{path}: none of the usual text fields ({', '.join(DEFAULT_TEXT_FIELDS)}) is present "
                             f"(fields: {known}); name them with --text-fields")
    if group_field is not None and group_field not in names:
        raise InputError(f"{path}: unknown group field {group_field!r} (fields: {known})")
    texts, labels, groups, skipped = [], [], [], 0
    for record in records:
        text = "\n".join(str(record[f]).strip() for f in fields if record.get(f) not in (None, ""))
        if not text.strip():
            skipped += 1
            continue
        texts.append(text)
        labels.append(split_labels(record.get(labels_field)))
        groups.append(str(record.get(group_field) or "") if group_field else "")
    if not texts:
        raise InputError(f"{path}: no record has text in {', '.join(fields)}")
    if not any(labels):
        raise InputError(f"{path}: no record has a label in {labels_field!r}")
    return LabelledHistory(texts=texts, labels=labels, groups=groups if group_field else None,
                           text_fields=fields, source=str(path), skipped_rows=skipped)


def history_from_incidents(incidents: Sequence[Incident], *, label_key: str) -> LabelledHistory:
    """Resolved incidents of Sherlog's store whose ``labels[label_key]`` holds the team's labels."""
    texts, labels = [], []
    for inc in incidents:
        value = inc.labels.get(label_key)
        if not value:
            continue
        parts = [inc.title, inc.resolution or "", inc.confirmed_kind or ""]
        parts += [f"{a.name} {a.summary} {a.description}" for a in inc.alerts]
        text = "\n".join(p.strip() for p in parts if p and p.strip())
        if text:
            texts.append(text)
            labels.append(split_labels(value))
    if not texts:
        raise InputError(f"no resolved incident in the store has the label {label_key!r} set")
    return LabelledHistory(texts=texts, labels=labels, groups=None, text_fields=["title", "resolution", "alerts"],
                           source=f"store (incident label {label_key!r})")


def read_keywords(path: Path) -> dict[str, list[str]]:
    """A YAML mapping label -> words or phrases (``*`` matches any word ending)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"{path}: cannot read the keywords file ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise InputError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(data, dict) or any(
            not isinstance(v, list) or not all(isinstance(t, str | int | float) for t in v) for v in data.values()):
        raise InputError(f"{path}: the keywords file maps each label to a list of words or phrases, "
                         "e.g. payments-team: [payment*, checkout, card declined]")
    return {str(k): [str(t) for t in v] for k, v in data.items()}


# ---- training ------------------------------------------------------------------------------


@dataclass
class LabelReport:
    label: str
    support: int
    f1: float | None  # outer cross-validated F1, None when too few examples
    threshold: float
    mode: str


@dataclass
class TrainingReport:
    examples: int
    labels: list[LabelReport]
    skipped: dict[str, int]  # labels with too few examples -> their count
    cv: str  # how the F1 was estimated


def _outer_splits(n: int, groups: Sequence[str] | None, folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    if groups is not None and len(set(groups)) >= folds:
        return list(GroupKFold(n_splits=folds).split(np.zeros(n), groups=np.asarray(groups)))
    return list(KFold(n_splits=folds, shuffle=True, random_state=0).split(np.zeros(n)))


def train_taxonomy(history: LabelledHistory, *, min_examples: int = 5, keywords: Mapping[str, Sequence[str]] | None = None,
                   folds: int = 5) -> tuple[TaxonomyClassifier, TrainingReport]:
    """Fit on the whole history; each label's F1 comes from an outer CV that refits (and re-tunes) per fold."""
    counts = Counter(label for ls in history.labels for label in set(ls))
    skipped = {label: n for label, n in sorted(counts.items()) if n < min_examples}
    kept = sorted(label for label in counts if label not in skipped)
    if not kept:
        raise InputError(f"no label has at least {min_examples} examples (counts: "
                         + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + "); label more incidents "
                         "or lower --min-examples")
    if len(history.texts) < 10:
        raise InputError(f"only {len(history.texts)} labelled incidents: a taxonomy needs at least 10")
    labels = [[label for label in ls if label in kept] for ls in history.labels]
    lexicon = {k: list(v) for k, v in (keywords or {}).items() if k in kept}

    def make() -> TaxonomyClassifier:
        return TaxonomyClassifier(min_examples=1, lexicon=lexicon or None)

    n = len(history.texts)
    y = np.array([[label in ls for label in kept] for ls in labels], dtype=int)
    cv_labels = [j for j, label in enumerate(kept) if MIN_FOR_CV <= y[:, j].sum() <= n - MIN_FOR_CV]
    f1s: dict[str, float] = {}
    folds = max(2, min(folds, n // 4))
    cv_note = "no cross-validation (too few examples)"
    if cv_labels:
        splits = _outer_splits(n, history.groups, folds)
        grouped = history.groups is not None and len(set(history.groups)) >= folds
        cv_note = f"{folds}-fold {'grouped ' if grouped else ''}cross-validation (thresholds tuned inside each fold)"
        predicted = np.zeros_like(y)
        for tr, te in splits:
            clf = make().fit([history.texts[i] for i in tr], [labels[i] for i in tr],
                             groups=None if history.groups is None else [history.groups[i] for i in tr])
            for row, pred in zip(te, clf.predict([history.texts[i] for i in te]), strict=True):
                predicted[row] = [label in pred.labels for label in kept]
        f1s = {kept[j]: float(f1_score(y[:, j], predicted[:, j], zero_division=0)) for j in cv_labels}
    model = make().fit(history.texts, labels, groups=history.groups)
    rows = [LabelReport(label=label, support=int(y[:, j].sum()), f1=f1s.get(label),
                        threshold=model.thresholds.get(label, 0.5), mode=model.modes.get(label, "learned"))
            for j, label in enumerate(kept)]
    return model, TrainingReport(examples=n, labels=rows, skipped=skipped, cv=cv_note)


# ---- the model file --------------------------------------------------------------------------


def _lr_dump(model: LogisticRegression | None) -> dict[str, Any] | None:
    if model is None:
        return None
    return {"coef": model.coef_.ravel().tolist(), "intercept": float(model.intercept_[0]),
            "classes": [int(c) for c in model.classes_]}


def _lr_load(data: dict[str, Any] | None) -> LogisticRegression | None:
    if data is None:
        return None
    model = LogisticRegression()
    model.coef_ = np.asarray([data["coef"]], dtype=np.float64)
    model.intercept_ = np.asarray([data["intercept"]], dtype=np.float64)
    model.classes_ = np.asarray(data["classes"])
    model.n_features_in_ = model.coef_.shape[1]
    return model


def save_model(clf: TaxonomyClassifier, path: Path, *, report: TrainingReport | None = None,
               source: str = "", text_fields: Sequence[str] = ()) -> None:
    """Write the trained taxonomy as JSON (numbers and words only)."""
    fitted = clf._fitted
    if fitted is None:
        raise InputError("the taxonomy has not been trained")
    if fitted.scalers or clf._uses_heads or clf.embed is not None:
        raise InputError("only text-only taxonomies (no embeddings, no heads) can be saved")
    import sklearn

    views = [{"name": name, "vocabulary": {t: int(i) for t, i in vec.vocabulary_.items()},
              "idf": vec.idf_.tolist(), "models": [_lr_dump(m) for m in models]}
             for (name, vec), models in zip(fitted.vectorizers, fitted.models, strict=True)]
    data = {
        "format": FORMAT, "version": FORMAT_VERSION,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "trained_with": {"sklearn": sklearn.__version__, "numpy": np.__version__},
        "source": source, "text_fields": list(text_fields),
        "labels": clf.labels, "thresholds": clf.thresholds, "modes": clf.modes, "lexicon": clf.lexicon,
        "char_ngrams": clf.char_ngrams,
        "stackers": {k: _lr_dump(m) for k, m in clf._stackers.items()},
        "views": views,
        "report": None if report is None else {
            "examples": report.examples, "cv": report.cv, "skipped": report.skipped,
            "labels": [{"label": r.label, "support": r.support, "f1": r.f1} for r in report.labels]},
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        raise InputError(f"cannot write the taxonomy model to {path}: {e.strerror}") from None


@dataclass
class TeamTaxonomy:
    """A loaded team taxonomy."""

    classifier: TaxonomyClassifier
    path: Path
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        return list(self.classifier.labels)

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Every label's score per text."""
        scores = self.classifier.predict_scores(list(texts))
        return [{label: float(row[j]) for j, label in enumerate(self.classifier.labels)} for row in scores]

    def label(self, text: str, *, min_score: float = 0.0) -> list[TeamLabel]:
        """The labels chosen for one text (at or above their threshold and ``min_score``), best first."""
        scores = self.score([text])[0]
        chosen = [TeamLabel(label=label, score=round(min(1.0, max(0.0, s)), 4)) for label, s in scores.items()
                  if s >= self.classifier.thresholds.get(label, 0.5) and s >= min_score]
        return sorted(chosen, key=lambda t: (-t.score, t.label))


def load_model(path: Path) -> TeamTaxonomy:
    """Read a file written by ``save_model``; a clear ``TaxonomyModelError`` for anything unusable."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TaxonomyModelError(f"taxonomy model {path} not found (train one with `sherlog taxonomy train`)") from None
    except UnicodeDecodeError:
        raise TaxonomyModelError(f"{path} is not a Sherlog taxonomy model (not JSON text); retrain it with "
                                 "`sherlog taxonomy train`") from None
    except OSError as e:
        raise TaxonomyModelError(f"cannot read the taxonomy model {path}: {e.strerror or e}") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise TaxonomyModelError(f"{path} is not a Sherlog taxonomy model (not JSON); retrain it with "
                                 "`sherlog taxonomy train`") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TaxonomyModelError(f"{path} is not a Sherlog taxonomy model; retrain it with `sherlog taxonomy train`")
    if data.get("version") != FORMAT_VERSION:
        raise TaxonomyModelError(f"{path} is a taxonomy model of format version {data.get('version')}, this Sherlog "
                                 f"reads version {FORMAT_VERSION}; retrain it with `sherlog taxonomy train`")
    try:
        clf = TaxonomyClassifier(lexicon=data.get("lexicon") or None, char_ngrams=bool(data.get("char_ngrams")))
        clf.labels = [str(x) for x in data["labels"]]
        clf.thresholds = {str(k): float(v) for k, v in data["thresholds"].items()}
        clf.modes = {str(k): str(v) for k, v in data["modes"].items()}
        clf._stackers = {str(k): m for k, v in data.get("stackers", {}).items() if (m := _lr_load(v)) is not None}
        fitted = _Fitted.__new__(_Fitted)
        fitted.vectorizers, fitted.scalers, fitted.models = [], [], []
        for view in data["views"]:
            vec: TfidfVectorizer = clf.vectorizer(str(view["name"]))
            vec.set_params(vocabulary={str(t): int(i) for t, i in view["vocabulary"].items()})
            vec.idf_ = np.asarray(view["idf"], dtype=np.float64)
            models = [_lr_load(m) for m in view["models"]]
            if len(models) != len(clf.labels) or len(vec.idf_) != len(view["vocabulary"]):
                raise ValueError("sizes disagree")
            fitted.vectorizers.append((str(view["name"]), vec))
            fitted.models.append(models)
        if not fitted.vectorizers or set(clf.thresholds) != set(clf.labels):
            raise ValueError("incomplete")
        clf._fitted = fitted
        clf.predict_scores(["a check that the model computes"])
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise TaxonomyModelError(f"{path}: the taxonomy model is damaged ({e.__class__.__name__}: {e}); "
                                 "retrain it with `sherlog taxonomy train`") from None
    meta = {k: data.get(k) for k in ("trained_at", "trained_with", "source", "text_fields", "report")}
    return TeamTaxonomy(classifier=clf, path=path, meta=meta)


_CACHE: dict[tuple[str, int, int], TeamTaxonomy] = {}


def load_cached(path: Path) -> TeamTaxonomy:
    """``load_model`` once per file version (path, size, mtime)."""
    try:
        st = path.stat()
    except OSError:
        return load_model(path)  # raises the clear "not found" error
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = load_model(path)
    return _CACHE[key]


# ---- labelling an analysis ------------------------------------------------------------------


def incident_text(context: IncidentContext | Incident, analysis: Analysis | None = None, *,
                  max_signals: int = 8) -> str:
    """The text an incident is labelled from: alert text, category, top hypotheses and signals."""
    incident = context.incident if isinstance(context, IncidentContext) else context
    parts = [incident.title, incident.service or ""]
    for alert in incident.alerts[:10]:
        parts += [alert.name, alert.summary, alert.description]
    if incident.resolution:
        parts.append(incident.resolution)
    if analysis is not None:
        if analysis.category.label and analysis.category.label != "unknown":
            parts.append(analysis.category.label.replace("_", " "))
        for h in analysis.hypotheses[:2]:
            parts += [h.title, h.kind.replace("_", " ")]
        for s in analysis.signals[:max_signals]:
            parts.append(s.title)
    return "\n".join(p.strip() for p in parts if p and p.strip())
