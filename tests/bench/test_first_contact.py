"""The first-contact confidence map: fitted from answers given before anybody tuned on the cases."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from bench.casebook.first_contact import _fit, _logit, fit


def _rows(pairs: list[tuple[float, bool]]) -> dict[str, list[dict[str, object]]]:
    return {"rows": [{"case": f"c{i}", "hit": h, "confidence": c, "calibrated": c} for i, (c, h) in enumerate(pairs)]}


def test_answers_right_less_often_than_they_claim_are_pulled_down(tmp_path: Path) -> None:
    # claimed 0.95, right 6 times in 10; claimed 0.2, right once in 10
    pairs = [(0.95, i < 6) for i in range(10)] + [(0.2, i < 1) for i in range(10)]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(_rows(pairs)))
    figures = fit(path, write=False)
    a, b = figures["slope"], figures["intercept"]
    high = 1 / (1 + math.exp(-(a * _logit(0.95) + b)))
    low = 1 / (1 + math.exp(-(a * _logit(0.2) + b)))
    assert 0.6 < high < 0.9  # from 0.95 towards the 0.6 seen, held back by the prior
    assert 0.1 < low < 0.3
    assert figures["wrong_above_half_before"] == 4


def test_a_calibrated_record_leaves_the_map_near_identity() -> None:
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.05, 0.95, 400)
    hits = (rng.uniform(0, 1, 400) < conf).astype(float)
    a, b = _fit(np.array([_logit(c) for c in conf]), hits)
    assert abs(a - 1.0) < 0.2 and abs(b) < 0.2


def test_the_shipped_map_is_the_one_the_committed_rows_give() -> None:
    from bot.reasoning.scorer import DEFAULT_MODEL_PATH

    rows = Path(__file__).resolve().parents[2] / "bench" / "casebook" / "first_contact.json"
    data = json.loads(rows.read_text())["rows"]
    a, b = _fit(np.array([_logit(r["calibrated"]) for r in data]), np.array([1.0 if r["hit"] else 0.0 for r in data]))
    shipped = json.loads(DEFAULT_MODEL_PATH.read_text())["confidence"]
    assert shipped["coef"] == {"z_calibrated": round(a, 4)} and shipped["intercept"] == round(b, 4)
