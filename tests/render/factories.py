"""Small factories of incidents and analyses for rendering and surface tests."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain import (
    Alert,
    Analysis,
    CategoryAssessment,
    Evidence,
    EvidenceType,
    Hypothesis,
    Incident,
    Recommendation,
    Severity,
    SimilarIncident,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def incident(*, title: str = "Checkout p99 latency above 2s", service: str = "checkout",
             severity: Severity = Severity.CRITICAL, **kw: object) -> Incident:
    alert = Alert(name="CheckoutLatencyHigh", service=service, summary=title, starts_at=T0)
    return Incident(title=title, service=service, severity=severity, alerts=[alert], started_at=T0,
                    **kw)  # type: ignore[arg-type]


def hypothesis(rank: int, service: str, kind: str, confidence: float, *, evidence: int = 2,
               summary_len: int = 60) -> Hypothesis:
    ev = [
        Evidence(id=f"e{rank}-{i}", type=EvidenceType.LOG if i % 2 == 0 else EvidenceType.METRIC,
                 summary=(f"{service} evidence {i} " + "x" * summary_len)[:max(summary_len, 10)], service=service,
                 url=f"https://grafana.example/{service}/{i}" if i == 1 else None)
        for i in range(evidence)
    ]
    return Hypothesis(rank=rank, service=service, kind=kind, title=f"{kind} in {service}",
                      confidence=confidence, evidence=ev)


def analysis(inc: Incident, *, hypotheses: list[Hypothesis] | None = None, summary: str | None = None,
             recommendations: int = 2, similar: int = 2) -> Analysis:
    hyps = hypotheses if hypotheses is not None else [
        hypothesis(1, "orders-db", "db_connection_exhaustion", 0.72),
        hypothesis(2, "checkout", "bad_deploy", 0.18),
        hypothesis(3, "payments", "dependency_failure", 0.06),
    ]
    return Analysis(
        incident_id=inc.id,
        category=CategoryAssessment(label="database", confidence=0.8),
        hypotheses=hyps,
        summary=summary if summary is not None else
        "Checkout latency rose at 12:00 after orders-db connections hit the pool limit.",
        recommendations=[
            Recommendation(text=f"Step {i}: check the connection pool", source="runbook",
                           url=f"https://runbooks.example/db#{i}" if i == 1 else None)
            for i in range(1, recommendations + 1)
        ],
        similar_incidents=[
            SimilarIncident(id=f"past-{i}", title=f"Past pool exhaustion {i}", score=0.8 - i / 10,
                            resolution="Raised max connections", url=f"https://wiki.example/pm/{i}")
            for i in range(1, similar + 1)
        ],
        lacked=["metrics"],
    )
