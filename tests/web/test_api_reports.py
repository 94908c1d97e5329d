from __future__ import annotations

import csv
import io
from collections import Counter

from fastapi.testclient import TestClient


def test_every_report_answers_json_and_csv(client: TestClient) -> None:
    names = [r["name"] for r in client.get("/api/v1/reports").json()["reports"]]
    assert {"summary", "incidents-per-day", "response-times", "hit-rate", "calibration", "gameday"} <= set(names)
    for name in names:
        r = client.get(f"/api/v1/reports/{name}?days=30")
        assert r.status_code == 200, (name, r.text)
        assert r.json()["report"] == name
        c = client.get(f"/api/v1/reports/{name}?days=30&format=csv")
        assert c.status_code == 200 and c.headers["content-type"].startswith("text/csv")
        assert "attachment" in c.headers["content-disposition"]


def test_csv_rows_equal_json_rows(client: TestClient, seeded_app) -> None:  # type: ignore[no-untyped-def]
    data = client.get("/api/v1/reports/incidents-per-day?days=30&group_by=severity").json()
    rows = list(csv.DictReader(io.StringIO(client.get(
        "/api/v1/reports/incidents-per-day?days=30&group_by=severity&format=csv").text)))
    assert [(r["day"], r["severity"], int(r["count"])) for r in rows] == \
        [(r["day"], r["severity"], r["count"]) for r in data["rows"]]
    seeded = seeded_app.state.seeded.incidents
    assert Counter(r["severity"] for r in data["rows"] for _ in range(r["count"])) == \
        Counter(i.severity.value for i in seeded)


def test_filters_and_validation(client: TestClient, seeded_app) -> None:  # type: ignore[no-untyped-def]
    seeded = seeded_app.state.seeded.incidents
    r = client.get("/api/v1/reports/summary?days=30&service=payments").json()
    assert r["figures"]["incidents"] == sum(1 for i in seeded if i.service == "payments")
    r = client.get("/api/v1/reports/incidents?days=30&q=DiskAlmostFull").json()
    assert r["total"] == sum(1 for i in seeded if "DiskAlmostFull" in i.title) > 0
    assert client.get("/api/v1/reports/summary?category=nonsense").status_code == 422
    assert client.get("/api/v1/reports/summary?since=2026-02-01&until=2026-01-01").status_code == 422
    assert client.get("/api/v1/reports/summary?bucket=hour").status_code == 422
    assert client.get("/api/v1/reports/unknown").status_code == 404


def test_csv_cells_cannot_become_formulas(client: TestClient, seeded_app) -> None:  # type: ignore[no-untyped-def]
    from bot.domain import Incident, utcnow

    seeded_app.state.store.save_incident(incident=Incident(title="=HYPERLINK(\"http://x\")", service="web",
                                                           created_at=utcnow()))
    text = client.get("/api/v1/reports/incidents?days=1&format=csv").text
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


def test_pages_escape_incident_text(client: TestClient, seeded_app) -> None:  # type: ignore[no-untyped-def]
    from bot.domain import Alert, Incident, utcnow

    evil = "<script>alert(1)</script>"
    inc = Incident(title=evil, service="web", created_at=utcnow(), alerts=[Alert(name=evil, summary=evil)])
    seeded_app.state.store.save_incident(incident=inc)
    seeded_app.state.store.add_alert(incident_id=inc.id, alert=inc.alerts[0])
    for path in (f"/incidents/{inc.id}", "/incidents?days=1", "/?days=1"):
        text = client.get(path).text
        assert evil not in text and "&lt;script&gt;" in text, path
    assert client.get("/incidents/inc-nope").status_code == 404


def test_the_incidents_csv_is_streamed_and_holds_the_json_rows(client: TestClient, seeded_app) -> None:  # type: ignore[no-untyped-def]
    data = client.get("/api/v1/reports/incidents?days=30").json()
    c = client.get("/api/v1/reports/incidents?days=30&format=csv")
    assert c.status_code == 200 and "content-length" not in c.headers  # chunked: written while it is read
    rows = list(csv.DictReader(io.StringIO(c.text)))
    assert len(rows) == data["total"] == len(seeded_app.state.seeded.incidents)
    assert [(r["id"], r["status"], r["category"], r["top_cause"]) for r in rows] == \
        [(r["id"], r["status"], r["category"], r["top_cause"] or "") for r in data["rows"]]
    empty = client.get("/api/v1/reports/incidents?since=2001-01-01&until=2001-01-02&format=csv").text
    assert empty.splitlines() == ["id,title,service,severity,status,category,created_at,early_warning,minutes_to_ack,"
                                  "minutes_to_resolve,top_cause,top_confidence,confirmed_cause,hit_rank"]


def test_the_incidents_json_is_streamed_and_holds_the_csv_rows(client: TestClient, seeded_app) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/reports/incidents?days=30")
    assert r.status_code == 200 and "content-length" not in r.headers  # chunked: written while it is read
    assert r.headers["content-type"].startswith("application/json")
    data = r.json()
    assert data["report"] == "incidents" and data["items"] == data["rows"]
    assert data["total"] == len(data["items"]) == len(seeded_app.state.seeded.incidents)
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/reports/incidents?days=30&format=csv").text)))
    assert [r["id"] for r in rows] == [i["id"] for i in data["items"]]
