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


def test_transition_model_per_session_key() -> None:
    model = TransitionModel()
    model.fit_stream([1, 1, 2, 2], keys=["a", "b", "a", "b"])
    assert model.unseen_transitions([1, 2, 1, 2], keys=["x", "x", "y", "y"]) == []
    assert model.unseen_transitions([2, 1], keys=["x", "x"]) == [(1, 2)]


@pytest.mark.data
def test_hdfs_sessions_honest_split(shared_data: Path) -> None:
    from bench.hdfs import evaluate, load, reweighted

    normal, abnormal = load(shared_data / "hdfs-sessions-logdeep")
    run = evaluate(normal, abnormal, seed=0, train_share=0.7, n=2, margin=0.0, confidence=1.0, subspace=True)
    assert run["tpr"] > 0.95
    assert reweighted(run["tpr"], run["fpr_weighted"])[1] > 0.9
