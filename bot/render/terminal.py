"""The analysis as a terminal report (rich), and as the JSON object ``sherlog analyze --json`` prints."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.domain import Analysis, Incident
from bot.render.common import team_labels_text


def bar(confidence: float, width: int = 20) -> str:
    filled = max(0, min(width, round(confidence * width)))
    return "█" * filled + "░" * (width - filled)


def analysis_json(incident: Incident, analysis: Analysis) -> dict[str, Any]:
    """The documented output of ``sherlog analyze --json`` (README, "CLI")."""
    return {
        "incident": {
            "id": incident.id,
            "title": incident.title,
            "service": incident.service,
            "severity": incident.severity.value,
            "status": incident.status.value,
            "source": incident.source,
            "started_at": incident.started_at.isoformat() if incident.started_at else None,
            "alerts": len(incident.alerts),
        },
        "category": {"label": analysis.category.label, "confidence": round(analysis.category.confidence, 4)},
        "team_labels": [{"label": t.label, "score": round(t.score, 4)} for t in analysis.team_labels],
        "hypotheses": [
            {
                "rank": h.rank,
                "service": h.service,
                "kind": h.kind,
                "title": h.title,
                "confidence": round(h.confidence, 4),
                "evidence": [e.model_dump(mode="json", exclude_none=True) for e in h.evidence],
            }
            for h in analysis.hypotheses
        ],
        "enough_evidence": analysis.enough_evidence,
        "recommendations": [
            {"text": r.text, "source": r.source, **({"url": r.url} if r.url else {})} for r in analysis.recommendations
        ],
        "similar_incidents": [
            {"id": s.id, "title": s.title, "score": round(s.score, 4),
             **({"resolution": s.resolution} if s.resolution else {}), **({"url": s.url} if s.url else {})}
            for s in analysis.similar_incidents
        ],
        "signals": [
            {"source": s.source, "service": s.service, "kind": s.kind, "title": s.title, "score": round(s.score, 4)}
            for s in analysis.signals[:15]
        ],
        "summary": analysis.summary,
        "lacked": analysis.lacked,
        "notes": analysis.notes,
        "timings_ms": analysis.timings_ms,
        "llm": analysis.llm,
    }


def render_report(incident: Incident, analysis: Analysis, *, console: Console, max_evidence: int = 3) -> None:
    head = Text.assemble(
        (f"{incident.title or 'Incident'}", "bold"),
        f"\n{incident.severity.value} · service {incident.service or '?'} · {len(incident.alerts)} alert(s) · ",
        (f"category {analysis.category.label} ({analysis.category.confidence:.0%})", "cyan"),
    )
    if analysis.team_labels:
        head.append(" · ")
        head.append(f"team labels {team_labels_text(analysis)}", style="cyan")
    console.print(Panel(head, title=f"Sherlog · {incident.id}", border_style="magenta"))
    if analysis.summary:
        console.print(Panel(analysis.summary, title="Summary", border_style="blue"))
    if not analysis.enough_evidence:
        console.print("[yellow]Not enough evidence for a confident answer; the candidates below are weak.[/]")

    table = Table(title="Likely root causes", show_lines=True, expand=True)
    table.add_column("#", justify="right", width=3)
    table.add_column("cause", ratio=2)
    table.add_column("confidence", width=28)
    table.add_column("evidence", ratio=4)
    for h in analysis.hypotheses[:5]:
        evidence = "\n".join(f"• [{e.type.value}] {e.summary[:140]}" for e in h.evidence[:max_evidence]) or "—"
        table.add_row(str(h.rank), f"[bold]{h.service}[/] · {h.kind}\n{h.title}",
                      f"{bar(h.confidence)} {h.confidence:.0%}", evidence)
    console.print(table)

    if analysis.recommendations:
        recs = Table(title="Recommended next steps", expand=True, show_header=False)
        recs.add_column("step")
        for i, r in enumerate(analysis.recommendations[:8], start=1):
            link = f" [link={r.url}]{r.url}[/link]" if r.url else ""
            recs.add_row(f"{i}. {r.text} [dim]({r.source})[/]{link}")
        console.print(recs)
    if analysis.similar_incidents:
        sim = Table(title="Similar past incidents", expand=True)
        sim.add_column("score", width=6)
        sim.add_column("incident")
        sim.add_column("how it was resolved")
        for s in analysis.similar_incidents[:5]:
            sim.add_row(f"{s.score:.2f}", f"{s.title}\n[dim]{s.id}[/]", s.resolution or "—")
        console.print(sim)
    extras = []
    if analysis.lacked:
        extras.append(f"lacked: {', '.join(analysis.lacked)}")
    extras.extend(analysis.notes[:5])
    extras.append("timings: " + ", ".join(f"{k} {v:.0f} ms" for k, v in analysis.timings_ms.items()))
    console.print(Group(*(Text(x, style="dim") for x in extras)))
