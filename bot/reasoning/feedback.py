"""Learning from responders' feedback: online updates of the ranker's weights and calibration, per team.

Feedback is read against the analysis it was given on (its hypotheses carry their features):
- "fixed" (or the confirmed cause at resolution) on (service, kind): the listwise log-likelihood of the
  softmax-with-"none" the scorer uses, pushing that hypothesis up and the others down; when the cause
  was not among the hypotheses, all of them are pushed towards "none of these";
- "up" / "down" on one hypothesis: a binary log-likelihood step on that hypothesis alone.
Weights move by small SGD steps with L2 pull towards the base model, plus one bias per cause kind so a
team whose incidents are mostly, say, config changes is learned. The calibration map is refitted from the
confirmed outcomes once enough have been seen. State is a plain dict persisted through injected
``load``/``save`` callables (the pipeline backs them with ``Store.get_state``/``put_state``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression

from bot.domain import ALL_KINDS, Analysis, Feedback, Hypothesis, Vote
from bot.reasoning.scorer import RankerModel, default_model

log = logging.getLogger(__name__)

STATE_VERSION = 1
KIND_FEATURE = "kind:"


def kind_feature(kind: str) -> str:
    return f"{KIND_FEATURE}{kind}"


class FeedbackLearner:
    def __init__(
        self,
        *,
        team: str = "default",
        base: RankerModel | None = None,
        load: Callable[[str], dict[str, Any] | None] | None = None,
        save: Callable[[str, dict[str, Any]], None] | None = None,
        learning_rate: float = 0.1,
        l2: float = 0.01,
        recalibrate_every: int = 25,
        min_outcomes: int = 40,
    ) -> None:
        self.team = team
        self.base = (base or default_model()).copy()
        self._load = load
        self._save = save
        self.learning_rate = learning_rate
        self.l2 = l2
        self.recalibrate_every = recalibrate_every
        self.min_outcomes = min_outcomes
        self.model = self._with_kind_features(self.base.copy())
        self.outcomes: list[tuple[float, int]] = []  # (raw top confidence, top was right)
        self.updates = 0
        stored = load(self.state_key) if load else None
        if stored:
            self._restore(stored)

    @property
    def state_key(self) -> str:
        return f"reasoning.feedback.{self.team}"

    @staticmethod
    def _with_kind_features(model: RankerModel) -> RankerModel:
        missing = [kind_feature(k) for k in ALL_KINDS if kind_feature(k) not in model.features]
        model.features = list(model.features) + missing
        model.coef = list(model.coef) + [0.0] * len(missing)
        return model

    # ---- persistence ------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"v": STATE_VERSION, "team": self.team, "model": self.model.to_dict(include_booster=False),
                "outcomes": [[round(c, 5), h] for c, h in self.outcomes[-2000:]], "updates": self.updates}

    def _restore(self, data: dict[str, Any]) -> None:
        if data.get("v") != STATE_VERSION:
            log.warning("feedback state of another version ignored", extra={"team": self.team})
            return
        model = RankerModel.from_dict(data["model"])
        model.booster, model.booster_features = self.base.booster, list(self.base.booster_features)
        self.model = self._with_kind_features(model)
        self.outcomes = [(float(c), int(h)) for c, h in data.get("outcomes", [])]
        self.updates = int(data.get("updates", 0))

    def persist(self) -> None:
        if self._save is not None:
            self._save(self.state_key, self.state())

    # ---- learning ---------------------------------------------------------------------
    def _x(self, h: Hypothesis) -> np.ndarray:
        feats = dict(h.features)
        feats[kind_feature(h.kind)] = 1.0
        return np.array([feats.get(f, 0.0) for f in self.model.features], dtype=float)

    def _step(self, grad_w: np.ndarray, grad_b: float) -> None:
        w = np.asarray(self.model.coef, dtype=float)
        base = np.zeros_like(w)
        base[: len(self.base.coef)] = self.base.coef
        w = w - self.learning_rate * (grad_w + self.l2 * (w - base))
        self.model.coef = [float(v) for v in w]
        self.model.intercept = float(self.model.intercept - self.learning_rate * grad_b)
        self.updates += 1

    def _rows(self, hyps: list[Hypothesis]) -> list[dict[str, float]]:
        return [{**h.features, kind_feature(h.kind): 1.0} for h in hyps]

    def _confirmed(self, hyps: list[Hypothesis], service: str, kind: str) -> None:
        xs = np.array([self._x(h) for h in hyps]).reshape(len(hyps), -1)
        w = np.asarray(self.model.coef, dtype=float)
        z = self.model.logits(self._rows(hyps)) if len(hyps) else np.zeros(0)
        m = max(float(z.max()) if z.size else 0.0, 0.0)
        e = np.exp(z - m)
        p = e / (math.exp(-m) + e.sum()) if z.size else e
        target = np.array([1.0 if (h.service, h.kind) == (service, kind) else 0.0 for h in hyps])
        grad_w = ((p - target)[:, None] * xs).sum(axis=0) if len(hyps) else np.zeros_like(w)
        grad_b = float((p - target).sum())
        if not target.any():
            # the cause was not among the hypotheses: learn that this kind happens here
            bump = np.zeros_like(w)
            bump[self.model.features.index(kind_feature(kind))] = -1.0 if kind in ALL_KINDS else 0.0
            grad_w = grad_w + bump
        self._step(grad_w, grad_b)

    def _vote(self, h: Hypothesis, good: bool) -> None:
        x = self._x(h)
        z = float(self.model.logits(self._rows([h]))[0])
        p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
        g = p - (1.0 if good else 0.0)
        self._step(g * x * 0.5, g * 0.5)

    def observe(self, *, analysis: Analysis, feedback: list[Feedback]) -> None:
        """Learn from the feedback given on ``analysis``; persists the new state."""
        hyps = analysis.hypotheses
        for fb in feedback:
            if not fb.kind or not fb.service:
                continue
            if fb.vote == Vote.FIXED:
                top = hyps[0] if hyps else None
                if top is not None:
                    raw = float(top.features.get("raw_confidence", top.confidence))
                    self.outcomes.append((raw, int((top.service, top.kind) == (fb.service, fb.kind))))
                self._confirmed(hyps, fb.service, fb.kind)
            elif fb.vote in (Vote.UP, Vote.DOWN):
                target = next((h for h in hyps if (h.service, h.kind) == (fb.service, fb.kind)), None)
                if target is not None:
                    self._vote(target, fb.vote == Vote.UP)
        if len(self.outcomes) >= self.min_outcomes and self.updates % self.recalibrate_every == 0:
            self.recalibrate()
        self.persist()

    def recalibrate(self) -> None:
        """Refit the calibration map on the confirmed outcomes seen so far."""
        if len(self.outcomes) < self.min_outcomes:
            return
        raw = np.array([c for c, _ in self.outcomes[-1000:]])
        hit = np.array([h for _, h in self.outcomes[-1000:]], dtype=float)
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, hit)
        self.model.calibration_x = [float(v) for v in iso.X_thresholds_]
        self.model.calibration_y = [float(v) for v in iso.y_thresholds_]
