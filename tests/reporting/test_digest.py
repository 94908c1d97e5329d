"""The weekly digest: figures checked independently, mailed through a real in-process SMTP server
(aiosmtpd), sent once per week across calls, scheduled weekly, previewed by the CLI."""

from __future__ import annotations

import email
import email.policy
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import numpy as np
import pytest
from aiosmtpd.controller import Controller

from bot.domain import ConnectorError
from bot.pipeline import Pipeline
from bot.pipeline.digest import SMTPDigestSender, build_digest, schedule_weekly_digest, send_digest
from tests.processes import free_port
from tests.reporting.conftest import NOW
from tests.reporting.factory import Seeded


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def _week(seeded: Seeded) -> list:  # type: ignore[type-arg]
    return [i for i in seeded.incidents if NOW - timedelta(days=7) <= i.created_at < NOW]


def test_digest_figures_and_recurring_causes(store, seeded) -> None:  # type: ignore[no-untyped-def]
    digest = build_digest(store=store, now=NOW)
    week = _week(seeded)
    assert digest.figures["incidents"] == len(week)
    res = [(i.resolved_at - (i.started_at or i.created_at)).total_seconds() / 60 for i in week if i.resolved_at]
    assert digest.figures["mttr_p50_min"] == pytest.approx(np.percentile(res, 50), abs=0.01)
    pairs = Counter((i.confirmed_kind, i.confirmed_service) for i in week if i.confirmed_kind)
    before = Counter((i.confirmed_kind, i.confirmed_service) for i in seeded.incidents if i.confirmed_kind
                     and NOW - timedelta(days=35) <= i.created_at < NOW - timedelta(days=7))
    expected = {p for p, n in pairs.items() if n >= 2 or before[p] >= 1}
    assert {(r["kind"], r["service"]) for r in digest.recurring} == expected
    assert len(digest.follow_ups) >= 1
    assert digest.chart_png.startswith(b"\x89PNG") and len(digest.chart_png) > 5000
    shots = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    (shots / "digest-chart.png").write_bytes(digest.chart_png)
    assert f"Incidents: {len(week)}" in digest.text()


def test_digest_is_mailed_once_per_week(store, seeded, settings, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    smtp_settings = settings.smtp.model_copy(update={"host": "127.0.0.1", "port": port, "sender": "sherlog@example.com"})
    pipeline = Pipeline(settings=settings, store=store)
    sender = SMTPDigestSender(smtp_settings, recipients=["sre@example.com"])
    sent = send_digest(pipeline=pipeline, sender=sender, now=NOW, channel="email",
                       dashboard_url="https://sherlog.example.com")
    assert sent is not None and len(inbox.messages) == 1
    mail_from, rcpt, msg = inbox.messages[0]
    assert (mail_from, rcpt) == ("sherlog@example.com", ["sre@example.com"])
    assert msg["Subject"] == sent.subject and f"{len(_week(seeded))} incidents" in msg["Subject"]
    parts = {p.get_content_type(): p for p in msg.walk()}
    assert {"text/plain", "text/html", "image/png"} <= set(parts)
    html = parts["text/html"].get_payload(decode=True).decode()
    cid = parts["image/png"]["Content-ID"].strip("<>")
    assert f"cid:{cid}" in html and "https://sherlog.example.com/?since=" in html
    assert parts["image/png"].get_payload(decode=True).startswith(b"\x89PNG")
    # a second replica (or a restart) in the same week does not send again; --force does
    assert send_digest(pipeline=pipeline, sender=sender, now=NOW + timedelta(hours=1), channel="email") is None
    assert len(inbox.messages) == 1
    assert send_digest(pipeline=pipeline, sender=sender, now=NOW, channel="email", force=True) is not None
    assert len(inbox.messages) == 2


def test_unreachable_smtp_is_a_connector_error(store, settings) -> None:  # type: ignore[no-untyped-def]
    smtp_settings = settings.smtp.model_copy(update={"host": "127.0.0.1", "port": free_port()})
    with pytest.raises(ConnectorError, match="could not mail"):
        SMTPDigestSender(smtp_settings, recipients=["a@example.com"])(build_digest(store=store, now=NOW))


def test_weekly_schedule(store, settings) -> None:  # type: ignore[no-untyped-def]
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)
    try:
        job = schedule_weekly_digest(scheduler, pipeline=Pipeline(settings=settings, store=store),
                                     sender=lambda d: None, day_of_week="mon", hour=9)
        nxt = job.next_run_time.astimezone(UTC)
        assert (nxt.weekday(), nxt.hour, nxt.minute) == (0, 9, 0)
        assert nxt - datetime.now(UTC) <= timedelta(days=7)
    finally:
        scheduler.shutdown(wait=False)


def test_cli_preview_writes_html(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from bot.cli.main import app
    from bot.domain import utcnow
    from bot.storage import Store
    from tests.reporting.factory import seed_incidents

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    store = Store.open(f"sqlite:///{data_dir / 'sherlog.db'}")
    seeded = seed_incidents(store, now=utcnow(), days=10, count=25, seed=2)
    store.close()
    out = tmp_path / "digest.html"
    monkeypatch.setenv("SHERLOG__DATA_DIR", str(data_dir))
    result = CliRunner().invoke(app, ["digest", "preview", "--out", str(out)])
    assert result.exit_code == 0, result.output
    week = [i for i in seeded.incidents if i.created_at >= utcnow() - timedelta(days=7)]
    assert f"Incidents: {len(week)}" in result.output
    html = out.read_text()
    assert "data:image/png;base64," in html and "Suggested follow-ups" in html


def test_weekly_digest_runs_with_the_app(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from bot.api.app import create_app
    from bot.pipeline.digest import install_weekly_digest
    from tests.web.conftest import make_settings

    app = create_app(make_settings(tmp_path))
    sent: list[str] = []
    install_weekly_digest(app, sender=lambda d: sent.append(d.subject), day_of_week="fri", hour=17)
    with TestClient(app):
        scheduler = app.state.digest_scheduler
        assert scheduler.running
        job = scheduler.get_job("weekly-digest-default")
        nxt = job.next_run_time.astimezone(UTC)
        assert (nxt.weekday(), nxt.hour) == (4, 17)
        job.func()  # what the scheduler runs at that time
        assert len(sent) == 1 and sent[0].startswith("Sherlog weekly reliability digest")
    assert not scheduler.running
