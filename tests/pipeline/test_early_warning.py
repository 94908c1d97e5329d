"""The early-warning job on a simulated disk that fills up, driven by a fake clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import numpy as np
from apscheduler.schedulers.background import BackgroundScheduler

from bot.domain.models import MetricSeries
from bot.pipeline.early_warning import EarlyWarning, EarlyWarningJob, evaluate_watch
from config.settings import PredictionSettings, WatchSettings

T0 = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
FULL_AT = T0 + timedelta(hours=30)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class SimulatedDisk:
    """A volume at 40% that fills linearly to 100% at FULL_AT (with noise); samples every minute."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.fetches = 0

    def used_ratio(self, ts: datetime) -> float:
        frac = (ts - T0).total_seconds() / (FULL_AT - T0).total_seconds()
        return float(min(1.0, 0.4 + 0.6 * frac))

    def fetch(self, watch: WatchSettings, *, start: datetime, end: datetime) -> list[MetricSeries]:
        self.fetches += 1
        n = int((end - start).total_seconds() // 60)
        stamps = [start + timedelta(minutes=i + 1) for i in range(n)]
        values = [self.used_ratio(ts) + float(self.rng.normal(0, 0.002)) for ts in stamps]
        return [
            MetricSeries(
                service="db-1",
                metric="disk_used_ratio",
                labels={"mount": "/var/lib/pg"},
                timestamps=stamps,
                values=values,
            )
        ]


def _settings(**kw: object) -> PredictionSettings:
    return PredictionSettings(
        watches=[WatchSettings(name="pg-disk", service="db-1", query="x", metric="disk_used_ratio")],
        horizon_hours=12,
        lookback_hours=3,
        **kw,  # type: ignore[arg-type]
    )


def test_disk_filling_warns_before_full_with_an_interval_around_the_truth() -> None:
    clock = Clock(T0 + timedelta(hours=4))
    got: list[EarlyWarning] = []
    job = EarlyWarningJob(settings=_settings(), source=SimulatedDisk(), on_warning=got.append, clock=clock)
    while not got and clock.now < FULL_AT:
        job.run_once()
        clock.now += timedelta(minutes=30)
    assert got, "no warning before the disk was full"
    w = got[0]
    assert w.kind == "disk_full" and w.service == "db-1" and w.limit == 1.0
    assert w.created_at < FULL_AT - timedelta(hours=11)  # warned as soon as it entered the 12 h horizon
    assert w.eta_early is not None and w.eta_late is not None and w.eta is not None
    assert w.eta_early <= FULL_AT <= w.eta_late
    assert abs((w.eta - FULL_AT).total_seconds()) < 3600
    alert = w.to_alert()
    assert alert.labels["sherlog_early_warning"] == "true" and alert.fingerprint == w.key
    assert alert.annotations["eta"] == w.eta.isoformat()


def test_dedup_renotify_and_silence() -> None:
    clock = Clock(FULL_AT - timedelta(hours=10))
    got: list[EarlyWarning] = []
    job = EarlyWarningJob(
        settings=_settings(renotify_hours=2), source=SimulatedDisk(1), on_warning=got.append, clock=clock
    )
    assert len(job.run_once()) == 1
    clock.now += timedelta(minutes=30)
    assert job.run_once() == []  # same forecast: not posted again
    clock.now += timedelta(hours=2)
    assert len(job.run_once()) == 1  # renotify window elapsed
    job.silence(got[-1].key, hours=4)
    clock.now += timedelta(hours=2, minutes=1)
    assert job.run_once() == []  # silenced
    clock.now += timedelta(hours=2)
    assert len(job.run_once()) == 1  # silence over
    assert len(got) == 3


def test_sudden_acceleration_is_posted_at_once() -> None:
    settings = _settings(renotify_hours=24)
    first = EarlyWarning(
        key="k",
        watch="w",
        service="s",
        metric="m",
        kind="disk_full",
        check="exhaustion",
        title="t",
        summary="s",
        current=0.5,
        limit=1.0,
        eta=T0 + timedelta(hours=10),
        created_at=T0,
    )
    job = EarlyWarningJob(
        settings=settings, source=SimulatedDisk(), on_warning=lambda w: None, clock=Clock(T0)
    )
    job._posted["k"] = first
    sooner = first.model_copy(
        update={"eta": T0 + timedelta(hours=2), "created_at": T0 + timedelta(minutes=5)}
    )
    same = first.model_copy(update={"eta": T0 + timedelta(hours=9), "created_at": T0 + timedelta(minutes=5)})
    assert job._is_new(sooner) and not job._is_new(same)


def test_flat_disk_and_cleanup_do_not_warn() -> None:
    settings = _settings()
    now = T0 + timedelta(hours=6)
    stamps = [now - timedelta(minutes=180 - i) for i in range(180)]
    flat = MetricSeries(service="a", metric="disk_used_ratio", timestamps=stamps, values=[0.7] * 180)
    assert evaluate_watch(settings.watches[0], flat, now=now, settings=settings) is None
    # filled fast, then cleaned up: only the flat segment after the cleanup counts
    vals = [0.5 + 0.004 * i for i in range(120)] + [0.3] * 60
    cleaned = MetricSeries(service="a", metric="disk_used_ratio", timestamps=stamps, values=vals)
    assert evaluate_watch(settings.watches[0], cleaned, now=now, settings=settings) is None


def test_expiry_and_burn_rate_checks() -> None:
    settings = PredictionSettings(horizon_hours=72)
    now = T0
    stamps = [now - timedelta(minutes=60 - i) for i in range(61)]
    expiry = (now + timedelta(hours=30)).timestamp()
    cert = MetricSeries(
        service="edge", metric="probe_ssl_earliest_cert_expiry", timestamps=stamps, values=[expiry] * 61
    )
    w = evaluate_watch(WatchSettings(name="cert", check="expiry"), cert, now=now, settings=settings)
    assert w is not None and w.kind == "certificate_expired" and w.eta == now + timedelta(hours=30)
    errors = MetricSeries(service="api", metric="error_ratio", timestamps=stamps, values=[0.02] * 61)
    watch = WatchSettings(name="slo", check="burn_rate", slo=0.999)
    b = evaluate_watch(watch, errors, now=now, settings=settings)
    assert b is not None and abs(b.current - 20.0) < 1e-9 and b.severity.value == "high"
    ok = MetricSeries(service="api", metric="error_ratio", timestamps=stamps, values=[0.0005] * 61)
    assert evaluate_watch(watch, ok, now=now, settings=settings) is None


def test_scheduled_with_apscheduler() -> None:
    arrived = threading.Event()
    got: list[EarlyWarning] = []

    def deliver(w: EarlyWarning) -> None:
        got.append(w)
        arrived.set()

    clock = Clock(FULL_AT - timedelta(hours=5))
    job = EarlyWarningJob(
        settings=_settings(interval_minutes=0.005), source=SimulatedDisk(), on_warning=deliver, clock=clock
    )
    scheduler = BackgroundScheduler(timezone="UTC")
    job.schedule(scheduler)
    scheduler.start()
    try:
        assert arrived.wait(timeout=10)
    finally:
        scheduler.shutdown(wait=True)
    assert got[0].severity.value in ("high", "critical")
