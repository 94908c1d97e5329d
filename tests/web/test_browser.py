"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright), against
uvicorn serving an app seeded with realistic incidents. Mark counts are checked against counts computed
here from the seeded objects. Screenshots go to artifacts/screenshots/.

Run: .venv/bin/pytest tests/web -m browser -q
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain import Incident, category_of, utcnow
from tests.processes import free_port
from tests.reporting.factory import Seeded, play_gamedays, seed_incidents
from tests.web.conftest import make_settings

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
pytestmark = pytest.mark.browser


@contextmanager
def _serve(app: Any) -> Iterator[str]:
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from bot.api.app import create_app

    app = create_app(make_settings(tmp_path_factory.mktemp("web")))
    now = utcnow().replace(microsecond=0) - timedelta(minutes=1)
    seeded = seed_incidents(app.state.store, now=now, days=21, count=60, seed=5)
    games = play_gamedays(app.state.store, start=now - timedelta(days=6))
    with _serve(app) as base:
        yield {"base": base, "seeded": seeded, "app": app, "games": games}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.console_errors = errors
    yield pg
    context.close()
    assert errors == [], f"console errors: {errors}"


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _category(inc: Incident, seeded: Seeded) -> str:
    if inc.confirmed_kind:
        return category_of(inc.confirmed_kind).value
    analyses = seeded.analyses.get(inc.id)
    return category_of(analyses[-1].hypotheses[0].kind).value if analyses else "unknown"


def _count_marks(page: Any, selector: str) -> int:
    page.wait_for_selector(f"{selector} svg")
    return int(page.locator(f"{selector} svg .mark").count())


def test_overview_charts_match_seeded_data_and_filters_change_them(server: dict[str, Any], page: Any) -> None:
    seeded: Seeded = server["seeded"]
    page.goto(server["base"] + "/?days=30")
    page.wait_for_selector("#chart-per-day[data-loaded=category] svg")
    by_category = {(i.created_at.date(), _category(i, seeded)) for i in seeded.incidents}
    assert _count_marks(page, "#chart-per-day") == len(by_category)
    shown = sum(int(v) for v in page.eval_on_selector_all("#chart-per-day .mark", "els => els.map(e => e.dataset.value)"))
    assert shown == len(seeded.incidents)
    assert page.locator("#kpi-incidents .kpi-value").inner_text() == str(len(seeded.incidents))
    kinds = Counter(i.confirmed_kind for i in seeded.incidents if i.confirmed_kind)
    assert page.locator("#chart-kinds svg .mark[data-part=confirmed]").count() == min(10, len(kinds))
    assert page.locator("#chart-times svg .mark").count() > 10
    _shot(page, "overview-light")

    page.get_by_role("button", name="Severity").click()
    page.wait_for_selector("#chart-per-day[data-loaded=severity] svg")
    by_severity = {(i.created_at.date(), i.severity.value) for i in seeded.incidents}
    assert _count_marks(page, "#chart-per-day") == len(by_severity)

    page.goto(server["base"] + "/?days=30&service=checkout")
    page.wait_for_selector("#chart-per-day[data-loaded=category] svg")
    checkout = {(i.created_at.date(), _category(i, seeded)) for i in seeded.incidents if i.service == "checkout"}
    assert 0 < _count_marks(page, "#chart-per-day") == len(checkout) < len(by_category)

    page.emulate_media(color_scheme="dark")
    page.goto(server["base"] + "/?days=30")
    page.wait_for_selector("#chart-per-day[data-loaded=category] svg")
    page.wait_for_selector("#chart-services svg")
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(15, 19, 24)"
    _shot(page, "overview-dark")


def test_charts_are_keyboard_accessible_and_theme_toggles(server: dict[str, Any], page: Any) -> None:
    page.goto(server["base"] + "/?days=30")
    page.wait_for_selector("#chart-per-day[data-loaded=category] svg .mark")
    assert page.locator("#chart-per-day svg[role=group]").get_attribute("aria-label").startswith("Incidents per day")
    first = page.locator("#chart-per-day .mark").first
    first.focus()
    page.keyboard.press("ArrowRight")
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    second = page.locator("#chart-per-day .mark").nth(1).get_attribute("aria-label")
    assert focused == second and "incident" in focused
    assert page.locator("#tooltip").is_visible() and page.locator("#tooltip").inner_text() == second
    toggle = page.locator("#theme-toggle")
    toggle.click()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    toggle.click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"  # remembered


