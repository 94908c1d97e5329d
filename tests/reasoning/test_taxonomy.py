import numpy as np
import pytest

from bot.domain import InputError
from bot.reasoning.taxonomy import TaxonomyClassifier, _simplest_within_one_se


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


def _rare_label_history() -> tuple[list[str], list[list[str]], list[str]]:
    """A rare label whose examples share no learnable words but each names one lexicon term."""
    texts, labels, groups = [], [], []
    terms = ["ntp drifted", "a leap second", "clock skew grew", "the time zone table", "daylight saving began",
             "clocks disagreed", "a leap year came"]
    causes = ["a bad config push", "a slow query", "a full disk", "a memory leak"]
    for i in range(48):
        text = f"service {i} failed after {causes[i % 4]} in region {i}"
        if i % 7 == 3:  # spread over every cause
            texts.append(f"{text} {terms[i // 7]}")
            labels.append(["time"])
        else:
            texts.append(text)
            labels.append(["config-change"] if i % 4 == 0 else ["other"])
        groups.append(f"company-{i // 2}")
    return texts, labels, groups


def test_a_lexicon_lets_a_rare_label_be_found_and_the_mode_is_chosen_on_training_data() -> None:
    texts, labels, groups = _rare_label_history()
    lexicon = {"time": ["ntp", "leap second*", "clock*", "time zone*", "daylight saving*"], "config-change": ["config*"]}
    clf = TaxonomyClassifier(lexicon=lexicon).fit(texts, labels, groups=groups)
    assert clf.modes["time"] in {"stacked", "lexicon"}
    preds = clf.predict(["service 99 failed after a slow query in region 99 ntp lied",
                         "service 98 failed after a bad config push in region 98"])
    assert "time" in preds[0].labels
    assert "time" not in preds[1].labels
    assert "config-change" in preds[1].labels
    hits = clf.lexicon_hits(["NTP and clocks", "nothing here"])
    assert hits[0, clf.labels.index("time")] == pytest.approx(np.log1p(2))
    assert hits[1].sum() == 0


def test_without_a_lexicon_every_label_is_learned() -> None:
    texts, labels, groups = _rare_label_history()
    clf = TaxonomyClassifier().fit(texts, labels, groups=groups)
    assert set(clf.modes.values()) == {"learned"}


def test_a_malformed_lexicon_is_refused() -> None:
    with pytest.raises(InputError):
        TaxonomyClassifier(lexicon={"time": "ntp"})
    with pytest.raises(InputError):
        TaxonomyClassifier(lexicon=["ntp"])  # type: ignore[arg-type]


def _blocks(n: int, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """k contiguous folds, each with the same mix of positives and negatives."""
    fold = np.arange(n) * k // n
    return [(np.where(fold != f)[0], np.where(fold == f)[0]) for f in range(k)]


def test_a_simpler_decision_within_fold_noise_of_the_best_is_kept() -> None:
    y = np.array([1, 0] * 20)
    learned = y.astype(bool)
    lexicon = learned.copy()
    lexicon[[0, 4]] = False  # two misses, both in the first fold: better pooled, but only one fold says so
    assert _simplest_within_one_se(y, {"lexicon": lexicon, "learned": learned}, _blocks(40, 4)) == "lexicon"


def test_a_complex_decision_better_in_every_fold_is_chosen() -> None:
    y = np.array([1, 0] * 20)
    learned = y.astype(bool)
    lexicon = np.arange(40) % 4 == 0  # half the positives, in every fold
    assert _simplest_within_one_se(y, {"lexicon": lexicon, "learned": learned}, _blocks(40, 4)) == "learned"
