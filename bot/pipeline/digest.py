"""The weekly reliability digest: incidents, MTTR, recurring causes, suggested follow-ups and a chart.

``build_digest`` computes it from the reports (``bot.reporting``); ``send_digest`` delivers it once
per period through an injected sender (a callable taking a ``Digest``), using the ``chat_posts``
unique key so that several replicas never send the same week twice; ``schedule_weekly_digest`` adds
the apscheduler job. ``SMTPDigestSender`` mails it (HTML with the chart inline, plain-text part too);
Slack/Teams senders are the chat surfaces' and plug in the same way.
"""

from __future__ import annotations

import heapq
import html
import io
import logging
import smtplib
import ssl
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any

from bot.domain import ConnectorError, utcnow
from bot.reporting import ReportOptions, ReportScope, build_report
from bot.reporting.fold import Fold, run_folds
from bot.reporting.queries import IncidentFacts
from bot.reporting.timing import minutes_to_resolve

if TYPE_CHECKING:
    from apscheduler.job import Job
    from apscheduler.schedulers.base import BaseScheduler

    from bot.pipeline import Pipeline
    from bot.storage import Store
    from config.settings import SMTPSettings

log = logging.getLogger(__name__)

DigestSender = Callable[["Digest"], None]


@dataclass
class Digest:
    since: datetime
    until: datetime
    subject: str
    figures: dict[str, Any]
    recurring: list[dict[str, Any]]
    follow_ups: list[str]
    per_day: list[dict[str, Any]]
    chart_png: bytes = b""
    dashboard_url: str | None = None
    notable: list[dict[str, Any]] = field(default_factory=list)

    @property
    def period_key(self) -> str:
        year, week, _ = self.until.isocalendar()
        return f"{year}-W{week:02d}"

    def text(self) -> str:
        f = self.figures
        lines = [self.subject, "",
                 f"Incidents: {f['incidents']} ({f['previous_incidents']} the week before) · open now: {f['open_now']}",
                 f"MTTR median: {_mins(f['mttr_p50_min'])} (before: {_mins(f['previous_mttr_p50_min'])}) · "
                 f"p90: {_mins(f['mttr_p90_min'])} · MTTA median: {_mins(f['mtta_p50_min'])}",
                 f"Sherlog's first answer right: {_pct(f['top1'])} of {f['judged']} confirmed causes (top-3 {_pct(f['top3'])})",
                 f"Early warnings: {f['early_warnings']} raised, {f['early_warnings_came_true']} came true", ""]
        lines.append("Recurring causes:" if self.recurring else "No cause recurred this week.")
        lines += [f"  - {r['kind']} in {r['service']}: {r['count']}× this week"
                  + (f", {r['before']}× in the 4 weeks before" if r["before"] else "") for r in self.recurring]
        if self.notable:
            lines += ["", "Longest incidents:"]
            lines += [f"  - {n['title']} ({n['service']}): {_mins(n['minutes'])}" for n in self.notable]
        lines += ["", "Suggested follow-ups:"] + [f"  - {s}" for s in self.follow_ups]
        if self.dashboard_url:
            lines += ["", f"Dashboard: {self.dashboard_url.rstrip('/')}/?since={self.since.date()}&until={self.until.date()}"]
        return "\n".join(lines) + "\n"

    def html(self, *, chart_cid: str | None = None) -> str:
        e = html.escape
        f = self.figures
        rows = "".join(f"<tr><td>{e(k)}</td><td style='text-align:right'>{e(v)}</td></tr>" for k, v in (
            ("Incidents", f"{f['incidents']} (week before: {f['previous_incidents']})"),
            ("Open now", str(f["open_now"])),
            ("MTTR median / p90", f"{_mins(f['mttr_p50_min'])} / {_mins(f['mttr_p90_min'])}"),
            ("MTTA median", _mins(f["mtta_p50_min"])),
            ("Sherlog top-1 / top-3", f"{_pct(f['top1'])} / {_pct(f['top3'])} of {f['judged']}"),
            ("Early warnings (came true)", f"{f['early_warnings']} ({f['early_warnings_came_true']})")))
        recurring = "".join(f"<li><b>{e(r['kind'])}</b> in <b>{e(r['service'])}</b>: {r['count']}×</li>"
                            for r in self.recurring) or "<li>No cause recurred this week.</li>"
        follow = "".join(f"<li>{e(s)}</li>" for s in self.follow_ups)
        chart = f"<p><img src='cid:{chart_cid}' alt='Incidents per day by category, and MTTR' width='720'></p>" \
            if chart_cid and self.chart_png else ""
        link = (f"<p><a href='{e(self.dashboard_url.rstrip('/'))}/?since={self.since.date()}&amp;until={self.until.date()}'>"
                "Open the dashboard</a></p>") if self.dashboard_url else ""
        return (f"<html><body style='font-family:sans-serif'><h2>{e(self.subject)}</h2>"
                f"<table cellpadding='4'>{rows}</table>{chart}<h3>Recurring causes</h3><ul>{recurring}</ul>"
                f"<h3>Suggested follow-ups</h3><ul>{follow}</ul>{link}</body></html>")


