"""Next steps: runbook sections (with links), similar incidents' resolutions, kind-specific checks.

Ranked by how strongly the hypothesis they serve is believed times how relevant the source is, and
deduplicated by normalised text. Kind checks fit the platform the evidence comes from
(``platform_of``): on a plain host (node_exporter labels, no pod or namespace) they are host steps
(top/pidstat, df/du, journalctl -k, systemctl), never kubectl; Kubernetes steps only for Kubernetes
evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from bot.domain import Document, Hypothesis, Recommendation, Signal, SimilarIncident

KIND_CHECKS: dict[str, tuple[str, ...]] = {
    "db_connection_exhaustion": (
        "Check the connection pool size and active/idle connections of {service} against the database's max_connections",
        "Look for slow or long-running queries holding connections (pg_stat_activity / SHOW PROCESSLIST)",
        "Check whether a recent deploy of {service} changed pool settings or query patterns",
    ),
    "db_slow_query": (
        "List the slowest queries of {service} and compare their plans with last week's",
        "Check for missing indexes or a table that grew past a plan change",
    ),
    "db_lock_contention": ("Find blocking sessions and long transactions on the database used by {service}",),
    "db_replication_lag": ("Check replica lag and whether reads of {service} can go to the primary meanwhile",),
    "db_down": ("Check the database host, its process and disk of {service}; fail over if a replica is healthy",),
    "cpu_saturation": (
        "Check CPU usage per pod/instance of {service} and scale out if it is load-driven",
        "Profile the hottest code path of {service} if load did not rise",
    ),
    "cpu_throttling": ("Compare CPU limits of {service} with its usage; raise the limit or the replica count",),
    "memory_leak": (
        "Plot memory of {service} since the last deploy; restart the leaking instances to buy time",
        "Take a heap dump of {service} before restarting",
    ),
    "oom_kill": ("Check OOMKilled events and memory limits of {service}",),
    "disk_full": ("Free space on the full volume of {service} (logs, temp files) and extend it",),
    "disk_io_latency": ("Check I/O wait and disk queue depth on the hosts of {service}",),
    "network_latency": ("Measure latency between {service} and its dependencies; check recent network changes",),
    "packet_loss": ("Check interface errors and retransmits on the hosts of {service}",),
    "network_partition": ("Check connectivity between {service} and its peers across zones",),
    "network_policy_block": ("Review recent NetworkPolicy / firewall / security group changes affecting {service}",),
    "dns_failure": ("Resolve the failing names from a {service} pod; check CoreDNS/resolver health",),
    "certificate_expired": ("Check certificate expiry dates on the endpoints of {service} and renew",),
    "bad_deploy": (
        "Roll back the latest deploy of {service} and watch error rate and latency",
        "Diff the deployed version of {service} against the previous one",
    ),
    "config_change": ("Revert the latest configuration change on {service}",),
    "feature_flag": ("Turn off the feature flag changed most recently on {service}",),
    "dependency_failure": ("Check the health of the dependencies {service} calls; enable fallbacks or circuit breakers",),
    "rate_limited": ("Check rate-limit responses (429) received by {service} and its quotas",),
    "traffic_spike": ("Check request rate of {service} by client; scale out or shed load",),
    "queue_backlog": ("Check consumer lag and consumer health of {service}; add consumers",),
    "resource_quota": ("Check namespace quotas and pending pods of {service}",),
    "crash_loop": ("Read the last logs of crashing {service} pods (kubectl logs --previous)",),
    "exception_surge": ("Group the new exceptions of {service} by stack trace and find the first occurrence",),
    "thread_pool_exhaustion": ("Take a thread dump of {service}; look for threads blocked on a slow dependency",),
    "deadlock": ("Take a thread dump of {service} and look for lock cycles",),
    "auth_failure_surge": ("Check the auth provider and credential rotation used by {service}",),
    "ddos": ("Check traffic sources to {service}; enable rate limiting or WAF rules",),
    "node_failure": ("Check node status where {service} runs; cordon and drain failing nodes",),
    "hardware_error": ("Check hardware logs (dmesg, ECC, SMART) of the hosts of {service}",),
}

# steps on a plain host (a VM or bare metal watched by node_exporter): no Kubernetes objects to inspect
HOST_CHECKS: dict[str, tuple[str, ...]] = {
    "cpu_saturation": (
        "Find what is using the CPU on {service}: `top -o %CPU` or `pidstat -u 5 3` (per process)",
        "Check whether that load is expected (a batch job, a backup, more traffic) and which systemd unit "
        "runs it (`systemctl status <pid>`) before stopping or limiting it",
    ),
    "cpu_throttling": ("Check the CPU quota of the unit on {service}: `systemctl show -p CPUQuotaPerSecUSec <unit>`",),
    "memory_leak": (
        "Track the resident memory of the growing process on {service}: `pidstat -r 60` or "
        "`ps -eo pid,rss,cmd --sort=-rss | head`",
        "Restart its unit (`systemctl restart <unit>`) to buy time; keep a heap or core dump first if you can",
    ),
    "oom_kill": (
        "Read the kernel's OOM messages on {service}: `journalctl -k | grep -iE 'out of memory|oom-kill|oom_reaper'`",
        "Find the largest memory users: `ps -eo pid,rss,cmd --sort=-rss | head` and `free -m`; "
        "check the unit's limit with `systemctl show -p MemoryMax <unit>`",
    ),
    "disk_full": (
        "Find what filled the filesystem on {service}: `df -h`, then `du -xh --max-depth=2 <mountpoint> | sort -h | tail`",
        "Free space safely (old logs: `journalctl --vacuum-size=500M`, rotated files, temp files) and grow "
        "the volume if the growth is expected",
    ),
    "disk_io_latency": ("Find the processes and devices behind the I/O on {service}: `iostat -x 5 3`, `pidstat -d 5 3`",),
    "packet_loss": ("Check drops and errors on {service}'s interfaces: `ip -s link`, `ethtool -S <iface>`, `nstat -az`",),
    "crash_loop": ("Read why the service on {service} keeps restarting: `systemctl status <unit>`, "
                   "`journalctl -u <unit> -n 200`",),
    "node_failure": ("Check {service} itself: `journalctl -k -p err -b`, `systemctl --failed`, uptime and load",),
    "hardware_error": ("Check hardware errors on {service}: `journalctl -k | grep -iE 'mce|edac|i/o error'`, "
                       "`smartctl -a <disk>`",),
    "dns_failure": ("Resolve the failing names on {service}: `resolvectl query <name>` / `dig <name>`; "
                    "check /etc/resolv.conf",),
}
_KUBERNETES_WORDS = re.compile(r"\b(kubectl|pods?|namespace|OOMKilled|CoreDNS|NetworkPolicy|cordon|PVC)\b")
KUBERNETES_LABELS = ("namespace", "pod", "kubernetes_namespace", "kubernetes_pod_name", "pod_name")
HOST_METRIC = re.compile(r"^node_")


def platform_of(signals: Iterable[Signal], labels: Mapping[str, str] | None = None) -> str | None:
    """``kubernetes`` when the evidence names Kubernetes objects (kubectl output, a pod or namespace
    label), ``host`` when it is a plain host's (node_exporter series or an instance with no pod or
    namespace), None when it does not say."""
    sigs = list(signals)
    label_sets = [dict(labels or {})]
    label_sets += [dict(s.attributes.get("labels") or {}) for s in sigs if isinstance(s.attributes.get("labels"), dict)]
    if any(s.source == "kubernetes" for s in sigs) or any(k in ls for ls in label_sets for k in KUBERNETES_LABELS):
        return "kubernetes"
    if any(s.source == "metrics" and HOST_METRIC.match(s.metric or "") for s in sigs):
        return "host"
    if any("instance" in ls or "nodename" in ls for ls in label_sets):
        return "host"
    return None


def kind_checks(kind: str, platform: str | None) -> tuple[str, ...]:
    """The checks for a cause kind on that platform: host steps on a host (generic ones that name no
    Kubernetes object when there are none), the general ones elsewhere."""
    if platform != "host":
        return KIND_CHECKS.get(kind, ())
    if kind in HOST_CHECKS:
        return HOST_CHECKS[kind]
    return tuple(c for c in KIND_CHECKS.get(kind, ()) if not _KUBERNETES_WORDS.search(c))


_STEP = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.+)$")
_SOURCE_WEIGHT = {"runbook": 1.0, "incident": 0.85, "kind-check": 0.7}


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def runbook_steps(document: Document, limit: int = 4) -> list[str]:
    steps = []
    for line in document.text.splitlines():
        m = _STEP.match(line)
        if m:
            step = m.group(1).strip()
            if len(step) > 8:
                steps.append(step)
        if len(steps) >= limit:
            break
    if not steps:
        heading = " > ".join(document.heading_path) if document.heading_path else document.title
        steps.append(f"Follow the runbook section '{heading}'")
    return steps


def _belief(hypotheses: list[Hypothesis], kinds: list[str], services: list[str]) -> float:
    best = 0.0
    for h in hypotheses:
        if h.kind in kinds:
            best = max(best, h.confidence * (1.0 if not services or h.service in services else 0.7))
    return best


def recommend(
    *,
    hypotheses: list[Hypothesis],
    runbooks: list[tuple[Document, float]],
    similar: list[SimilarIncident],
    limit: int = 8,
    platform: str | None = None,
) -> list[Recommendation]:
    recs: list[Recommendation] = []
    for doc, score in runbooks:
        belief = _belief(hypotheses, doc.kinds, doc.services) if doc.kinds else 0.3
        base = _SOURCE_WEIGHT["runbook"] * (0.5 * float(score) + 0.5 * belief)
        for i, step in enumerate(runbook_steps(doc)):
            recs.append(Recommendation(text=step, source="runbook", url=doc.url, score=base * (1.0 - 0.05 * i)))
    for inc in similar:
        if not inc.resolution:
            continue
        kinds = [inc.root_cause_kind] if inc.root_cause_kind else []
        belief = _belief(hypotheses, kinds, [inc.root_cause_service] if inc.root_cause_service else [])
        text = f"As in '{inc.title}': {inc.resolution.strip()}"
        recs.append(Recommendation(text=text, source="incident", url=inc.url,
                                   score=_SOURCE_WEIGHT["incident"] * (0.5 * float(inc.score) + 0.5 * belief)))
    for h in hypotheses[:3]:
        for i, check in enumerate(kind_checks(h.kind, platform)):
            recs.append(Recommendation(text=check.format(service=h.service), source="kind-check",
                                       score=_SOURCE_WEIGHT["kind-check"] * h.confidence * (1.0 - 0.05 * i)))
    recs.sort(key=lambda r: -r.score)
    seen: set[str] = set()
    out: list[Recommendation] = []
    for r in recs:
        key = _norm(r.text)
        if key in seen:
            continue
        seen.add(key)
        out.append(r.model_copy(update={"score": round(max(0.0, min(1.0, r.score)), 4)}))
        if len(out) >= limit:
            break
    return out
