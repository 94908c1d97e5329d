"""``sherlog gameday``: run a simulated incident for people in a sandbox channel."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer

from bot.cli.common import console, err_console, friendly_errors

app = typer.Typer(help="Game days: a simulated incident played in a sandbox chat channel.", no_args_is_help=True)

DryRun = Annotated[bool, typer.Option("--dry-run", help="Print messages here instead of posting to Slack.")]
Channel = Annotated[str, typer.Option(help="Sandbox channel.")]


def _engine(dry_run: bool, pace: float = 60.0) -> tuple[Any, Any]:
    from bot.simulation.chat import SlackChatPort, TerminalChatPort
    from bot.simulation.gameday import GameDayEngine
    from bot.storage import Store
    from config.settings import load_settings

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.open(settings.database_url, schema=settings.storage.schema_name)
    chat = TerminalChatPort(console) if dry_run else SlackChatPort.from_settings(settings)
    return GameDayEngine(chat=chat, store=store, pace_s=pace), store


@app.command()
@friendly_errors
def start(
    scenario: Annotated[str, typer.Argument(help="A kind, kind:service, or 'demo' (see `sherlog simulate list`).")],
    channel: Channel = "#sandbox",
    difficulty: Annotated[str, typer.Option(help="easy, normal or hard.")] = "normal",
    seed: Annotated[int, typer.Option(help="Random seed of the scenario.")] = 7,
    pace: Annotated[float, typer.Option(help="Seconds between two symptom updates.")] = 60.0,
    watch: Annotated[float, typer.Option(help="Keep streaming symptoms for this many seconds (0: post the alert "
                                              "only; run `tick` later).")] = 0.0,
    user: Annotated[str, typer.Option(help="Who starts the drill.")] = "cli",
    dry_run: DryRun = False,
) -> None:
    """Post the scenario's alert into the channel and (with --watch) stream its symptoms."""
    engine, store = _engine(dry_run, pace)
    try:
        game = engine.start(scenario, channel=channel, seed=seed, difficulty=difficulty, started_by=user)
        err_console.print(f"[dim]game day {game['id']} started in {channel}[/]")
        deadline = time.monotonic() + watch
        while time.monotonic() < deadline and engine.get(game["id"])["status"] == "running":
            engine.tick(game["id"])
            if engine.status(game["id"])["clues_posted"] >= len(game["clues"]):
                break
            time.sleep(min(5.0, max(0.5, pace / 4)))
        console.print(json.dumps(engine.status(game["id"])))
    finally:
        store.close()


@app.command()
@friendly_errors
def tick(channel: Channel = "#sandbox", dry_run: DryRun = False) -> None:
    """Post the symptom updates that are due in the channel's running game day."""
    engine, store = _engine(dry_run)
    try:
        game = engine.active(channel)
        console.print(f"{engine.tick(game['id'])} update(s) posted")
    finally:
        store.close()


@app.command()
@friendly_errors
def diagnose(
    service: Annotated[str, typer.Argument(help="The service (or node) at fault.")],
    kind: Annotated[str, typer.Argument(help="The root-cause kind.")],
    channel: Channel = "#sandbox",
    user: Annotated[str, typer.Option(help="Who diagnoses.")] = "cli",
    dry_run: DryRun = False,
) -> None:
    """Submit a diagnosis for the channel's running game day."""
    engine, store = _engine(dry_run)
    try:
        game = engine.active(channel)
        console.print(json.dumps(engine.diagnose(game["id"], user=user, service=service, kind=kind)))
    finally:
        store.close()


@app.command()
@friendly_errors
def status(
    channel: Annotated[str | None, typer.Option(help="Show the channel's running game day.")] = None,
    dry_run: DryRun = True,
) -> None:
    """The running game day of a channel, or every game day played so far."""
    engine, store = _engine(True)
    try:
        if channel:
            console.print(json.dumps(engine.status(engine.active(channel)["id"]), indent=2))
            return
        for game in engine.history():
            result = game.get("result") or {}
            console.print(f"{game['id']}  {game['channel']}  {game['scenario']['name']:<28} {game['status']:<8} "
                          f"solved={result.get('solved')} ttd={result.get('time_to_diagnosis_s')}s "
                          f"questions={len(game['questions'])}", highlight=False)
    finally:
        store.close()


@app.command()
@friendly_errors
def end(channel: Channel = "#sandbox", dry_run: DryRun = False) -> None:
    """Reveal the truth, post the debrief and store the result."""
    engine, store = _engine(dry_run)
    try:
        game = engine.end(engine.active(channel)["id"])
        console.print(game["debrief"], markup=False, highlight=False)
    finally:
        store.close()
