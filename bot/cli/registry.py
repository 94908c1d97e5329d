"""Sub-command groups of the other areas, mounted on the main ``sherlog`` app.

Each is imported when it is named on the command line (or listed by ``--help`` and completion), not at start-up:
``sherlog analyze`` never loads the modules of ``migrate`` (Alembic), ``chat`` (the storage layer) or ``ingest``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import typer
from typer.core import TyperGroup

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


def subcommand(module_name: str, attr: str, name: str, *, rich_markup_mode: Any) -> Any:
    """The click command of one ``SUBCOMMANDS`` entry, built as ``add_typer`` / ``command`` would mount it."""
    obj = getattr(importlib.import_module(module_name), attr)
    holder = typer.Typer(rich_markup_mode=rich_markup_mode)
    holder.callback()(lambda: None)  # a group, so that even one command keeps its name
    if isinstance(obj, typer.Typer):
        holder.add_typer(obj, name=name)
    else:
        holder.command(name)(obj)
    return typer.main.get_group(holder).commands[name]


class _Commands(MutableMapping[str, Any]):
    """The main group's commands: its own, then the ``SUBCOMMANDS``, each built on first lookup."""

    def __init__(self, own: MutableMapping[str, Any], build: Callable[[str], Any]) -> None:
        self._loaded = dict(own)
        self._lazy = {name for *_, name in SUBCOMMANDS if name not in self._loaded}
        self._order = [*self._loaded, *(name for *_, name in SUBCOMMANDS if name in self._lazy)]
        self._build = build

    def __getitem__(self, name: str) -> Any:
        if name in self._lazy:
            self._loaded[name] = self._build(name)
            self._lazy.discard(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._lazy.discard(name)
        if name not in self._order:
            self._order.append(name)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._lazy:
            del self._loaded[name]
        self._lazy.discard(name)
        self._order.remove(name)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, name: object) -> bool:
        return name in self._lazy or name in self._loaded


class LazySubcommandGroup(TyperGroup):
    """The ``sherlog`` group (``typer.Typer(cls=...)``): the ``SUBCOMMANDS`` are imported when looked up."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        entries = {name: (module_name, attr) for module_name, attr, name in SUBCOMMANDS}

        def build(name: str) -> Any:
            module_name, attr = entries[name]
            return subcommand(module_name, attr, name, rich_markup_mode=self.rich_markup_mode)

        self.commands = _Commands(self.commands, build)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # names only: listing does not import
