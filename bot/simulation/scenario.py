"""A scenario: one fault injected into one world, with its timeline, metrics and propagation.

``build_scenario`` is deterministic for its arguments. It decides the culprit, the timeline, every
metric series, which services are hit (and through which dependency), the red herrings of the
difficulty, and where the alert fires; ``bot.simulation.evidence`` turns it into log lines and events.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from bot.domain.errors import InputError
from bot.domain.vocabulary import ALL_KINDS, category_of
from bot.simulation.faults import CATALOG, Effect, FaultSpec
from bot.simulation.metrics import Timeline, apply, baseline, finish, profile, world_metric_plan
from bot.simulation.world import (
    APP,
    CACHE,
    DATABASE,
    EDGE,
    EXTERNAL,
    NODE,
    OWNED_ROLES,
    QUEUE,
    WORKER,
    Component,
    World,
    build_world,
)

DIFFICULTIES = ("easy", "normal", "hard")
VENDORS = ("alertmanager", "grafana", "pagerduty", "opsgenie", "datadog")
SEVERITY = {"easy": 1.25, "normal": 1.0, "hard": 0.75}


@dataclass
class Impact:
    """How a non-culprit component is hit: through which dependency, how strongly, how it fails."""

    via: str
    strength: float  # 0..1 attenuation
    family: str
    delay: float
    errors: bool


@dataclass
class Scenario:
    kind: str
    spec: FaultSpec
    world: World
    culprit: str
    difficulty: str
    seed: int
    vendor: str
    timeline: Timeline
    series: dict[tuple[str, str], np.ndarray]
    impacts: dict[str, Impact]  # callers hit through the topology
    victims: list[str]  # hit directly (same node, DNS clients)
    change_at: float | None = None
    herrings: list[dict[str, object]] = field(default_factory=list)
    secondary: list[dict[str, str]] = field(default_factory=list)
    dropped_metrics: list[tuple[str, str]] = field(default_factory=list)
    alert_service: str = ""
    alert_name: str = ""
    alert_metric: str = ""
    flapping: str | None = None
    vars: dict[str, str] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)

    @property
    def category(self) -> str:
        return category_of(self.kind).value

    @property
    def params(self) -> dict[str, str]:
        """The scenario's parameters; a dataset split never shares (kind, params) between train and test."""
        return {"world": self.world.name, "service": self.culprit, "difficulty": self.difficulty}

    def component(self, name: str) -> Component:
        return self.world.components.get(name) or Component(name, NODE, "node")


def candidates(spec: FaultSpec, world: World) -> list[str]:
    """Where a fault of this spec can live in ``world``."""
    out: set[str] = set()
    for target in spec.targets:
        if target == "node":
            out.update(world.nodes)
        elif target == "db_user":
            out.update(c.name for c in world.components.values() if c.uses_db and c.role in (APP, EDGE, WORKER))
        elif target == "consumer":
            out.update(c.name for c in world.components.values() if c.consumes)
        elif target == "auth":
            out.update(c.name for c in world.components.values() if c.auth)
        elif target == "stateful":
            out.update(world.by_role(DATABASE, QUEUE, CACHE))
        else:
            out.update(world.by_role(target))
    return sorted(out)


def _timeline(rng: random.Random, difficulty: str) -> Timeline:
    day = datetime(2026, 1, 5, tzinfo=UTC) + timedelta(days=rng.randrange(0, 320))
    start = day + timedelta(hours=rng.randrange(0, 24), minutes=rng.randrange(0, 60))
    base = rng.randint(75, 110)
    delay = rng.randint(2, 5) if difficulty != "hard" else rng.randint(3, 8)
    after = rng.randint(10, 16)
    return Timeline(start=start, minutes=base + delay + after, fault_at=base, alert_at=base + delay)


NODE_ALERTS = {"oom_kill": "KubeNodeMemoryPressure", "disk_full": "KubeNodeDiskPressure"}


