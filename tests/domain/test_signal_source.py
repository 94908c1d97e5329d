"""``Signal.source`` is a closed vocabulary: stored as its plain value, read back as the enum, a typo refused."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from bot.domain import Analysis, Signal, SignalSource


def test_source_is_stored_as_its_readable_value_and_read_back_as_the_enum() -> None:
    signal = Signal(source="logs", detector="log.error_share", title="errors up")
    assert signal.source is SignalSource.LOGS and signal.source == "logs"
    stored = json.loads(Analysis(incident_id="inc-1", signals=[signal]).model_dump_json())
    assert stored["signals"][0]["source"] == "logs"
    again = Analysis.model_validate(stored)
    assert again.signals[0].source is SignalSource.LOGS
    assert f"{again.signals[0].source}" == "logs"  # formatted as the value, as the strings were


def test_every_source_a_detector_writes_is_in_the_vocabulary() -> None:
    assert {s.value for s in SignalSource} == {"logs", "metrics", "changes", "kubernetes", "alert", "retrieval"}


def test_an_unknown_source_is_refused() -> None:
    with pytest.raises(ValidationError, match="source"):
        Signal(source="log", detector="x", title="typo")
