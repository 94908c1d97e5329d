"""The pipeline gives the decisive-log detector its embedder, and says so when the model cannot load."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.domain import Alert, Incident, IncidentContext
from bot.pipeline import Pipeline
from config.settings import load_settings
from detectors.logs import semantic

LOGS = {"checkout": [
    "2024-03-01T12:00:01Z ERROR dial tcp 10.0.4.21:5432: connect: connection refused",
    "2024-03-01T12:00:02Z ERROR the widget renderer broke in an unusual way",
]}


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    yield
    semantic.use_encoder(None)


def _context() -> IncidentContext:
    incident = Incident(title="checkout errors", alerts=[Alert(name="CheckoutErrors", service="checkout")])
    return IncidentContext(incident=incident, logs=LOGS)


def test_a_model_that_cannot_load_is_a_note_and_the_rules_still_answer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir=tmp_path, retrieval={"backend": "memory", "model": str(tmp_path / "no-model")})
    analysis = Pipeline(settings=settings).analyze_context(_context())
    assert any("matched by rules only" in n for n in analysis.notes), analysis.notes
    decisive = [s for s in analysis.signals if s.detector == "logs.decisive"]
    assert [(s.kind, s.attributes["culprit"]) for s in decisive] == [("db_down", "10.0.4.21")]


def test_semantic_lines_off_needs_no_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir=tmp_path, retrieval={"backend": "memory", "model": str(tmp_path / "no-model")},
                             logs={"semantic_lines": False})
    analysis = Pipeline(settings=settings).analyze_context(_context())
    assert not any("matched by rules only" in n for n in analysis.notes)
    assert any(s.detector == "logs.decisive" for s in analysis.signals)