def _pick_victims(spec: FaultSpec, world: World, culprit: str, rng: random.Random) -> list[str]:
    if spec.victims == "node_only":
        return [s for s in world.on_node(culprit) if world.components[s].role in OWNED_ROLES] \
            if culprit in world.nodes else []
    if spec.victims == "node":
        if culprit in world.nodes:
            return [s for s in world.on_node(culprit) if world.components[s].role in OWNED_ROLES]
        node = world.placement.get(culprit)
        return [s for s in world.on_node(node) if s != culprit and world.components[s].role in (APP, EDGE, WORKER)] \
            if node else []
    if spec.victims == "dns":
        external_callers = sorted({c for e in world.by_role(EXTERNAL) for c in world.callers_of(e)})
        others = [s for s in world.by_role(APP, WORKER) if s not in external_callers]
        rng.shuffle(others)
        return sorted(external_callers + others[: rng.randint(1, 2)])
    return []


def _propagate(world: World, sources: list[tuple[str, float]], spec: FaultSpec,
               exclude: set[str]) -> dict[str, Impact]:
    impacts: dict[str, Impact] = {}
    if spec.caller_latency <= 1.0 and spec.caller_errors <= 0.0:
        return impacts
    for source, strength in sources:
        for caller, (depth, via) in world.upstream(source).items():
            if caller in exclude or world.components[caller].role not in OWNED_ROLES:
                continue
            s = strength * (0.7 ** (depth - 1))
            if caller not in impacts or impacts[caller].strength < s:
                family = spec.caller_family if via == source else "timeout" if spec.caller_latency > 1.5 else "http5xx"
                impacts[caller] = Impact(via=via, strength=s, family=family, delay=0.5 * depth,
                                         errors=spec.caller_errors > 0)
    return impacts


def _apply_effects(scn: Scenario, name: str, effects: tuple[Effect, ...], np_rng: np.random.Generator,
                   *, severity: float, offset: float = 0.0) -> None:
    for eff in effects:
        key = (name, eff.metric)
        if key not in scn.series:
            continue
        p = profile(eff, scn.timeline, offset=offset)
        ref = scn.series.get((name, "db_connections_max"))
        scn.series[key] = apply(scn.series[key], eff, p, severity=severity, reference=ref, rng=np_rng)


