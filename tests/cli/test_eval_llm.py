"""``sherlog eval DIR --llm``: the LLM's figures beside the deterministic ones, or a plain note without one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from tests.fakes.openai_api import FakeOpenAI, Reply

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bundles"
runner = CliRunner()


def test_without_an_endpoint_it_says_so_and_exits_0() -> None:
    result = runner.invoke(app, ["eval", str(FIXTURES), "--llm"], env={"SHERLOG__LLM__ENABLED": "false"})
    assert result.exit_code == 0, result.output
    assert "no LLM endpoint is configured" in result.stdout and "AC@1" in result.stdout
    as_json = runner.invoke(app, ["eval", str(FIXTURES), "--llm", "--json"], env={"SHERLOG__LLM__ENABLED": "false"})
    out = json.loads(as_json.stdout.strip().splitlines()[-1])
    assert out["llm"]["configured"] is False and out["cases"] >= 1


def test_with_an_endpoint_each_case_has_rank_tokens_cost_and_latency() -> None:
    with FakeOpenAI(default=Reply(content='{"hypotheses": [], "summary": ""}', prompt_tokens=1000,
                                  completion_tokens=100)) as fake:
        env = {"SHERLOG__LLM__ENABLED": "true", "SHERLOG__LLM__PROVIDER": "openai_compatible",
               "SHERLOG__LLM__BASE_URL": fake.base_url, "SHERLOG__LLM__MODEL": "local-model",
               "SHERLOG__LLM__MAX_RETRIES": "0", "SHERLOG__LLM__PRICE_PER_1K_INPUT": "0.25",
               "SHERLOG__LLM__PRICE_PER_1K_OUTPUT": "1.0"}
        result = runner.invoke(app, ["eval", str(FIXTURES), "--llm", "--json"], env=env)
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout.strip().splitlines()[-1])
        figures = out["llm"]
        assert figures["model"] == "local-model" and figures["cases"] == out["cases"] == len(fake.requests)
        assert figures["prompt_tokens"] == 1000 * out["cases"] and figures["completion_tokens"] == 100 * out["cases"]
        assert figures["cost_usd"] == pytest.approx(out["cases"] * (0.25 + 0.1))
        row = figures["per_case"][0]
        assert set(row) >= {"case", "rank", "rank_llm", "prompt_tokens", "completion_tokens", "cost_usd", "latency_ms"}
        assert row["used"] is True and row["latency_ms"] > 0
        # an empty LLM reply leaves the ranking as it was
        assert figures["top1"] == out["top1"] and figures["top3"] == out["top3"]
        table = runner.invoke(app, ["eval", str(FIXTURES), "--llm"], env=env)
        assert table.exit_code == 0, table.output
        assert "with the LLM: AC@1" in table.stdout and "openai_compatible:local-model" in table.stdout
