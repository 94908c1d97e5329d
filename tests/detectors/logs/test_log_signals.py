from datetime import timedelta

from bot.domain.models import EvidenceType
from detectors.logs import detect_log_signals
from detectors.logs.kinds import kind_of
from tests.detectors.logs.factories import T0, iso, web_service_lines

ALERT = T0 + timedelta(seconds=1700)


def test_new_error_template_names_its_cause_kind_with_evidence() -> None:
    lines = web_service_lines(incident_from=1600, incident_line="FATAL: remaining connection slots are reserved")
    signals = detect_log_signals({"orders": lines}, alert_time=ALERT)
    top = signals[0]
    assert top.source == "logs" and top.service == "orders"
    assert top.detector == "log.new_template"
    assert top.kind == "db_connection_exhaustion"
    assert top.score > 0.6
    assert top.started_at == T0 + timedelta(seconds=1602)  # first multiple of 3 from 1600
    assert top.attributes["baseline_count"] == 0 and top.attributes["count"] > 30
    assert 1 <= len(top.evidence) <= 5
    ev = top.evidence[0]
    assert ev.type == EvidenceType.LOG and ev.id.startswith("log:orders:")
    line_no = int(ev.id.rsplit(":", 1)[1])
    assert "remaining connection slots" in lines[line_no - 1]
    assert ev.summary == lines[line_no - 1][:300]


def test_surge_of_a_known_template_is_significant_and_a_steady_one_is_not() -> None:
    steady = web_service_lines(incident_from=0, incident_line="upstream timed out (110) while reading", every=60)
    surging = web_service_lines(incident_from=1500, incident_line="upstream timed out (110) while reading", every=2)
    surging += [line for line in steady if "upstream" in line and line < iso(T0 + timedelta(seconds=1500))]
    surging.sort()
    calm = detect_log_signals({"edge": steady}, alert_time=ALERT)
    loud = detect_log_signals({"edge": surging}, alert_time=ALERT)
    assert not [s for s in calm if s.detector in ("log.rate_surge", "log.new_template") and s.score > 0.3]
    surge = next(s for s in loud if s.detector == "log.rate_surge")
    assert surge.kind == "network_latency"
    assert surge.attributes["count"] > surge.attributes["baseline_count"] > 0
    # the surge is dated by its window; its template's first line, in the baseline, is kept beside it
    first = min(line for line in surging if "upstream" in line)
    assert surge.attributes["first_seen"] == iso_of(first)


def test_error_share_signal_and_explicit_baseline() -> None:
    baseline = web_service_lines(seconds=600, seed=1)
    current = web_service_lines(seconds=600, seed=2, incident_from=0, every=4,
                                incident_line="java.lang.IllegalStateException: cart is empty")
    signals = detect_log_signals({"cart": current}, baseline={"cart": baseline})
    detectors = {s.detector for s in signals}
    assert "log.error_share" in detectors
    share = next(s for s in signals if s.detector == "log.error_share")
    assert share.kind == "error_rate_increase"
    assert share.attributes["share"] > share.attributes["baseline_share"]
    assert signals == sorted(signals, key=lambda s: s.score, reverse=True)


def test_an_error_share_rise_starts_with_the_templates_that_carry_it_not_a_stray_error_before() -> None:
    baseline = web_service_lines(seconds=600, seed=1)
    current = web_service_lines(seconds=600, seed=2, incident_from=300, every=4,
                                incident_line="java.lang.IllegalStateException: cart is empty")
    stray = f"{iso(T0 + timedelta(seconds=60))} ERROR [metrics] web.Stats - failed to publish metrics to statsd:8125"
    current.insert(62, stray)
    signals = detect_log_signals({"cart": current}, baseline={"cart": baseline})
    share = next(s for s in signals if s.detector == "log.error_share")
    assert share.started_at == T0 + timedelta(seconds=300)


def test_quiet_service_gives_no_strong_signal() -> None:
    signals = detect_log_signals({"quiet": web_service_lines(seed=9)}, alert_time=ALERT)
    assert all(s.score < 0.3 for s in signals)


