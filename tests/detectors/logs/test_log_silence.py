"""Silence is evidence: a stream that stopped before the alert while the others went on is a component that went
away (``detectors/logs/silence.py``), read through ``detect_log_signals``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detectors.logs import detect_log_signals
from detectors.logs.silence import DETECTOR, KIND

T0 = datetime(2025, 5, 4, 9, 0, tzinfo=UTC)
ALERT = T0 + timedelta(minutes=60)


def _lines(name: str, *, until_min: float, every_s: float = 20, level: str = "INFO",
           text: str = "served request", last: str | None = None) -> list[str]:
    out = []
    t = 0.0
    while t <= until_min * 60:
        ts = (T0 + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        out.append(f"{ts} {level} {name} {text} id={int(t)}")
        t += every_s
    if last is not None:
        ts = (T0 + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        out.extend(f"{ts} {last}" for _ in range(3))
    return out


def _silences(logs: dict[str, list[str]], alert: datetime | None = ALERT) -> list:
    return [s for s in detect_log_signals(logs, alert_time=alert) if s.detector == DETECTOR]


def _fleet(node_2: list[str]) -> dict[str, list[str]]:
    return {
        "queue-node-1": _lines("queue-node-1", until_min=70),
        "queue-node-2": node_2,
        "queue-node-3": _lines("queue-node-3", until_min=70),
        "gateway": _lines("gateway", until_min=70, every_s=45, text="backend check ok"),
    }


def test_a_stream_that_stopped_while_the_others_went_on_is_a_component_gone() -> None:
    found = _silences(_fleet(_lines("queue-node-2", until_min=20)))
    assert [s.service for s in found] == ["queue-node-2"]
    silence = found[0]
    assert silence.kind == KIND == "node_failure"
    assert silence.started_at == T0 + timedelta(minutes=20)  # when it went quiet, not when the alert fired
    assert not silence.attributes.get("decisive")  # a candidate and an onset, not a mechanism by itself
    assert silence.attributes["witnesses"] == ["gateway", "queue-node-1", "queue-node-3"]
    assert "stopped logging at 09:20:00" in silence.title


def test_streams_that_all_end_together_are_where_the_export_ends() -> None:
    logs = {name: _lines(name, until_min=20) for name in ("queue-node-1", "queue-node-2", "gateway")}
    assert _silences(logs) == []


def test_a_quiet_stretch_no_longer_than_its_rhythm_says_nothing() -> None:
    # a line every five minutes: twenty-five quiet minutes before the alert is five missed lines, not a silence
    assert _silences(_fleet(_lines("queue-node-2", until_min=35, every_s=300))) == []


def test_a_stream_that_ends_with_its_own_errors_explains_itself() -> None:
    crashed = _lines("queue-node-2", until_min=20, last="ERROR queue-node-2 fatal: cannot allocate memory, aborting")
    assert _silences(_fleet(crashed)) == []


def test_a_deliberate_stop_is_no_failure() -> None:
    stopped = _lines("queue-node-2", until_min=20, last="INFO queue-node-2 received SIGTERM, shutting down")
    assert _silences(_fleet(stopped)) == []


def test_a_stream_that_stopped_after_the_alert_is_no_cause() -> None:
    assert _silences(_fleet(_lines("queue-node-2", until_min=20)), alert=T0 + timedelta(minutes=15)) == []


def test_a_short_stream_is_no_steady_reporter() -> None:
    assert _silences(_fleet(_lines("queue-node-2", until_min=4))) == []
