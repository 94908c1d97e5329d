"""Driving a whole analysis the way production does: an Alertmanager v4 webhook posted to the API of an
app built from settings, then the incident polled until its analysis is stored."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.pipeline.wiring import build_pipeline


def alertmanager_payload(service: str, *, alertname: str, summary: str, at: datetime | None = None) -> dict[str, Any]:
    """One firing alert for ``service`` in Alertmanager's webhook format (version 4), unique fingerprint."""
    alert = {
        "status": "firing",
        "labels": {"alertname": alertname, "service": service, "severity": "critical"},
        "annotations": {"summary": summary},
        "startsAt": (at or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": uuid.uuid4().hex[:16],
    }
    return {"receiver": "sherlog", "status": "firing", "alerts": [alert], "version": "4",
            "groupKey": f"{{}}:{{alertname=\"{alertname}\"}}", "commonLabels": alert["labels"]}


def analysis_via_api(settings: Any, payload: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
    """Post ``payload`` to the Alertmanager intake and return the stored analysis of its incident."""
    with TestClient(create_app(settings, pipeline=build_pipeline(settings, with_retriever=False))) as client:
        r = client.post("/api/v1/alerts/alertmanager", json=payload)
        assert r.status_code == 202, r.text
        incident_id = r.json()["incident_ids"][0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = client.get(f"/api/v1/incidents/{incident_id}").json()
            if body["analysis"] is not None:
                return dict(body["analysis"])
            time.sleep(0.1)
    raise AssertionError(f"no analysis for {incident_id} within {timeout} s")
