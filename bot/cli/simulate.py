"""``sherlog simulate``: bundles, datasets, history, the catalog, and live mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bot.cli.common import console, err_console, friendly_errors

app = typer.Typer(help="Simulate incidents: evidence bundles, datasets, history and a live production.",
                  no_args_is_help=True)


@app.command()
@friendly_errors
def bundle(
    kind: Annotated[str, typer.Option(help="Root-cause kind (see `sherlog simulate list`).")],
    out: Annotated[Path, typer.Option(help="Folder to write the bundle into.")],
    service: Annotated[str | None, typer.Option(help="Culprit service (default: drawn from the seed).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    difficulty: Annotated[str, typer.Option(help="easy, normal or hard.")] = "normal",
    vendor: Annotated[str | None, typer.Option(help="Alert format: alertmanager, grafana, pagerduty, opsgenie, "
                                                    "datadog (default: drawn from the seed).")] = None,
    world: Annotated[str | None, typer.Option(help="World: shop or media.")] = None,
) -> None:
    """Write one evidence bundle (with truth.json) and validate it."""
    from bot.simulation import generate_bundle, validate_bundle

    path = generate_bundle(out, kind=kind, service=service, seed=seed, difficulty=difficulty, vendor=vendor,
                           world=world)
    problems = validate_bundle(path)
    for problem in problems:
        err_console.print(f"[red]invalid:[/] {problem}")
    truth = json.loads((path / "truth.json").read_text(encoding="utf-8"))
    console.print(f"bundle written to [bold]{path}[/] (alert on {truth['alert_service']}, {truth['vendor']} format)")
    if problems:
        raise typer.Exit(code=1)


@app.command()
@friendly_errors
def dataset(
    out: Annotated[Path, typer.Option(help="Folder for train/, test/ and manifest.jsonl.")],
    n: Annotated[int, typer.Option(help="Number of bundles.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed (the dataset is deterministic for it).")] = 0,
    test_fraction: Annotated[float, typer.Option(help="Share of cases (and of each kind's families) in the test "
                                                      "split.")] = 0.3,
    workers: Annotated[int, typer.Option(help="Processes writing bundles.")] = 1,
    history: Annotated[bool, typer.Option(help="Write each bundle's history/ (past incidents, runbooks).")] = True,
    only: Annotated[str | None, typer.Option(help="Write only this split (train or test).")] = None,
) -> None:
    """Write N bundles split into train/test; no (kind, world, culprit service) family is in both splits, and the
    test families are the same for every seed at a test fraction."""
    from bot.domain.errors import InputError
    from bot.simulation import generate_dataset
    from bot.simulation.dataset import read_manifest

    if only not in (None, "train", "test"):
        raise InputError(f"--only must be train or test, not {only!r}")
    splits = (only,) if only else ("train", "test")
    root = generate_dataset(out, n=n, seed=seed, test_fraction=test_fraction, workers=workers, history=history,
                            splits=splits)
    cases = [c for c in read_manifest(root) if c.split in splits]
    n_test = sum(1 for c in cases if c.split == "test")
    console.print(f"dataset written to [bold]{root}[/]: {len(cases) - n_test} train, {n_test} test bundles")


@app.command()
@friendly_errors
def history(
    out: Annotated[Path, typer.Option(help="Folder for incidents/ and runbooks/.")],
    n: Annotated[int, typer.Option(help="Number of past incidents.")] = 40,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    world: Annotated[str, typer.Option(help="World: shop or media.")] = "shop",
) -> None:
    """Write past incidents (with resolutions) and runbooks as Markdown with YAML front matter."""
    from bot.simulation import generate_history

    root = generate_history(out, n_incidents=n, seed=seed, world=world)
    console.print(f"history written to [bold]{root}[/]: {n} incidents, "
                  f"{len(list((root / 'runbooks').glob('*.md')))} runbooks")


@app.command("list")
def list_kinds() -> None:
    """The fault catalog: every kind, its category and where it can happen."""
    from bot.domain.vocabulary import ALL_KINDS, category_of
    from bot.simulation.faults import CATALOG

    table = Table("kind", "category", "targets", "change-induced", "alert")
    for kind in ALL_KINDS:
        spec = CATALOG[kind]
        change = f"{spec.change.kind} ({spec.change.probability:.0%})" if spec.change else "-"
        table.add_row(kind, category_of(kind).value, ", ".join(spec.targets), change, spec.alert)
    console.print(table)
    console.print("worlds: shop, media · difficulties: easy, normal, hard · "
                  "vendors: alertmanager, grafana, pagerduty, opsgenie, datadog")


@app.command()
def validate(path: Annotated[Path, typer.Argument(help="A bundle folder.")]) -> None:
    """Check a bundle folder against the evidence-bundle format."""
    from bot.simulation import validate_bundle

    problems = validate_bundle(path)
    for problem in problems:
        console.print(f"[red]•[/] {problem}")
    if problems:
        raise typer.Exit(code=1)
    console.print(f"[green]{path} is a valid bundle[/]")


@app.command()
@friendly_errors
def live(
    kind: Annotated[str, typer.Option(help="Fault to inject.")] = "db_connection_exhaustion",
    service: Annotated[str | None, typer.Option(help="Culprit service.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    port: Annotated[int, typer.Option(help="Port of the Prometheus /metrics endpoint (0: any free port).")] = 9109,
    host: Annotated[str, typer.Option(help="Address to bind /metrics to.")] = "127.0.0.1",
    logs_dir: Annotated[Path, typer.Option(help="Where to stream logs/<service>.log.")] = Path("sim-live/logs"),
    sherlog_url: Annotated[str | None, typer.Option(help="Running Sherlog to POST the alert to (its "
                                                         "/api/v1/alerts/<vendor> intake), e.g. "
                                                         "http://127.0.0.1:8000")] = None,
    token: Annotated[str | None, typer.Option(help="Intake bearer token (default: intake.token of the "
                                                   "settings).")] = None,
    vendor: Annotated[str, typer.Option(help="Alert format to post.")] = "alertmanager",
    speed: Annotated[float, typer.Option(help="Simulated minutes per real second.")] = 6.0,
    duration: Annotated[float, typer.Option(help="Stop after this many real seconds.")] = 60.0,
) -> None:
    """Run a simulated production: /metrics, a log stream, and the alert webhook when the fault fires."""
    import httpx

    from bot.simulation.live import LiveSimulation
    from config.settings import load_settings

    if token is None and sherlog_url:
        configured = load_settings().intake.token
        token = configured.get_secret_value() if configured else None
    with httpx.Client(timeout=10.0) as client:
        sim = LiveSimulation(kind=kind, service=service, seed=seed, logs_dir=logs_dir, webhook_url=sherlog_url,
                             http=client, speed=speed, vendor=vendor, token=token)
        bound = sim.serve_metrics(host=host, port=port)
        err_console.print(f"[dim]serving http://{host}:{bound}/metrics; logs in {logs_dir}; "
                          f"running {duration:.0f}s at {speed:g} simulated min/s[/]")
        try:
            summary = sim.run(duration_s=duration)
        finally:
            sim.close()
    console.print(json.dumps(summary))
