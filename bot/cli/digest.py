"""``sherlog digest``: the weekly reliability digest, previewed to a file or sent now."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.common import console, err_console, friendly_errors

if TYPE_CHECKING:
    from bot.pipeline import Pipeline

app = typer.Typer(help="The weekly reliability digest (incidents, MTTR, recurring causes, follow-ups, chart).",
                  no_args_is_help=True)


def _pipeline() -> Pipeline:
    from bot.pipeline import Pipeline
    from bot.pipeline.wiring import open_store
    from config.settings import load_settings

    settings = load_settings()  # honours --config through SHERLOG_CONFIG
    return Pipeline(settings=settings, store=open_store(settings))


@app.command("preview")
@friendly_errors
def preview(
    out: Annotated[Path, typer.Option(help="HTML file to write (the chart is embedded).")] = Path("digest.html"),
    days: Annotated[int, typer.Option(min=1, max=90, help="Days the digest covers.")] = 7,
    dashboard_url: Annotated[str | None, typer.Option(help="Base URL of the dashboard for links.")] = None,
) -> None:
    """Build the digest from the database and write it to an HTML file (and print its text)."""
    from bot.pipeline.digest import preview_digest

    digest = preview_digest(pipeline=_pipeline(), days=days, dashboard_url=dashboard_url)
    html = digest.html(chart_cid="chart")
    if digest.chart_png:
        html = html.replace("cid:chart", "data:image/png;base64," + base64.b64encode(digest.chart_png).decode())
    out.write_text(html, encoding="utf-8")
    console.print(digest.text(), markup=False, highlight=False)
    err_console.print(f"[green]digest written to {out}[/]")


@app.command("send")
@friendly_errors
def send(
    to: Annotated[list[str] | None, typer.Option("--to", help="Recipient (repeatable); default smtp.recipients.")] = None,
    days: Annotated[int, typer.Option(min=1, max=90, help="Days the digest covers.")] = 7,
    force: Annotated[bool, typer.Option(help="Send even if this week's digest was already sent.")] = False,
    dashboard_url: Annotated[str | None, typer.Option(help="Base URL of the dashboard for links.")] = None,
) -> None:
    """Send this week's digest now by email (smtp.* settings)."""
    from bot.pipeline.digest import SMTPDigestSender, send_digest

    pipeline = _pipeline()
    sender = SMTPDigestSender(pipeline.settings.smtp, recipients=to or None)
    digest = send_digest(pipeline=pipeline, sender=sender, days=days, channel="email", force=force,
                         dashboard_url=dashboard_url)
    if digest is None:
        err_console.print("[yellow]this week's digest was already sent[/] (use --force to send it again)")
        raise typer.Exit(code=1)
    err_console.print(f"[green]sent[/] {digest.subject!r} to {', '.join(sender.recipients)}")
