"""Why a container restarts when it did not crash by itself (docs/causes.md).

- ``stopped_while_starting``: its previous log shows it starting, then told to stop (SIGTERM, shutdown hooks)
  before it ever said it had started: the kubelet's liveness probe killed a container that was still starting,
  a probe configuration that does not allow for the start (``config_change``), not an application crash.
- ``throttled_pods``: a container held at its CPU limit by the CFS quota (its cgroup's ``cpu.stat`` shows most
  periods throttled, the kubelet's ``CPUThrottlingHigh`` alert names it, or ``kubectl top`` shows it using its
  whole limit): probes that time out there are the throttling's symptom (``cpu_throttling``), not a full worker
  pool.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

from bot.domain import IncidentContext
from detectors.kubernetes.parse import split_commands
from detectors.kubernetes.text import clean

_STARTING = re.compile(r"\bstarting\b|\binitiali[sz]|\bloading\b|\bwarming\b|\bmigrat|\bbootstrap|"
                       r"\bdownloading\b|\bconnecting to\b", re.I)
_STARTED = re.compile(r"\bstarted \S+ in \d|\bstarted in \d|\blistening (?:on|at)\b|\bserver (?:is )?(?:started|up|running)\b|"
                      r"\b(?:tomcat|netty|jetty|undertow|http server|server) started\b|ready to accept connections|"
                      r"accepting connections|application startup complete|startup (?:complete|finished)|"
                      r"\bserving (?:on|at)\b|now listening|up and running|\bready in \d|started (?:on|at) port", re.I)
_FAILED = re.compile(r"\b(?:ERROR|FATAL|CRITICAL|panic)\b|Exception\b|Traceback|failed to start", re.I)
_STOPPING = re.compile(r"\bSIGTERM\b|signal 15\b|shutdown ?hook|ShutdownHook|graceful shutdown|shutting down|"
                       r"shutdown initiated|stopping server|received signal terminated", re.I)
THROTTLED_SHARE = 0.25  # of CFS periods: a container throttled this often runs slower than its probes allow
_CPU_STAT = re.compile(r"^\s*(?P<key>nr_periods|nr_throttled)\s+(?P<value>\d+)\s*$", re.M)
THROTTLING_ALERTS = ("CPUThrottlingHigh",)


def stopped_while_starting(lines: list[str]) -> bool:
    """The log starts the process, and a stop comes before any line that says it started or failed (a process
    that failed to start stops by itself: that is a crash, read from its own lines)."""
    seen_start = False
    for line in lines:
        if (_STARTED.search(line) or _FAILED.search(line)) and not _STOPPING.search(line):
            return False
        if _STOPPING.search(line):
            return seen_start
        if _STARTING.search(line):
            seen_start = True
    return False


AT_LIMIT = 0.95  # of the CPU limit, as kubectl top averages it: the quota runs out in most periods
_NAME_FIELD = re.compile(r"^Name:\s+(?P<name>\S+)\s*$", re.M)
_CPU_LIMIT = re.compile(r"^\s+Limits:\s*\n\s+cpu:\s+(?P<cpu>\d+(?:\.\d+)?m?)\s*$", re.M)
_TOP_HEADER = re.compile(r"^(?:NAMESPACE\s+)?(?:POD|NAME)\s+(?:NAME\s+)?CPU\(cores\)", re.M)


def _millicores(value: str) -> float:
    return float(value[:-1]) if value.endswith("m") else float(value) * 1000


def _cpu_limits(texts: list[str]) -> dict[str, float]:
    """Object name (a described pod, or the Deployment whose template it is) -> its first container's CPU limit."""
    out: dict[str, float] = {}
    for text in texts:
        names = list(_NAME_FIELD.finditer(text))
        for i, name in enumerate(names):
            end = names[i + 1].start() if i + 1 < len(names) else len(text)
            limit = _CPU_LIMIT.search(text, name.end(), end)
            if limit:
                out.setdefault(name["name"], _millicores(limit["cpu"]))
    return out


def _at_limit(texts: list[str], limits: dict[str, float], workload_of: Callable[[str], str]) -> dict[str, str]:
    """Pods ``kubectl top`` shows using their whole CPU limit."""
    out: dict[str, str] = {}
    for text in texts:
        if not _TOP_HEADER.search(text):
            continue
        for line in text.split("\n"):
            words = line.split()
            usage = next((w for w in words[1:4] if re.fullmatch(r"\d+m", w)), "")
            if not words or not usage:
                continue
            pod = words[0]
            limit = limits.get(pod) or limits.get(workload_of(pod))
            if limit and _millicores(usage) >= AT_LIMIT * limit:
                out.setdefault(pod, f"kubectl top: {pod} uses {usage} of its {limit:g}m CPU limit")
    return out


def throttled_pods(context: IncidentContext, workload_of: Callable[[str], str] = lambda pod: pod) -> dict[str, str]:
    """Pod (or container) name -> the evidence that it is throttled at its CPU limit: the kubelet's throttling
    alert, its cgroup's cpu.stat, or ``kubectl top`` at the limit its describe shows."""
    out: dict[str, str] = {}
    segments = [(command, text) for item in context.kubernetes for command, text in split_commands(clean(item.text))]
    out.update(_at_limit([t for _, t in segments], _cpu_limits([t for _, t in segments]), workload_of))
    for alert in context.incident.alerts:
        if alert.labels.get("alertname", alert.name) in THROTTLING_ALERTS:
            who = alert.labels.get("pod") or alert.labels.get("container") or ""
            if who:
                out[who] = f"alert {alert.labels.get('alertname', alert.name)}: {alert.description}".strip()
    for command, text in segments:
        stat = {m["key"]: int(m["value"]) for m in _CPU_STAT.finditer(text)}
        periods, throttled = stat.get("nr_periods", 0), stat.get("nr_throttled", 0)
        pod = _exec_pod(command)
        if pod and periods and throttled / periods >= THROTTLED_SHARE:
            out[pod] = (f"cpu.stat of {pod}: {throttled} of {periods} CFS periods throttled "
                        f"({100 * throttled // periods}%)")
    return out


def _exec_pod(command: str) -> str:
    """The pod a ``kubectl exec [flags] <pod> -- ...`` command ran in, "" for any other command."""
    try:
        words = shlex.split(command.split(" -- ", 1)[0])
    except ValueError:
        words = command.split(" -- ", 1)[0].split()
    if "exec" not in words:
        return ""
    skip = False
    for word in words[words.index("exec") + 1:]:
        if skip:
            skip = False
        elif word in ("-n", "--namespace", "-c", "--container", "--context"):
            skip = True
        elif not word.startswith("-"):
            return word.split("/", 1)[1] if word.startswith(("pod/", "pods/")) else word
    return ""
