"""``sherlog chat``: the chat command language from a terminal (the same parser and dispatcher as Slack
and Teams), and ``sherlog chat digest`` to mail the list of recent incidents.

    sherlog chat ask status
    sherlog chat ask "resolve inc-1234 orders-db db_connection_exhaustion: raised the pool"
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from bot.cli.common import console, err_console, friendly_errors
from bot.pipeline.service import Pipeline

chat = typer.Typer(help="Ask Sherlog from the terminal, with the same commands as /sherlog in Slack and Teams.",
                   no_args_is_help=True)


def _pipeline() -> Pipeline:
    from bot.pipeline.wiring import build_pipeline
    from config.settings import load_settings

    settings = load_settings()  # honours --config through SHERLOG_CONFIG
    return build_pipeline(settings)


@chat.command("ask")
@friendly_errors
def ask(
    words: Annotated[list[str], typer.Argument(help="A command (`help` lists them) or a question.")],
    user: Annotated[str, typer.Option(help="Who is asking (stored with votes, acks and resolutions).")] = "cli",
    incident: Annotated[str | None, typer.Option(help="The incident a question is about.")] = None,
) -> None:
    """Run one command, e.g. ``status``, ``summary``, ``similar checkout latency`` or ``why?``."""
    from bot.render.terminal import render_report
    from bot.surfaces.commands import dispatch, parse_command

    reply = dispatch(parse_command(" ".join(words)), pipeline=_pipeline(), user=user, surface="cli",
                     incident_hint=incident)
    if reply.incident is not None and reply.analysis is not None:
        render_report(reply.incident, reply.analysis, console=console)
    else:
        console.print(reply.text, markup=False, highlight=False)
    if not reply.ok:
        raise typer.Exit(code=2)


@chat.command("digest")
@friendly_errors
def digest(hours: Annotated[int, typer.Option(min=1, max=24 * 31, help="Hours the digest covers.")] = 24) -> None:
    """Mail the incidents of the last ``hours`` to ``smtp.recipients``."""
    from datetime import timedelta

    from bot.domain import utcnow
    from bot.pipeline.wiring import build_pipeline, open_store
    from bot.surfaces.email import EmailNotifier
    from config.settings import load_settings

    settings = load_settings()  # honours --config through SHERLOG_CONFIG
    store = open_store(settings)
    pipeline = build_pipeline(settings, store=store)
    notifier = EmailNotifier(settings=settings.smtp, pipeline=pipeline, store=store)
    count = asyncio.run(notifier.send_digest(since=utcnow() - timedelta(hours=hours)))
    err_console.print(f"[green]digest of {count} incident(s) sent to {', '.join(pipeline.settings.smtp.recipients)}[/]")
