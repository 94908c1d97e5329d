"""Proactive prediction: a scheduled job that warns before a limit is hit.

Every ``prediction.interval_minutes`` the job fetches each configured watch's recent series (through
an injected ``SeriesSource``: Prometheus or CSV files), forecasts it (time to exhaustion with a
confidence interval, certificate expiry, error-budget burn rate; learned precursors when a
``PrecursorModel`` is given) and hands an ``EarlyWarning`` to
the injected ``on_warning`` callback when the limit is due within ``horizon_hours``. A warning is
posted once per ``renotify_hours`` unless its forecast moved much sooner; users can silence one
(``silence(key, until)``). ``EarlyWarning.to_alert()`` gives the alert the pipeline ingests like any
other (``labels["sherlog_early_warning"] == "true"``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, Field

from bot.domain.models import Alert, MetricSeries, Severity, stable_hash, utcnow
from config.settings import PredictionSettings, WatchSettings
from detectors.metrics.csv_series import read_series_csv
from detectors.metrics.forecast import (
    Forecast,
    burn_rate,
    default_limit,
    forecast_exhaustion,
    forecast_expiry,
)
from detectors.metrics.kinds import kind_for
from detectors.metrics.precursors import PrecursorModel

log = logging.getLogger(__name__)


class EarlyWarning(BaseModel):
    key: str  # dedup / silence key: the watch and the series' identity
    watch: str
    service: str
    metric: str
    kind: str | None  # vocabulary cause kind (disk_full, memory_leak, ...)
    check: str
    title: str
    summary: str
    severity: Severity = Severity.WARNING
    current: float = 0.0
    limit: float = 0.0
    eta: datetime | None = None
    eta_early: datetime | None = None
    eta_late: datetime | None = None
    confidence: float = 0.9
    slope_per_hour: float = 0.0
    labels: dict[str, str] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)

    def to_alert(self) -> Alert:
        def iso(d: datetime | None) -> str:
            return d.isoformat() if d else ""

        return Alert(
            source="sherlog-predict",
            fingerprint=self.key,
            name=f"EarlyWarning: {self.title}",
            service=self.service,
            severity=self.severity,
            summary=self.summary,
            labels={
                **self.labels,
                "alertname": f"EarlyWarning{self.check.title().replace('_', '')}",
                "service": self.service,
                "metric": self.metric,
                "kind": self.kind or "",
                "sherlog_early_warning": "true",
            },
            annotations={
                "eta": iso(self.eta),
                "eta_early": iso(self.eta_early),
                "eta_late": iso(self.eta_late),
                "confidence": f"{self.confidence:.2f}",
                "current": f"{self.current:g}",
                "limit": f"{self.limit:g}",
            },
            starts_at=self.created_at,
        )


class SeriesSource(Protocol):
    def fetch(self, watch: WatchSettings, *, start: datetime, end: datetime) -> list[MetricSeries]: ...


class PrometheusSource:
    """Watches with a ``query``, read through a ``PrometheusConnector``."""

    def __init__(self, connector: Any, *, step: str = "60s") -> None:
        self.connector = connector
        self.step = step

    def fetch(self, watch: WatchSettings, *, start: datetime, end: datetime) -> list[MetricSeries]:
        if not watch.query:
            return []
        series: list[MetricSeries] = self.connector.query_range(
            watch.query, start=start, end=end, step=self.step, metric=watch.metric or watch.name
        )
        for s in series:
            if s.service == "unknown" or watch.service != "unknown":
                s.service = watch.service
        return series


class CsvSource:
    """Watches with a ``csv`` file (``timestamp,value``), e.g. for ``sherlog predict FILE.csv``."""

    def fetch(self, watch: WatchSettings, *, start: datetime, end: datetime) -> list[MetricSeries]:
        if watch.csv is None:
            return []
        s = read_series_csv(Path(watch.csv), service=watch.service, metric=watch.metric or watch.name)
        keep = [i for i, ts in enumerate(s.timestamps) if start <= ts <= end]
        s.timestamps = [s.timestamps[i] for i in keep]
        s.values = [s.values[i] for i in keep]
        return [s]


class InMemorySilences:
    """Silences by warning key; swap for a persistent store with the same two methods."""

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def silence(self, key: str, until: datetime) -> None:
        with self._lock:
            self._until[key] = until

    def is_silenced(self, key: str, now: datetime) -> bool:
        with self._lock:
            until = self._until.get(key)
        return until is not None and now < until


def _severity(hours_left: float, horizon: float) -> Severity:
    if hours_left <= min(4.0, horizon / 6):
        return Severity.CRITICAL
    if hours_left <= horizon / 2:
        return Severity.HIGH
    return Severity.WARNING


def _fmt_time(d: datetime | None) -> str:
    return d.strftime("%Y-%m-%d %H:%M UTC") if d else "never"


def evaluate_watch(
    watch: WatchSettings, series: MetricSeries, *, now: datetime, settings: PredictionSettings
) -> EarlyWarning | None:
    """The warning for one series of a watch, or None when nothing is due within the horizon."""
    t = np.array([ts.timestamp() for ts in series.timestamps], dtype=np.float64)
    y = np.asarray(series.values, dtype=np.float64)
    metric = watch.metric or series.metric or watch.name
    key = stable_hash(watch.name, series.service, *(f"{k}={v}" for k, v in sorted(series.labels.items())))
    horizon = settings.horizon_hours
    base: dict[str, Any] = {
        "key": key,
        "watch": watch.name,
        "service": series.service,
        "metric": metric,
        "check": watch.check,
        "labels": dict(series.labels),
        "created_at": now,
        "confidence": settings.confidence,
    }
    if watch.check == "burn_rate":
        if watch.slo is None:
            return None
        br = burn_rate(t, y, slo=watch.slo)
        if br is None or min(br.long, br.short) < watch.burn_threshold:
            return None
        left = br.budget_hours_left
        return EarlyWarning(
            **base,
            kind=watch.cause_kind,
            title=f"{series.service}: error budget burning {br.long:.1f}x",
            summary=(
                f"{metric} burns the error budget of SLO {watch.slo:.4g} at {br.long:.1f}x over 1 h and "
                f"{br.short:.1f}x over 5 min (threshold {watch.burn_threshold:g}x); "
                f"a 30-day budget lasts {left:.1f} h at this rate"
                if left
                else ""
            ),
            severity=Severity.CRITICAL if br.long >= 2 * watch.burn_threshold else Severity.HIGH,
            current=br.long,
            limit=watch.burn_threshold,
            eta=now + timedelta(hours=left) if left is not None else None,
        )
    forecast: Forecast | None
    if watch.check == "expiry":
        forecast = forecast_expiry(t, y)
        kind = watch.cause_kind or "certificate_expired"
    else:
        implied = default_limit(metric, y)
        limit = watch.limit if watch.limit is not None else (implied[0] if implied else None)
        if limit is None:
            log.warning("watch without a limit skipped", extra={"watch": watch.name})
            return None
        direction = {"up": 1, "down": -1}.get(watch.direction or "", implied[1] if implied else 1)
        forecast = forecast_exhaustion(
            t, y, limit=limit, direction=direction, now=now.timestamp(), confidence=settings.confidence
        )
        kind = watch.cause_kind or kind_for(metric, direction=1, shape="ramp") or "resource_quota"
    if forecast is None or forecast.eta is None:
        return None
    hours = forecast.hours_left(now)
    if hours is None or hours > horizon:
        return None
    if forecast.kind == "expiry":
        what = f"expires at {_fmt_time(forecast.eta)} (in {hours:.1f} h)"
    elif hours <= 0:
        what = f"has reached its limit {forecast.limit:g} (now {forecast.current:g})"
    else:
        what = (
            f"will reach {forecast.limit:g} at {_fmt_time(forecast.eta)} (in {hours:.1f} h; "
            f"{forecast.confidence:.0%} interval {_fmt_time(forecast.eta_early)} .. {_fmt_time(forecast.eta_late)}), "
            f"now {forecast.current:g}, trend {forecast.slope_per_hour:+.3g}/h"
        )
    return EarlyWarning(
        **base,
        kind=kind,
        title=f"{series.service}: {metric} {('expires' if forecast.kind == 'expiry' else 'runs out')} in {max(hours, 0):.1f} h",
        summary=f"{metric} of {series.service} {what}",
        severity=_severity(max(hours, 0.0), horizon),
        current=forecast.current,
        limit=forecast.limit,
        eta=forecast.eta,
        eta_early=forecast.eta_early,
        eta_late=forecast.eta_late,
        slope_per_hour=forecast.slope_per_hour,
    )


def precursor_warnings(
    model: PrecursorModel, service: str, series: list[MetricSeries], *, now: datetime
) -> list[EarlyWarning]:
    """Warnings for learned precursors present now on one service (best per kind)."""
    out: list[EarlyWarning] = []
    kinds: set[str] = set()
    for p, began in model.match(series, now=now):
        if p.kind in kinds:
            continue
        kinds.add(p.kind)
        family, direction = p.pattern.split(":", 1)
        eta = began + timedelta(minutes=p.lead_minutes)
        out.append(
            EarlyWarning(
                key=stable_hash("precursor", service, p.pattern, p.kind),
                watch="learned-precursors",
                service=service,
                metric=family,
                kind=p.kind,
                check="precursor",
                title=f"{service}: {family} {direction} came before {p.support} past {p.kind} incidents",
                summary=(
                    f"{family} went {direction} on {service} at {_fmt_time(began)}; this came before "
                    f"{p.support} of {p.incidents} past {p.kind} incidents (precision {p.precision:.0%}, "
                    f"{p.false_alarms} false alarms), about {p.lead_minutes:.0f} min ahead"
                ),
                severity=Severity.WARNING,
                current=float(p.support),
                limit=float(p.incidents),
                eta=max(eta, now),
                eta_early=now,
                eta_late=None,
                confidence=p.precision,
                created_at=now,
            )
        )
    return out


class EarlyWarningJob:
    """Scans the configured watches and posts warnings through ``on_warning``."""

    def __init__(
        self,
        *,
        settings: PredictionSettings,
        source: SeriesSource,
        on_warning: Callable[[EarlyWarning], None],
        silences: InMemorySilences | None = None,
        clock: Callable[[], datetime] = utcnow,
        precursors: PrecursorModel | None = None,
    ) -> None:
        self.settings = settings
        self.source = source
        self.on_warning = on_warning
        self.silences = silences or InMemorySilences()
        self.clock = clock
        self.precursors = precursors
        self._posted: dict[str, EarlyWarning] = {}
        self._lock = threading.Lock()

    def silence(self, key: str, *, hours: float = 24.0) -> None:
        self.silences.silence(key, self.clock() + timedelta(hours=hours))

    def _is_new(self, w: EarlyWarning) -> bool:
        last = self._posted.get(w.key)
        if last is None:
            return True
        if w.created_at - last.created_at >= timedelta(hours=self.settings.renotify_hours):
            return True
        if last.eta and w.eta:  # much sooner than announced: say so now
            left_then = (last.eta - w.created_at).total_seconds()
            left_now = (w.eta - w.created_at).total_seconds()
            return left_now < 0.5 * left_then
        return False

    def run_once(self) -> list[EarlyWarning]:
        """One scan; returns the warnings posted (after dedup and silences)."""
        now = self.clock()
        start = now - timedelta(hours=self.settings.lookback_hours)
        posted: list[EarlyWarning] = []
        candidates: list[EarlyWarning] = []
        seen: dict[str, list[MetricSeries]] = {}
        for watch in self.settings.watches:
            try:
                series = self.source.fetch(watch, start=start, end=now)
            except Exception as e:  # noqa: BLE001 - one broken watch must not stop the others
                log.warning("early-warning watch failed", extra={"watch": watch.name, "error": str(e)})
                continue
            for s in series:
                seen.setdefault(s.service, []).append(s)
                w = evaluate_watch(watch, s, now=now, settings=self.settings)
                if w is not None:
                    candidates.append(w)
        if self.precursors is not None:
            for service, group in sorted(seen.items()):
                candidates.extend(precursor_warnings(self.precursors, service, group, now=now))
        for w in candidates:
            if self.silences.is_silenced(w.key, now):
                continue
            with self._lock:
                if not self._is_new(w):
                    continue
                self._posted[w.key] = w
            try:
                self.on_warning(w)
            except Exception:  # noqa: BLE001 - delivery failure: retry on the next scan
                log.exception("early-warning delivery failed", extra={"key": w.key})
                with self._lock:
                    self._posted.pop(w.key, None)
                continue
            posted.append(w)
        return posted

    def schedule(self, scheduler: Any) -> Any:
        """Add the scan to an apscheduler scheduler (interval trigger); returns the job."""
        return scheduler.add_job(
            self.run_once,
            "interval",
            minutes=self.settings.interval_minutes,
            id="sherlog-early-warning",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )
