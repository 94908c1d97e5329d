"""The cause a structured log line names in a field other than its message still maps to its kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detectors.logs import detect_log_signals


def test_logfmt_error_field_names_the_cause() -> None:
    t0 = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
    lines = [f'time={(t0 + timedelta(seconds=5 * i)).isoformat()} level=info msg="reserved stock" sku=SKU-{i}'
             for i in range(300)]
    lines += [f'time={(t0 + timedelta(minutes=30, seconds=5 * i)).isoformat()} level=error '
              f'msg="failed to write reservation journal" err="write /var/lib/inv/{i}.wal: no space left on device"'
              for i in range(40)]
    signals = detect_log_signals({"inventory": lines}, alert_time=t0 + timedelta(minutes=33))
    kinds = {s.kind for s in signals if s.service == "inventory"}
    assert "disk_full" in kinds, [(s.kind, s.title) for s in signals]
