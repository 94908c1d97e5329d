"""Process roles built by the composition root: the API role stores and queues but does not analyse; a worker
role on the same database analyses; the API's relay delivers the worker's ``analysis.ready``."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.pipeline.wiring import Role, build_runtime
from bot.storage import jobs


def _alert(name: str) -> dict[str, Any]:
    return {"version": "4", "status": "firing", "receiver": "r", "groupKey": name, "alerts": [{
        "status": "firing", "labels": {"alertname": name, "service": f"{name}-svc"}, "annotations": {},
        "startsAt": "2026-12-06T10:00:00Z", "fingerprint": name}]}


def test_api_role_queues_a_worker_analyses_and_the_api_relay_delivers(settings) -> None:  # type: ignore[no-untyped-def]
    fast = settings.model_copy(update={
        "analysis": settings.analysis.model_copy(update={"poll_interval_s": 0.05}),
        "outbox": settings.outbox.model_copy(update={"poll_interval_s": 0.05})})
    app = create_app(fast, role=Role.API)
    delivered: list[tuple[str, str]] = []

    def subscriber(role: str) -> Any:  # every role holds the same subscribers (the composition root's rule)
        return lambda *, incident, analysis, **_: delivered.append((role, incident.id))

    app.state.pipeline.events.subscribe("analysis.ready", subscriber("api"))
    with TestClient(app) as client:
        [incident_id] = client.post("/api/v1/alerts/alertmanager", json=_alert("RoleTest")).json()["incident_ids"]
        time.sleep(0.5)
        assert client.get(f"/api/v1/incidents/{incident_id}").json()["analysis"] is None  # the API never analyses
        with app.state.pipeline.store.engine.connect() as conn:
            assert jobs.get(conn, incident_id) is not None  # queued with the incident

        worker = build_runtime(fast, Role.WORKER)  # another process on the same database
        worker.pipeline.events.subscribe("analysis.ready", subscriber("worker"))

        async def run_worker() -> None:
            await worker.start()
            await worker.queue.drain(timeout=60)
            # the worker's relay may have claimed the analysis.ready row already: let it deliver before the stop
            # (a relay stopped between its claim and the delivery leaves the row leased for outbox.lease_s)
            await worker.relay.drain(timeout=30)
            await worker.stop()

        asyncio.run(run_worker())
        assert client.get(f"/api/v1/incidents/{incident_id}").json()["analysis"] is not None
        deadline = time.monotonic() + 10
        while not delivered and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
    assert [i for _, i in delivered] == [incident_id]  # by the API's relay or the worker's: exactly once


def test_every_role_registers_the_generic_mappings(settings) -> None:  # type: ignore[no-untyped-def]
    from connectors.alerts import alert_sources

    mapped = settings.model_copy(update={"intake": settings.intake.model_copy(update={"mappings": {
        "roles_probe": {"fields": {"name": ["check"], "service": ["host"]}}}})})
    build_runtime(mapped, Role.WORKER)
    assert "roles_probe" in alert_sources()
