"""Meaning, not keywords: error lines no rule knows, compared with short descriptions of each cause kind.

The sentence embedder the retriever uses (all-MiniLM-L6-v2) turns a few masked error lines and the
descriptions of ``semantic_kinds.py`` into unit vectors; a line takes the kind whose closest description
is nearest, when that similarity is at least ``FLOOR`` and beats the second-best kind by ``MARGIN``, and
when the line is not nearer to a description of ordinary operation. Both thresholds were chosen on a
labelled set of lines (``bench.decisive_lines``, which prints precision and recall).

The embedder comes from the process: ``use_encoder(source)`` (the pipeline passes its retriever's) and is
asked for on first need only, so an analysis without candidate lines never loads the model. If it cannot
load, ``status_note()`` says so and the rules work alone. Matches score below rule matches and are not
marked decisive.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from detectors.logs.masking import WILDCARD, mask
from detectors.logs.semantic_kinds import KIND_DESCRIPTIONS, ORDINARY

log = logging.getLogger(__name__)

FLOOR = 0.375  # chosen by bench.decisive_lines on its tuning half (F0.5)
MARGIN = 0.07
# Lines read by meaning per analysis: ~10 ms each on one idle CPU thread, so 16 keep the added time near
# 150 ms once the model is loaded (tail lines first, one per masked template, see the detector).
MAX_LINES = 16
MAX_CHARS = 300
ORDINARY_LABEL = "ordinary"
SCORE_LOW, SCORE_HIGH = 0.25, 0.45  # specific rule matches score 0.45 and more


# a line worth reading by meaning says something went wrong (or is an error-level line, see the detector)
_ERRORISH = re.compile(
    r"\b(?:error|err|exception|fatal|panic|fail(?:ed|ure|s|ing)?|refused|denied|time[ds]? ?out|unreachable|traceback|"
    r"critical|crit|killed|oom|cannot|can't|could not|unable|expired|exhausted|abort(?:ed)?|invalid|reject(?:ed)?|"
    r"exceed(?:ed|s)?|too many|full|not found|no such|lost|dead|down|stuck|blocked|unavailable|corrupt(?:ed|ion)?|"
    r"missing|behind|throttl\w*|slow|crash(?:ed)?|backwards|violation|unknown|bad|broken|lag)\b",
)  # run on lower-cased text: IGNORECASE costs several times more per line


def is_errorish(text: str) -> bool:
    """Whether a line's words say something went wrong (the gate before meaning matching)."""
    return _ERRORISH.search(text[: MAX_CHARS * 2].lower()) is not None


def semantic_text(message: str) -> str:
    """What the embedder reads of a line's message: masked (ids, numbers, addresses out), bounded."""
    masked = mask(message[: MAX_CHARS * 2]).replace(WILDCARD, " ")
    return " ".join(masked.split())[:MAX_CHARS]


class Encoder(Protocol):
    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]: ...


EncoderSource = Callable[[], Encoder]


@dataclass(frozen=True, slots=True)
class SemanticMatch:
    kind: str
    similarity: float
    margin: float

    @property
    def score(self) -> float:
        """A signal score in [SCORE_LOW, SCORE_HIGH]: always below a rule's."""
        reach = (self.similarity - FLOOR) / max(1e-6, 0.85 - FLOOR)
        return round(SCORE_LOW + (SCORE_HIGH - SCORE_LOW) * min(1.0, max(0.0, reach)), 4)


