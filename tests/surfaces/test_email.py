"""E-mail against a real in-process SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bot.domain import Severity
from bot.pipeline import Pipeline
from bot.storage import Store
from bot.surfaces.email import EmailNotifier
from config.settings import load_settings
from tests.render.factories import analysis, incident


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(unused_tcp_port: int) -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=unused_tcp_port)
    controller.start()
    try:
        yield inbox, unused_tcp_port
    finally:
        controller.stop()


def _notifier(tmp_path, store: Store, port: int) -> EmailNotifier:  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"},
                             smtp={"enabled": True, "port": port, "sender": "sherlog@example.com",
                                   "recipients": ["oncall@example.com", "sre@example.com"],
                                   "dashboard_url": "https://sherlog.example"})
    return EmailNotifier(settings=settings.smtp, pipeline=Pipeline(settings=settings, store=store), store=store)


async def test_new_critical_incident_is_mailed_once_as_html_and_text(tmp_path, store: Store, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    notifier = _notifier(tmp_path, store, port)
    inc = store.save_incident(incident=incident())
    ana = analysis(inc)
    assert await notifier.notify_incident(inc, ana) == "sent"
    assert await notifier.notify_incident(inc, ana) == "skipped"
    [(sender, rcpts, msg)] = inbox.messages
    assert sender == "sherlog@example.com" and rcpts == ["oncall@example.com", "sre@example.com"]
    assert msg["Subject"] == ("[critical] Checkout p99 latency above 2s — likely db_connection_exhaustion in "
                              "orders-db (72%)")
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "1. db_connection_exhaustion in orders-db" in text
    assert f'<a href="https://sherlog.example/incidents/{inc.id}">' in html
    row = store.get_chat_post(incident_id=inc.id, surface="email")
    assert row is not None and row.state == "posted" and row.message_ref == msg["Message-ID"]


async def test_low_severity_is_not_mailed_but_early_warnings_are(tmp_path, store: Store, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    notifier = _notifier(tmp_path, store, port)
    low = store.save_incident(incident=incident(severity=Severity.INFO))
    assert await notifier.notify_incident(low, analysis(low)) == "skipped"
    early = store.save_incident(incident=incident(severity=Severity.INFO, is_early_warning=True,
                                                  title="Disk on db-1 full in ~3h"))
    assert await notifier.notify_incident(early, analysis(early)) == "sent"
    [(_, _, msg)] = inbox.messages
    assert msg["Subject"].startswith("Early warning Disk on db-1 full in ~3h")


async def test_server_down_keeps_the_mail_pending_until_it_is_back(tmp_path, store: Store,
                                                                   unused_tcp_port_factory) -> None:  # type: ignore[no-untyped-def]
    port = unused_tcp_port_factory()
    notifier = _notifier(tmp_path, store, port)
    inc = store.save_incident(incident=incident())
    assert await notifier.notify_incident(inc, analysis(inc)) == "pending"  # nothing listens on the port
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert await notifier.retry_pending() == {"sent": 1}
        assert await notifier.retry_pending() == {}
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


async def test_digest_lists_recent_incidents(tmp_path, store: Store, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    notifier = _notifier(tmp_path, store, port)
    a = store.save_incident(incident=incident(title="First"))
    store.save_analysis(analysis=analysis(a))
    store.save_incident(incident=incident(title="Second"))
    assert await notifier.send_digest(now=a.created_at + timedelta(minutes=5)) == 2
    [(_, _, msg)] = inbox.messages
    assert msg["Subject"] == "Sherlog digest: 2 incident(s)"
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "First" in text and "Second" in text and "likely db_connection_exhaustion" in text


def test_the_app_mails_when_an_analysis_is_ready(tmp_path, smtp) -> None:  # type: ignore[no-untyped-def]
    import time

    from fastapi.testclient import TestClient

    from bot.api.app import create_app
    from bot.pipeline.wiring import build_pipeline

    inbox, port = smtp
    settings = load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"},
                             smtp={"enabled": True, "port": port, "recipients": ["oncall@example.com"]})
    pipeline = build_pipeline(settings, with_retriever=False)
    with TestClient(create_app(settings, pipeline=pipeline)):
        inc = pipeline.store.save_incident(incident=incident())  # type: ignore[union-attr]
        pipeline.events.publish("analysis.ready", incident=inc, analysis=analysis(inc))  # as the worker thread does
        deadline = time.monotonic() + 5
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.02)
    assert [m["Subject"].startswith("[critical]") for _, _, m in inbox.messages] == [True]


@pytest.mark.parametrize("breaker", ["\r", "\r\n", "\n", "\u2028", "\u2029", "\u0085", "\x0b"])
async def test_line_breaks_in_a_title_never_break_the_mail(tmp_path, store: Store, smtp, breaker: str) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    notifier = _notifier(tmp_path, store, port)
    inc = store.save_incident(incident=incident(title=f"Disk full{breaker}Bcc: victim@example.org"))
    assert await notifier.notify_incident(inc, analysis(inc)) == "sent"
    assert await notifier.notify_warning(inc, f"slow{breaker}X-Injected: 1") == "sent"
    assert len(inbox.messages) == 2
    for _, rcpts, msg in inbox.messages:
        assert "victim@example.org" not in rcpts and msg["X-Injected"] is None and msg["Bcc"] is None
        assert "Disk full" in msg["Subject"] and not any(c in msg["Subject"] for c in "\r\n\u2028\u0085")
    row = store.get_chat_post(incident_id=inc.id, surface="email")
    assert row is not None and row.state == "posted"


async def test_a_mail_that_cannot_be_built_never_stays_posting_and_the_retry_loop_goes_on(
        tmp_path, store: Store, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    notifier = _notifier(tmp_path, store, port)
    notifier.settings.sender = "sherlog@example.com\r\nBcc: x@example.org"  # a header the library refuses
    bad = store.save_incident(incident=incident(title="first"))
    assert await notifier.notify_incident(bad, analysis(bad)) == "pending"
    row = store.get_chat_post(incident_id=bad.id, surface="email")
    assert row is not None and row.state == "failed" and "error" in row.data
    notifier.settings.sender = "sherlog@example.com"
    good = store.save_incident(incident=incident(title="second"))
    assert store.claim_chat_post(incident_id=good.id, surface="email", channel="smtp")
    assert await notifier.retry_pending() == {"sent": 2}
    assert len(inbox.messages) == 2


def test_serve_schedules_the_email_retry_loop(tmp_path, unused_tcp_port_factory) -> None:  # type: ignore[no-untyped-def]
    import time

    from fastapi.testclient import TestClient

    from bot.api.app import create_app
    from bot.pipeline.wiring import build_pipeline

    port = unused_tcp_port_factory()
    settings = load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"},
                             smtp={"enabled": True, "port": port, "recipients": ["oncall@example.com"],
                                   "retry_interval_s": 0.2})
    pipeline = build_pipeline(settings, with_retriever=False)
    inbox = _Inbox()
    with TestClient(create_app(settings, pipeline=pipeline)) as client:
        notifier = client.app.state.email  # type: ignore[attr-defined]
        inc = pipeline.store.save_incident(incident=incident())  # type: ignore[union-attr]
        pipeline.events.publish("analysis.ready", incident=inc, analysis=analysis(inc))
        deadline = time.monotonic() + 5
        while pipeline.store.get_chat_post(incident_id=inc.id, surface="email") is None:  # type: ignore[union-attr]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        controller = Controller(inbox, hostname="127.0.0.1", port=port)  # the server comes back
        controller.start()
        try:
            deadline = time.monotonic() + 10
            while not inbox.messages and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            controller.stop()
        assert notifier is not None
    assert len(inbox.messages) == 1
