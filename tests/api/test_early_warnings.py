"""Proactive prediction inside the API: a disk that fills up raises one early-warning incident before it
is full; a repeat scan does not duplicate it; a silenced warning stays quiet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from bot.api.app import create_app
from config.settings import PredictionSettings, WatchSettings


def filling_disk_csv(path: Path, *, now: datetime) -> Path:
    rows = ["timestamp,value"]
    for minute in range(0, 6 * 60, 5):  # 6 hours, 0.50 -> ~0.86 of the volume used, filling ~6%/hour
        ts = now - timedelta(hours=6) + timedelta(minutes=minute)
        rows.append(f"{ts.isoformat()},{0.50 + minute / 60 * 0.06:.4f}")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_disk_filling_up_raises_one_early_warning_incident(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    csv = filling_disk_csv(tmp_path / "orders-db.disk.csv", now=now)
    prediction = PredictionSettings(enabled=True, horizon_hours=24, watches=[
        WatchSettings(name="disk_used_ratio", service="orders-db", csv=csv)])
    app = create_app(settings.model_copy(update={"prediction": prediction}))
    with TestClient(app) as client:
        first = client.post("/api/v1/warnings/scan").json()["warnings"]
        assert len(first) == 1
        warning = first[0]
        assert warning["kind"] == "disk_full" and warning["service"] == "orders-db"
        eta = datetime.fromisoformat(warning["eta"])
        assert now < eta < now + timedelta(hours=4)  # ~0.86 filling 6%/h: full in a bit over 2 h
        incidents = client.get("/api/v1/incidents").json()["items"]
        assert len(incidents) == 1 and incidents[0]["is_early_warning"] is True

        assert client.post("/api/v1/warnings/scan").json()["warnings"] == []  # deduplicated
        assert len(client.get("/api/v1/incidents").json()["items"]) == 1



def test_a_silenced_warning_stays_quiet(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    csv = filling_disk_csv(tmp_path / "disk.csv", now=datetime.now(UTC))
    # renotify_hours=0: without the silence, every scan would post the warning again
    prediction = PredictionSettings(enabled=True, renotify_hours=0, watches=[
        WatchSettings(name="disk_used_ratio", service="orders-db", csv=csv)])
    with TestClient(create_app(settings.model_copy(update={"prediction": prediction}))) as client:
        key = client.post("/api/v1/warnings/scan").json()["warnings"][0]["key"]
        assert len(client.post("/api/v1/warnings/scan").json()["warnings"]) == 1
        assert client.post("/api/v1/warnings/silence", json={"key": key, "hours": 2}).status_code == 200
        assert client.post("/api/v1/warnings/scan").json()["warnings"] == []


def test_scan_needs_prediction_enabled(settings) -> None:  # type: ignore[no-untyped-def]
    with TestClient(create_app(settings)) as client:
        assert client.post("/api/v1/warnings/scan").status_code == 409
        assert client.get("/api/v1/warnings/watches").json() == {"enabled": False, "watches": []}