class SemanticMatcher:
    """Kind descriptions embedded once; ``best`` reads lines against them."""

    def __init__(self, encoder: Encoder, *, floor: float = FLOOR, margin: float = MARGIN) -> None:
        self.encoder = encoder
        self.floor = floor
        self.margin = margin
        labels: list[str] = []
        texts: list[str] = []
        for kind, descriptions in KIND_DESCRIPTIONS.items():
            labels.extend([kind] * len(descriptions))
            texts.extend(descriptions)
        labels.extend([ORDINARY_LABEL] * len(ORDINARY))
        texts.extend(ORDINARY)
        self.kinds: list[str] = list(dict.fromkeys(labels))
        self._label_index = np.array([self.kinds.index(label) for label in labels])
        stored = load_description_vectors(encoder, texts)
        self._vectors = stored if stored is not None else np.asarray(encoder.encode(texts), dtype=np.float32)

    def kind_similarities(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Rows: texts; columns: ``self.kinds``; each cell the nearest description's cosine similarity."""
        vectors = np.asarray(self.encoder.encode(list(texts)), dtype=np.float32)
        sims = vectors @ self._vectors.T
        out = np.full((len(texts), len(self.kinds)), -1.0, dtype=np.float32)
        for k in range(len(self.kinds)):
            cols = self._label_index == k
            out[:, k] = sims[:, cols].max(axis=1)
        return out

    def best(self, texts: Sequence[str]) -> list[SemanticMatch | None]:
        """The kind each text names by meaning, or None (too far, too close to a second kind, or ordinary)."""
        if not texts:
            return []
        table = self.kind_similarities(texts)
        return [self._decide(row) for row in table]

    def _decide(self, row: npt.NDArray[np.float32]) -> SemanticMatch | None:
        order = np.argsort(-row)
        first, second = int(order[0]), int(order[1])
        kind = self.kinds[first]
        similarity, margin = float(row[first]), float(row[first] - row[second])
        if kind == ORDINARY_LABEL or similarity < self.floor or margin < self.margin:
            return None
        return SemanticMatch(kind=kind, similarity=round(similarity, 4), margin=round(margin, 4))


def description_texts() -> list[str]:
    """Every description, in the matcher's order (kinds, then ordinary operation)."""
    return [d for descriptions in KIND_DESCRIPTIONS.values() for d in descriptions] + list(ORDINARY)


VECTORS_FILE = Path(__file__).with_name("semantic_vectors.npz")


def _digest(signature: str, texts: Sequence[str]) -> str:
    return hashlib.sha256("\n".join([signature, *texts]).encode("utf-8")).hexdigest()


def load_description_vectors(encoder: Encoder, texts: Sequence[str]) -> npt.NDArray[np.float32] | None:
    """The descriptions' vectors shipped with the package, when they were made by this model and these texts
    (saves embedding ~110 texts in every new process); None otherwise."""
    signature = getattr(encoder, "signature", None)
    if not isinstance(signature, str) or not VECTORS_FILE.is_file():
        return None
    try:
        with np.load(VECTORS_FILE, allow_pickle=False) as data:
            if str(data["digest"]) != _digest(signature, texts):
                return None
            vectors = data["vectors"].astype(np.float32)
    except (OSError, KeyError, ValueError) as e:
        log.warning("stored description vectors unreadable, embedding them", extra={"error": str(e)})
        return None
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def write_description_vectors(encoder: Encoder, path: Path = VECTORS_FILE) -> Path:
    """Embed the descriptions with ``encoder`` and store them (float16) for later processes."""
    signature = getattr(encoder, "signature", None)
    if not isinstance(signature, str):
        raise ValueError("the encoder has no signature: its vectors cannot be matched to a model later")
    texts = description_texts()
    vectors = np.asarray(encoder.encode(texts), dtype=np.float32)
    np.savez_compressed(path, vectors=vectors.astype(np.float16), digest=np.array(_digest(signature, texts)))
    return path


# ---- the process's embedder --------------------------------------------------------------------------

_lock = threading.Lock()
_source: EncoderSource | None = None
_matchers: dict[int, SemanticMatcher] = {}
_failure: str | None = None


def use_encoder(source: EncoderSource | None) -> None:
    """Where the semantic matcher gets its embedder (called once when a process builds its pipeline)."""
    global _source, _failure
    with _lock:
        _source = source
        _failure = None


def current_matcher() -> SemanticMatcher | None:
    """The matcher over the configured embedder, built on first use; None when there is none or it failed."""
    global _failure
    with _lock:
        source = _source
        if source is None or _failure is not None:
            return None
        try:
            encoder = source()
            matcher = _matchers.get(id(encoder))
            if matcher is None or matcher.encoder is not encoder:
                matcher = _matchers[id(encoder)] = SemanticMatcher(encoder)
            return matcher
        except Exception as e:  # noqa: BLE001 - any load failure: the rules work alone
            _failure = f"{type(e).__name__}: {e}"[:240]
            log.warning("semantic log matching unavailable, rules only", extra={"error": _failure})
            return None


def status_note() -> str | None:
    """A note for the analysis when meaning matching was wanted but could not run."""
    with _lock:
        if _failure is not None:
            return f"log lines were matched by rules only: the embedding model could not load ({_failure})"
    return None
