"""The composition root builds the LLM reasoner from settings, with the systems its tools may read."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.domain import ConfigError
from bot.pipeline.wiring import build_llm
from bot.reasoning.llm import LLMReasoner
from config.settings import load_settings


def settings(tmp_path: Path, **llm: object):  # type: ignore[no-untyped-def]
    return load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"},
                         logs={"log_dir": str(tmp_path), "kubernetes_namespace": "shop"},
                         llm={"enabled": True, "provider": "openai_compatible", "base_url": "http://127.0.0.1:9/v1",
                              **llm})


def test_no_llm_unless_enabled(tmp_path: Path) -> None:
    assert build_llm(settings(tmp_path, enabled=False)) is None


def test_investigating_reasoner_gets_the_log_sources_and_namespace(tmp_path: Path) -> None:
    llm = build_llm(settings(tmp_path, investigate=True))
    assert isinstance(llm, LLMReasoner)
    assert llm.tools.log_sources is not None and [s.name for s in llm.tools.log_sources()] == ["files"]
    assert llm.tools.kubernetes_namespace == "shop" and llm.tools.kubernetes is None
    assert build_llm(settings(tmp_path)).tools.log_sources is None  # type: ignore[union-attr]


def test_a_missing_provider_package_stops_at_start_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langchain_ollama", None)
    with pytest.raises(ConfigError, match=r"sherlog\[ollama\]"):
        build_llm(settings(tmp_path, provider="ollama"))
