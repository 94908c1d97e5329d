from datetime import timedelta

from detectors.logs import detect_log_signals, incident_signature, leading_services, similar_incidents
from tests.detectors.logs.factories import T0, web_service_lines

ALERT = T0 + timedelta(seconds=1700)


def _bundle() -> dict[str, list[str]]:
    return {
        "db": web_service_lines(incident_from=1500, incident_line="FATAL: too many connections for role app"),
        "api": web_service_lines(incident_from=1560, seed=5,
                                 incident_line="HikariPool-1 - Connection is not available, request timed out"),
        "web": web_service_lines(seed=6),
    }


def test_the_service_whose_logs_broke_first_leads() -> None:
    signals = detect_log_signals(_bundle(), alert_time=ALERT)
    order = leading_services(s for s in signals if s.score >= 0.3)
    assert [name for name, _ in order[:2]] == ["db", "api"]
    assert order[1][1] == 60.0
    db_top = next(s for s in signals if s.service == "db" and s.detector == "log.new_template")
    api_top = next(s for s in signals if s.service == "api" and s.detector == "log.new_template")
    assert db_top.attributes["onset_rank"] < api_top.attributes["onset_rank"]
    assert db_top.attributes["lead_s"] >= 60.0
    assert db_top.attributes["first_in_service"] is True


def test_recurring_template_signatures_link_incidents() -> None:
    first = incident_signature(detect_log_signals(_bundle(), alert_time=ALERT))
    again = incident_signature(detect_log_signals(_bundle(), alert_time=ALERT))
    other_bundle = {"cache": web_service_lines(incident_from=1500, incident_line="No space left on device")}
    other = incident_signature(detect_log_signals(other_bundle, alert_time=ALERT))
    assert first and first == again  # signatures are stable across processes and runs
    ranked = similar_incidents(first, {"INC-1": again, "INC-2": other})
    assert ranked[0][0] == "INC-1" and ranked[0][1] == 1.0
    assert all(incident != "INC-2" for incident, _ in ranked)
