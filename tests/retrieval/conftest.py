"""Small factories of past incidents and runbooks for the retrieval tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import Document, DocumentType

NOW = datetime(2026, 11, 1, tzinfo=UTC)

RUNBOOK_MD = """---
title: Database runbook
services: [checkout, orders]
url: https://wiki.acme.test/runbooks/database
---
# Database runbook

Who owns the databases and where the dashboards live.

## Connection pool exhausted

Check active connections against the pool maximum. Look for leaked sessions and long transactions.

```bash
# not a heading: count connections
psql -c 'select count(*) from pg_stat_activity'
```

### Raise the pool size

Raise `maximumPoolSize` and restart the pods one at a time.

## Replication lag

Find the long-running write job and throttle it; move reads to the primary if needed.

## Replication lag

A second section with the same name gets its own anchor.
"""


def incident_doc(
    doc_id: str,
    title: str,
    text: str,
    *,
    service: str,
    category: str,
    kind: str,
    resolution: str,
    days_ago: int = 30,
) -> Document:
    return Document(
        id=doc_id,
        type=DocumentType.INCIDENT,
        title=title,
        text=text,
        services=[service],
        category=category,
        kinds=[kind],
        root_cause_service=service,
        root_cause_kind=kind,
        resolution=resolution,
        date=NOW - timedelta(days=days_ago),
        url=f"https://tracker.acme.test/{doc_id}",
    )


def history() -> list[Document]:
    return [
        incident_doc(
            "inc-pool",
            "Checkout outage: database connection pool exhausted",
            "Checkout requests waited for a JDBC connection; HikariPool timed out after 30000ms.",
            service="checkout",
            category="database",
            kind="db_connection_exhaustion",
            resolution="Raised the pool size and fixed a connection leak in the order repository.",
            days_ago=200,
        ),
        incident_doc(
            "inc-disk",
            "Logging cluster stopped indexing: disk full",
            "Elasticsearch data nodes ran out of disk space and rejected writes.",
            service="logging",
            category="storage",
            kind="disk_full",
            resolution="Deleted old indices and enabled rotation.",
            days_ago=90,
        ),
        incident_doc(
            "inc-cert",
            "API gateway TLS certificate expired",
            "Clients failed TLS handshakes: x509 certificate has expired.",
            service="gateway",
            category="tls",
            kind="certificate_expired",
            resolution="Renewed the certificate and fixed the cert-manager issuer.",
            days_ago=400,
        ),
        incident_doc(
            "inc-oom",
            "Payments pods OOMKilled after release",
            "Payments containers exceeded their memory limit and restarted in a loop (exit code 137).",
            service="payments",
            category="memory",
            kind="oom_kill",
            resolution="Lowered the heap size below the container limit.",
            days_ago=20,
        ),
        incident_doc(
            "inc-dns",
            "Search could not resolve internal hostnames",
            "CoreDNS was overloaded; lookups of db.internal returned SERVFAIL.",
            service="search",
            category="dns",
            kind="dns_failure",
            resolution="Scaled CoreDNS and added a node-local DNS cache.",
            days_ago=60,
        ),
    ]


@pytest.fixture
def past_incidents() -> list[Document]:
    return history()