def test_without_timestamps_the_first_half_is_the_baseline() -> None:
    lines = [f"worker {i % 5} processed job {i}" for i in range(400)]
    lines += ["OSError: [Errno 28] No space left on device"] * 20
    signals = detect_log_signals({"batch": lines})
    assert signals and signals[0].kind == "disk_full"
    assert signals[0].started_at is None


def test_scores_compare_across_services_and_output_is_bounded() -> None:
    noisy = web_service_lines(incident_from=1600, incident_line="x509: certificate has expired or is not yet valid")
    mild = web_service_lines(seed=4)
    signals = detect_log_signals({"gw": noisy, "calm": mild}, alert_time=ALERT)
    assert signals[0].service == "gw" and signals[0].kind == "certificate_expired"
    for service in ("gw", "calm"):
        assert len([s for s in signals if s.service == service]) <= 20
    assert all(0.0 <= s.score <= 1.0 for s in signals)


def test_garbage_and_empty_input_never_crash() -> None:
    logs = {"junk": ["\x00\xff\xfe", "", "x" * 10_000_000, "{", "}"], "empty": [], "none": None}
    assert isinstance(detect_log_signals(logs, alert_time=ALERT), list)  # type: ignore[arg-type]
    assert detect_log_signals({}) == []


def test_kind_mapping_examples() -> None:
    assert kind_of("java.lang.OutOfMemoryError: Java heap space") == "oom_kill"
    assert kind_of("dial tcp: lookup db.internal: no such host") == "dns_failure"
    assert kind_of("pq: sorry, too many clients already; too many connections") == "db_connection_exhaustion"
    assert kind_of("write /data/x: No space left on device") == "disk_full"
    # MySQL's own deadlock report is lock contention in the database (as bot.reasoning.keywords reads it);
    # an application deadlock is threads or goroutines waiting on each other
    assert kind_of("Deadlock found when trying to get lock") == "db_lock_contention"
    assert kind_of("fatal error: all goroutines are asleep - deadlock!") == "deadlock"
    assert kind_of("upstream returned HTTP 429 Too Many Requests") == "rate_limited"
    assert kind_of("Back-off restarting failed container; CrashLoopBackOff") == "crash_loop"
    assert kind_of("GET /health 200 in 3ms") is None


def test_an_error_template_begun_long_before_a_late_alert_is_new_from_its_first_line() -> None:
    """Errors that began 40 minutes into the stream and went on for an hour before an alert raised from customers'
    reports: they are new from their first line (not a habit of the baseline) and date the incident there. An error
    template present from the stream's first minutes stays a habit."""
    late_alert = T0 + timedelta(seconds=6000)
    lines = web_service_lines(seconds=6300, incident_from=2400, every=10,
                              incident_line="NoMethodError: undefined method `queue_time_ms' for nil:NilClass")
    new = next(s for s in detect_log_signals({"jobs": lines}, alert_time=late_alert)
               if "NoMethodError" in s.title)
    assert new.detector == "log.new_template" and new.score >= 0.5
    assert new.started_at == T0 + timedelta(seconds=2400)
    assert new.kind == "exception_surge"
    habit = web_service_lines(seconds=6300, incident_from=20, every=10,
                              incident_line="NoMethodError: undefined method `queue_time_ms' for nil:NilClass")
    assert not [s for s in detect_log_signals({"jobs": habit}, alert_time=late_alert)
                if "NoMethodError" in s.title and s.detector == "log.new_template"]


def test_a_sporadic_error_first_seen_late_in_the_baseline_is_no_late_onset() -> None:
    """An error printed once every 20 minutes, first 20 minutes into the stream: chance alone could have kept it out
    of the time before (p >= 0.05), so its first line dates nothing, unlike a template that goes on densely."""
    late_alert = T0 + timedelta(seconds=6000)
    sporadic = web_service_lines(seconds=6300, incident_from=1200, every=1200,
                                 incident_line="NoMethodError: undefined method `queue_time_ms' for nil:NilClass")
    assert not [s for s in detect_log_signals({"jobs": sporadic}, alert_time=late_alert)
                if "NoMethodError" in s.title and s.detector == "log.new_template"]


def iso_of(line: str) -> str:
    from datetime import datetime

    return datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")).isoformat()
