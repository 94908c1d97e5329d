"""``sherlog taxonomy train|predict`` through typer's runner."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.domain import Alert, Incident, IncidentStatus
from tests.taxonomy_history import history, write_csv, write_jsonl

runner = CliRunner()


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("taxonomy-cli")
    rows = history(seed=5)
    rows.append({"id": "INC-9", "title": "ntp drift", "summary": "clock skew", "resolution": "",
                 "labels": "time-keeping", "service": "auth"})
    source = write_jsonl(folder / "history.jsonl", rows)
    out = folder / "team.json"
    result = runner.invoke(app, ["taxonomy", "train", str(source), "--out", str(out), "--group-field", "service",
                                 "--text-fields", "title,summary"])
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from config.settings import get_settings

    path = tmp_path / "sherlog.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\nretrieval: {{backend: memory}}\n")
    monkeypatch.setenv("SHERLOG_CONFIG", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_train_prints_a_per_label_table_and_writes_the_model(model: tuple[Path, str]) -> None:
    out, output = model
    text = _plain(output)
    counts: dict[str, int] = {}
    for row in history(seed=5):
        for label in row["labels"].split(";"):
            counts[label] = counts.get(label, 0) + 1
    for label, n in counts.items():
        assert re.search(rf"{label} +│ +{n} │ +(0|1)\.\d\d │ +0\.\d{{3}} │ learned", output), (label, output)
    assert "time-keeping (1)" in text and "skipped" in text
    assert "grouped cross-validation" in text and "text: title, summary" in text
    saved = json.loads(out.read_text())
    assert saved["labels"] == sorted(counts) and saved["text_fields"] == ["title", "summary"]


def test_predict_prints_scores_and_the_chosen_labels(model: tuple[Path, str], config: Path) -> None:
    out, _ = model
    result = runner.invoke(app, ["taxonomy", "predict", "the nightly airflow ETL failed and warehouse tables are "
                                 "stale", "--model", str(out)])
    assert result.exit_code == 0, result.output
    assert "labels: data-platform" in result.stdout
    assert all(label in result.stdout for label in ("payments-team", "infra", "security"))  # every score shown


def test_predict_an_incident_of_the_store(model: tuple[Path, str], config: Path, tmp_path: Path) -> None:
    from bot.storage import Store

    out, _ = model
    store = Store.open(f"sqlite:///{tmp_path / 'data' / 'sherlog.db'}")
    inc = Incident(title="Payment gateway declines card charges", service="checkout")
    store.save_incident(incident=inc)
    store.add_alert(incident_id=inc.id, alert=Alert(name="PaymentsDeclined", summary="card authorisations declined "
                                                    "by the payment provider", service="checkout"))
    store.close()
    result = runner.invoke(app, ["taxonomy", "predict", "--incident", inc.id, "--model", str(out)])
    assert result.exit_code == 0, result.output
    assert "labels: payments-team" in result.stdout
    missing = runner.invoke(app, ["taxonomy", "predict", "--incident", "inc_nope", "--model", str(out)])
    assert missing.exit_code == 2 and "no incident 'inc_nope'" in missing.output


def test_train_from_the_store_reads_the_incident_label(config: Path, tmp_path: Path) -> None:
    from bot.storage import Store

    store = Store.open(f"sqlite:///{tmp_path / 'data' / 'sherlog.db'}")
    for i, row in enumerate(history(seed=6, per_label=8, mixed=0)):
        status = IncidentStatus.RESOLVED if i % 7 else IncidentStatus.OPEN  # open ones are not history yet
        store.save_incident(incident=Incident(title=row["title"], resolution=row["resolution"], status=status,
                                              labels={"team": row["labels"], "service": row["service"]}))
    store.close()
    out = tmp_path / "from-store.json"
    result = runner.invoke(app, ["taxonomy", "train", "--from-store", "--labels-field", "team", "--out", str(out),
                                 "--min-examples", "3"])
    assert result.exit_code == 0, result.output
    assert "store (incident label 'team')" in _plain(result.output)
    assert set(json.loads(out.read_text())["labels"]) == {"payments-team", "infra", "data-platform", "security"}


@pytest.mark.parametrize(("content", "args", "message"), [
    ("", [], "the file is empty"),
    ("title,labels\ndisk full,infra\n", ["--text-fields", "body"], "unknown text field(s) body"),
    ("title,team\ndisk full,infra\n", [], "no labels field 'labels'"),
    ("title,labels\ndisk full,\nslow db,\n", [], "no record has a label"),
])
def test_bad_input_is_one_clear_error(tmp_path: Path, content: str, args: list[str], message: str) -> None:
    path = tmp_path / "history.csv"
    path.write_text(content)
    result = runner.invoke(app, ["taxonomy", "train", str(path), "--out", str(tmp_path / "m.json"), *args])
    assert result.exit_code == 2, result.output
    assert message in _plain(result.output) and "Traceback" not in result.output
    assert not (tmp_path / "m.json").exists()


def test_labels_that_are_all_too_rare_are_an_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "history.csv", history(seed=7, per_label=4, mixed=0))
    result = runner.invoke(app, ["taxonomy", "train", str(path), "--out", str(tmp_path / "m.json"),
                                 "--min-examples", "6"])
    assert result.exit_code == 2
    assert "no label has at least 6 examples" in _plain(result.output)


def test_predict_errors(tmp_path: Path, config: Path, model: tuple[Path, str]) -> None:
    out, _ = model
    result = runner.invoke(app, ["taxonomy", "predict", "disk full"])
    assert result.exit_code == 2 and "taxonomy.model_path" in _plain(result.output)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = runner.invoke(app, ["taxonomy", "predict", "disk full", "--model", str(broken)])
    assert result.exit_code == 2 and "not a Sherlog taxonomy model" in _plain(result.output)
    result = runner.invoke(app, ["taxonomy", "predict", "--model", str(out)])
    assert result.exit_code == 2 and "either a TEXT or --incident" in _plain(result.output)


def test_help_texts_explain_the_inputs() -> None:
    result = runner.invoke(app, ["taxonomy", "train", "--help"])
    assert result.exit_code == 0
    text = _plain(result.output)
    for option in ("--text-fields", "--labels-field", "--group-field", "--keywords", "--min-examples", "--from-store"):
        assert option in text
    assert "JSON lines" in text
    assert "taxonomy" in _plain(runner.invoke(app, ["--help"]).output)


def test_analyze_shows_the_team_labels_when_a_model_is_configured(model: tuple[Path, str], config: Path) -> None:
    from config.settings import get_settings

    out, _ = model
    bundle = Path(__file__).resolve().parents[1] / "fixtures" / "bundles" / "inventory-disk"
    config.write_text(config.read_text() + f"taxonomy: {{enabled: true, model_path: {out}}}\n")
    get_settings.cache_clear()
    result = runner.invoke(app, ["analyze", str(bundle), "--json", "--no-index"])
    assert result.exit_code == 0, result.output
    labels = json.loads(result.stdout.strip().splitlines()[-1])["team_labels"]
    assert labels and all(set(t) == {"label", "score"} for t in labels)
    report = runner.invoke(app, ["analyze", str(bundle), "--no-index"])
    assert f"team labels {labels[0]['label']}" in _plain(report.stdout.replace("│", " "))
