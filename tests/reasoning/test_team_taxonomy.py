"""Team taxonomy as a product path: labelled history in, saved model, labelled analyses and messages out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.domain import Analysis, InputError, TeamLabel
from bot.pipeline import Pipeline, load_bundle
from bot.reasoning.team_taxonomy import (
    FORMAT_VERSION,
    TaxonomyModelError,
    TeamTaxonomy,
    incident_text,
    load_model,
    read_history,
    read_keywords,
    save_model,
    split_labels,
    train_taxonomy,
)
from bot.render.common import facts
from bot.render.slack import slack_blocks
from bot.render.teams import teams_card
from tests.taxonomy_history import history, write_csv, write_jsonl

BUNDLE = Path(__file__).resolve().parents[1] / "fixtures" / "bundles" / "inventory-disk"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[TeamTaxonomy, Path, object]:
    folder = tmp_path_factory.mktemp("taxonomy")
    rows = history(seed=1)
    rows += [{"id": "INC-9001", "title": "ntp drift broke token expiry", "summary": "clock skew", "resolution": "",
              "labels": "time-keeping", "service": "auth"},
             {"id": "INC-9002", "title": "leap second froze a job", "summary": "", "resolution": "",
              "labels": "time-keeping;infra", "service": "auth"}]
    csv_path = write_csv(folder / "history.csv", rows)
    hist = read_history(csv_path, group_field="service")
    model, report = train_taxonomy(hist, min_examples=5)
    out = folder / "model.json"
    save_model(model, out, report=report, source=hist.source, text_fields=hist.text_fields)
    return load_model(out), out, report


def test_labels_split_on_semicolons_or_as_json_lists() -> None:
    assert split_labels("infra; payments-team ;") == ["infra", "payments-team"]
    assert split_labels('["infra", "data-platform", "infra"]') == ["infra", "data-platform"]
    assert split_labels(["a", " b "]) == ["a", "b"]
    assert split_labels(None) == [] and split_labels("") == []


def test_csv_and_json_lines_histories_read_the_same(tmp_path: Path) -> None:
    rows = history(seed=2)
    a = read_history(write_csv(tmp_path / "h.csv", rows))
    b = read_history(write_jsonl(tmp_path / "h.jsonl", rows))
    assert a.text_fields == ["title", "summary", "resolution"]  # the usual fields present, in that order
    assert a.texts == b.texts and a.labels == b.labels
    assert any(len(ls) == 2 for ls in a.labels)


@pytest.mark.parametrize(("content", "kwargs", "message"), [
    ("", {}, "empty"),
    ("title,labels\n", {}, "no records"),
    ("title,labels\ndisk full,infra\n", {"text_fields": ["title", "body"]}, "unknown text field(s) body"),
    ("title,tags\ndisk full,infra\n", {}, "no labels field 'labels'"),
    ("title,labels\ndisk full,infra\n", {"group_field": "team"}, "unknown group field 'team'"),
    ("title,labels\ndisk full,\nslow db,\n", {}, "no record has a label"),
    ("name,labels\ndisk full,infra\n", {}, "none of the usual text fields"),
])
def test_bad_histories_are_clear_errors(tmp_path: Path, content: str, kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    path = tmp_path / "h.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_history(path, **kwargs)
    assert message in str(err.value)


def test_a_bad_json_line_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text('{"title": "a", "labels": "infra"}\n{"title": oops}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"h.jsonl:2"):
        read_history(path)


def test_clear_new_incidents_get_their_team_labels(trained: tuple[TeamTaxonomy, Path, object]) -> None:
    taxonomy, _, _ = trained
    cases = {
        "payment gateway declined card charges at checkout": "payments-team",
        "the ingress TLS certificate expired and load balancer health checks failed": "infra",
        "the nightly airflow ETL failed, warehouse tables stale": "data-platform",
        "leaked credentials: an API key was pushed to a public repository": "security",
    }
    for text, expected in cases.items():
        got = taxonomy.label(text)
        assert got and got[0].label == expected, (text, got)
    both = {t.label for t in taxonomy.label("payments could not be captured at checkout while DNS resolution "
                                            "timed out inside the cluster")}
    assert {"payments-team", "infra"} <= both


def test_rare_labels_are_skipped_and_reported(trained: tuple[TeamTaxonomy, Path, object]) -> None:
    taxonomy, _, report = trained
    assert report.skipped == {"time-keeping": 2}  # type: ignore[attr-defined]
    assert "time-keeping" not in taxonomy.labels
    rows = {r.label: r for r in report.labels}  # type: ignore[attr-defined]
    assert set(rows) == {"payments-team", "infra", "data-platform", "security"}
    assert all(r.f1 is not None and 0.0 <= r.f1 <= 1.0 for r in rows.values())
    assert rows["infra"].support > rows["security"].support


def test_no_label_with_enough_examples_is_an_error(tmp_path: Path) -> None:
    rows = history(seed=3)
    hist = read_history(write_csv(tmp_path / "h.csv", rows))
    with pytest.raises(InputError, match="no label has at least 500 examples"):
        train_taxonomy(hist, min_examples=500)


def test_the_saved_model_is_plain_json_and_scores_like_the_trained_one(tmp_path: Path) -> None:
    hist = read_history(write_csv(tmp_path / "h.csv", history(seed=4)))
    model, report = train_taxonomy(hist, min_examples=5, folds=2)
    path = tmp_path / "m.json"
    save_model(model, path, report=report)
    data = json.loads(path.read_text())
    assert data["version"] == FORMAT_VERSION and data["labels"] == model.labels
    texts = ["payment provider timed out", "dns timeouts in the cluster", "dbt model broke"]
    np.testing.assert_allclose(load_model(path).classifier.predict_scores(texts), model.predict_scores(texts))


def test_unusable_model_files_are_refused_clearly(tmp_path: Path, trained: tuple[TeamTaxonomy, Path, object]) -> None:
    _, good, _ = trained
    with pytest.raises(TaxonomyModelError, match="not found"):
        load_model(tmp_path / "missing.json")
    junk = tmp_path / "junk.json"
    junk.write_bytes(b"\x80\x04\x95 pickle bytes")
    with pytest.raises(TaxonomyModelError, match="retrain"):
        load_model(junk)
    data = json.loads(good.read_text())
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({**data, "version": FORMAT_VERSION + 1}))
    with pytest.raises(TaxonomyModelError, match=f"format version {FORMAT_VERSION + 1}"):
        load_model(newer)
    damaged = tmp_path / "damaged.json"
    data["views"][0]["models"] = data["views"][0]["models"][:1]
    damaged.write_text(json.dumps(data))
    with pytest.raises(TaxonomyModelError, match="damaged"):
        load_model(damaged)


def test_a_keywords_file_must_map_labels_to_lists(tmp_path: Path) -> None:
    good = tmp_path / "k.yaml"
    good.write_text("security: [leak*, brute force]\n")
    assert read_keywords(good) == {"security": ["leak*", "brute force"]}
    bad = tmp_path / "bad.yaml"
    bad.write_text("security: leak\n")
    with pytest.raises(InputError, match="list of words"):
        read_keywords(bad)


# ---- analyses ---------------------------------------------------------------------------------


def _settings(tmp_path: Path, **taxonomy: object):  # type: ignore[no-untyped-def]
    from config.settings import load_settings

    return load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"}, taxonomy=taxonomy)


def test_an_analysis_carries_team_labels_and_they_are_stored(tmp_path: Path, store,  # type: ignore[no-untyped-def]
                                                             trained: tuple[TeamTaxonomy, Path, object]) -> None:
    taxonomy, model_path, _ = trained
    context, report = load_bundle(BUNDLE)
    analysis = Pipeline(settings=_settings(tmp_path, enabled=True, model_path=str(model_path))).analyze_context(
        context, lacked=report.lacked)
    # the inventory disk filled up: the team files such incidents under infra
    assert analysis.team_labels and analysis.team_labels[0].label == "infra"
    assert [t.label for t in analysis.team_labels] == [t.label for t in taxonomy.label(incident_text(context, analysis))]
    assert not any("team labels" in n for n in analysis.notes)
    store.save_incident(incident=context.incident)
    store.save_analysis(analysis=analysis)
    assert store.latest_analysis(incident_id=context.incident.id).team_labels == analysis.team_labels


def test_min_score_hides_weak_labels(tmp_path: Path, trained: tuple[TeamTaxonomy, Path, object]) -> None:
    _, model_path, _ = trained
    context, _ = load_bundle(BUNDLE)
    analysis = Pipeline(settings=_settings(tmp_path, enabled=True, model_path=str(model_path), min_score=1.0)
                        ).analyze_context(context)
    assert analysis.team_labels == []


def test_a_broken_or_missing_model_is_a_note_not_a_lost_analysis(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "sherlog-taxonomy", "version": 1, "labels": ["infra"]}')
    context, _ = load_bundle(BUNDLE)
    for path, says in ((broken, "damaged"), (tmp_path / "gone.json", "not found")):
        analysis = Pipeline(settings=_settings(tmp_path, enabled=True, model_path=str(path))).analyze_context(context)
        assert analysis.hypotheses and analysis.category.label == "storage"
        assert analysis.team_labels == []
        assert any(n.startswith("team labels unavailable") and says in n for n in analysis.notes), analysis.notes
    analysis = Pipeline(settings=_settings(tmp_path, enabled=True)).analyze_context(context)
    assert any("taxonomy.model_path is not set" in n for n in analysis.notes)


def test_without_taxonomy_settings_there_are_no_team_labels(settings) -> None:  # type: ignore[no-untyped-def]
    context, _ = load_bundle(BUNDLE)
    analysis = Pipeline(settings=settings).analyze_context(context)
    assert analysis.team_labels == [] and not any("team labels" in n for n in analysis.notes)


def test_analyses_stored_before_team_labels_still_load() -> None:
    old = {"id": "ana_1", "incident_id": "inc_1", "category": {"label": "storage", "confidence": 0.8}}
    assert Analysis.model_validate(old).team_labels == []


def test_team_labels_are_rendered_next_to_the_category() -> None:
    from tests.render.factories import incident

    inc = incident()
    analysis = Analysis(incident_id=inc.id, team_labels=[TeamLabel(label="payments-team", score=0.91),
                                                         TeamLabel(label="infra", score=0.64)])
    pairs = dict(facts(inc, analysis))
    assert pairs["Team labels"] == "payments-team (91%), infra (64%)"
    assert list(pairs).index("Team labels") == list(pairs).index("Category") + 1
    assert "payments-team (91%), infra (64%)" in json.dumps(slack_blocks(inc, analysis))
    assert "payments-team (91%), infra (64%)" in json.dumps(teams_card(inc, analysis))
    assert "Team labels" not in dict(facts(inc, Analysis(incident_id=inc.id)))
