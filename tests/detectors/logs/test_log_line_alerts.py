from pathlib import Path

import pytest

from bench.bgl import choose_threshold, prequential_scores, prf
from detectors.logs.parsing import parse_lines
from tests.detectors.logs.factories import web_service_lines


def test_threshold_is_chosen_on_the_given_lines_with_ties_to_the_higher() -> None:
    scores = [0.9, 0.8, 0.3, 0.3, 0.1]
    truth = [True, True, False, False, False]
    assert choose_threshold(scores, truth, grid=(0.2, 0.5, 0.7)) == 0.7  # 0.5 and 0.7 both give F1 1
    assert choose_threshold(scores, [True, True, True, False, False], grid=(0.2, 0.5, 0.7)) == 0.2
    assert prf([s >= 0.5 for s in scores], truth) == (1.0, 1.0, 1.0)


def test_prequential_scores_flag_a_new_error_template_not_the_routine_lines() -> None:
    lines = web_service_lines(seconds=900, incident_from=700, incident_line="connection to db-1 refused")
    events = list(parse_lines(lines, service="web"))
    scores = prequential_scores(events, 200)
    assert len(scores) == len(events) - 200
    scored = events[200:]
    incident = [s for e, s in zip(scored, scores, strict=True) if "refused" in e.message]
    routine = [s for e, s in zip(scored, scores, strict=True) if "GET /api" in e.message]
    assert incident and min(incident) > 0.0
    assert max(routine) == 0.0


@pytest.mark.data
def test_bgl_scores_cover_every_line_after_warm_up(shared_data: Path) -> None:
    from bench.loghub import HEADERS
    from detectors.logs.formats import HeaderFormat

    raw = (shared_data / "loghub-2k" / "BGL" / "BGL_2k.log").read_text(errors="replace").splitlines()
    events = list(parse_lines(raw, fmt=HeaderFormat(HEADERS["BGL"]), service="bgl", join_multiline=False))
    scores = prequential_scores(events, 500)
    assert len(scores) == len(events) - 500
    info = [s for e, s in zip(events[500:], scores, strict=True) if e.fields.get("Level") == "INFO"]
    assert max(info) == 0.0  # only error-level signals make a line alert