def build_scenario(kind: str, *, service: str | None = None, seed: int = 0, difficulty: str = "normal",
                   world: str | None = None, vendor: str | None = None) -> Scenario:
    if kind not in CATALOG:
        raise InputError(f"unknown fault kind {kind!r}; known kinds: {', '.join(ALL_KINDS)}")
    if difficulty not in DIFFICULTIES:
        raise InputError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, not {difficulty!r}")
    spec = CATALOG[kind]
    rng = random.Random(f"scenario:{kind}:{service}:{seed}:{difficulty}:{world}:{vendor}")
    world_name = world or ("shop" if service is None or service in build_world("shop").components
                           or service.startswith("node-") else "media")
    try:
        w = build_world(world_name, seed=seed)
    except KeyError:
        raise InputError(f"unknown world {world_name!r}; known worlds: shop, media") from None
    options = candidates(spec, w)
    if service is None:
        culprit = rng.choice(options)
    elif service in options:
        culprit = service
    else:
        raise InputError(f"{kind} cannot happen on {service!r} in world {w.name}; candidates: {', '.join(options)}")
    if vendor is not None and vendor not in VENDORS:
        raise InputError(f"vendor must be one of {', '.join(VENDORS)}, not {vendor!r}")
    timeline = _timeline(rng, difficulty)
    np_rng = np.random.default_rng(rng.getrandbits(63))
    times = timeline.times()
    node_load = {n: 0.25 + 0.35 * rng.random() for n in w.nodes}
    series: dict[tuple[str, str], np.ndarray] = {}
    for comp_name, metric in world_metric_plan(w):
        comp = w.components.get(comp_name) or Component(comp_name, NODE, "node")
        series[(comp_name, metric)] = baseline(comp, metric, times, np_rng, node_load=node_load.get(comp_name, 0.4))
    scn = Scenario(kind=kind, spec=spec, world=w, culprit=culprit, difficulty=difficulty, seed=seed,
                   vendor=vendor or rng.choice(VENDORS), timeline=timeline, series=series, impacts={}, victims=[],
                   rng=rng)
    severity = SEVERITY[difficulty] * rng.uniform(0.85, 1.15)
    # the culprit itself
    _apply_effects(scn, culprit, spec.effects, np_rng, severity=severity)
    for target, effects in spec.extra.items():
        name = {"node": culprit if culprit in w.nodes else w.placement.get(culprit, ""), "queue": w.queue,
                "database": w.database, "edge": w.edge}[target]
        _apply_effects(scn, name, effects, np_rng, severity=severity)
    # direct victims, then everything upstream of the culprit and the victims
    scn.victims = _pick_victims(spec, w, culprit, rng)
    for victim in scn.victims:
        _apply_effects(scn, victim, spec.victim_effects, np_rng, severity=severity, offset=rng.uniform(0, 1))
    sources = ([(culprit, 1.0)] if culprit in w.components else []) + [(v, 0.8) for v in scn.victims]
    scn.impacts = _propagate(w, sources, spec, exclude={culprit, *scn.victims})
    for caller, imp in sorted(scn.impacts.items()):
        effects = (Effect("latency_p95_ms", "mul", 1 + (spec.caller_latency - 1) * imp.strength, delay=imp.delay),
                   Effect("error_rate", "add", spec.caller_errors * imp.strength, delay=imp.delay))
        _apply_effects(scn, caller, effects, np_rng, severity=severity)
    if spec.change and (rng.random() < spec.change.probability or (kind == "db_connection_exhaustion")):
        scn.change_at = timeline.fault_at - rng.uniform(*spec.change.lead)
    _red_herrings(scn, np_rng)
    _choose_alert(scn)
    for key, values in scn.series.items():
        scn.series[key] = finish(key[1], values)
    return scn


def _innocents(scn: Scenario) -> list[str]:
    hit = {scn.culprit, *scn.victims, *scn.impacts, scn.alert_service}
    return [s for s in scn.world.by_role(APP, WORKER, EDGE) if s not in hit]


