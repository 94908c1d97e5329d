"""The shared vocabulary of categories and root-cause kinds (ARCHITECTURE.md).

Bundles, answers, the dashboard and the evaluations all speak it. Kinds may be added; the
names below are never renamed.
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    CPU = "cpu"
    MEMORY = "memory"
    STORAGE = "storage"
    DATABASE = "database"
    NETWORK = "network"
    DNS = "dns"
    TLS = "tls"
    DEPLOY = "deploy"
    DEPENDENCY = "dependency"
    CAPACITY = "capacity"
    APPLICATION = "application"
    SECURITY = "security"
    HARDWARE = "hardware"
    UNKNOWN = "unknown"


KINDS_BY_CATEGORY: dict[Category, tuple[str, ...]] = {
    Category.CPU: ("cpu_saturation", "cpu_throttling"),
    Category.MEMORY: ("memory_leak", "oom_kill"),
    Category.STORAGE: ("disk_full", "disk_io_latency"),
    Category.DATABASE: (
        "db_connection_exhaustion",
        "db_slow_query",
        "db_lock_contention",
        "db_replication_lag",
        "db_down",
    ),
    Category.NETWORK: ("network_latency", "packet_loss", "network_partition", "network_policy_block"),
    Category.DNS: ("dns_failure",),
    Category.TLS: ("certificate_expired",),
    Category.DEPLOY: ("bad_deploy", "config_change", "feature_flag"),
    Category.DEPENDENCY: ("dependency_failure", "rate_limited"),
    Category.CAPACITY: ("traffic_spike", "queue_backlog", "resource_quota"),
    Category.APPLICATION: ("crash_loop", "exception_surge", "thread_pool_exhaustion", "deadlock"),
    Category.SECURITY: ("auth_failure_surge", "ddos"),
    Category.HARDWARE: ("node_failure", "hardware_error"),
}

CATEGORY_OF_KIND: dict[str, Category] = {
    kind: category for category, kinds in KINDS_BY_CATEGORY.items() for kind in kinds
}

ALL_KINDS: tuple[str, ...] = tuple(CATEGORY_OF_KIND)

# Symptom kinds: what a detector can see without knowing the cause. They are not root-cause kinds
# and never appear as a hypothesis kind, but the ranker maps them to causes.
SYMPTOM_KINDS: tuple[str, ...] = (
    "latency_increase",
    "error_rate_increase",
    "traffic_drop",
    "saturation",
    "log_anomaly",
)


def category_of(kind: str | None) -> Category:
    """The category a root-cause kind belongs to, ``Category.UNKNOWN`` for anything else."""
    if kind is None:
        return Category.UNKNOWN
    return CATEGORY_OF_KIND.get(kind, Category.UNKNOWN)


def is_cause_kind(kind: str | None) -> bool:
    return kind is not None and kind in CATEGORY_OF_KIND
