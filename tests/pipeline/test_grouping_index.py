"""The correlation index: ``best_group`` with a ``GroupIndex`` picks exactly the group a full scan picks."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bot.domain import Alert
from bot.pipeline.grouping import GroupIndex, GroupingPolicy, GroupProfile, best_group

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SERVICES = ["checkout", "frontend", "orders-db", "payments", "cache", "search", "auth", None]
TOPOLOGY = {"frontend": ["checkout", "search"], "checkout": ["orders-db", "payments", "cache"],
            "payments": ["auth"], "search": ["cache"]}


def _alert(rng: random.Random, i: int) -> Alert:
    service = rng.choice(SERVICES)
    labels: dict[str, str] = {"alertname": rng.choice(["HighLatency", "Errors", "DiskFull", "Down"])}
    if service:
        labels["service"] = service
    if rng.random() < 0.5:
        labels["node"] = f"node-{rng.randint(1, 6)}:9100"
    if rng.random() < 0.4:
        labels["region"] = rng.choice(["eu-1", "us-1"])
    for key in ("team_db", "shard", "queue"):
        if rng.random() < 0.4:
            labels[key] = f"{key}-{rng.randint(1, 3)}"
    return Alert(source="alertmanager", name=labels["alertname"], service=service, labels=labels,
                 starts_at=T0 + timedelta(minutes=rng.randint(0, 90)), summary=f"alert {i}")


def test_index_picks_the_same_group_as_a_full_scan() -> None:
    rng = random.Random(17)
    policy = GroupingPolicy(topology=TOPOLOGY, label_similarity=0.5)
    groups: dict[str, GroupProfile] = {}
    index = GroupIndex()
    joined = opened = 0
    for i in range(600):
        a = _alert(rng, i)
        full = best_group(a, groups.values(), policy, TOPOLOGY)
        fast = best_group(a, groups.values(), policy, TOPOLOGY, index)
        assert (fast.incident_id if fast else None) == (full.incident_id if full else None), a.labels
        if full is None:
            opened += 1
            group = GroupProfile(incident_id=f"inc-{i}", first_at=a.starts_at, last_at=a.starts_at)
            groups[group.incident_id] = group
            group.add(a, policy)
            index.add(group)
        else:
            joined += 1
            full.add(a, policy)
            index.add_alert(full, a, policy)
    # both outcomes were exercised many times, so the comparison above covered joins of every kind
    assert joined > 100 and opened > 50


def test_index_built_from_existing_groups_finds_their_members() -> None:
    policy = GroupingPolicy(topology=TOPOLOGY)
    db = GroupProfile(incident_id="inc-db", first_at=T0, last_at=T0)
    db.add(Alert(source="x", name="ConnectionsExhausted", service="orders-db",
                 labels={"alertname": "ConnectionsExhausted", "service": "orders-db"}, starts_at=T0), policy)
    other = GroupProfile(incident_id="inc-other", first_at=T0, last_at=T0)
    other.add(Alert(source="x", name="DiskFull", service="logging", labels={"service": "logging"}, starts_at=T0),
              policy)
    index = GroupIndex([db, other])
    caller = Alert(source="x", name="HighLatency", service="checkout", labels={"service": "checkout"},
                   starts_at=T0 + timedelta(minutes=1))
    chosen = best_group(caller, [db, other], policy, TOPOLOGY, index)
    assert chosen is db  # checkout calls orders-db: a topology tie the index must not hide
    stranger = Alert(source="x", name="Down", service="billing", labels={"service": "billing"}, starts_at=T0)
    assert best_group(stranger, [db, other], policy, TOPOLOGY, index) is None
