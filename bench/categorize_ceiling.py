"""How far can any text classifier get on postmortems-icco? Optimistic in-sample ceilings per label.

``bench.categorize`` is scored against labels that the corpus's own tool suggested by running regular
expressions over the *fetched source web page* (raw HTML, not in the corpus), while the text we have is
largely an LLM-written summary of that page (the corpus's SOURCE.md and README). This benchmark measures how
much of the labelling the text can explain at all. Every figure here is chosen *and* scored on all
postmortems with the labels visible, so each is an upper bound for its rule family, never a result:

- ``lexicon``: the best threshold on the count of the category's lexicon hits (``bench.categorize.LEXICON``);
- ``1 term`` / ``5 terms``: the best single word 1-2-gram, and the best any-of union of up to five, grown
  greedily (each step adds the term that raises F1 most);
- ``no cue``: positives whose text contains none of a deliberately generous list of cue words for the
  label, and ``cue cap``: the F1 of a classifier that is perfect on cued texts and can only guess the rest
  from nothing (precision 1, recall = cued share);
- for contrast, the 5-term rules chosen on training folds only and scored on held-out companies;
- the diagnosis lists web sites where (nearly) every page carries a label: labels that follow the site's
  page template rather than the incident. The site is never a feature of any Sherlog model.

    .venv/bin/python -m bench.categorize_ceiling [--data ../shared/data/postmortems-icco]

The last stdout line is a JSON object with the macro ceilings.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.model_selection import GroupKFold

from bench.categorize import DEFAULT_DATA, LEXICON, load_postmortems
from bot.reasoning.taxonomy import TaxonomyClassifier

# Broader than LEXICON on purpose: a positive matching none of these has no textual cue for its label.
CUES: dict[str, str] = {
    "automation": r"automat\w*|auto-?scal\w*|script\w*|\bbots?\b|cron|scheduled|orchestrat\w*|failover|self-heal\w*"
                  r"|ci/cd|pipeline",
    "cascading-failure": r"cascad\w*|domino|thundering herd|retry storm|overload\w*|knock-on|chain reaction|spread"
                         r"|exhaust\w*|feedback loop|downstream",
    "cloud": r"\baws\b|amazon|\bgcp\b|google cloud|azure|\bec2\b|\bs3\b|kubernetes|cloud|region|availability zone",
    "config-change": r"config\w*|deploy\w*|rollout|roll out|rolled out|roll ?back|rolled back|push\w*|change\w*"
                     r"|release\w*|upgrade\w*|migrat\w*",
    "hardware": r"hardware|disk\w*|ssd|server\w*|router\w*|switch\w*|power|cooling|fib(er|re)|cable|data ?cent(er|re)"
                r"|generator|\bups\b|\bnic\b",
    "security": r"secur\w*|breach\w*|vulnerab\w*|exploit\w*|attack\w*|ddos|malicious|unauthori\w*|credential\w*|\bcve"
                r"|malware|hack\w*|abuse\w*|spam|phish\w*|certificate\w*|\btls\b|\bssl\b",
    "time": r"\bntp\b|clock\w*|leap|time ?zone\w*|daylight|timestamp\w*|\bdate\w*|expir\w*|certificate\w*|calendar"
            r"|midnight|\byears?\b|\butc\b|rollover|time-based|\bttl\b",
}


def f1(y: npt.NDArray[np.bool_], pred: npt.NDArray[np.bool_]) -> float:
    tp = int((y & pred).sum())
    return 2.0 * tp / (int(y.sum()) + int(pred.sum())) if tp else 0.0


def best_threshold(y: npt.NDArray[np.bool_], score: npt.NDArray[np.float64]) -> float:
    return max((f1(y, score >= t) for t in np.unique(score) if t > 0), default=0.0)


def greedy_terms(y: npt.NDArray[np.bool_], present: npt.NDArray[np.bool_], k: int) -> tuple[list[int], float]:
    """The any-of rule over up to ``k`` terms grown greedily (each step adds the term that raises F1 most):
    the chosen term columns and the rule's F1 on the rows it was chosen on."""
    covered = np.zeros(len(y), dtype=bool)
    chosen: list[int] = []
    best = 0.0
    n_pos = int(y.sum())
    for _ in range(k):
        cand = present | covered[:, None]
        tp = (cand & y[:, None]).sum(axis=0)
        scores = np.where(tp > 0, 2.0 * tp / (n_pos + cand.sum(axis=0)), 0.0)
        j = int(np.argmax(scores))
        if scores[j] <= best + 1e-12:
            break
        best, covered = float(scores[j]), cand[:, j]
        chosen.append(j)
    return chosen, best


def greedy_union(y: npt.NDArray[np.bool_], present: npt.NDArray[np.bool_], k: int) -> float:
    return greedy_terms(y, present, k)[1]


