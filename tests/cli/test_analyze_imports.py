"""The import budget of ``sherlog analyze``: what a one-bundle analysis must not load.

Each of these took from 0.2 to 1 s of a 3 s analysis when it was imported without being used: the learned
booster's scikit-learn, the storage layer and Alembic of other commands, Chroma for an empty index, and the
LLM and web stacks. The analysis runs in a fresh interpreter, twice: the first run may export the embedding
model to ONNX (torch) into the default data folder, the second is the warm path that is checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "tests" / "fixtures" / "bundles" / "inventory-disk"
NOT_ON_THE_ANALYZE_PATH = {"sklearn", "scipy.stats", "pandas", "sqlalchemy", "sqlmodel", "alembic", "chromadb",
                           "torch", "transformers", "sentence_transformers", "langchain", "langchain_core",
                           "fastapi", "uvicorn", "slack_bolt", "aio_pika"}

PROBE = """
import json, runpy, sys
sys.argv = ["sherlog", "analyze", sys.argv[1], "--json"]
try:
    runpy.run_module("bot.cli.main", run_name="__main__")
except SystemExit as e:
    code = e.code
else:
    code = 0
print(json.dumps({"exit": code, "modules": sorted(sys.modules)}))
"""


def _analyze(env: dict[str, str]) -> tuple[dict[str, object], set[str]]:
    out = subprocess.run([sys.executable, "-c", PROBE, str(BUNDLE)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600, check=False)
    lines = out.stdout.strip().splitlines()
    assert out.returncode == 0 and len(lines) >= 2, out.stderr[-2000:]
    probe = json.loads(lines[-1])
    assert probe["exit"] == 0, out.stderr[-2000:]
    return json.loads(lines[-2]), set(probe["modules"])


@pytest.mark.timeout(900)  # two fresh interpreters; the first may export the embedding model to ONNX
def test_analyze_does_not_import_what_it_does_not_use(tmp_path: Path) -> None:
    chroma = tmp_path / "chroma"  # the ingested index: absent, so known to be empty without opening it
    env = {**os.environ, "SHERLOG__RETRIEVAL__CHROMA_PATH": str(chroma)}
    _analyze(env)
    analysis, modules = _analyze(env)
    top = analysis["hypotheses"][0]  # type: ignore[index]
    assert (top["service"], top["kind"]) == ("inventory", "disk_full")  # the analysis ran in full
    assert any(s["id"] == "INC-1042" for s in analysis["similar_incidents"])  # type: ignore[union-attr]
    loaded = {name for name in NOT_ON_THE_ANALYZE_PATH if name in modules}
    assert loaded == set(), f"sherlog analyze imported {sorted(loaded)}"
    assert {"onnxruntime", "bot.reasoning.trees", "retrieval.keyword"} <= modules  # the probe saw the real path
    assert not chroma.exists()  # analysing does not create an empty index either
