"""Shared fixtures.

- ``settings``: settings on a temporary data dir, no network, no LLM, no chat.
- ``store``: a migrated SQLite store in a temporary dir.
- ``pg_url`` / ``pg_store``: a PostgreSQL store in a schema of its own (dropped afterwards), on the
  server at ``SHERLOG_TEST_PG_URL`` (default: 127.0.0.1:5432, database ``test``).
- ``rabbitmq_url``: the broker at ``SHERLOG_TEST_AMQP_URL``; tests create their own vhost or queue names.
- ``shared_data``: ``../shared/data`` (or ``SHERLOG_SHARED_DATA``); tests marked ``data`` skip with a reason
  where it is absent (a user's fresh clone).

In CI (``CI=true``) a skipped test is turned into a failure: integration and data tests must run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("SHERLOG_SHARED_DATA", ROOT.parent / "shared" / "data"))
PG_URL = os.environ.get("SHERLOG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
AMQP_URL = os.environ.get("SHERLOG_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and report.skipped and call.when in {"setup", "call"} and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {report.longrepr}"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent (set SHERLOG_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    from config.settings import load_settings

    return load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"})


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    from bot.storage import Store

    s = Store.open(f"sqlite:///{tmp_path / 'sherlog.db'}")
    yield s
    s.close()


def _pg_reachable() -> bool:
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema name, dropped after the test."""
    import sqlalchemy

    if not _pg_reachable():
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield schema
    engine = sqlalchemy.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def pg_store(pg_schema: str):  # type: ignore[no-untyped-def]
    from bot.storage import Store

    s = Store.open(PG_URL, schema=pg_schema)
    yield s
    s.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The same test on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("store")
    else:
        yield request.getfixturevalue("pg_store")


@pytest.fixture
def rabbitmq_url() -> str:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError:
        pytest.skip("RabbitMQ not reachable on 127.0.0.1:5672")
    return AMQP_URL
