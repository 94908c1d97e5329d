"""The other areas' sub-commands: mounted on ``sherlog`` and imported only when named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.cli.registry import SUBCOMMANDS

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_every_sub_command_is_listed_and_answers_help() -> None:
    listing = runner.invoke(app, ["--help"])
    assert listing.exit_code == 0, listing.output
    for module_name, _, name in SUBCOMMANDS:
        assert f" {name} " in listing.output, name
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage" in result.output and module_name in sys.modules


def test_a_mistyped_sub_command_is_one_clear_error_with_a_suggestion() -> None:
    result = runner.invoke(app, ["simulat"])
    assert result.exit_code == 2
    assert "No such command 'simulat'" in result.output and "'simulate'" in result.output


@pytest.mark.timeout(600)  # a fresh interpreter, bounded at 300 s
def test_naming_one_sub_command_imports_no_other() -> None:
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from bot.cli.main import app\n"
        "result = CliRunner().invoke(app, ['simulate', 'list'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('bot.cli.') or m == 'bot.surfaces.cli')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         check=True)
    assert out.stdout.split() == ["bot.cli.common", "bot.cli.main", "bot.cli.registry", "bot.cli.simulate"]
