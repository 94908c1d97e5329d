"""E-mail notifications over SMTP: new incidents, early warnings and a digest, each as HTML + plain text.

Standard library only (``smtplib`` in a thread, never on the event loop). A new incident is mailed once
(``Store.claim_chat_post`` with surface ``email``), only for the severities in ``smtp.notify_severities``
(early warnings always, unless ``smtp.early_warnings`` is off). A failed send stays pending and is
retried by ``retry_pending``. The weekly reliability digest with charts is ``bot.pipeline.digest``; the
``send_digest`` here is the short list of recent incidents.

Wiring: ``bot.surfaces.email`` in ``bot/api/registry.py`` ``ROUTER_MODULES`` (it has no routes, only
``install(app)``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import smtplib
import ssl
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import escape
from typing import Any

from fastapi import FastAPI

from bot.domain import Analysis, ConfigError, ConnectorError, Incident, stable_hash, utcnow
from bot.pipeline.delivery import Attempt, DeliveryOutcome, Sent, deliver_first
from bot.pipeline.service import Pipeline
from bot.render.email import digest_html, digest_text, email_html, email_subject, email_text
from bot.storage import Store
from bot.surfaces.delivery import DeliveryScheduler
from config.settings import SMTPSettings

log = logging.getLogger(__name__)

SURFACE = "email"
CHANNEL = "smtp"


_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def header_text(value: str) -> str:
    """One header line: CR, LF, U+2028/2029, U+0085 and other control characters become a space (an alert
    title must never add a header or make the library refuse the message)."""
    return " ".join(_HEADER_BREAKS.sub(" ", value).split())


def build_message(*, sender: str, recipients: Sequence[str], subject: str, text: str, html: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = header_text(subject)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "sherlog.local")
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


class EmailNotifier:
    def __init__(self, *, settings: SMTPSettings, pipeline: Pipeline, store: Store) -> None:
        if not settings.recipients:
            raise ConfigError("smtp.recipients is empty: list who receives incident mail "
                              "(SHERLOG__SMTP__RECIPIENTS='[\"oncall@example.com\"]')")
        self.settings = settings
        self.pipeline = pipeline
        self._store = store  # the delivery ledger (chat posts), given by the composition root
        self.scheduler = DeliveryScheduler("email")

    # ---- SMTP ---------------------------------------------------------------------------------

    def send_now(self, msg: EmailMessage) -> None:
        """Send one message (blocking); raises ``ConnectorError`` when the server refuses or is down."""
        s = self.settings
        try:
            client: smtplib.SMTP
            if s.use_ssl:
                client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
            with client:
                if s.starttls and not s.use_ssl:
                    client.starttls(context=ssl.create_default_context())
                if s.username and s.password:
                    client.login(s.username, s.password.get_secret_value())
                client.send_message(msg)
        except (OSError, smtplib.SMTPException) as e:
            raise ConnectorError(f"SMTP server {s.host}:{s.port} failed: {e.__class__.__name__}: {e}") from e

    def _message(self, subject: str, text: str, html: str) -> EmailMessage:
        return build_message(sender=self.settings.sender, recipients=self.settings.recipients, subject=subject,
                             text=text, html=html)

    # ---- notifications ------------------------------------------------------------------------

    def wants(self, incident: Incident) -> bool:
        if incident.is_early_warning:
            return self.settings.early_warnings
        return incident.severity.value in {s.lower() for s in self.settings.notify_severities}

    async def notify_incident(self, incident: Incident, analysis: Analysis | None) -> str:
        """Mail a new incident once. Returns sent / pending / skipped."""
        if not self.wants(incident):
            return "skipped"
        claimed = await asyncio.to_thread(self._store.claim_chat_post, incident_id=incident.id, surface=SURFACE,
                                          channel=CHANNEL)
        if not claimed:
            return "skipped"
        row = await asyncio.to_thread(self._store.get_chat_post, incident_id=incident.id, surface=SURFACE,
                                      channel=CHANNEL)
        assert row is not None and row.id is not None
        return await self._send_incident(row.id, incident, analysis)

    async def _send_incident(self, post_id: int, incident: Incident, analysis: Analysis | None) -> str:
        """The shared delivery cycle (``bot.pipeline.delivery``); a sent mail is recorded by its Message-ID.
        Any failure (SMTP down, a message the library refuses) leaves it failed for the retry loop, never posting."""

        async def send(_attempt: Attempt) -> Sent:
            url = self.settings.dashboard_url
            msg = self._message(email_subject(incident, analysis), email_text(incident, analysis, dashboard_url=url),
                                email_html(incident, analysis, dashboard_url=url))
            await asyncio.to_thread(self.send_now, msg)
            return Sent(ref=str(msg["Message-ID"])[:200])

        outcome = await deliver_first(self._store, post_id, send, errors=(Exception,), what="incident mail")
        return "sent" if outcome == DeliveryOutcome.POSTED else outcome.value

    async def notify_warning(self, incident: Incident, message: str) -> str:
        """Mail an operational warning about an incident, once per distinct message."""
        key = stable_hash(incident.id, message)
        claimed = await asyncio.to_thread(self._store.claim_chat_post, incident_id=incident.id,
                                          surface="email-warning", channel=key)
        if not claimed:
            return "skipped"
        subject = f"[warning] {incident.title or incident.id}: {message}"[:200]
        text = f"{message}\n\nIncident: {incident.title} ({incident.id})\n"
        html = f"<p>{escape(message)}</p><p>Incident: {escape(incident.title)} ({escape(incident.id)})</p>"
        try:
            await asyncio.to_thread(self.send_now, self._message(subject, text, html))
        except Exception:  # noqa: BLE001 - SMTP down or a message the library refuses
            log.warning("warning mail failed", extra={"incident_id": incident.id})
            return "pending"
        return "sent"

    async def send_digest(self, *, since: datetime | None = None, now: datetime | None = None) -> int:
        """Mail the incidents created since ``since`` (default: the last 24 hours); returns how many were listed."""
        until = now or utcnow()
        start = since or until - timedelta(days=1)

        def collect() -> list[tuple[Incident, Analysis | None]]:
            incidents = self._store.list_incidents(since=start, until=until, limit=500)
            return [(i, self._store.latest_analysis(incident_id=i.id)) for i in incidents]

        items = await asyncio.to_thread(collect)
        period = f"{start:%Y-%m-%d %H:%M} – {until:%Y-%m-%d %H:%M} UTC"
        msg = self._message(f"Sherlog digest: {len(items)} incident(s)", digest_text(items, period=period),
                            digest_html(items, period=period, dashboard_url=self.settings.dashboard_url))
        await asyncio.to_thread(self.send_now, msg)
        return len(items)

    async def retry_pending(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in await asyncio.to_thread(self._store.pending_chat_posts, surface=SURFACE):
            try:
                incident, analysis = await asyncio.to_thread(self.pipeline.get_incident, incident_id=row.incident_id)
                outcome = await self._send_incident(row.id, incident, analysis)  # type: ignore[arg-type]
            except Exception as e:  # noqa: BLE001 - one broken row must not stop the others
                log.warning("incident mail retry failed", extra={"incident_id": row.incident_id, "error": repr(e)[:200]})
                outcome = "pending"
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    async def run_retry_loop(self) -> None:
        """Retry failed mails every ``smtp.retry_interval_s`` until cancelled (started with the app)."""
        while True:
            await asyncio.sleep(self.settings.retry_interval_s)
            try:
                await self.retry_pending()
            except Exception as e:  # noqa: BLE001 - the loop outlives a database hiccup
                log.warning("incident mail retry round failed", extra={"error": repr(e)[:200]})

    # ---- events -------------------------------------------------------------------------------

    def subscribe(self) -> None:
        self.pipeline.events.subscribe("analysis.ready", self.on_analysis_ready)
        self.pipeline.events.subscribe("warning.raised", self.on_warning)

    def on_analysis_ready(self, *, incident: Incident, analysis: Analysis, **_: Any) -> Any:
        return self._schedule(lambda: self.notify_incident(incident, analysis))

    def on_warning(self, *, incident: Incident, message: str = "", **_: Any) -> Any:
        return self._schedule(lambda: self.notify_warning(incident, message or "warning"))

    def _schedule(self, make: Callable[[], Awaitable[Any]]) -> Any:
        return self.scheduler.schedule(make)  # the outbox relay waits for it

    async def start(self) -> None:
        """Deliveries on this loop and the retry loop (started by the composition root in every role)."""
        self.scheduler.bind()
        self._retry_task = asyncio.get_running_loop().create_task(self.run_retry_loop(), name="email-retry")

    async def stop(self) -> None:
        task = getattr(self, "_retry_task", None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.drain()

    async def drain(self) -> None:
        await self.scheduler.drain()


def install(app: FastAPI) -> None:
    """The notifier the composition root built (``bot.pipeline.wiring``), for the routes that use it."""
    app.state.email = app.state.runtime.surfaces.get("email")
