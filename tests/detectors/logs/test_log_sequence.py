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

    grid = (Setting(2, False), Setting(2, True, 0.1, 0.99), Setting(3, True, 0.1, 0.99))
    run = evaluate(normal, abnormal, val_abnormal, seed=0, train_share=0.7, val_share=0.25, grid=grid)
    f1s = [v["f1"] for v in run["validation"]]
    assert run["chosen"] == grid[f1s.index(max(f1s))]
    assert run["sizes"]["test_anomalous"] + run["sizes"]["val_anomalous"] == len(abnormal)
    assert run["sizes"]["test_normal"] == len(test)
    assert run["test"]["tpr"] > 0.85
    assert reweighted(run["test"]["tpr"], run["test"]["fpr_weighted"])[1] > 0.9
