"""Categorisation benchmark on postmortems-icco: multi-label, 5-fold CV grouped by company.

Compares the baseline (TF-IDF word n-grams + logistic regression with class_weight="balanced", threshold
0.5) with Sherlog's learned taxonomy classifier: a mean-probability ensemble of balanced per-label logistic
regressions over views (TF-IDF of the full text and of title+keywords+summary; all-MiniLM-L6-v2 embeddings of
the body's sentences pooled by mean and by max, of the head and of the keywords; cosine similarities of the
sentences to each category's written definition), plus a lexicon per category written from the category
definitions. Per label, an inner cross-validation grouped by company on the training folds only picks the
threshold and whether to decide by the lexicon alone, the ensemble, or the ensemble stacked with the lexicon
(the simplest whose F1 is within one standard error of the best).

Company names are normalised (case, spaces, punctuation) before grouping, so "GitHub"/"Github" or
"Travis CI"/"TravisCI" never span train and test. Sentence vectors are cached on disk under
.sherlog/bench/categorize/ keyed by a hash of the text.

    .venv/bin/python -m bench.categorize [--data ../shared/data/postmortems-icco] [--no-embeddings] [--no-lexicon]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

from bot.reasoning.taxonomy import TaxonomyClassifier

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "postmortems-icco"
CACHE = ROOT / ".sherlog" / "bench" / "categorize" / "vectors.npz"

# The corpus documents only the category names (postmortem.go); these definitions and lexicons were written
# from those names, once, before any model was scored, and are not tuned on the data.
DEFINITIONS: dict[str, str] = {
    "automation": "An automated system, script, bot or scheduled job acted on its own and caused or worsened the "
                  "outage: autoscaling, orchestration, automatic failover, self-healing or remediation tooling, "
                  "CI/CD pipelines.",
    "cascading-failure": "A failure in one component spread to the components that depend on it: overload, retry "
                         "storms, a thundering herd, feedback loops, a domino effect of resource exhaustion.",
    "cloud": "A public cloud provider or cloud platform was involved: AWS, Amazon Web Services, EC2, S3, Google "
             "Cloud, GCP, Azure, Kubernetes, regions and availability zones.",
    "config-change": "A configuration change, deployment, rollout or code push introduced the fault; a "
                     "misconfiguration; the change was rolled back.",
    "hardware": "Physical hardware failed: disks, SSDs, servers, network cards, routers and switches, power loss, "
                "cooling, a data-center outage, a cut fibre cable.",
    "security": "A security incident: a breach, vulnerability, exploit or attack, DDoS, leaked credentials, "
                "unauthorized access, a CVE, malware.",
    "time": "A time-related bug: clocks and clock skew, NTP, time zones, leap seconds or leap years, daylight "
            "saving, date rollover, expiring certificates, timestamps.",
}
LEXICON: dict[str, list[str]] = {
    "automation": ["automation", "automated", "automatically", "autoscal*", "auto-scal*", "automatic failover"],
    "cascading-failure": ["cascad*", "domino", "thundering herd", "retry storm*", "chain reaction", "knock-on"],
    "cloud": ["aws", "amazon web services", "gcp", "google cloud", "azure", "ec2", "s3", "kubernetes",
              "cloud provider*", "availability zone*"],
    "config-change": ["config change*", "configuration change*", "misconfigur*", "deploy*", "rollout*", "roll out",
                      "rolled out", "rollback*", "rolled back", "config push*", "configuration push*"],
    "hardware": ["hardware", "disk failure*", "failed disk*", "power loss", "power outage*", "power failure*",
                 "fiber cut", "fibre cut", "network card*", "router failure*", "data center outage*",
                 "datacenter outage*"],
    "security": ["security", "breach*", "vulnerab*", "exploit*", "attack*", "ddos", "malicious", "unauthori*",
                 "leaked credential*", "cve"],
    "time": ["ntp", "clock*", "leap second*", "leap year*", "time zone*", "timezone*", "daylight saving*",
             "clock skew"],
}


def company_key(name: str) -> str:
    """One group per company however its name is spelt ("GitHub"/"Github", "Travis CI"/"TravisCI")."""
    return re.sub(r"[^a-z0-9]", "", name.lower()) or name


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
                     "company": company_key(str(meta.get("company") or path.stem)), "body": body, "meta": meta})
    return rows


def sentences(text: str) -> list[str]:
    """The sentences (and lines) of a text worth embedding on their own; the whole text when none is."""
    out = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if len(s.strip()) > 20]
    return out or [text.strip() or "-"]


def cached_encode(texts: list[str], cache: Path = CACHE) -> npt.NDArray[np.float32]:
    """Sentence vectors, from the on-disk cache where the text (by blake2b digest) was embedded before."""
    from retrieval.embedder import get_embedder

    def key(t: str) -> str:
        return hashlib.blake2b(t.encode("utf-8", "replace"), digest_size=16).hexdigest()

    store: dict[str, npt.NDArray[np.float32]] = {}
    if cache.exists():
        with np.load(cache) as z:
            store = dict(zip(z["keys"].tolist(), z["vecs"], strict=True))
    missing = sorted({t for t in texts if key(t) not in store})
    if missing:
        for t, v in zip(missing, get_embedder().encode(missing), strict=True):
            store[key(t)] = v
        cache.parent.mkdir(parents=True, exist_ok=True)
        keys = list(store)
        np.savez(cache, keys=np.array(keys), vecs=np.stack([store[k] for k in keys]))
    return np.stack([store[key(t)] for t in texts]).astype(np.float32)


def embed_rows(rows: list[dict[str, Any]], labels: list[str]) -> list[npt.NDArray[np.float32]]:
    """Views: the body+summary sentences pooled by mean and by max; the head; the keywords; and per category
    the sentences' max / top-3 mean / mean cosine to its definition plus the head's and keywords' cosine."""
    per_doc = [sentences(r["body"]) + sentences(str(r["meta"].get("summary") or "")) for r in rows]
    flat = cached_encode([s for ss in per_doc for s in ss])
    sent, k = [], 0
    for ss in per_doc:
        sent.append(flat[k:k + len(ss)])
        k += len(ss)
    head = cached_encode([r["head"] or "-" for r in rows])
    keywords = cached_encode([" ".join(str(w) for w in r["meta"].get("keywords") or []) or "-" for r in rows])
    protos = cached_encode([DEFINITIONS.get(lab, lab) for lab in labels])
    sims = []
    for s in sent:
        cos = s @ protos.T
        top = np.sort(cos, axis=0)[-3:].mean(axis=0)
        sims.append(np.concatenate([cos.max(axis=0), top, cos.mean(axis=0)]))
    proto = np.hstack([np.asarray(sims), head @ protos.T, keywords @ protos.T])
    return [np.stack([s.mean(axis=0) for s in sent]), np.stack([s.max(axis=0) for s in sent]), head, keywords,
            proto.astype(np.float32)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-embeddings", action="store_true")
    parser.add_argument("--no-lexicon", action="store_true", help="learned views only (no category lexicons)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not (args.data / "data").is_dir():
        parser.error(f"{args.data} has no data/ folder of postmortems")

    rows = load_postmortems(args.data)
    labels = sorted({lab for r in rows for lab in r["labels"]})
    texts = [r["text"] for r in rows]
    y = np.array([[lab in r["labels"] for lab in labels] for r in rows], dtype=int)
    groups = np.array([r["company"] for r in rows])
    t0 = time.perf_counter()
    emb = None if args.no_embeddings else embed_rows(rows, labels)
    embed_s = time.perf_counter() - t0
    lexicon = None if args.no_lexicon else LEXICON

    base = np.zeros_like(y)
    ours = np.zeros_like(y)
    modes: dict[str, dict[str, int]] = {lab: {} for lab in labels}
    for tr, te in GroupKFold(n_splits=args.folds).split(texts, y, groups):
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        x_tr = vec.fit_transform([texts[i] for i in tr])
        x_te = vec.transform([texts[i] for i in te])
        for j in range(len(labels)):
            if 0 < y[tr, j].sum() < len(tr):
                base[te, j] = LogisticRegression(max_iter=3000, class_weight="balanced").fit(x_tr, y[tr, j]).predict(x_te)
        clf = TaxonomyClassifier(lexicon=lexicon)
        clf.fit([texts[i] for i in tr], [rows[i]["labels"] for i in tr],
                embeddings=None if emb is None else [e[tr] for e in emb],
                heads=[rows[i]["head"] for i in tr], groups=[rows[i]["company"] for i in tr])
        for lab, mode in clf.modes.items():
            modes[lab][mode] = modes[lab].get(mode, 0) + 1
        preds = clf.predict([texts[i] for i in te], embeddings=None if emb is None else [e[te] for e in emb],
                            heads=[rows[i]["head"] for i in te])
        for row_i, pred in zip(te, preds, strict=True):
            for j, lab in enumerate(labels):
                ours[row_i, j] = int(lab in pred.labels)
    # reference only (no learning): any mention of a category's lexicon
    probe = TaxonomyClassifier(lexicon=LEXICON)
    probe.labels = labels
    lex_only = (probe.lexicon_hits(texts) > 0).astype(int)

    def scores(pred: np.ndarray) -> dict[str, float]:
        return {"macro_f1": round(float(f1_score(y, pred, average="macro", zero_division=0)), 3),
                "micro_f1": round(float(f1_score(y, pred, average="micro", zero_division=0)), 3)}

    b, o, lx = scores(base), scores(ours), scores(lex_only)
    print(f"postmortems-icco: {len(rows)} postmortems, {len(labels)} labels, {len(set(groups))} companies "
          f"(names normalised), {args.folds}-fold CV grouped by company; every Sherlog choice (thresholds, "
          "lexicon use) made by a 4-fold company-grouped CV inside the training folds")
    print("baseline: TF-IDF(1-2) + LogisticRegression(class_weight='balanced'), threshold 0.5; "
          "lexicon: any mention of the category's lexicon (no learning, reference)")
    print(f"{'label':<20}{'n':>5}{'baseline F1':>14}{'lexicon F1':>12}{'sherlog F1':>13}  sherlog mode per fold")
    per_b = f1_score(y, base, average=None, zero_division=0)
    per_l = f1_score(y, lex_only, average=None, zero_division=0)
    per_o = f1_score(y, ours, average=None, zero_division=0)
    for j, lab in enumerate(labels):
        used = ", ".join(f"{m} {n}" for m, n in sorted(modes[lab].items()))
        print(f"{lab:<20}{int(y[:, j].sum()):>5}{per_b[j]:>14.2f}{per_l[j]:>12.2f}{per_o[j]:>13.2f}  {used}")
    print(f"{'macro-F1':<25}{b['macro_f1']:>14.3f}{lx['macro_f1']:>12.3f}{o['macro_f1']:>13.3f}")
    print(f"{'micro-F1':<25}{b['micro_f1']:>14.3f}{lx['micro_f1']:>12.3f}{o['micro_f1']:>13.3f}")
    print(f"embedding time {embed_s:.1f} s (cache {CACHE.relative_to(ROOT)}) (goal macro-F1 >= 0.70)")
    print(json.dumps({"bench": "categorize", "n": len(rows), "baseline_macro_f1": b["macro_f1"],
                      "baseline_micro_f1": b["micro_f1"], "lexicon_macro_f1": lx["macro_f1"],
                      "macro_f1": o["macro_f1"], "micro_f1": o["micro_f1"],
                      "embeddings": emb is not None, "lexicon": lexicon is not None}))


if __name__ == "__main__":
    main()
