"""``sherlog migrate``: upgrade once, ``--check`` reports, ``--wait`` holds a process until another has migrated."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.storage.database import make_engine
from bot.storage.migrate import head_revisions, schema_status, upgrade
from tests.conftest import PG_URL

runner = CliRunner()


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {"SHERLOG__DATA_DIR": str(data_dir), "SHERLOG__STORAGE__URL": "", **extra}


def _sqlite_status(data_dir: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{data_dir / 'sherlog.db'}")
    try:
        return schema_status(engine)
    finally:
        engine.dispose()


def test_fresh_database_is_reported_behind_then_migrated(tmp_path: Path) -> None:
    env = _env(tmp_path)
    before = runner.invoke(app, ["migrate", "--check"], env=env)
    assert before.exit_code == 1, before.output
    assert "never migrated" in before.output
    done = runner.invoke(app, ["migrate"], env=env)
    assert done.exit_code == 0, done.output
    assert _sqlite_status(tmp_path).current == head_revisions()
    after = runner.invoke(app, ["migrate", "--check"], env=env)
    assert after.exit_code == 0, after.output
    again = runner.invoke(app, ["migrate"], env=env)  # a second run (a re-applied Job) changes nothing
    assert again.exit_code == 0 and _sqlite_status(tmp_path).up_to_date


def test_wait_times_out_on_an_unmigrated_database(tmp_path: Path) -> None:
    started = time.monotonic()
    result = runner.invoke(app, ["migrate", "--wait", "1"], env=_env(tmp_path))
    assert result.exit_code == 1
    assert "gave up after 1 s" in result.output and "sherlog migrate" in result.output
    assert time.monotonic() - started < 10
    assert _sqlite_status(tmp_path).current == ()  # waiting never migrates


def test_wait_returns_once_another_process_migrated(tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    engine = make_engine(f"sqlite:///{tmp_path / 'sherlog.db'}")
    timer = threading.Timer(0.5, upgrade, args=(engine,))
    timer.start()
    try:
        result = runner.invoke(app, ["migrate", "--wait", "30"], env=_env(tmp_path))
    finally:
        timer.join()
        engine.dispose()
    assert result.exit_code == 0, result.output
    assert "waiting for the migrations" in result.output and "schema current" in result.output


def test_unreachable_database_is_a_clear_error_without_the_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://sherlog:hunter2-secret@127.0.0.1:1/sherlog"
    env = _env(tmp_path, SHERLOG__STORAGE__URL=url)
    for args, code in ((["migrate"], 2), (["migrate", "--check"], 2), (["migrate", "--wait", "1"], 1)):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == code, (args, result.output)
        assert "unreachable" in result.output or "cannot migrate" in result.output
        assert "hunter2" not in result.output and "Traceback" not in result.output


@pytest.mark.integration
def test_postgresql_schema_is_migrated_and_checked(pg_schema: str, tmp_path: Path) -> None:
    env = _env(tmp_path, SHERLOG__STORAGE__URL=PG_URL, SHERLOG__STORAGE__SCHEMA_NAME=pg_schema)
    assert runner.invoke(app, ["migrate", "--check"], env=env).exit_code == 1
    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0
    result = runner.invoke(app, ["migrate", "--wait", "5"], env=env)
    assert result.exit_code == 0, result.output
    engine = make_engine(PG_URL, schema=pg_schema)
    try:
        assert schema_status(engine).current == head_revisions()
    finally:
        engine.dispose()
