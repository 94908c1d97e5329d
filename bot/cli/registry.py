"""Sub-command groups of the other areas, mounted on the main ``sherlog`` app."""

from __future__ import annotations

import importlib

import typer

# (module, attribute, name): attribute is a typer.Typer (a group) or a function (a single command)
SUBCOMMANDS: list[tuple[str, str, str]] = [
    ("bot.surfaces.cli", "chat", "chat"),
    ("bot.cli.digest", "app", "digest"),
    ("bot.cli.worker", "worker", "worker"),
    ("bot.cli.worker", "scheduler", "scheduler"),
    ("bot.cli.migrate", "migrate", "migrate"),
    ("bot.cli.logs", "app", "logs"),
    ("bot.cli.metrics", "app", "metrics"),
    ("bot.cli.metrics", "predict", "predict"),
    ("bot.cli.simulate", "app", "simulate"),
    ("bot.cli.gameday", "app", "gameday"),
    ("bot.cli.retrieval", "ingest_app", "ingest"),
    ("bot.cli.retrieval", "search_command", "search"),
    ("bot.cli.taxonomy", "app", "taxonomy"),
]


def register_all(app: typer.Typer) -> None:
    for module_name, attr, name in SUBCOMMANDS:
        obj = getattr(importlib.import_module(module_name), attr)
        if isinstance(obj, typer.Typer):
            app.add_typer(obj, name=name)
        else:
            app.command(name)(obj)