def _mins(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} min" if value < 90 else f"{value / 60:.1f} h"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


class _WeekFold(Fold):
    """What the digest needs of a week beyond the reports, in one paged pass: confirmed (kind, service)
    counts, resolved incidents without a confirmed cause, incidents open for more than a day, and the three
    that took longest to resolve (kept in a small heap, never the week's incidents)."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        self.causes: Counter[tuple[str, str]] = Counter()
        self.unconfirmed = 0
        self.stale = 0
        self._longest: list[tuple[float, int, Any]] = []
        self._seen = 0

    def add(self, facts: IncidentFacts) -> None:
        incident = facts.incident
        if incident.confirmed_kind and incident.confirmed_service:
            self.causes[(incident.confirmed_kind, incident.confirmed_service)] += 1
        if incident.resolved_at:
            if not incident.confirmed_kind:
                self.unconfirmed += 1
            self._seen += 1  # ties keep the earliest created, as the sort of the whole week did
            heapq.heappush(self._longest, (minutes_to_resolve(incident) or 0.0, -self._seen, incident))
            if len(self._longest) > 3:
                heapq.heappop(self._longest)
        elif not incident.is_early_warning and self.until - incident.created_at > timedelta(days=1):
            self.stale += 1

    def longest(self) -> list[tuple[float, Any]]:
        return [(m, i) for m, _, i in sorted(self._longest, key=lambda t: (-t[0], -t[1]))]

    def result(self) -> dict[str, Any]:
        return {"causes": dict(self.causes), "unconfirmed": self.unconfirmed, "stale": self.stale}


def _recurring(week: Counter[tuple[str, str]], prior: Counter[tuple[str, str]]) -> list[dict[str, Any]]:
    keep = sorted(((k, s) for (k, s), n in week.items() if n >= 2 or prior[(k, s)] >= 1),
                  key=lambda p: (-week[p], -prior[p], p[0] or ""))
    return [{"kind": k, "service": s, "count": week[(k, s)], "before": prior[(k, s)]} for k, s in keep]


def _follow_ups(figures: dict[str, Any], recurring: list[dict[str, Any]], unconfirmed: int, stale_open: int) -> list[str]:
    items = [f"{r['kind'].replace('_', ' ')} in {r['service']} recurred ({r['count']}× this week"
             f"{', ' + str(r['before']) + '× in the 4 weeks before' if r['before'] else ''}): "
             "schedule a lasting fix and check its runbook." for r in recurring[:5]]
    if stale_open:
        items.append(f"{stale_open} incident(s) open for more than a day: resolve them or say why they stay open.")
    if unconfirmed:
        items.append(f"{unconfirmed} resolved incident(s) have no confirmed cause: confirm them so Sherlog learns.")
    if figures["judged"] >= 5 and (figures["top1"] or 0) < 0.5:
        items.append("Sherlog's first answer was right less than half the time: review the misses on the quality page.")
    if (figures["mtta_p90_min"] or 0) > 15:
        items.append(f"Acknowledging takes long for some pages (p90 {_mins(figures['mtta_p90_min'])}): check paging routes.")
    missed = figures["early_warnings"] - figures["early_warnings_came_true"]
    if figures["early_warnings"] >= 3 and missed > figures["early_warnings"] / 2:
        items.append(f"{missed} of {figures['early_warnings']} early warnings did not come true: tune their thresholds.")
    return items or ["Nothing stands out this week."]


def render_chart(per_day: list[dict[str, Any]], keys: list[str], mttr_by_day: dict[str, float | None]) -> bytes:
    """Stacked bars of incidents per day by category, MTTR median per day as a line (PNG, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.2), dpi=110)
    ax = fig.add_subplot()
    days = [d["day"][5:] for d in per_day]
    bottom = [0] * len(per_day)
    palette = matplotlib.colormaps["tab20"]
    for i, key in enumerate(keys):
        values = [d["counts"].get(key, 0) for d in per_day]
        ax.bar(days, values, bottom=bottom, label=key, color=palette(i % 20), width=0.75)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("incidents")
    ax.spines[["top"]].set_visible(False)
    line = [mttr_by_day.get(d["day"]) for d in per_day]
    if any(v is not None for v in line):
        ax2 = ax.twinx()
        ax2.plot(days, [float("nan") if v is None else v for v in line], color="black", marker="o", linewidth=1.5,
                 label="MTTR median (min)")
        ax2.set_ylabel("MTTR median (min)")
        ax2.set_ylim(bottom=0)
        ax2.spines[["top"]].set_visible(False)
    if keys:
        ax.legend(fontsize=7, ncol=min(6, len(keys)), loc="upper left", bbox_to_anchor=(0, -0.12), frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def build_digest(*, store: Store, now: datetime | None = None, days: int = 7,
                 dashboard_url: str | None = None) -> Digest:
    until = now or utcnow()
    scope = ReportScope(since=until - timedelta(days=days), until=until)
    previous = ReportScope(since=scope.since - timedelta(days=days), until=scope.since)
    summary = build_report("summary", store=store, scope=scope)["figures"]
    before = build_report("summary", store=store, scope=previous)["figures"]
    times = build_report("response-times", store=store, scope=scope, options=ReportOptions(bucket="day"))
    per_day = build_report("incidents-per-day", store=store, scope=scope)
    week, four_weeks = _WeekFold(until), _WeekFold(scope.since)
    run_folds([week], store=store, scope=scope)
    run_folds([four_weeks], store=store, scope=ReportScope(since=scope.since - timedelta(days=28), until=scope.since))
    figures = {**summary, "mtta_p90_min": times["mtta"]["p90"], "previous_incidents": before["incidents"],
               "previous_mttr_p50_min": before["mttr_p50_min"]}
    recurring = _recurring(week.causes, four_weeks.causes)
    longest = week.longest()
    chart = render_chart(per_day["days"], per_day["keys"], {t["bucket"]: t["mttr"]["p50"] for t in times["trend"]})
    subject = (f"Sherlog weekly reliability digest {scope.since.date()} – {(until - timedelta(seconds=1)).date()}: "
               f"{summary['incidents']} incidents, MTTR median {_mins(summary['mttr_p50_min'])}")
    return Digest(since=scope.since, until=until, subject=subject, figures=figures, recurring=recurring,
                  follow_ups=_follow_ups(figures, recurring, week.unconfirmed, week.stale), per_day=per_day["days"],
                  chart_png=chart, dashboard_url=dashboard_url,
                  notable=[{"id": i.id, "title": i.title, "service": i.service, "minutes": m} for m, i in longest])


def preview_digest(*, pipeline: Pipeline, days: int = 7, dashboard_url: str | None = None) -> Digest:
    """This period's digest, built but not sent (``sherlog digest preview``)."""
    return build_digest(store=pipeline._require_store(), days=days, dashboard_url=dashboard_url)


def send_digest(*, pipeline: Pipeline, sender: DigestSender, now: datetime | None = None, days: int = 7,
                channel: str = "default", dashboard_url: str | None = None, force: bool = False) -> Digest | None:
    """Build and send this period's digest once per (period, channel), even with several replicas.

    Returns the digest, or ``None`` when it was already sent for this period (unless ``force``).
    """
    store = pipeline._require_store()
    digest = build_digest(store=store, now=now, days=days, dashboard_url=dashboard_url)
    key = f"digest-{digest.period_key}"
    if not store.claim_chat_post(incident_id=key, surface="digest", channel=channel) and not force:
        log.info("weekly digest already sent for this period", extra={"period": digest.period_key})
        return None
    post = store.get_chat_post(incident_id=key, surface="digest", channel=channel)
    try:
        sender(digest)
    except Exception:
        if post is not None and post.id is not None:
            store.update_chat_post(post_id=post.id, state="failed")
        raise
    if post is not None and post.id is not None:
        store.update_chat_post(post_id=post.id, state="posted", data={"subject": digest.subject})
    log.info("weekly digest sent", extra={"period": digest.period_key, "channel": channel})
    return digest


def schedule_weekly_digest(scheduler: BaseScheduler, *, pipeline: Pipeline, sender: DigestSender,
                           day_of_week: str = "mon", hour: int = 9, minute: int = 0, timezone: str = "UTC",
                           channel: str = "default", dashboard_url: str | None = None) -> Job:
    """Add the weekly job (cron, by default Mondays 09:00 UTC) to an apscheduler 3 scheduler."""
    from apscheduler.triggers.cron import CronTrigger

    def run() -> None:
        try:
            send_digest(pipeline=pipeline, sender=sender, channel=channel, dashboard_url=dashboard_url)
        except Exception:  # noqa: BLE001 - a failed digest must not kill the scheduler
            log.exception("weekly digest failed")

    trigger = CronTrigger(day_of_week=day_of_week, hour=hour, minute=minute, timezone=timezone)
    return scheduler.add_job(run, trigger, id=f"weekly-digest-{channel}", replace_existing=True,
                             coalesce=True, misfire_grace_time=3600)


class SMTPDigestSender:
    """Mails the digest: a plain-text part and an HTML part with the chart inline (``cid:``)."""

    def __init__(self, settings: SMTPSettings, *, recipients: list[str] | None = None) -> None:
        self.settings = settings
        self.recipients = recipients or list(settings.recipients)
        if not self.recipients:
            from bot.domain import ConfigError

            raise ConfigError("smtp.recipients is empty: list who receives the weekly digest "
                              "(SHERLOG__SMTP__RECIPIENTS='[\"sre@example.com\"]')")

    def message(self, digest: Digest) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = digest.subject
        msg["From"] = self.settings.sender
        msg["To"] = ", ".join(self.recipients)
        msg.set_content(digest.text())
        cid = make_msgid(domain="sherlog.local")
        msg.add_alternative(digest.html(chart_cid=cid[1:-1]), subtype="html")
        if digest.chart_png:
            html_part = msg.get_payload()[1]  # type: ignore[index]
            assert isinstance(html_part, EmailMessage)
            html_part.add_related(digest.chart_png, maintype="image", subtype="png", cid=cid,
                                  filename="incidents.png")
        return msg

    def __call__(self, digest: Digest) -> None:
        s = self.settings
        try:
            if getattr(s, "use_ssl", False):
                client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=getattr(s, "timeout_s", 10.0),
                                                        context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=getattr(s, "timeout_s", 10.0))
            with client:
                if s.starttls:
                    client.starttls(context=ssl.create_default_context())
                if s.username and s.password:
                    client.login(s.username, s.password.get_secret_value())
                client.send_message(self.message(digest))
        except (OSError, smtplib.SMTPException) as e:
            raise ConnectorError(f"could not mail the digest through {s.host}:{s.port}: {e}") from e


def install_weekly_digest(app: Any, *, sender: DigestSender, day_of_week: str = "mon", hour: int = 9,
                          minute: int = 0, timezone: str = "UTC", channel: str = "default",
                          dashboard_url: str | None = None) -> None:
    """Run the weekly digest inside the API process: an apscheduler ``AsyncIOScheduler`` started and
    stopped with the app's lifespan (the job itself runs in apscheduler's thread pool). Several
    replicas may all install it: ``send_digest`` sends each week once."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    async def start(app: Any) -> None:
        scheduler = AsyncIOScheduler(timezone=timezone)
        schedule_weekly_digest(scheduler, pipeline=app.state.pipeline, sender=sender, day_of_week=day_of_week,
                               hour=hour, minute=minute, timezone=timezone, channel=channel,
                               dashboard_url=dashboard_url)
        scheduler.start()
        app.state.digest_scheduler = scheduler

    async def stop(app: Any) -> None:
        scheduler = getattr(app.state, "digest_scheduler", None)
        if scheduler is not None:
            scheduler.shutdown(wait=False)

    app.state.startup_hooks.append(start)
    app.state.shutdown_hooks.append(stop)
