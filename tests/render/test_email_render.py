from __future__ import annotations

from html.parser import HTMLParser

from bot.render.email import digest_html, digest_text, email_html, email_subject, email_text

from .factories import analysis, incident


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [v or "" for k, v in attrs if k == "href"]


def test_subject_text_and_html_carry_the_analysis() -> None:
    inc = incident()
    ana = analysis(inc)
    assert email_subject(inc, ana) == ("[critical] Checkout p99 latency above 2s — likely db_connection_exhaustion "
                                       "in orders-db (72%)")
    text = email_text(inc, ana, dashboard_url="https://sherlog.example/")
    assert "1. db_connection_exhaustion in orders-db" in text
    assert "▰▰▰▰▰▰▰▱▱▱ 72%" in text
    assert f"Full analysis: https://sherlog.example/incidents/{inc.id}" in text
    html = email_html(inc, ana, dashboard_url="https://sherlog.example")
    links = _Links()
    links.feed(html)
    assert "https://runbooks.example/db#1" in links.hrefs
    assert f"https://sherlog.example/incidents/{inc.id}" in links.hrefs


def test_html_escapes_untrusted_text_and_drops_non_http_links() -> None:
    inc = incident(title="<script>alert(1)</script>")
    ana = analysis(inc)
    ana.recommendations[0].url = "javascript:alert(1)"
    html = email_html(inc, ana)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "javascript:" not in html


def test_digest_lists_every_incident() -> None:
    a, b = incident(title="A"), incident(title="B")
    items = [(a, analysis(a)), (b, None)]
    text = digest_text(items, period="2026-03-01")
    assert "2 incident(s)" in text and "likely db_connection_exhaustion in orders-db (72%)" in text
    assert "B (" in text and "no analysis" in text
    assert digest_html(items, period="x").count("<tr>") == 3
