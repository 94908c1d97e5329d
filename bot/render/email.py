"""An Analysis, an early warning or a digest as e-mail: a subject, plain text and HTML (pure functions).

Every value inserted into HTML is escaped; links are only written for http(s) URLs.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from bot.domain import Analysis, Incident
from bot.render.common import clip, confidence_bar, facts, incident_link, percent, title_line

_STYLE = ("font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#1d1d1f;"
          "max-width:720px")


def _safe_url(url: str | None) -> str | None:
    return url if url and url.lower().startswith(("http://", "https://")) else None


def _a(url: str | None, text: str) -> str:
    safe = _safe_url(url)
    return f'<a href="{escape(safe, quote=True)}">{escape(text)}</a>' if safe else escape(text)


def email_subject(incident: Incident, analysis: Analysis | None) -> str:
    top = analysis.top if analysis else None
    kind = "Early warning" if incident.is_early_warning else f"[{incident.severity.value}]"
    cause = f" — likely {top.kind} in {top.service} ({percent(top.confidence)})" if top else ""
    return clip(f"{kind} {incident.title or incident.id}{cause}".replace("\n", " "), 200)


def email_text(incident: Incident, analysis: Analysis | None, *, dashboard_url: str | None = None,
               max_hypotheses: int = 5, max_evidence: int = 3) -> str:
    """The plain-text part."""
    lines = [title_line(incident), ""]
    lines += [f"{k}: {v}" for k, v in facts(incident, analysis)]
    if analysis is None:
        lines += ["", "Analysis in progress."]
    else:
        if analysis.summary:
            lines += ["", analysis.summary]
        if not analysis.enough_evidence:
            lines += ["", "Not enough evidence for a confident answer; treat these as leads."]
        if analysis.hypotheses:
            lines += ["", "Likely root causes"]
            for h in analysis.hypotheses[:max_hypotheses]:
                lines.append(f"{h.rank}. {h.title}")
                lines.append(f"   {confidence_bar(h.confidence)} {percent(h.confidence)}  {h.service} / {h.kind}")
                lines += [f"   - [{e.type.value}] {clip(e.summary, 200)}" for e in h.evidence[:max_evidence]]
        if analysis.recommendations:
            lines += ["", "Recommended steps"]
            for i, r in enumerate(analysis.recommendations[:8], start=1):
                lines.append(f"{i}. {r.text}" + (f" <{r.url}>" if r.url else ""))
        if analysis.similar_incidents:
            lines += ["", "Similar incidents"]
            for s in analysis.similar_incidents[:5]:
                lines.append(f"- {s.title} ({s.score:.2f})" + (f": {s.resolution}" if s.resolution else "")
                             + (f" <{s.url}>" if s.url else ""))
        if analysis.lacked:
            lines += ["", f"Missing evidence: {', '.join(analysis.lacked)}"]
    url = incident_link(dashboard_url, incident.id)
    if url:
        lines += ["", f"Full analysis: {url}"]
    return "\n".join(lines) + "\n"


def email_html(incident: Incident, analysis: Analysis | None, *, dashboard_url: str | None = None,
               max_hypotheses: int = 5, max_evidence: int = 3) -> str:
    """The HTML part (inline styles only: mail clients drop style sheets)."""
    parts = [f'<div style="{_STYLE}">', f"<h2>{escape(title_line(incident))}</h2>", "<table>"]
    parts += [f'<tr><td style="color:#666;padding-right:12px">{escape(k)}</td><td>{escape(v)}</td></tr>'
              for k, v in facts(incident, analysis)]
    parts.append("</table>")
    if analysis is None:
        parts.append("<p><em>Analysis in progress.</em></p>")
    else:
        if analysis.summary:
            parts.append(f"<p>{escape(analysis.summary)}</p>")
        if not analysis.enough_evidence:
            parts.append('<p style="color:#a15c00">Not enough evidence for a confident answer; treat these as '
                         "leads.</p>")
        if analysis.hypotheses:
            parts.append("<h3>Likely root causes</h3><ol>")
            for h in analysis.hypotheses[:max_hypotheses]:
                width = round(min(1.0, max(0.0, h.confidence)) * 100)
                parts.append(
                    f"<li><strong>{escape(h.title)}</strong> &mdash; {escape(h.service)} / {escape(h.kind)}<br>"
                    f'<span style="display:inline-block;width:120px;height:8px;background:#eee">'
                    f'<span style="display:inline-block;width:{width}%;height:8px;background:#5b5bd6"></span>'
                    f"</span> {percent(h.confidence)}<ul>"
                )
                parts += [f"<li>[{escape(e.type.value)}] {_a(e.url, clip(e.summary, 200))}</li>"
                          for e in h.evidence[:max_evidence]]
                parts.append("</ul></li>")
            parts.append("</ol>")
        if analysis.recommendations:
            parts.append("<h3>Recommended steps</h3><ol>")
            parts += [f"<li>{_a(r.url, r.text)}</li>" for r in analysis.recommendations[:8]]
            parts.append("</ol>")
        if analysis.similar_incidents:
            parts.append("<h3>Similar incidents</h3><ul>")
            for s in analysis.similar_incidents[:5]:
                resolved = f": {escape(s.resolution)}" if s.resolution else ""
                parts.append(f"<li>{_a(s.url, s.title)} ({s.score:.2f}){resolved}</li>")
            parts.append("</ul>")
        if analysis.lacked:
            parts.append(f'<p style="color:#666">Missing evidence: {escape(", ".join(analysis.lacked))}</p>')
    url = incident_link(dashboard_url, incident.id)
    if url:
        parts.append(f"<p>{_a(url, 'Open the full analysis')}</p>")
    parts.append("</div>")
    return "\n".join(parts)


def digest_text(items: Sequence[tuple[Incident, Analysis | None]], *, period: str) -> str:
    lines = [f"Sherlog digest — {period}", f"{len(items)} incident(s)", ""]
    for incident, analysis in items:
        top = analysis.top if analysis else None
        cause = f"likely {top.kind} in {top.service} ({percent(top.confidence)})" if top else "no analysis"
        lines.append(f"- [{incident.status.value}] {incident.title or incident.id} ({incident.id}): {cause}")
    return "\n".join(lines) + "\n"


def digest_html(items: Sequence[tuple[Incident, Analysis | None]], *, period: str,
                dashboard_url: str | None = None) -> str:
    rows: list[str] = []
    for incident, analysis in items:
        top = analysis.top if analysis else None
        cause = f"{top.kind} in {top.service} ({percent(top.confidence)})" if top else "no analysis"
        title = _a(incident_link(dashboard_url, incident.id), incident.title or incident.id)
        rows.append(f"<tr><td>{escape(incident.status.value)}</td><td>{title}</td><td>{escape(cause)}</td></tr>")
    return (f'<div style="{_STYLE}"><h2>Sherlog digest — {escape(period)}</h2>'
            f"<p>{len(items)} incident(s)</p><table>"
            "<tr><th align=left>status</th><th align=left>incident</th><th align=left>likely cause</th></tr>"
            + "".join(rows) + "</table></div>")


def rendered_email(incident: Incident, analysis: Analysis | None, *, dashboard_url: str | None = None) -> dict[str, Any]:
    """Subject, text and HTML of one incident notification."""
    return {"subject": email_subject(incident, analysis),
            "text": email_text(incident, analysis, dashboard_url=dashboard_url),
            "html": email_html(incident, analysis, dashboard_url=dashboard_url)}
