"""The learned hypothesis scorer: gradient-boosted trees and/or a linear model over candidate features,
plus a calibration map.

A candidate's logit is ``booster margin (when trained) + coef . x + intercept``. The shipped model is a
scikit-learn ``HistGradientBoostingClassifier`` (stored base64-pickled inside ``default_model.json``:
load only model files you trust, as with any pickle), evaluated without importing scikit-learn when its
shape allows (``bot.reasoning.trees``); the linear part is what ``FeedbackLearner`` adjusts online, and its
state never holds the booster.

Confidence of candidate i inside one analysis is a softmax over the candidates' logits with a "none of
these" option of logit 0, so the confidences sum to at most 1 and a lone weak candidate stays weak.
The top confidence is then passed through an isotonic calibration map fitted on held-out bundles, and last
through the confidence map fitted on first contact (``bench.casebook.first_contact``): P(service right) times
P(kind right | service right), each a small logistic map over ``CONFIDENCE_FEATURES``.
The weights ship as ``default_model.json`` (written by ``python -m bot.reasoning.train``).
"""

from __future__ import annotations

import json
import logging
import math
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.domain import ConfigError
from bot.reasoning.features import FEATURES
from bot.reasoning.trees import booster_text, read_booster

log = logging.getLogger(__name__)

DEFAULT_MODEL_PATH = Path(__file__).with_name("default_model.json")

# Starting weights before any training: only used when no trained file exists.
_PRIOR: dict[str, float] = {
    "direct_score": 3.0,
    "direct_logs": 0.8,
    "direct_metrics": 0.8,
    "text_match": 1.5,
    "metric_hint": 1.0,
    "symptom_score": 0.8,
    "svc_anomaly": 1.0,
    "svc_earliest": 1.0,
    "deps_healthy": 1.0,
    "dep_earlier": -1.5,
    "callers_anomalous": 0.8,
    "alert_text_match": 0.6,
    "change_before_onset": 1.5,
    "change_proximity": 2.0,
    "change_on_service": -0.5,
    "similar_exact": 1.5,
    "similar_kind": 0.5,
    "runbook_kind": 0.5,
    "runbook_exact": 0.5,
    "only_symptom": -1.0,
    "direct_rel": 1.0,
    "no_anomaly": -1.0,
}


# Evidence that explains a failure by itself (bot/reasoning/decisive.py) weighs this much on top of the learned
# score, whatever data the model learned on: a Kubernetes reason or a crash's last line is decisive in any
# world. ``decisive_gap`` (own decisive score minus the best one) pushes down what a stronger finding
# contradicts. ``alert_confirms``: the alert names the kind on its own service and the service's own evidence
# names it too (a busy host's CPU must not outrank the full disk its alert is about). Chosen on the field
# casebook's dev half (python -m bench.casebook --split dev) and the live drills. ``metric_origin``: the metric
# ranking (detectors/metrics/rank.py, the one bench.petshop measures) names the candidate's service the clear
# origin of what its callers show; below a decisive finding, which says how a component failed.
# ``dependency_origin``: the candidate's service is the origin in dependency order (features.downstream_victims:
# anomalous, its own dependencies healthy, none of its anomalous callers failing before it); it weighs like a
# decisive finding of full strength, since what its callers show follows from it (FIRST_CONTACT_STUDY.md: the
# largest class of first-contact misses is a caller's loud or decisive-looking symptom outranking its dependency).
# A model file's own weights win; a weight it does not name comes from here.
EVIDENCE_WEIGHTS: dict[str, float] = {"decisive_score": 5.0, "decisive_gap": 60.0, "alert_confirms": 3.0,
                                      "metric_origin": 2.0, "dependency_origin": 5.0}


