"""A small, realistic labelled incident history of one team (for the team-taxonomy tests).

Short post-mortem records labelled with the team's own taxonomy: ``payments-team``, ``infra``,
``data-platform`` and ``security``, some with two labels. Built from a seeded random mix of phrasings,
so the words vary from record to record the way hand-written titles do.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

PAYMENTS = [
    "card authorisations declined by the payment gateway", "stripe webhook retries piled up",
    "checkout could not capture payments", "refund jobs failed with a PSP timeout",
    "payment provider returned 502 on charge", "double charges after the billing retry loop",
    "invoice generation stuck for subscription renewals", "3-D Secure challenge page failed to load",
]
INFRA = [
    "node disk full on the kubernetes worker pool", "pods evicted after memory pressure on nodes",
    "load balancer health checks failing in one zone", "DNS resolution timeouts inside the cluster",
    "TLS certificate expired on the ingress", "autoscaler could not add nodes, quota reached",
    "etcd latency high after a control plane upgrade", "network packet loss between availability zones",
    "storage volume filled up and writes failed", "disk usage hit its limit on a database host",
]
DATA = [
    "nightly ETL job failed and the warehouse tables are stale", "kafka consumer lag grew on the events topic",
    "spark batch ran out of executors", "airflow DAG stuck in queued state",
    "dbt model broke after a schema change upstream", "clickhouse merges fell behind and queries slowed",
    "CDC connector stopped replicating from postgres", "data lake partition missing for yesterday",
]
SECURITY = [
    "leaked API key found in a public repository", "brute force login attempts against the admin panel",
    "WAF blocked a burst of SQL injection probes", "suspicious IAM role assumed from an unknown IP",
    "expired signing key rejected all SSO logins", "vulnerability scanner flagged an outdated openssl",
]
SERVICES = ["checkout", "billing", "gateway", "ledger", "search", "catalog", "events", "reports", "auth", "web"]
RESOLUTIONS = ["rolled back the release", "restarted the affected workers", "scaled the pool up",
               "rotated credentials and redeployed", "replayed the failed batch", "raised the limit",
               "failed over to the standby", "patched the configuration"]
OPENERS = ["", "Customers saw errors: ", "Paged at night: ", "SEV2 - ", "Alert fired: "]

FIELDS = ["id", "title", "summary", "resolution", "labels", "service"]


def history(seed: int = 0, *, per_label: int = 18, mixed: int = 16) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    pools = {"payments-team": PAYMENTS, "infra": INFRA, "data-platform": DATA, "security": SECURITY}

    def add(title: str, summary: str, labels: list[str]) -> None:
        rows.append({"id": f"INC-{1000 + len(rows)}", "title": rng.choice(OPENERS) + title,
                     "summary": summary, "resolution": rng.choice(RESOLUTIONS),
                     "labels": ";".join(labels), "service": rng.choice(SERVICES)})

    for label, pool in pools.items():
        n = per_label if label != "security" else per_label // 2
        for _ in range(n):
            first, second = rng.sample(pool, 2)
            add(first, f"{second} for {rng.randint(5, 90)} minutes", [label])
    for i in range(mixed):  # two teams involved: payments on top of infra, data on top of infra
        other = "payments-team" if i % 2 == 0 else "data-platform"
        add(rng.choice(pools[other]), rng.choice(INFRA), [other, "infra"])
    rng.shuffle(rows)
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps({**r, "labels": r["labels"].split(";")}) + "\n" for r in rows),
                    encoding="utf-8")
    return path
