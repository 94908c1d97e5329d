import random
from pathlib import Path

import pytest

from detectors.logs.sequence import SessionModel, TransitionModel


def _normal(rng: random.Random) -> list[int]:
    """open, n x (write, ack), close: acks always match writes."""
    n = rng.randint(1, 6)
    seq = [1]
    for _ in range(n):
        seq += [2, 3]
    return seq + [4]


def test_session_model_flags_unseen_events_orders_and_broken_counts() -> None:
    rng = random.Random(1)
    model = SessionModel(n=2).fit([_normal(rng) for _ in range(300)])
    assert not model.is_anomalous([1, 2, 3, 2, 3, 4])
    assert "unseen events" in model.judge([1, 2, 3, 9, 4]).reasons[0]
    assert "unseen transitions" in model.judge([1, 3, 2, 4]).reasons[0]
    verdict = model.judge([1, 2, 3, 2, 3, 2, 4])  # a write without its ack: same bigrams, counts off
    assert verdict.anomalous
    assert any("invariant" in r or "subspace" in r for r in verdict.reasons)


def _profiled(rng: random.Random) -> list[int]:
    """open, one or two 7s, 8s (mostly 7 8 8, sometimes 7 7 8), 0-6 reads (3), close."""
    body = [7, 8, 8] if rng.random() < 0.8 else [7, 7, 8]
    return [1, *body, *([3] * rng.randint(0, 6)), 4]


def test_session_model_count_profiles_separate_structural_from_free_events() -> None:
    rng = random.Random(2)
    normals = [_profiled(rng) for _ in range(400)]
    model = SessionModel(n=2, subspace=False, signatures=True, free_entropy=1.0).fit(normals)
    assert model.free_events == {3}  # read counts vary freely, the rest is structural
    assert not model.is_anomalous([1, 7, 8, 8, 3, 3, 3, 3, 3, 4])
    assert not model.is_anomalous([1, 7, 7, 8, 4])
    odd = [1, 7, 7, 8, 8, 3, 4]  # every transition and every count within normal, the combination never
    verdict = model.judge(odd)
    assert verdict.anomalous
    assert [r for r in verdict.reasons if "count profile" in r] == verdict.reasons
    without = SessionModel(n=2, subspace=False).fit(normals)
    assert not without.is_anomalous(odd)
    assert "above normal" in " ".join(model.judge([1, 7, 8, 8, *([3] * 7), 4]).reasons)
    no_ngrams = SessionModel(n=2, subspace=False, signatures=True, transitions=False).fit(normals)
    assert not no_ngrams.is_anomalous([1, 8, 7, 8, 4])  # order is not checked without the n-gram rule
    assert model.is_anomalous([1, 8, 7, 8, 4])


def test_session_model_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="n must be"):
        SessionModel(n=1)
    with pytest.raises(ValueError, match="free_entropy"):
        SessionModel(free_entropy=-0.5)


def test_transition_model_per_session_key() -> None:
    model = TransitionModel()
    model.fit_stream([1, 1, 2, 2], keys=["a", "b", "a", "b"])
    assert model.unseen_transitions([1, 2, 1, 2], keys=["x", "x", "y", "y"]) == []
    assert model.unseen_transitions([2, 1], keys=["x", "x"]) == [(1, 2)]


@pytest.mark.data
def test_hdfs_sessions_selected_on_validation_only(shared_data: Path) -> None:
    from bench.hdfs import Setting, evaluate, load, reweighted, split, validation_anomalies

    data = shared_data / "hdfs-sessions-logdeep"
    normal, abnormal = load(data)
    val_abnormal = validation_anomalies(data, abnormal)
    fit, val, test = split(normal, seed=0, train_share=0.7, val_share=0.25)
    assert not (set(fit) | set(val)) & set(test)
    assert not set(fit) & set(val)
    assert len(fit) + len(val) + len(test) == len(normal)
    assert val_abnormal and val_abnormal <= set(abnormal)

    grid = (Setting(2, False), Setting(2, True, 0.1, 0.99), Setting(3, True, 0.1, 0.99),
            Setting(2, False, signatures=True, free_entropy=1.0, transitions=False))
    run = evaluate(normal, abnormal, val_abnormal, seed=0, train_share=0.7, val_share=0.25, grid=grid)
    f1s = [v["f1"] for v in run["validation"]]
    assert run["chosen"] == grid[f1s.index(max(f1s))]
    assert run["sizes"]["test_anomalous"] + run["sizes"]["val_anomalous"] == len(abnormal)
    assert run["sizes"]["test_normal"] == len(test)
    assert run["test"]["tpr"] > 0.85
    assert reweighted(run["test"]["tpr"], run["test"]["fpr_weighted"])[1] > 0.9