# What the top answer's confidence is computed from, after the learned calibration (``confidence_inputs`` in
# bot/reasoning/ranker.py): the calibration map was fitted where the model learned (simulated bundles), so on
# evidence unlike it the map alone is overconfident; these say how much the answer rests on.
CONFIDENCE_FEATURES: tuple[str, ...] = (
    "z_calibrated",  # logit of the calibrated confidence
    "decisive_top",  # the top answer's own decisive finding (0 when none)
    "decisive_rival",  # the strongest decisive finding for another answer
    "margin",  # raw belief of the top minus the second
    "direct_support",  # a detector named the top kind on that service (signal, log text or metric name)
    "only_symptom",  # the top rests on symptoms mapped to a cause only
    # a change (deploy, config, flag) of the top's own service shortly before the onset while the top is no change
    # kind (features.change_on_service): the service may be right and the kind the change's symptom
    "change_competes",
    # the calibrated logit when the top answer rests on the cluster's own reported state (Kubernetes events and
    # object states: a closed vocabulary of reasons), else 0. On first contact, answers that rest on it were right
    # 19 times in 20 where the model was sure, answers read from free text (logs, postmortem-style evidence) about
    # half the time however sure (FIRST_CONTACT_STUDY.md, "What the answer rests on")
    "z_kubernetes",
)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


