"""Grouping quality on a simulated alert storm: 10,000 notifications from 50 incidents.

The storm is drawn from the simulator's two production worlds (``shop`` and ``media``: services, their
dependencies and the Kubernetes nodes they run on), each deployed in two clusters (``eu-1``, ``us-1``:
the same service names, told apart by the ``cluster`` label). Each of the 50
incidents has a root (a database, cache, queue, external API, a node, or a service) and fires the alerts a
real Prometheus/kube-state-metrics setup would: causes on the root, symptoms (latency, 5xx, consumer lag)
on its transitive callers, pod alerts on a failed node; per pod or instance, repeated every 1-5 minutes
while the incident lasts, some flapping, then resolved. Incidents start at random (about one every 15
minutes over 12 hours), so several overlap, sometimes on related services.

Measured, on the distinct alerts (one per fingerprint per incident): how many incidents are created, and
the pairwise precision/recall of the grouping (a pair of alerts is "together" in the truth when they come
from one incident). Three groupers run on the same storm in this process:

- ``sherlog+topology``: Sherlog's intake with the world's dependency graph in ``intake.topology``;
- ``sherlog+partial``: the same with a third of the dependency edges missing (a real, incomplete map);
- ``sherlog``: the same without a configured topology (services, hosts and labels only);
- ``baseline``: Alertmanager-style ``group_by: [alertname, service]`` within the same window.

Run from the project root: ``.venv/bin/python -m bench.grouping [--notifications 10000] [--seed 7]``.
The last stdout line is one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain import Alert, AlertStatus, Severity
from bot.pipeline.grouping import GroupingPolicy
from bot.pipeline.intake import IntakeService
from bot.simulation.world import APP_ROLES, CACHE, DATABASE, EXTERNAL, QUEUE, World, build_world
from bot.storage import Store

T0 = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
CAUSE_ALERTS = {
    DATABASE: ["PostgresTooManyConnections", "PostgresSlowQueries", "PostgresReplicationLag"],
    CACHE: ["RedisDown", "RedisMemoryHigh", "RedisRejectedConnections"],
    QUEUE: ["RabbitmqQueueBacklog", "KafkaUnderReplicatedPartitions", "BrokerDiskAlarm"],
    EXTERNAL: ["ProbeFailed", "ExternalAPIErrorRate"],
}
SYMPTOMS = ["HighLatencyP99", "HTTP5xxRateHigh", "UpstreamTimeouts", "ErrorBudgetBurn"]
APP_CAUSES = ["KubePodCrashLooping", "ContainerOOMKilled", "CPUThrottlingHigh", "JVMHeapHigh", "GoroutineLeak"]


@dataclass
class Notification:
    alert: Alert
    truth: int  # incident index
    key: tuple[int, str]  # (incident, fingerprint): one distinct alert
    sent: datetime


CLUSTERS = ("eu-1", "us-1")


def _labels(world: World, cluster: str, service: str, name: str, **extra: str) -> dict[str, str]:
    return {"alertname": name, "service": service, "env": "production", "cluster": cluster,
            "namespace": world.name, "job": service, **extra}


def _alerts_for(world: World, cluster: str, rng: random.Random) -> tuple[str, list[tuple[dict[str, str], int, Severity]]]:
    """(root, [(labels, delay minutes, severity)]) of one incident in ``world``."""
    kind = rng.choices(["dependency", "node", "app"], weights=[5, 2, 4])[0]
    out: list[tuple[dict[str, str], int, Severity]] = []
    if kind == "node":
        node = rng.choice(world.nodes)
        out.append(({"alertname": "KubeNodeNotReady", "node": node, "env": "production", "cluster": cluster},
                    0, Severity.CRITICAL))
        out.append(({"alertname": "NodeExporterDown", "instance": f"{node}:9100", "node": node,
                     "env": "production", "cluster": cluster}, 1, Severity.HIGH))
        for svc in world.on_node(node):
            for _ in range(rng.randint(1, 3)):
                pod = f"{svc}-{rng.randrange(16**5):05x}"
                out.append((_labels(world, cluster, svc, "KubePodNotReady", pod=pod, node=node), rng.randint(1, 4),
                            Severity.WARNING))
        return node, out
    if kind == "dependency":
        root = rng.choice(world.by_role(DATABASE, CACHE, QUEUE, EXTERNAL))
        role = world.components[root].role
        for name in rng.sample(CAUSE_ALERTS[role], k=rng.randint(1, len(CAUSE_ALERTS[role]))):
            for i in range(rng.randint(1, 2)):
                # cause rules often carry a longer ``for:`` than symptom rules: the cause may alert after them
                out.append((_labels(world, cluster, root, name, instance=f"{root}-{i}:9100"), rng.randint(0, 4),
                            Severity.CRITICAL))
    else:
        root = rng.choice(world.by_role(*APP_ROLES))
        node = world.placement.get(root, "")
        for name in rng.sample(APP_CAUSES, k=rng.randint(1, 3)):
            for _ in range(rng.randint(1, 4)):
                pod = f"{root}-{rng.randrange(16**5):05x}"
                extra = {"pod": pod, "container": root}
                if name in {"ContainerOOMKilled", "CPUThrottlingHigh"}:
                    extra["node"] = node  # cAdvisor metrics carry the node
                out.append((_labels(world, cluster, root, name, **extra), rng.randint(0, 3), Severity.HIGH))
    for caller, (depth, _dep) in sorted(world.upstream(root).items()):
        if depth > 3 or rng.random() < 0.25 * depth:
            continue
        for name in rng.sample(SYMPTOMS, k=rng.randint(1, 2)):
            for _ in range(rng.randint(1, 3)):
                pod = f"{caller}-{rng.randrange(16**5):05x}"
                out.append((_labels(world, cluster, caller, name, pod=pod), depth * rng.randint(1, 4), Severity.WARNING))
    return root, out


def storm(*, incidents: int, notifications: int, seed: int) -> tuple[list[Notification], dict[str, list[str]]]:
    rng = random.Random(seed)
    worlds = [build_world("shop", seed=seed), build_world("media", seed=seed)]
    topology: dict[str, list[str]] = {}
    for w in worlds:
        for svc, deps in w.topology().items():
            topology.setdefault(svc, []).extend(deps)
    plans = []
    start = T0
    for index in range(incidents):
        start += timedelta(minutes=rng.expovariate(1 / 15))
        world = rng.choice(worlds)
        _, alerts = _alerts_for(world, rng.choice(CLUSTERS), rng)
        plans.append((index, start, timedelta(minutes=rng.randint(10, 90)), alerts))
    # the repeat interval is scaled so the storm holds the requested number of notifications
    scale = 1.0
    for _ in range(40):  # the smallest storm holding at least the requested count, then cut to it exactly
        out = _expand(plans, scale, random.Random(seed + 1))
        if notifications <= len(out) <= notifications * 1.03 or scale <= 0.01:
            break
        scale *= len(out) / notifications * (0.99 if len(out) < notifications else 1.0)
    out.sort(key=lambda n: n.sent)
    return out[:notifications], topology


def _expand(plans: list, scale: float, rng: random.Random) -> list[Notification]:  # type: ignore[type-arg]
    """Every notification Alertmanager would send: firing repeats, one flap for some, the resolve."""
    out: list[Notification] = []
    busy: dict[str, datetime] = {}  # label set -> when it stops firing: one alert cannot fire twice at once
    for index, start, duration, alerts in plans:
        for labels, delay, severity in alerts:
            fired = start + timedelta(minutes=delay)
            end = start + duration + timedelta(minutes=rng.randint(0, 5))
            identity = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
            if busy.get(identity, fired - timedelta(days=1)) + timedelta(minutes=15) > fired:
                continue  # still firing (or just resolved) for an earlier incident: Alertmanager sends no new one
            busy[identity] = end
            every = timedelta(minutes=max(0.05, rng.uniform(1, 5) * scale))
            flap_at = fired + (end - fired) / 2 if rng.random() < 0.1 else None

            def note(status: AlertStatus, sent: datetime, started: datetime, ends: datetime | None = None, *,
                     labels: dict[str, str] = labels, severity: Severity = severity, index: int = index) -> None:
                a = Alert(source="alertmanager", name=labels["alertname"], service=labels.get("service"),
                          severity=severity, labels=dict(labels), summary=f"{labels['alertname']} firing",
                          status=status, starts_at=started, ends_at=ends)
                out.append(Notification(alert=a, truth=index, key=(index, a.compute_fingerprint()), sent=sent))

            started, t = fired, fired
            while t < end:
                if flap_at is not None and started == fired and t >= flap_at:
                    note(AlertStatus.RESOLVED, t, started, t)  # flapping: resolved for a moment ...
                    started = t + timedelta(seconds=30)  # ... then fires again with a new startsAt
                    t = started
                    continue
                note(AlertStatus.FIRING, t, started)
                t += every
            note(AlertStatus.RESOLVED, end, started, end)
    return out


def pairwise(truth: dict[tuple[int, str], int], predicted: dict[tuple[int, str], str]) -> tuple[float, float]:
    def pairs(counts: Counter[object]) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    keys = list(truth)
    both = pairs(Counter((truth[k], predicted[k]) for k in keys))
    pred_pairs = pairs(Counter(predicted[k] for k in keys))
    true_pairs = pairs(Counter(truth[k] for k in keys))
    precision = both / pred_pairs if pred_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    return precision, recall


def run_sherlog(notes: list[Notification], policy: GroupingPolicy, batch: int) -> tuple[dict[tuple[int, str], str], int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'bench.db'}")
        intake = IntakeService(store=store, policy=policy)
        predicted: dict[tuple[int, str], str] = {}
        t0 = time.perf_counter()
        for i in range(0, len(notes), batch):
            chunk = notes[i:i + batch]
            result = intake.accept([n.alert.model_copy(deep=True) for n in chunk])
            for n, inc in zip(chunk, result.incidents, strict=False):
                if n.alert.status == AlertStatus.FIRING:
                    predicted.setdefault(n.key, inc.id)
        seconds = time.perf_counter() - t0
        created = store.count_incidents()
        store.close()
    return predicted, created, seconds


def run_baseline(notes: list[Notification], window: timedelta) -> tuple[dict[tuple[int, str], str], int]:
    open_groups: dict[tuple[str, str], tuple[str, datetime]] = {}
    predicted: dict[tuple[int, str], str] = {}
    created = 0
    for n in notes:
        a = n.alert
        if a.status != AlertStatus.FIRING:
            continue
        key = (a.name, a.service or "")
        group = open_groups.get(key)
        if group is None or a.starts_at - group[1] > window:
            created += 1
            group = (f"g{created}", a.starts_at)
        open_groups[key] = (group[0], max(group[1], a.starts_at))
        predicted.setdefault(n.key, group[0])
    return predicted, created


ASSUMPTIONS = (
    "incidents start as a Poisson process (mean gap 15 min) and last 10-90 min, so several overlap,"
    " often in the same world and cluster and on shared callers (gateways, BFFs)",
    "a failure fires cause alerts on its root (database/cache/queue/external API, node, or service) within"
    " 0-4 min, symptoms on callers up to 3 hops up, 1-4 min later per hop; farther callers alert less often",
    "labels are those of Prometheus/kube-state-metrics rules: service, pod or instance, node when the metric"
    " carries it, cluster; summaries vary, identities (fingerprints) do not",
    "every alert repeats every 1-5 min (scaled to the notification count), 10% flap once, all resolve;"
    " an alert still firing for an earlier incident is not sent again for a later one (Alertmanager dedup)",
    "the grouper is given the world's dependency graph (or two thirds of it, or none); nothing else of the truth",
)


def partial(topology: dict[str, list[str]], seed: int) -> dict[str, list[str]]:
    """The dependency map with about a third of its edges missing (chosen at random)."""
    rng = random.Random(seed + 2)
    return {svc: [d for d in sorted(deps) if rng.random() >= 1 / 3] for svc, deps in sorted(topology.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--incidents", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=20, help="notifications per intake call (a webhook group)")
    args = parser.parse_args()
    notes, topology = storm(incidents=args.incidents, notifications=args.notifications, seed=args.seed)
    # every fingerprint is assigned to the incident it first fired in (ground truth per distinct alert)
    truth = {n.key: n.truth for n in notes if n.alert.status == AlertStatus.FIRING}
    true_incidents = len({t for t in truth.values()})
    rows = []
    results: dict[str, dict[str, float]] = {}
    for name, policy in (("sherlog+topology", GroupingPolicy(topology=topology, learn_topology=False)),
                         ("sherlog+partial", GroupingPolicy(topology=partial(topology, args.seed),
                                                            learn_topology=False)),
                         ("sherlog", GroupingPolicy(learn_topology=False))):
        predicted, created, seconds = run_sherlog(notes, policy, args.batch)
        p, r = pairwise(truth, {k: predicted[k] for k in truth})
        results[name] = {"incidents": created, "precision": p, "recall": r, "seconds": seconds}
    predicted, created = run_baseline(notes, timedelta(minutes=30))
    p, r = pairwise(truth, predicted)
    results["baseline"] = {"incidents": created, "precision": p, "recall": r, "seconds": 0.0}
    print("storm assumptions:")
    for line in ASSUMPTIONS:
        print(f"  - {line}")
    print(f"storm: {len(notes)} notifications, {len(truth)} distinct alerts, {true_incidents} true incidents "
          f"(seed {args.seed})")
    print(f"{'grouper':<18}{'incidents':>10}{'precision':>11}{'recall':>9}{'F1':>7}{'alerts/s':>10}")
    for name, m in results.items():
        f1 = 2 * m["precision"] * m["recall"] / (m["precision"] + m["recall"]) if m["precision"] + m["recall"] else 0
        m["f1"] = f1
        rate = len(notes) / m["seconds"] if m["seconds"] else float("nan")
        rows.append((name, m))
        print(f"{name:<18}{int(m['incidents']):>10}{m['precision']:>11.3f}{m['recall']:>9.3f}{f1:>7.3f}{rate:>10.0f}")
    headline = {
        "notifications": len(notes), "distinct_alerts": len(truth), "true_incidents": true_incidents,
        **{f"{name}_{k}": round(v, 4) for name, m in results.items() for k, v in m.items() if k != "seconds"},
    }
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
