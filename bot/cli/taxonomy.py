"""``sherlog taxonomy train|predict``: a team's own incident labels, learned from its labelled history.

Registered by the main CLI (bot/cli/registry.py) as ``app.add_typer(app, name="taxonomy")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bot.cli.common import console, err_console, friendly_errors
from bot.domain import InputError

app = typer.Typer(
    help="Team labels: learn your team's own incident categories (multi-label) from labelled history, "
    "then label new incidents. Enable them in analyses with the `taxonomy` settings.",
    no_args_is_help=True,
)


def _settings():  # type: ignore[no-untyped-def]
    from config.settings import get_settings

    return get_settings()


@app.command("train")
@friendly_errors
def train(
    file: Annotated[Path | None, typer.Argument(
        help="Labelled history: CSV (header row) or JSON lines (one object per line). Each record has text "
        "fields and a labels field with one or more labels separated by ';' or as a JSON list.",
        show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the model (JSON).")] = Path(
        ".sherlog/taxonomy.json"),
    text_fields: Annotated[list[str] | None, typer.Option(
        "--text-fields", help="Field(s) holding the text, repeat or comma-separate "
        "(default: those present of title, summary, description, root_cause, resolution, text).")] = None,
    labels_field: Annotated[str, typer.Option("--labels-field", help="Field holding the labels.")] = "labels",
    group_field: Annotated[str | None, typer.Option(
        "--group-field", help="Records sharing this field's value (e.g. a service or an outage) stay in one "
        "cross-validation fold, so near-duplicates do not inflate the F1.")] = None,
    keywords: Annotated[Path | None, typer.Option(
        "--keywords", help="YAML: label -> list of words or phrases speaking for it ('*' matches any word "
        "ending); helps rare labels. Used only where cross-validation on your history shows it helps.")] = None,
    min_examples: Annotated[int, typer.Option(
        "--min-examples", min=2, help="Labels with fewer examples are skipped (listed with a warning).")] = 5,
    from_store: Annotated[bool, typer.Option(
        "--from-store", help="Train on Sherlog's own resolved incidents instead of FILE; their labels are read "
        "from the incident label named by --labels-field (e.g. a 'team' alert label).")] = False,
) -> None:
    """Learn a team taxonomy from labelled incidents; print a per-label table and save the model."""
    from bot.reasoning.team_taxonomy import (
        history_from_incidents,
        read_history,
        read_keywords,
        save_model,
        train_taxonomy,
    )

    fields = [f.strip() for item in (text_fields or []) for f in item.split(",") if f.strip()] or None
    if from_store:
        if file is not None:
            raise InputError("give either FILE or --from-store, not both")
        from bot.pipeline.wiring import open_store

        store = open_store(_settings())
        try:
            incidents = [store.get_incident(incident_id=inc.id) for inc in
                         store.list_incidents(status="resolved", limit=100_000)]
        finally:
            store.close()
        history = history_from_incidents(incidents, label_key=labels_field)
    else:
        if file is None:
            raise InputError("give the labelled history FILE (CSV or JSON lines), or --from-store")
        history = read_history(file, text_fields=fields, labels_field=labels_field, group_field=group_field)
    lexicon = read_keywords(keywords) if keywords is not None else None
    if history.skipped_rows:
        err_console.print(f"[yellow]warning:[/] {history.skipped_rows} record(s) without text skipped")
    err_console.print(f"[dim]training on {len(history.texts)} incidents from {history.source} "
                      f"(text: {', '.join(history.text_fields)}) ...[/]")
    model, report = train_taxonomy(history, min_examples=min_examples, keywords=lexicon)
    if report.skipped:
        err_console.print(f"[yellow]warning:[/] {len(report.skipped)} label(s) with fewer than {min_examples} "
                          "examples skipped: " + ", ".join(f"{k} ({v})" for k, v in report.skipped.items()),
                          soft_wrap=True, highlight=False)
    if lexicon:
        unknown = sorted(set(lexicon) - {r.label for r in report.labels})
        if unknown:
            err_console.print(f"[yellow]warning:[/] keywords for unknown or skipped label(s): {', '.join(unknown)}",
                              soft_wrap=True, highlight=False)
    table = Table(title=f"Team taxonomy: {len(report.labels)} labels, {report.examples} incidents")
    for col, justify in (("label", "left"), ("support", "right"), ("CV F1", "right"), ("threshold", "right"),
                         ("mode", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for row in report.labels:
        table.add_row(row.label, str(row.support), "—" if row.f1 is None else f"{row.f1:.2f}",
                      f"{row.threshold:.3f}" if row.mode != "lexicon" else "any hit", row.mode)
    console.print(table)
    console.print(f"F1: {report.cv}; '—': too few examples to estimate.", highlight=False)
    save_model(model, out, report=report, source=history.source, text_fields=history.text_fields)
    console.print(f"model written to {out}; enable it with taxonomy.enabled: true and taxonomy.model_path: {out}",
                  soft_wrap=True, highlight=False)


@app.command("predict")
@friendly_errors
def predict(
    text: Annotated[str | None, typer.Argument(help="Incident text to label.", show_default=False)] = None,
    incident: Annotated[str | None, typer.Option(
        "--incident", help="Label a stored incident instead (its alerts, latest analysis and signals).")] = None,
    model: Annotated[Path | None, typer.Option(
        "--model", "-m", help="Model file (default: taxonomy.model_path of the settings).")] = None,
) -> None:
    """Print every label's score for a text or a stored incident; chosen labels are marked."""
    from bot.reasoning.team_taxonomy import incident_text, load_model

    settings = _settings()
    path = model or settings.taxonomy.model_path
    if path is None:
        raise InputError("no model: pass --model PATH or set taxonomy.model_path in the settings")
    if (text is None) == (incident is None):
        raise InputError("give either a TEXT or --incident ID")
    taxonomy = load_model(Path(path))
    if incident is not None:
        from bot.pipeline.wiring import open_store

        store = open_store(settings)
        try:
            inc = store.get_incident(incident_id=incident)
            text = incident_text(inc, store.latest_analysis(incident_id=incident))
        finally:
            store.close()
    assert text is not None
    if not text.strip():
        raise InputError("the text to label is empty")
    chosen = {t.label for t in taxonomy.label(text, min_score=settings.taxonomy.min_score)}
    scores = taxonomy.score([text])[0]
    table = Table(title="Team labels")
    table.add_column("label")
    table.add_column("score", justify="right")
    table.add_column("threshold", justify="right")
    table.add_column("chosen")
    for label, score in sorted(scores.items(), key=lambda kv: -kv[1]):
        table.add_row(label, f"{score:.3f}", f"{taxonomy.classifier.thresholds.get(label, 0.5):.3f}",
                      "yes" if label in chosen else "")
    console.print(table)
    console.print("labels: " + (", ".join(sorted(chosen, key=lambda k: -scores[k])) or "none"), highlight=False)
