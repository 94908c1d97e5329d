"""``sherlog chat ask``: the shared command language from the terminal."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.storage import Store
from tests.render.factories import analysis, incident


@pytest.fixture
def env(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SHERLOG__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHERLOG__RETRIEVAL__BACKEND", "memory")
    (tmp_path / "data").mkdir()
    return tmp_path / "data"


def test_chat_ask_runs_the_shared_commands(env) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    assert runner.invoke(app, ["chat", "ask", "status"]).output.strip() == "No open incidents. 🎉"
    store = Store.open(f"sqlite:///{env / 'sherlog.db'}")
    inc = store.save_incident(incident=incident())
    store.save_analysis(analysis=analysis(inc))
    store.close()
    result = runner.invoke(app, ["chat", "ask", "ack", "--user", "alice"])
    assert result.exit_code == 0 and result.output.strip() == f"{inc.id} acknowledged by alice."
    missing = runner.invoke(app, ["chat", "ask", "summary", "inc-nope"])
    assert missing.exit_code == 2 and "no incident or alert 'inc-nope'" in missing.output
