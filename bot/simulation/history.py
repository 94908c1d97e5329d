"""Generated history: past incidents (with resolutions) and runbooks, Markdown with YAML front matter.

The format is ARCHITECTURE.md's: incidents carry id, title, date, services, category,
root_cause_service, root_cause_kind, resolution and url; runbooks carry title, services, kinds, url.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from bot.domain.vocabulary import ALL_KINDS, category_of
from bot.simulation.faults import CATALOG
from bot.simulation.scenario import candidates
from bot.simulation.world import World, build_world

_HUMAN = {
    "db_connection_exhaustion": "Database connection pool exhaustion", "db_slow_query": "Slow database queries",
    "db_lock_contention": "Database lock contention", "db_replication_lag": "Database replication lag",
    "db_down": "Database down", "cpu_saturation": "CPU saturation", "cpu_throttling": "CPU throttling",
    "oom_kill": "Containers OOM-killed", "dns_failure": "DNS resolution failures",
    "certificate_expired": "Expired TLS certificate", "ddos": "DDoS at the edge",
    "auth_failure_surge": "Surge of authentication failures",
}
_SYMPTOMS = ["elevated 5xx on {edge}", "checkout failures reported by customers", "p95 latency above SLO on {edge}",
             "error-budget burn alert on {alert}", "on-call paged for {alert} errors", "a spike of 504s at {edge}"]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def human(kind: str) -> str:
    return _HUMAN.get(kind, kind.replace("_", " ").capitalize())


@dataclass
class PastIncident:
    id: str
    kind: str
    service: str
    date: datetime
    world: World


def _front(meta: Mapping[str, object]) -> str:
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000) + "---\n"


def _alert_target(world: World, service: str, rng: random.Random) -> str:
    callers = world.upstream(service) if service in world.components else {}
    return rng.choice(sorted(callers)) if callers and rng.random() < 0.7 else service


def incident_markdown(inc: PastIncident, rng: random.Random) -> str:
    spec = CATALOG[inc.kind]
    w = inc.world
    svc = inc.service
    alert = _alert_target(w, svc, rng)
    version = f"v{rng.randint(1, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
    resolution = spec.resolution.format(svc=svc, version=version, flag="smart-retries")
    cause = spec.title.format(svc=svc)
    title = f"{alert}: {cause}" if alert != svc else (cause if cause.startswith(svc) else _cap(cause))
    services = sorted({svc, alert})
    meta = {"id": inc.id, "title": title, "date": inc.date.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "services": services, "category": category_of(inc.kind).value, "root_cause_service": svc,
            "root_cause_kind": inc.kind, "resolution": resolution,
            "url": f"https://wiki.example.com/postmortems/{inc.id}"}
    detect = rng.randint(3, 15)
    mitigate = detect + rng.randint(10, 70)
    symptom = rng.choice(_SYMPTOMS).format(edge=w.edge, alert=alert)
    keywords = ", ".join(spec.keywords[:4])
    body = [
        f"# {meta['title']}", "",
        "## Summary", "",
        f"At {inc.date:%H:%M} UTC we saw {symptom}. The root cause was {spec.title.format(svc=svc)}. "
        f"Customer impact lasted about {mitigate} minutes.", "",
        "## Timeline", "",
        f"- {inc.date:%H:%M} first symptoms ({spec.alert} / {alert})",
        f"- {(inc.date + timedelta(minutes=detect)):%H:%M} on-call acknowledged, started investigating {alert}",
        f"- {(inc.date + timedelta(minutes=detect + 6)):%H:%M} traced the errors to {svc} ({keywords})",
        f"- {(inc.date + timedelta(minutes=mitigate)):%H:%M} mitigated", "",
        "## Root cause", "",
        f"{cause if cause.startswith(svc) else _cap(cause)}. Signals: {keywords}.", "",
        "## Resolution", "", resolution, "",
        "## Action items", "",
    ]
    body += [f"- [ ] {step}" for step in spec.runbook[:2]]
    return _front(meta) + "\n".join(body) + "\n"


def runbook_markdown(kind: str, world: World, rng: random.Random) -> tuple[str, str]:
    spec = CATALOG[kind]
    slug = kind.replace("_", "-")
    services = candidates(spec, world)[:4]
    meta = {"title": human(kind), "services": services, "kinds": [kind],
            "url": f"https://runbooks.example.com/{slug}"}
    body = [f"# {human(kind)}", "", "## When to use", "",
            f"Alerts such as `{spec.alert}`, or symptoms like: {', '.join(spec.keywords)}.", "",
            "## Diagnose", ""]
    body += [f"{i}. {step}" for i, step in enumerate(spec.runbook, 1)]
    body += ["", "## Mitigate", "", f"- {spec.resolution.split(';')[0].format(svc='<service>', version='<version>', flag='<flag>')}.",
             "", "## Escalate", "", f"Page the owning team of the service if not mitigated within "
                                    f"{rng.choice([15, 20, 30])} minutes."]
    return slug, _front(meta) + "\n".join(body) + "\n"


def write_history(out_dir: Path, *, world: World, seed: int, n_incidents: int, before: datetime,
                  include: list[tuple[str, str]] = (), runbook_kinds: list[str] | None = None) -> Path:  # type: ignore[assignment]
    """Write ``incidents/`` and ``runbooks/`` under ``out_dir``; ``include`` forces (kind, service) incidents."""
    rng = random.Random(f"history:{world.name}:{seed}")
    inc_dir, rb_dir = out_dir / "incidents", out_dir / "runbooks"
    inc_dir.mkdir(parents=True, exist_ok=True)
    rb_dir.mkdir(parents=True, exist_ok=True)
    picks: list[tuple[str, str]] = list(include)
    while len(picks) < n_incidents:
        kind = rng.choice(ALL_KINDS)
        picks.append((kind, rng.choice(candidates(CATALOG[kind], world))))
    rng.shuffle(picks)
    for _k, (kind, service) in enumerate(picks):
        date = before - timedelta(days=rng.randint(3, 700), minutes=rng.randint(0, 1440))
        inc_id = f"INC-{date:%Y}-{rng.randint(100, 9999):04d}"
        inc = PastIncident(inc_id, kind, service, date, world)
        (inc_dir / f"{date:%Y-%m-%d}-{inc_id.lower()}.md").write_text(incident_markdown(inc, rng), encoding="utf-8")
    kinds = runbook_kinds if runbook_kinds is not None else list(ALL_KINDS)
    for kind in kinds:
        slug, text = runbook_markdown(kind, world, rng)
        (rb_dir / f"{slug}.md").write_text(text, encoding="utf-8")
    return out_dir


def generate_history(out_dir: str | Path, n_incidents: int = 40, seed: int = 1, *, world: str = "shop") -> Path:
    """Past incidents with resolutions and a runbook per kind, under ``out_dir/incidents`` and ``out_dir/runbooks``."""
    w = build_world(world, seed=seed)
    before = datetime(2026, 1, 1, tzinfo=UTC)
    return write_history(Path(out_dir), world=w, seed=seed, n_incidents=n_incidents, before=before)
