"""Shared CLI plumbing: settings from --config, errors as one red line (never a traceback)."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from bot.domain import SherlogError

F = TypeVar("F", bound=Callable[..., Any])

console = Console()
err_console = Console(stderr=True)


def setup_environment() -> None:
    # Never reach for a model hub or telemetry: machines running Sherlog may have no internet.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def configure_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "chromadb", "sentence_transformers", "urllib3", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def friendly_errors(func: F) -> F:
    """Turn a ``SherlogError`` into one clear message and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SherlogError as e:
            err_console.print(f"[bold red]error:[/] {e}", soft_wrap=True, highlight=False)
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]
