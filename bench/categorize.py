"""Categorisation benchmark on postmortems-icco: multi-label, 5-fold CV grouped by company.

Compares the baseline (TF-IDF word n-grams + logistic regression with class_weight="balanced", threshold
0.5) with Sherlog's learned taxonomy classifier: a mean-probability ensemble of balanced per-label logistic
regressions over views (TF-IDF of full text, TF-IDF of title+keywords+summary, all-MiniLM-L6-v2 embeddings
of head+body chunks and of title+keywords), per-label thresholds tuned by company-grouped inner CV on the
training folds only.

    .venv/bin/python -m bench.categorize [--data ../shared/data/postmortems-icco] [--no-embeddings]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

from bot.reasoning.taxonomy import TaxonomyClassifier

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "postmortems-icco"


def load_postmortems(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((folder / "data").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        parts = text.split("---", 2)
        if len(parts) < 3:
            continue
        meta = yaml.safe_load(parts[1]) or {}
        body = parts[2]
        words = [str(meta.get("title") or ""), str(meta.get("summary") or ""),
                 " ".join(str(k) for k in meta.get("keywords") or []), str(meta.get("product") or ""), body]
        head = " ".join([str(meta.get("title") or ""), " ".join(str(k) for k in meta.get("keywords") or []),
                         str(meta.get("summary") or "")])
        rows.append({"head": head, "text": "\n".join(w for w in words if w), "labels": [str(c) for c in meta.get("categories") or []],
                     "company": str(meta.get("company") or path.stem), "body": body, "meta": meta})
    return rows


def _chunks(text: str, size: int = 600, limit: int = 8) -> list[str]:
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    out: list[str] = []
    cur = ""
    for s in sentences:
        if cur and len(cur) + len(s) > size:
            out.append(cur)
            cur = s
        else:
            cur = f"{cur} {s}".strip()
    if cur:
        out.append(cur)
    return out[:limit] or [""]


def embed_rows(rows: list[dict[str, Any]]) -> list[np.ndarray]:
    """Two views: title+summary embedding next to the body chunks' mean; title+keywords embedding."""
    from retrieval.embedder import get_embedder

    embedder = get_embedder()
    heads = [f"{r['meta'].get('title') or ''} {r['meta'].get('summary') or ''}" for r in rows]
    head = embedder.encode(heads)
    chunks = [_chunks(r["body"]) for r in rows]
    flat = embedder.encode([c for cs in chunks for c in cs])
    bodies, k = [], 0
    for cs in chunks:
        bodies.append(flat[k:k + len(cs)].mean(axis=0))
        k += len(cs)
    short = [f"{r['meta'].get('title') or ''} {' '.join(str(k) for k in r['meta'].get('keywords') or [])}"
             for r in rows]
    return [np.hstack([np.asarray(head), np.asarray(bodies)]), np.asarray(embedder.encode(short))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-embeddings", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    rows = load_postmortems(args.data)
    labels = sorted({lab for r in rows for lab in r["labels"]})
    texts = [r["text"] for r in rows]
    y = np.array([[lab in r["labels"] for lab in labels] for r in rows], dtype=int)
    groups = np.array([r["company"] for r in rows])
    t0 = time.perf_counter()
    emb = None if args.no_embeddings else embed_rows(rows)
    embed_s = time.perf_counter() - t0

    base = np.zeros_like(y)
    ours = np.zeros_like(y)
    for tr, te in GroupKFold(n_splits=args.folds).split(texts, y, groups):
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        x_tr = vec.fit_transform([texts[i] for i in tr])
        x_te = vec.transform([texts[i] for i in te])
        for j in range(len(labels)):
            if 0 < y[tr, j].sum() < len(tr):
                base[te, j] = LogisticRegression(max_iter=3000, class_weight="balanced").fit(x_tr, y[tr, j]).predict(x_te)
        clf = TaxonomyClassifier()
        clf.fit([texts[i] for i in tr], [rows[i]["labels"] for i in tr],
                embeddings=None if emb is None else [e[tr] for e in emb],
                heads=[rows[i]["head"] for i in tr], groups=[rows[i]["company"] for i in tr])
        preds = clf.predict([texts[i] for i in te], embeddings=None if emb is None else [e[te] for e in emb],
                            heads=[rows[i]["head"] for i in te])
        for row_i, pred in zip(te, preds, strict=True):
            for j, lab in enumerate(labels):
                ours[row_i, j] = int(lab in pred.labels)

    def scores(pred: np.ndarray) -> dict[str, float]:
        return {"macro_f1": round(float(f1_score(y, pred, average="macro", zero_division=0)), 3),
                "micro_f1": round(float(f1_score(y, pred, average="micro", zero_division=0)), 3)}

    b, o = scores(base), scores(ours)
    print(f"postmortems-icco: {len(rows)} postmortems, {len(labels)} labels, {len(set(groups))} companies, "
          f"{args.folds}-fold CV grouped by company")
    print("baseline: TF-IDF(1-2) + LogisticRegression(class_weight='balanced'), threshold 0.5")
    print(f"{'label':<20}{'n':>5}{'baseline F1':>14}{'sherlog F1':>13}")
    per_b = f1_score(y, base, average=None, zero_division=0)
    per_o = f1_score(y, ours, average=None, zero_division=0)
    for j, lab in enumerate(labels):
        print(f"{lab:<20}{int(y[:, j].sum()):>5}{per_b[j]:>14.2f}{per_o[j]:>13.2f}")
    print(f"{'macro-F1':<25}{b['macro_f1']:>14.3f}{o['macro_f1']:>13.3f}")
    print(f"{'micro-F1':<25}{b['micro_f1']:>14.3f}{o['micro_f1']:>13.3f}")
    print(f"embedding time {embed_s:.1f} s (goal macro-F1 >= 0.70)")
    print(json.dumps({"bench": "categorize", "n": len(rows), "baseline_macro_f1": b["macro_f1"],
                      "baseline_micro_f1": b["micro_f1"], "macro_f1": o["macro_f1"], "micro_f1": o["micro_f1"],
                      "embeddings": emb is not None}))


if __name__ == "__main__":
    main()
