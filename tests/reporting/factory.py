"""A factory of realistic incidents, analyses, feedback and chat posts, written through the Store.

Deterministic for a seed. Incidents spread over ``days`` before ``now``: alerts with a service and
severity, acknowledgement and resolution delays drawn from log-normal distributions (most quick, a
long tail), a confirmed cause for most resolved incidents, an analysis whose hypotheses are right at
rank 1, 2-3 or not at all with probabilities that depend on its confidence, LLM usage on some
analyses, votes, Slack/Teams posts, and early warnings some of which are followed by a real incident.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain import (
    ALL_KINDS,
    Alert,
    Analysis,
    CategoryAssessment,
    Evidence,
    EvidenceType,
    Feedback,
    Hypothesis,
    Incident,
    IncidentStatus,
    Recommendation,
    Severity,
    Signal,
    SimilarIncident,
    category_of,
)
from bot.storage import Store

SERVICES = ("checkout", "payments", "search", "catalog", "auth", "orders-db", "gateway", "inventory")
KINDS = ("db_connection_exhaustion", "bad_deploy", "memory_leak", "disk_full", "dns_failure",
         "certificate_expired", "traffic_spike", "cpu_saturation", "dependency_failure", "crash_loop")
ALERT_NAMES = {
    "db_connection_exhaustion": "HighErrorRate", "bad_deploy": "HighErrorRate", "memory_leak": "PodOOMKilled",
    "disk_full": "DiskAlmostFull", "dns_failure": "UpstreamResolveErrors", "certificate_expired": "TLSHandshakeErrors",
    "traffic_spike": "HighLatencyP99", "cpu_saturation": "CPUThrottlingHigh", "dependency_failure": "HighErrorRate",
    "crash_loop": "KubePodCrashLooping",
}


@dataclass
class Seeded:
    incidents: list[Incident] = field(default_factory=list)
    analyses: dict[str, list[Analysis]] = field(default_factory=dict)
    feedback: list[Feedback] = field(default_factory=list)


def _hypotheses(rng: random.Random, service: str, kind: str, created: datetime) -> tuple[list[Hypothesis], float]:
    confidence = round(rng.uniform(0.2, 0.95), 3)
    roll = rng.random()
    others_k = [k for k in KINDS if k != kind]
    others_s = [s for s in SERVICES if s != service]
    wrong = [(rng.choice(others_s), rng.choice(others_k)) for _ in range(3)]
    if roll < confidence:  # right at rank 1, more often when confident
        pairs = [(service, kind), wrong[0], wrong[1]]
    elif roll < confidence + (1 - confidence) * 0.5:
        pairs = [wrong[0], (service, kind), wrong[1]] if rng.random() < 0.5 else [wrong[0], wrong[1], (service, kind)]
    else:
        pairs = wrong
    hyps = []
    conf = confidence
    for i, (svc, knd) in enumerate(pairs, start=1):
        ev = Evidence(id=f"log:{i}", type=EvidenceType.LOG, service=svc, ts=created - timedelta(minutes=3),
                      summary=f"{svc}: errors consistent with {knd.replace('_', ' ')}", weight=0.6)
        hyps.append(Hypothesis(rank=i, service=svc, kind=knd, title=f"{knd.replace('_', ' ')} in {svc}",
                               confidence=round(conf, 3), evidence=[ev]))
        conf = conf * rng.uniform(0.3, 0.7)
    return hyps, confidence


def seed_incidents(store: Store, *, now: datetime, days: int = 21, count: int = 60, seed: int = 3,
                   with_chat: bool = True) -> Seeded:
    rng = random.Random(seed)
    out = Seeded()
    span = days * 24 * 60
    for n in range(count):
        service = rng.choice(SERVICES)
        kind = rng.choice(KINDS)
        severity = rng.choices(list(Severity), weights=[2, 4, 5, 1])[0]
        created = now - timedelta(minutes=rng.randint(30, span - 1))
        started = created - timedelta(minutes=rng.randint(0, 5))
        title = f"{ALERT_NAMES[kind]} on {service}"
        inc = Incident(id=f"inc-seed{n:04d}", fingerprint=f"fp-{n}", title=title, service=service,
                       severity=severity, source="alertmanager", created_at=created, started_at=started,
                       labels={"team": rng.choice(["core", "platform", "payments"])})
        state = rng.random()
        if state < 0.75 or created < now - timedelta(days=2):
            inc.acknowledged_at = created + timedelta(minutes=round(rng.lognormvariate(1.6, 0.8), 2))
            inc.resolved_at = inc.acknowledged_at + timedelta(minutes=round(rng.lognormvariate(3.3, 0.9), 2))
            if inc.resolved_at > now:
                inc.resolved_at = None
            inc.status = IncidentStatus.RESOLVED if inc.resolved_at else IncidentStatus.ACKNOWLEDGED
        elif state < 0.88:
            inc.acknowledged_at = created + timedelta(minutes=round(rng.lognormvariate(1.6, 0.8), 2))
            inc.status = IncidentStatus.ACKNOWLEDGED if inc.acknowledged_at < now else IncidentStatus.OPEN
            if inc.acknowledged_at >= now:
                inc.acknowledged_at = None
        if inc.status == IncidentStatus.RESOLVED and rng.random() < 0.8:
            inc.confirmed_service, inc.confirmed_kind = service, kind
            inc.resolution = f"Mitigated {kind.replace('_', ' ')} on {service}"
        alert = Alert(id=f"alert-seed{n:04d}", source="alertmanager", name=ALERT_NAMES[kind], service=service,
                      severity=severity, summary=title, labels={"alertname": ALERT_NAMES[kind], "service": service},
                      starts_at=started)
        inc.alerts = [alert]
        store.save_incident(incident=inc)
        store.add_alert(incident_id=inc.id, alert=alert, received_at=created)
        hyps, _conf = _hypotheses(rng, service, kind, created)
        ana_at = created + timedelta(seconds=rng.randint(5, 40))
        llm: dict[str, object] = {}
        if rng.random() < 0.5:
            p, c = rng.randint(1500, 4000), rng.randint(150, 500)
            llm = {"model": "gpt-4o-mini", "used": rng.random() < 0.85, "prompt_tokens": p, "completion_tokens": c,
                   "latency_ms": round(rng.uniform(600, 4000), 1), "cost_usd": round(p / 1000 * 0.00015 + c / 1000 * 0.0006, 6)}
            if not llm["used"]:
                llm["fallback_reason"] = "LLMError: timed out after 20s"
        analysis = Analysis(
            id=f"ana-seed{n:04d}", incident_id=inc.id, created_at=ana_at,
            category=CategoryAssessment(label=category_of(hyps[0].kind).value, confidence=0.7),
            hypotheses=hyps, summary=f"Most likely {hyps[0].title} ({hyps[0].confidence:.0%}).",
            signals=[Signal(source="logs", detector="template_surge", service=service, title=f"error surge in {service}",
                            score=0.8, started_at=started)],
            similar_incidents=[SimilarIncident(id=f"pm-{rng.randint(100, 999)}", title=f"Past {kind.replace('_', ' ')}",
                                               score=0.71, root_cause_kind=kind, root_cause_service=service,
                                               url="https://wiki.example.com/postmortems/1")],
            recommendations=[Recommendation(text=f"Check {service} dashboards", source="kind-check")],
            timings_ms={"total": round(rng.uniform(80, 900), 1)}, llm=llm,
        )
        store.save_analysis(analysis=analysis)
        out.analyses[inc.id] = [analysis]
        out.incidents.append(inc)
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            vote = rng.choice(["up", "up", "down", "fixed"])
            fb = Feedback(incident_id=inc.id, analysis_id=analysis.id, vote=vote, user=rng.choice(["ana", "bo", "cy"]),
                          surface=rng.choice(["slack", "teams", "api"]), service=hyps[0].service, kind=hyps[0].kind,
                          created_at=ana_at + timedelta(minutes=2))
            store.add_feedback(feedback=fb)
            out.feedback.append(fb)
        if with_chat and rng.random() < 0.6:
            surface = rng.choice(["slack", "teams"])
            store.claim_chat_post(incident_id=inc.id, surface=surface, channel="C0INCIDENTS")
            post = store.get_chat_post(incident_id=inc.id, surface=surface)
            assert post is not None and post.id is not None
            store.update_chat_post(post_id=post.id, state="posted", message_ref=f"1700000000.{n:06d}",
                                   data={"permalink": f"https://example.slack.com/archives/C0INCIDENTS/p17000000{n:06d}"})
    # early warnings: every third one is followed by a real incident of its service within hours
    for w in range(6):
        service = SERVICES[w % len(SERVICES)]
        created = now - timedelta(days=rng.randint(2, days - 1), minutes=rng.randint(0, 600))
        warning = Incident(id=f"inc-warn{w:02d}", fingerprint=f"fpw-{w}", title=f"Disk on {service} fills in ~6h",
                           service=service, severity=Severity.WARNING, created_at=created, started_at=created,
                           is_early_warning=True, source="forecast")
        store.save_incident(incident=warning)
        out.incidents.append(warning)
        if w % 3 == 0:
            follow = Incident(id=f"inc-warnf{w:02d}", fingerprint=f"fpwf-{w}", title=f"DiskAlmostFull on {service}",
                              service=service, severity=Severity.HIGH, created_at=created + timedelta(hours=5),
                              started_at=created + timedelta(hours=5), source="alertmanager")
            store.save_incident(incident=follow)
            out.incidents.append(follow)
    return out


__all__ = ["ALL_KINDS", "KINDS", "SERVICES", "Seeded", "seed_incidents"]


class SandboxChat:
    """The game-day engine's chat port, recording posts in memory (a sandbox channel)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def post(self, channel: str, text: str, blocks: list[dict[str, object]] | None = None) -> str:
        self.messages.append((channel, text))
        return f"th{len(self.messages)}"

    def reply(self, channel: str, thread: str, text: str, blocks: list[dict[str, object]] | None = None) -> str:
        self.messages.append((channel, text))
        return f"th{len(self.messages)}"

    def channel_id(self, channel: str, thread: str) -> str:
        return "C" + channel.lstrip("#").upper()


def play_gamedays(store: Store, *, start: datetime) -> list[dict[str, object]]:
    """Three games with the real engine: solved after a wrong guess, solved at once, ended unsolved."""
    from bot.simulation.gameday import GameDayEngine

    clock = [start]
    engine = GameDayEngine(chat=SandboxChat(), store=store, clock=lambda: clock[0])
    games = []
    for i, (kind, plan) in enumerate((("disk_full", "wrong-then-right"), ("dns_failure", "right"),
                                      ("memory_leak", "unsolved"))):
        clock[0] = start + timedelta(days=i)
        game = engine.start(kind, channel="#gameday", seed=3 + i, started_by="ana")
        truth = engine.scenario(game)
        clock[0] += timedelta(minutes=4)
        if plan != "right":
            engine.diagnose(game["id"], user="bo", service="search", kind="certificate_expired")
        clock[0] += timedelta(minutes=3)
        if plan == "unsolved":
            engine.end(game["id"])
        else:
            engine.diagnose(game["id"], user="ana", service=truth.culprit, kind=truth.kind)
        games.append(engine.get(game["id"]))
    return games
