"""The ``sherlog`` command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from bot.cli.common import configure_logging, console, err_console, friendly_errors, setup_environment
from bot.cli.registry import LazySubcommandGroup
from bot.domain import BundleError, ConfigError, category_of
from config.masking import mask_url

setup_environment()

app = typer.Typer(
    cls=LazySubcommandGroup,  # the other areas' sub-commands (bot/cli/registry.py), imported when named
    name="sherlog",
    help="Sherlog: an incident-response assistant. Alerts in; ranked root causes with evidence, "
    "recommended steps and similar past incidents out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
config_app = typer.Typer(help="Inspect and validate the configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML file with your settings (default: $SHERLOG_CONFIG).",
                 envvar="SHERLOG_CONFIG", exists=False),
]
_config_path: Path | None = None


@app.callback()
def main(config: ConfigOpt = None, log_level: Annotated[str, typer.Option(help="Log level.")] = "WARNING") -> None:
    """Global options; run `sherlog COMMAND --help` for each command."""
    global _config_path
    _config_path = config
    configure_logging(log_level)
    if config is not None:
        import config.settings as cs

        cs.get_settings.cache_clear()
        import os

        os.environ["SHERLOG_CONFIG"] = str(config)


def _settings():  # type: ignore[no-untyped-def]
    from config.settings import load_settings

    return load_settings(_config_path)


@config_app.command("check")
@friendly_errors
def config_check(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of YAML.")] = False,
) -> None:
    """Validate the configuration and print the effective settings, secrets masked."""
    try:
        settings = _settings()
    except ConfigError as e:
        err_console.print(f"[bold red]configuration error[/]: {e}", soft_wrap=True, highlight=False)
        raise typer.Exit(code=2) from None
    data = settings.masked()
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        typer.echo(yaml.safe_dump(data, sort_keys=False, default_flow_style=False).rstrip())
    err_console.print(f"[green]configuration OK[/] (database: {mask_url(settings.database_url)})")


@app.command()
@friendly_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    workers: Annotated[int, typer.Option(help="Uvicorn worker processes.")] = 1,
    all_roles: Annotated[bool, typer.Option(
        "--all/--api", help="--all (default): API + analysis + delivery + scheduled jobs in this process; "
                            "--api: the API role only (run `sherlog worker` and `sherlog scheduler` beside it).")] = True,
) -> None:
    """Run the HTTP API (alert webhooks, incidents, chat surfaces, dashboard), by default with every role."""
    import uvicorn

    from bot.api.app import create_app
    from bot.pipeline.wiring import Role

    settings = _settings()
    configure_logging(settings.log_level)
    if workers > 1:
        from bot.api.guards import open_intake_note

        note = open_intake_note(settings, host)  # each worker's app does not know the address
        if note:
            err_console.print(f"[bold yellow]warning[/]: {note}", soft_wrap=True, highlight=False)
        target = "bot.api.asgi:app" if all_roles else "bot.api.asgi_api:api_app"
        uvicorn.run(target, host=host, port=port, workers=workers, log_level="warning", factory=not all_roles)
    else:
        uvicorn.run(create_app(settings, role=Role.ALL if all_roles else Role.API, bind_host=host), host=host,
                    port=port, log_level="warning")


def _analysis_pipeline(settings, *, use_index: bool):  # type: ignore[no-untyped-def]
    from bot.pipeline import Pipeline
    from retrieval import Retriever

    retriever = None
    if use_index and not Retriever.index_known_empty(settings):  # an empty index is not opened (nor Chroma loaded)
        candidate = Retriever.from_settings(settings)
        if candidate.count() > 0:
            retriever = candidate
    return Pipeline(settings=settings, store=None, retriever=retriever)


@app.command()
@friendly_errors
def analyze(
    bundle: Annotated[Path, typer.Argument(help="Evidence bundle folder (alert.json, logs/, metrics/, ...).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a report.")] = False,
    use_index: Annotated[bool, typer.Option("--index/--no-index",
                                            help="Also search the ingested history (sherlog ingest).")] = True,
) -> None:
    """Analyse one evidence bundle and print ranked root causes with their evidence."""
    from bot.pipeline import load_bundle
    from bot.render.terminal import analysis_json, render_report

    settings = _settings()
    context, report = load_bundle(bundle)
    pipeline = _analysis_pipeline(settings, use_index=use_index)
    analysis = pipeline.analyze_context(context, lacked=report.lacked)
    analysis.notes.extend(report.problems)
    if as_json:
        typer.echo(json.dumps(analysis_json(context.incident, analysis), default=str))
    else:
        render_report(context.incident, analysis, console=console)


@app.command("eval")
@friendly_errors
def evaluate(
    folder: Annotated[Path, typer.Argument(help="Folder of evaluation bundles (each with truth.json).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    limit: Annotated[int, typer.Option(help="Evaluate at most this many bundles (0 = all).")] = 0,
    with_llm: Annotated[bool, typer.Option("--llm", help="Also score the configured LLM (AC@1/AC@3, tokens, "
                                                         "cost, latency per case); says so when none is.")] = False,
) -> None:
    """Score Sherlog on bundles with truth.json: AC@1, AC@3, category accuracy, calibration, latency."""
    from rich.progress import track

    from bot.pipeline.evaluation import NO_LLM, evaluate_bundles, evaluation_llm, find_bundles

    settings = _settings()
    bundles = find_bundles(folder)
    if not bundles:
        raise BundleError(f"{folder}: no bundles found (folders holding alert.json)")
    if limit:
        bundles = bundles[:limit]
    pipeline = _analysis_pipeline(settings, use_index=False)
    llm = evaluation_llm(settings) if with_llm else None
    result = evaluate_bundles(
        bundles, pipeline=pipeline, llm=llm,
        progress=lambda it: track(it, description="evaluating", console=err_console, disable=as_json),
    )
    if with_llm and llm is None:
        result["llm"] = {"configured": False, "note": NO_LLM}
    if as_json:
        typer.echo(json.dumps(result))
        return
    from rich.table import Table

    table = Table(title=f"Evaluation on {folder} ({result['cases']} cases)")
    for col in ("kind", "cases", "AC@1", "AC@3", "category", "ECE", "p50 ms"):
        table.add_column(col)
    for kind, row in sorted(result["per_kind"].items()):
        table.add_row(kind, str(row["cases"]), f"{row['top1']:.2f}", f"{row['top3']:.2f}",
                      f"{row['category_accuracy']:.2f}", f"{row['calibration_error']:.2f}", f"{row['p50_ms']:.0f}")
    table.add_row("[bold]overall", str(result["cases"]), f"{result['top1']:.3f}", f"{result['top3']:.3f}",
                  f"{result['category_accuracy']:.3f}", f"{result['calibration_error']:.3f}",
                  f"{result['p50_ms']:.0f}")
    console.print(table)
    console.print(f"calibration error (ECE) {result['calibration_error']:.3f} · latency p50 {result['p50_ms']:.0f} ms"
                  f" · p95 {result['p95_ms']:.0f} ms")
    if with_llm:
        _print_llm_evaluation(result["llm"])


def _print_llm_evaluation(figures: dict[str, Any]) -> None:
    from rich.table import Table

    if not figures.get("per_case") and figures.get("configured") is False:
        console.print(f"LLM: {figures['note']}")
        return
    table = Table(title=f"With the LLM {figures['provider']}:{figures['model']}"
                        f"{' (investigating)' if figures['investigate'] else ''}")
    for col in ("case", "rank", "rank with LLM", "used", "tokens in/out", "cost USD", "latency ms", "tools"):
        table.add_column(col)
    for row in figures["per_case"]:
        table.add_row(row["case"], str(row["rank"] or "-"), str(row["rank_llm"] or "-"),
                      "yes" if row["used"] else f"no: {row['fallback_reason']}"[:60],
                      f"{row['prompt_tokens']}/{row['completion_tokens']}", f"{row['cost_usd']:.4f}",
                      f"{row['latency_ms']:.0f}", str(row["tool_calls"]))
    console.print(table)
    console.print(f"with the LLM: AC@1 {figures['top1']:.3f} · AC@3 {figures['top3']:.3f} · "
                  f"tokens {figures['prompt_tokens']}/{figures['completion_tokens']} · cost {figures['cost_usd']:.4f} USD"
                  f" · LLM latency p50 {figures['latency_p50_ms']:.0f} ms · fallbacks {figures['fallbacks']}")


@app.command()
@friendly_errors
def demo(
    out: Annotated[Path, typer.Option(help="Where to write the generated demo bundle.")] = Path("demo-out"),
    seed: Annotated[int, typer.Option(help="Random seed of the simulated incident.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of the report.")] = False,
) -> None:
    """Generate a realistic incident (DB pool exhaustion after a checkout deploy) and analyse it offline."""
    from bot.pipeline import load_bundle
    from bot.render.terminal import analysis_json, render_report
    from bot.simulation import generate_bundle

    settings = _settings()
    err_console.print("[dim]generating a simulated incident bundle ...[/]")
    bundle = generate_bundle(out / "bundle", kind="db_connection_exhaustion", service="checkout", seed=seed)
    err_console.print(f"[dim]bundle written to {bundle}; analysing on the embedded defaults (no network, no LLM)[/]")
    context, report = load_bundle(bundle)
    pipeline = _analysis_pipeline(settings, use_index=False)
    analysis = pipeline.analyze_context(context, lacked=report.lacked)
    if as_json:
        typer.echo(json.dumps(analysis_json(context.incident, analysis), default=str))
    else:
        render_report(context.incident, analysis, console=console)
    if report.truth is not None:
        top = analysis.top
        hit = top is not None and (top.service, top.kind) == (report.truth.root_cause_service,
                                                              report.truth.root_cause_kind)
        err_console.print(
            f"[bold]{'✔' if hit else '✘'} ground truth[/]: {report.truth.root_cause_kind} in "
            f"{report.truth.root_cause_service} (category {category_of(report.truth.root_cause_kind).value}); "
            f"Sherlog's first answer: {top.kind + ' in ' + top.service if top else 'none'}"
        )


if __name__ == "__main__":  # pragma: no cover
    app()
