import numpy as np
import pytest

from bot.domain import InputError
from bot.reasoning.taxonomy import TaxonomyClassifier


def _history() -> tuple[list[str], list[str], list[list[str]], list[str]]:
    texts, heads, labels, groups = [], [], [], []
    for i in range(10):
        texts.append(f"the team noticed errors in batch {i} and rolled back")
        heads.append("bad config flag pushed")
        labels.append(["config-change"])
        texts.append(f"the team noticed errors in batch {i} and replaced parts")
        heads.append("disk controller failed in rack")
        labels.append(["hardware"])
        groups += [f"company-{i}", f"company-{i}"]
    return texts, heads, labels, groups


def test_head_view_and_embedding_views_drive_the_labels_with_grouped_thresholds() -> None:
    texts, heads, labels, groups = _history()
    rng = np.random.default_rng(0)
    signal = np.array([[1.0, 0.0] if ls == ["config-change"] else [0.0, 1.0] for ls in labels])
    noise = rng.normal(size=(len(texts), 3))
    clf = TaxonomyClassifier().fit(texts, labels, embeddings=[signal, noise], heads=heads, groups=groups)
    assert set(clf.thresholds) == {"config-change", "hardware"}
    preds = clf.predict(["errors again"] * 2, embeddings=[np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros((2, 3))],
                        heads=["config flag pushed", "disk failed in rack"])
    assert preds[0].labels == ["config-change"]
    assert preds[1].labels == ["hardware"]
    assert preds[0].scores["config-change"] > preds[0].scores["hardware"]


def test_a_taxonomy_trained_with_heads_refuses_to_predict_without_them() -> None:
    texts, heads, labels, _ = _history()
    clf = TaxonomyClassifier(tune_thresholds=False).fit(texts, labels, heads=heads)
    with pytest.raises(InputError):
        clf.predict(["errors again"])
    with pytest.raises(InputError):
        TaxonomyClassifier().predict(["never trained"])