def test_incident_list_search_and_incident_page(server: dict[str, Any], page: Any) -> None:
    seeded: Seeded = server["seeded"]
    page.goto(server["base"] + "/incidents?days=30")
    assert page.locator("#incident-table tbody tr").count() == len(seeded.incidents)
    page.get_by_role("searchbox", name="Search").fill("PodOOMKilled")
    page.locator("select[name=status]").select_option("resolved")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/incidents?*q=PodOOMKilled*")
    expected = [i for i in seeded.incidents if "PodOOMKilled" in i.title and i.status.value == "resolved"]
    assert page.locator("#incident-table tbody tr").count() == max(1, len(expected))
    assert page.locator("select[name=status]").input_value() == "resolved"  # the form keeps its filters
    assert page.get_by_role("searchbox", name="Search").input_value() == "PodOOMKilled"
    _shot(page, "incidents")

    target = next(i for i in seeded.incidents if i.confirmed_kind and seeded.analyses.get(i.id) and i.id in {
        f.incident_id for f in seeded.feedback})
    store = server["app"].state.store
    posts = 1 if any(store.get_chat_post(incident_id=target.id, surface=s) for s in ("slack", "teams")) else 0
    feedback = sum(1 for f in seeded.feedback if f.incident_id == target.id)
    signals = sum(1 for s in seeded.analyses[target.id][-1].signals if s.started_at and s.source != "alert")
    expected_events = 1 + len(target.alerts) + signals + 1 + posts + 1 + feedback + 1  # opened..resolved
    page.goto(server["base"] + f"/incidents/{target.id}")
    assert _count_marks(page, "#chart-timeline") == expected_events
    assert page.locator("ol.timeline > li").count() == expected_events
    assert page.locator("ol.hypotheses > li").count() == 3
    if posts:
        assert page.locator("p.threads a[href^='https://example.slack.com']").count() == 1
    _shot(page, "incident")


def test_quality_and_gameday_pages(server: dict[str, Any], page: Any) -> None:
    seeded: Seeded = server["seeded"]
    page.goto(server["base"] + "/quality?days=30")
    judged = [(i, seeded.analyses[i.id][-1]) for i in seeded.incidents if i.confirmed_kind and seeded.analyses.get(i.id)]
    bins = {min(int(a.hypotheses[0].confidence * 10), 9) for _i, a in judged}
    assert _count_marks(page, "#chart-calibration") == len(bins)
    votes = Counter(f.vote.value for f in seeded.feedback)
    assert _count_marks(page, "#chart-feedback") == sum(1 for v in votes.values() if v)
    top1 = sum(1 for i, a in judged if (a.hypotheses[0].service, a.hypotheses[0].kind) ==
               (i.confirmed_service, i.confirmed_kind))
    assert page.locator("#kpi-top1 .kpi-value").inner_text() == f"{top1 / len(judged) * 100:.0f}%"
    page.wait_for_selector("#chart-hits svg .mark")
    page.wait_for_selector("#chart-llm svg .mark")
    _shot(page, "quality")

    page.goto(server["base"] + "/gamedays")
    games = server["games"]
    with_diagnoses = sum(1 for g in games if g["diagnoses"])
    assert _count_marks(page, "#chart-gameday") == len(games) + with_diagnoses  # score + share correct per game
    assert page.locator("#kpi-solved .kpi-value").inner_text() == str(sum(1 for g in games if g["result"]["solved"]))
    _shot(page, "gamedays")

    page.set_viewport_size({"width": 420, "height": 900})
    page.goto(server["base"] + "/?days=30")
    page.wait_for_selector("#chart-per-day[data-loaded=category] svg .mark")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 430, f"page overflows a phone screen: {width}px"
    _shot(page, "overview-mobile")


def test_login_with_a_read_token(tmp_path: Path, browser: Any) -> None:
    from bot.api.app import create_app

    app = create_app(make_settings(tmp_path, admin_token="admin-secret-token-1", read_token="read-secret-token-1"))
    seeded = seed_incidents(app.state.store, now=utcnow() - timedelta(minutes=1), days=7, count=10, seed=9)
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        with _serve(app) as base:
            target = seeded.incidents[0].id
            page.goto(f"{base}/incidents/{target}")
            assert "/login?next=" in page.url
            _shot(page, "login")
            page.get_by_label("Access token").fill("wrong")
            page.get_by_role("button", name="Log in").click()
            assert page.locator("p.error").inner_text() == "That token is not valid."
            page.get_by_label("Access token").fill("read-secret-token-1")
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{base}/incidents/{target}")
            assert page.locator(".badge.role").inner_text() == "reader"
            assert page.locator("[data-vote], #resolve-form").count() == 0  # read-only: no actions
            page.goto(f"{base}/?days=7")
            page.wait_for_selector("#chart-per-day svg .mark")  # the charts' API calls ride on the cookie
            page.get_by_role("button", name="Log out").click()
            page.wait_for_url(f"{base}/login")
            assert page.request.get(f"{base}/api/v1/reports/summary").status == 401
    finally:
        context.close()
    assert errors == []