def _red_herrings(scn: Scenario, np_rng: np.random.Generator) -> None:
    """Unrelated changes and noise; at 'hard' close to the fault, with a second, minor problem."""
    rng, tl, w = scn.rng, scn.timeline, scn.world
    innocents = _innocents(scn)
    rng.shuffle(innocents)
    n_deploys = {"easy": rng.randint(0, 1), "normal": rng.randint(1, 2), "hard": rng.randint(2, 3)}[scn.difficulty]
    for name in innocents[:n_deploys]:
        at = rng.uniform(5, tl.fault_at - 20)
        scn.herrings.append({"type": "deploy", "service": name, "at": at})
    if scn.difficulty == "hard" and innocents:
        name = innocents[-1]
        at = tl.fault_at + rng.uniform(-6, 1)  # an innocent deploy right next to the fault
        scn.herrings.append({"type": "deploy", "service": name, "at": at})
        blip = Effect("cpu_usage", "mul", 1.6, shape="burst", ramp=1)
        _apply_effects(scn, name, (blip,), np_rng, severity=1.0, offset=at - tl.fault_at)
        noisy = _undeployed(scn, innocents)
        if noisy:
            scn.herrings.append({"type": "log_burst", "service": noisy, "at": tl.fault_at + rng.uniform(-10, 2)})
        scn.flapping = innocents[len(innocents) // 2]
        scn.herrings.append({"type": "flapping_alert", "service": scn.flapping, "at": tl.fault_at - 40})
        if rng.random() < 0.35:  # a second, minor problem elsewhere
            other = next((s for s in w.by_role(QUEUE, CACHE) if s != scn.culprit and s not in scn.impacts), None)
            if other:
                _apply_effects(scn, other, (Effect("disk_used_ratio", "add", 0.12, shape="ramp"),), np_rng,
                               severity=1.0, offset=-30)
                scn.secondary.append({"service": other, "kind": "disk_full", "note": "volume filling, not yet full"})
        keys = sorted(scn.series)
        for idx in np_rng.choice(len(keys), size=max(1, len(keys) // 12), replace=False):
            key = keys[int(idx)]
            if key[1] not in ("request_rate", "latency_p95_ms", "error_rate"):
                scn.dropped_metrics.append(key)
    elif scn.difficulty == "normal" and innocents and rng.random() < 0.5:
        noisy = _undeployed(scn, innocents)
        if noisy:
            scn.herrings.append({"type": "log_burst", "service": noisy, "at": tl.fault_at + rng.uniform(-30, -10)})


def _undeployed(scn: Scenario, innocents: list[str]) -> str | None:
    """An innocent that no red-herring deploy touched: a burst of new errors right after a service's own deploy
    is what a bad deploy looks like, so the noise of an unrelated service lands where nothing changed."""
    deployed = {h["service"] for h in scn.herrings if h["type"] == "deploy"}
    return next((s for s in innocents if s not in deployed), None)


def _choose_alert(scn: Scenario) -> None:
    """Easy: a cause alert on the culprit. Otherwise usually a symptom alert on a caller or the edge."""
    spec, w, rng = scn.spec, scn.world, scn.rng
    culprit_owned = scn.culprit in w.components and w.components[scn.culprit].role in OWNED_ROLES
    if spec.alert_on == "queue":
        scn.alert_service, scn.alert_name, scn.alert_metric = w.queue, spec.alert, "queue_depth"
        return
    if scn.difficulty == "easy" or (spec.alert_on == "self" and scn.difficulty == "normal"):
        scn.alert_service, scn.alert_name = scn.culprit, spec.alert
        if scn.culprit in w.nodes:
            scn.alert_name = NODE_ALERTS.get(scn.kind, spec.alert)
        scn.alert_metric = _main_metric(spec)
        return
    hit = sorted(scn.impacts, key=lambda s: (-scn.impacts[s].strength, s))
    pool = list(hit)
    if scn.difficulty == "normal" and culprit_owned:
        pool.append(scn.culprit)
    if scn.difficulty == "hard":
        pool = [s for s in hit if scn.impacts[s].strength < 0.99] or hit
    pool = pool or ([scn.culprit] if culprit_owned else scn.victims or [scn.culprit])
    scn.alert_service = rng.choice(pool)
    impact = scn.impacts.get(scn.alert_service)
    errors = (impact.errors if impact else spec.caller_errors > 0.05)
    scn.alert_metric = "error_rate" if errors and rng.random() < 0.6 else "latency_p95_ms"
    scn.alert_name = {"error_rate": "HighErrorRate", "latency_p95_ms": "HighLatencyP95"}[scn.alert_metric]
    if scn.alert_service == scn.culprit:
        symptoms = [e.metric for e in spec.effects if e.metric in ("error_rate", "latency_p95_ms")
                    and (e.op == "add" or e.value > 1)]
        if symptoms:
            scn.alert_metric = rng.choice(sorted(set(symptoms)))
            scn.alert_name = {"error_rate": "HighErrorRate", "latency_p95_ms": "HighLatencyP95"}[scn.alert_metric]
        else:
            scn.alert_metric, scn.alert_name = _main_metric(spec), spec.alert


def _main_metric(spec: FaultSpec) -> str:
    for eff in spec.effects:
        return eff.metric
    for eff in spec.victim_effects:
        return eff.metric
    return "error_rate"
