"""``sherlog migrate``: bring the database schema to this release, or check / wait until it is there.

Deployments run ``sherlog migrate`` once per release (a Kubernetes Job, a Compose one-shot service) and
``sherlog migrate --wait 300`` in front of every other process, so that replicas never race to migrate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

import typer
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.cli.common import configure_logging, err_console, friendly_errors
from bot.domain import StorageError
from bot.storage.database import make_engine
from bot.storage.migrate import SchemaStatus, schema_status, upgrade

POLL_INTERVAL_S = 2.0


def _status_or_reason(open_engine: Callable[[], Engine]) -> SchemaStatus | str:
    """The schema status, or why it cannot be read (an unreachable database is a reason, not a crash)."""
    try:
        engine = open_engine()
        try:
            return schema_status(engine)
        finally:
            engine.dispose()
    except StorageError as e:
        return str(e)
    except SQLAlchemyError as e:
        return f"database unreachable ({e.__class__.__name__})"


def _wait(open_engine: Callable[[], Engine], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        status = _status_or_reason(open_engine)
        if isinstance(status, SchemaStatus) and status.up_to_date:
            err_console.print(f"[green]schema current[/] ({status.describe()})", soft_wrap=True)
            return
        reason = status if isinstance(status, str) else status.describe()
        if time.monotonic() >= deadline:
            err_console.print(f"[bold red]error:[/] gave up after {timeout_s:g} s: {reason}; "
                              "run `sherlog migrate` (the migrations Job) first", soft_wrap=True)
            raise typer.Exit(code=1)
        err_console.print(f"[dim]waiting for the migrations: {reason}[/]", soft_wrap=True)
        time.sleep(min(POLL_INTERVAL_S, max(0.0, deadline - time.monotonic())))


def _check(open_engine: Callable[[], Engine]) -> None:
    status = _status_or_reason(open_engine)
    if isinstance(status, str):
        raise StorageError(status)
    err_console.print(status.describe(), soft_wrap=True)
    if not status.up_to_date:
        raise typer.Exit(code=1)


def _upgrade(open_engine: Callable[[], Engine]) -> None:
    engine = open_engine()
    try:
        upgrade(engine)
        err_console.print(f"[green]migrated[/]: {schema_status(engine).describe()}", soft_wrap=True)
    except SQLAlchemyError as e:
        raise StorageError(f"cannot migrate the database: {e.__class__.__name__}") from e
    finally:
        engine.dispose()


@friendly_errors
def migrate(
    check: Annotated[bool, typer.Option("--check", help="Only report; exit 1 when the schema is not current.")] = False,
    wait: Annotated[float, typer.Option("--wait", min=0, metavar="SECONDS",
                                        help="Do not migrate: wait up to SECONDS until another process has "
                                             "(for init containers); exit 1 on timeout.")] = 0,
) -> None:
    """Migrate the database schema to this release (once per upgrade, before the other roles start)."""
    from bot.cli.main import _settings

    settings = _settings()
    configure_logging(settings.log_level)
    if not settings.storage.url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    def open_engine() -> Engine:
        return make_engine(settings.database_url, schema=settings.storage.schema_name)

    if wait:
        _wait(open_engine, wait)
    elif check:
        _check(open_engine)
    else:
        _upgrade(open_engine)