@dataclass
class RankerModel:
    features: list[str]
    coef: list[float]
    intercept: float
    calibration_x: list[float] = field(default_factory=list)
    calibration_y: list[float] = field(default_factory=list)
    threshold: float = 0.3
    meta: dict[str, Any] = field(default_factory=dict)
    booster: Any = None
    booster_features: list[str] = field(default_factory=list)
    evidence_weights: dict[str, float] = field(default_factory=lambda: dict(EVIDENCE_WEIGHTS))
    # a logistic map over CONFIDENCE_FEATURES for the top confidence (empty: the calibration map alone)
    confidence_coef: dict[str, float] = field(default_factory=dict)
    confidence_intercept: float = 0.0
    # with a kind part, the map above is P(the top's service is right) and this second logistic map is
    # P(its kind is right | the service is right); the top confidence is their product (empty: one map)
    kind_confidence_coef: dict[str, float] = field(default_factory=dict)
    kind_confidence_intercept: float = 0.0

    # ---- scoring ----------------------------------------------------------------------
    def logits(self, rows: list[dict[str, float]]) -> np.ndarray:
        if not rows:
            return np.zeros(0)
        x = np.array([[row.get(f, 0.0) for f in self.features] for row in rows], dtype=float)
        z = x @ np.asarray(self.coef, dtype=float) + self.intercept
        if self.booster is not None:
            xb = np.array([[row.get(f, 0.0) for f in self.booster_features] for row in rows], dtype=float)
            z = z + np.asarray(self.booster.decision_function(xb), dtype=float)
        if self.evidence_weights:
            names = list(self.evidence_weights)
            xe = np.array([[row.get(f, 0.0) for f in names] for row in rows], dtype=float)
            z = z + xe @ np.array([self.evidence_weights[f] for f in names], dtype=float)
        return np.asarray(z)

    def confidences(self, rows: list[dict[str, float]]) -> np.ndarray:
        """Raw (uncalibrated) share of belief per candidate; sums to at most 1."""
        z = self.logits(rows)
        if z.size == 0:
            return z
        m = max(float(z.max()), 0.0)
        e = np.exp(z - m)
        return np.asarray(e / (math.exp(-m) + e.sum()))

    def calibrate(self, value: float) -> float:
        if not self.calibration_x:
            return float(value)
        return float(np.interp(value, self.calibration_x, self.calibration_y))

    def confidence_parts(self, inputs: dict[str, float]) -> tuple[float, float] | None:
        """(P(service right), P(kind right | service right)) from ``CONFIDENCE_FEATURES``, or None when the model
        has no kind part (one map for the pair)."""
        if not self.confidence_coef or not self.kind_confidence_coef:
            return None

        def part(coef: dict[str, float], intercept: float) -> float:
            return _sigmoid(intercept + sum(w * float(inputs.get(f, 0.0)) for f, w in coef.items()))

        return (part(self.confidence_coef, self.confidence_intercept),
                part(self.kind_confidence_coef, self.kind_confidence_intercept))

    def top_confidence(self, inputs: dict[str, float]) -> float:
        """The top answer's confidence from ``CONFIDENCE_FEATURES`` (``inputs["calibrated"]`` without a map)."""
        if not self.confidence_coef:
            return float(inputs.get("calibrated", 0.0))
        parts = self.confidence_parts(inputs)
        if parts is not None:
            return parts[0] * parts[1]
        z = self.confidence_intercept + sum(w * float(inputs.get(f, 0.0)) for f, w in self.confidence_coef.items())
        return _sigmoid(z)

    # ---- persistence ------------------------------------------------------------------
    def to_dict(self, *, include_booster: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "features": list(self.features),
            "coef": [float(c) for c in self.coef],
            "intercept": float(self.intercept),
            "calibration": {"x": list(self.calibration_x), "y": list(self.calibration_y)},
            "threshold": float(self.threshold),
            "meta": self.meta,
            "evidence_weights": dict(self.evidence_weights),
            "confidence": {"coef": dict(self.confidence_coef), "intercept": float(self.confidence_intercept)},
        }
        if self.kind_confidence_coef:
            data["confidence"]["kind"] = {"coef": dict(self.kind_confidence_coef),
                                          "intercept": float(self.kind_confidence_intercept)}
        if include_booster and self.booster is not None:
            data["booster"] = booster_text(self.booster)
            data["booster_features"] = list(self.booster_features)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RankerModel:
        try:
            feats = [str(f) for f in data["features"]]
            coef = [float(c) for c in data["coef"]]
            if len(feats) != len(coef):
                raise ValueError("features and coef differ in length")
            cal = data.get("calibration") or {}
            conf = data.get("confidence") or {}
            kind_part = conf.get("kind") or {}
            booster = read_booster(data["booster"]) if data.get("booster") else None
            return cls(
                features=feats,
                coef=coef,
                intercept=float(data["intercept"]),
                calibration_x=[float(v) for v in cal.get("x", [])],
                calibration_y=[float(v) for v in cal.get("y", [])],
                threshold=float(data.get("threshold", 0.3)),
                meta=dict(data.get("meta", {})),
                booster=booster,
                booster_features=[str(f) for f in data.get("booster_features", [])],
                evidence_weights={**EVIDENCE_WEIGHTS, **{str(k): float(v) for k, v in
                                                         (data.get("evidence_weights") or {}).items()}},
                confidence_coef={str(k): float(v) for k, v in conf.get("coef", {}).items()},
                confidence_intercept=float(conf.get("intercept", 0.0)),
                kind_confidence_coef={str(k): float(v) for k, v in kind_part.get("coef", {}).items()},
                kind_confidence_intercept=float(kind_part.get("intercept", 0.0)),
            )
        except (KeyError, TypeError, ValueError, pickle.UnpicklingError) as e:
            raise ConfigError(f"ranker model data is malformed ({e}); retrain with python -m bot.reasoning.train") from e

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> RankerModel:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise ConfigError(f"cannot read ranker model {path}: {e}") from e
        return cls.from_dict(data)

    @classmethod
    def prior(cls) -> RankerModel:
        return cls(features=list(FEATURES), coef=[_PRIOR.get(f, 0.0) for f in FEATURES], intercept=-2.5,
                   meta={"source": "prior"})

    def copy(self) -> RankerModel:
        """A copy whose linear part and calibration can change; the booster is shared (read-only)."""
        out = RankerModel.from_dict(json.loads(json.dumps(self.to_dict(include_booster=False))))
        out.booster = self.booster
        out.booster_features = list(self.booster_features)
        return out


_DEFAULT: RankerModel | None = None


def default_model() -> RankerModel:
    """The shipped trained model, or the prior weights when it is absent."""
    global _DEFAULT
    if _DEFAULT is None:
        if DEFAULT_MODEL_PATH.exists():
            _DEFAULT = RankerModel.load(DEFAULT_MODEL_PATH)
        else:
            log.warning("no trained ranker model shipped; using prior weights")
            _DEFAULT = RankerModel.prior()
    return _DEFAULT