def held_out_union(y: npt.NDArray[np.bool_], present: npt.NDArray[np.bool_], groups: list[str], k: int) -> float:
    """F1 of the same k-term rule chosen on the training folds only (5 folds grouped by company), pooled."""
    pred = np.zeros(len(y), dtype=bool)
    for train, test in GroupKFold(n_splits=5).split(present, y, groups):
        terms, _ = greedy_terms(y[train], present[train], k)
        pred[test] = present[np.ix_(test, terms)].any(axis=1) if terms else False
    return f1(y, pred)


def template_sites(rows: list[dict[str, object]], y: npt.NDArray[np.bool_], labels: list[str]) -> list[str]:
    """Per label: sites with at least 3 pages of which at least 80% carry it."""
    site = np.array([urlparse(str(r["meta"].get("url") or "")).netloc for r in rows])  # type: ignore[attr-defined]
    out = []
    for j, label in enumerate(labels):
        parts = [f"{s} {int(y[site == s, j].sum())}/{n}" for s, n in Counter(site.tolist()).most_common()
                 if n >= 3 and y[site == s, j].sum() >= 0.8 * n]
        covered = sum(int(p.rsplit(" ", 1)[1].split("/")[0]) for p in parts)
        out.append(f"{label:<18} {covered:>3} of {int(y[:, j].sum()):>3} positives on such sites: {', '.join(parts) or '-'}")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    rows = load_postmortems(args.data)
    labels = sorted({label for r in rows for label in r["labels"]})
    texts = [str(r["text"]) for r in rows]
    lower = [t.lower() for t in texts]
    y = np.array([[label in r["labels"] for label in labels] for r in rows], dtype=bool)
    terms = CountVectorizer(ngram_range=(1, 2), min_df=3, binary=True, token_pattern=r"(?u)\b\w[\w-]*\b")
    present = terms.fit_transform(texts).toarray().astype(bool)
    probe = TaxonomyClassifier(lexicon=LEXICON)
    probe.labels = labels
    hits = probe.lexicon_hits(texts).astype(np.float64)

    print(f"postmortems-icco: {len(rows)} postmortems, {present.shape[1]} word 1-2-grams in >= 3 of them")
    print("OPTIMISTIC IN-SAMPLE CEILINGS: each rule chosen and scored on all postmortems, labels visible; not results")
    print(f"{'label':<18}{'n':>5}{'lexicon':>9}{'1 term':>8}{'5 terms':>9}{'no cue':>8}{'cue cap':>9}")
    cols: dict[str, list[float]] = {"lexicon": [], "1 term": [], "5 terms": [], "cue cap": []}
    for j, label in enumerate(labels):
        yy = y[:, j]
        cued = np.array([bool(re.search(CUES[label], t)) for t in lower]) if label in CUES else np.ones(len(y), bool)
        no_cue = int((yy & ~cued).sum())
        recall = 1.0 - no_cue / max(int(yy.sum()), 1)
        vals = {"lexicon": best_threshold(yy, hits[:, j]), "1 term": greedy_union(yy, present, 1),
                "5 terms": greedy_union(yy, present, 5), "cue cap": 2 * recall / (1 + recall)}
        for key, v in vals.items():
            cols[key].append(v)
        print(f"{label:<18}{int(yy.sum()):>5}{vals['lexicon']:>9.2f}{vals['1 term']:>8.2f}{vals['5 terms']:>9.2f}"
              f"{no_cue:>8}{vals['cue cap']:>9.2f}")
    macro = {key: round(float(np.mean(v)), 3) for key, v in cols.items()}
    print(f"{'macro':<23}{macro['lexicon']:>9.3f}{macro['1 term']:>8.3f}{macro['5 terms']:>9.3f}{'':>8}"
          f"{macro['cue cap']:>9.3f}")
    groups = [str(r["company"]) for r in rows]
    held = round(float(np.mean([held_out_union(y[:, j], present, groups, 5) for j in range(len(labels))])), 3)
    print(f"the 5-term rules chosen on training folds only (5 folds grouped by company): held-out macro-F1 {held:.3f}")
    print("labels that follow the web site (diagnosis only; the site is never a model feature):")
    for line in template_sites(rows, y, labels):
        print("  " + line)
    print(json.dumps({"bench": "categorize_ceiling", "n": len(rows), "ceiling_lexicon_macro_f1": macro["lexicon"],
                      "ceiling_1term_macro_f1": macro["1 term"], "ceiling_5terms_macro_f1": macro["5 terms"],
                      "ceiling_cue_cap_macro_f1": macro["cue cap"], "held_out_5terms_macro_f1": held}))


if __name__ == "__main__":
    main()
