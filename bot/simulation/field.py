"""Field evidence: what real responders paste, layered over a scenario's logs, metrics, events and alert.

``plan_field(scn)`` draws, with its own seed-derived random stream, what this bundle's responder saved;
``apply_field(...)`` renders it. Shares (per bundle):

- Kubernetes evidence, for kinds with a Kubernetes signature (``k8s_signatures``): 70 %; of those 70 % as a
  ``kubernetes/`` folder (raw kubectl output), 30 % as ``k8s_event`` rows in events.jsonl with the previous
  logs in ``logs/<workload>.log``; 30 % of the folder bundles are sparse (alert and kubectl output only), those whose
  kubectl output says what failed by itself.
- Short logs: 30 % of bundles keep only the culprit's last 3-30 lines before it died (or before the end).
- Alerts labelled as kube-state-metrics / kubelet rules label them (``service`` = the exporter, workload in
  pod/deployment/node/... labels): 45 % of Kubernetes bundles; node_exporter host alerts (``instance=host:9100``,
  no service label): 45 % of bundles whose culprit is a node.
- Kernel lines on the node for host faults (80 %), a switch's syslog for a partitioned node (60 %), Postgres/
  Patroni failover or lag lines (60 %), provider throttling replies in callers' logs (80 %), thread or goroutine
  dumps for deadlocks and busy pools (50 %); node logs in BSD syslog (25 %) or ``dmesg -T`` (10 %) form.
- Red herrings: another service's deploy 2-12 minutes before (40 %; never onto a service whose unrelated error
  burst follows, which would tell a bad deploy's story), an error that is always there (50 %), a caller's CPU rise
  (40 %), a falling ``replicas_available`` series on a caller (30 %).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from bot.simulation.alerts import AlertFacts
from bot.simulation.crashes import crash_tail
from bot.simulation.evidence import EvidenceWriter
from bot.simulation.field_lines import DB_FAILOVER, DB_LAG, KERNEL, NOISE, PROVIDER_STYLE, ROUTER, THROTTLE
from bot.simulation.k8s_signatures import SIGNATURES, signatures_for
from bot.simulation.kube_evidence import KubeEvidence, KubeOutput, target_of
from bot.simulation.logs import LogEvent, iso, render, render_k8s_event, render_syslog
from bot.simulation.phrases import phrase
from bot.simulation.scenario import Scenario
from bot.simulation.world import APP, EDGE, EXTERNAL, WORKER

SHARES = {"kube": 0.7, "kube_folder": 0.7, "sparse": 0.3, "short_log": 0.3, "ksm_alert": 0.45, "host_alert": 0.45,
          "kernel": 0.8, "router": 0.6, "db_lines": 0.6, "throttle": 0.8, "dump": 0.5, "bsd_syslog": 0.25,
          "dmesg": 0.1, "herring_deploy": 0.4, "herring_noise": 0.5, "herring_cpu": 0.4, "herring_available": 0.3}
CRASHING = ("oom_kill", "crash_loop", "bad_deploy", "config_change", "db_down", "deadlock", "node_failure")
HOST_ALERTS: dict[str, tuple[str, dict[str, str], str]] = {
    "disk_full": ("NodeFilesystemAlmostOutOfSpace", {"device": "/dev/nvme0n1p1", "fstype": "ext4", "mountpoint": "/"},
                  "Filesystem on /dev/nvme0n1p1 at {instance} has only {pct}% available space left."),
    "oom_kill": ("NodeMemoryHighUtilization", {}, "Memory is filling up at {instance}, {pct}% is in use."),
    "packet_loss": ("NodeHighNumberConntrackEntriesUsed", {}, "{pct}% of conntrack entries are used."),
    "network_latency": ("NodeNetworkTransmitErrs", {"device": "eth0"},
                        "{instance} interface eth0 has encountered {n} transmit errors in the last two minutes."),
    "hardware_error": ("NodeDiskIOSaturation", {"device": "nvme1n1"},
                       "Disk IO queue (aqu-sq) is high on nvme1n1 at {instance}, has been above 10 for the last 30 "
                       "minutes."),
    "node_failure": ("InstanceDown", {}, "{instance} of job node has been down for more than 2 minutes."),
    "network_partition": ("InstanceDown", {}, "{instance} of job node has been down for more than 2 minutes."),
}
_SYSLOG = re.compile(r"^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) - - (.*)$", re.S)


@dataclass
class FieldPlan:
    kube: str = ""  # "" | folder | events
    signature: str = ""
    sparse: bool = False
    short_log: bool = False
    alert: str = ""  # "" | ksm | host
    lines: list[str] = field(default_factory=list)  # kernel, router, db_lines, throttle, dump
    node_format: str = "rfc5424"
    herrings: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {"kubernetes": self.kube, "signature": self.signature, "sparse": self.sparse,
                "short_log": self.short_log, "alert_style": self.alert, "lines": self.lines,
                "node_log_format": self.node_format, "herrings": self.herrings}


@dataclass
class FieldResult:
    logs: dict[str, list[str]]
    events: list[dict[str, str]]
    facts: list[AlertFacts]
    kube_files: dict[str, str]
    vendor: str
    plan: FieldPlan
    alert_service: str  # the workload or node the (possibly exporter-labelled) alert names


def plan_field(scn: Scenario) -> tuple[FieldPlan, random.Random]:
    rng = random.Random(f"field:{scn.kind}:{scn.culprit}:{scn.seed}:{scn.difficulty}:{scn.world.name}")
    plan = FieldPlan()
    sigs = signatures_for(scn.kind, target_of(scn))
    if sigs and rng.random() < SHARES["kube"]:
        sig = rng.choice(sigs)
        plan.signature = sig.id
        plan.kube = "folder" if rng.random() < SHARES["kube_folder"] else "events"
        # alert and kubectl output only where that output says what failed: else no evidence would name the truth
        plan.sparse = plan.kube == "folder" and rng.random() < SHARES["sparse"] and sig.tells
    plan.short_log = rng.random() < SHARES["short_log"]
    is_node = scn.culprit in scn.world.nodes
    if plan.kube and rng.random() < SHARES["ksm_alert"]:
        plan.alert = "ksm"
    elif is_node and scn.kind in HOST_ALERTS and rng.random() < SHARES["host_alert"]:
        plan.alert = "host"
    wants = {"kernel": scn.kind in KERNEL and (is_node or scn.kind in ("oom_kill", "thread_pool_exhaustion")),
             "router": scn.kind == "network_partition", "db_lines": scn.kind in ("db_down", "db_replication_lag"),
             "throttle": scn.kind == "rate_limited", "dump": scn.kind in ("deadlock", "thread_pool_exhaustion")}
    plan.lines = [k for k, ok in wants.items() if ok and rng.random() < SHARES[k]]
    roll = rng.random()
    plan.node_format = "bsd" if roll < SHARES["bsd_syslog"] else "dmesg" if roll < SHARES["bsd_syslog"] + \
        SHARES["dmesg"] else "rfc5424"
    plan.herrings = [h for h in ("deploy", "noise", "cpu", "available") if rng.random() < SHARES[f"herring_{h}"]]
    return plan, rng


def apply_field(scn: Scenario, writer: EvidenceWriter, timed: dict[str, list[tuple[datetime, str]]],
                events: list[dict[str, str]], facts: list[AlertFacts]) -> FieldResult:
    """Render the bundle's field evidence; changes ``scn.series`` for the metric red herrings."""
    plan, rng = plan_field(scn)
    layer = _Layer(scn, writer, rng, {k: list(v) for k, v in timed.items()}, list(events))
    kube = layer.kubernetes(plan)
    layer.extra_lines(plan)
    layer.herrings(plan)
    if plan.short_log:
        layer.shorten(kube)
    if kube and plan.kube == "events":
        layer.as_event_rows(kube)
    if kube:
        layer.replace_change(kube)
        if _never_runs(kube.signature):
            layer.drop_fault_lines()
    vendor, alert_service = scn.vendor, scn.alert_service
    if plan.alert and vendor not in ("alertmanager", "grafana"):
        plan.alert = ""  # exporter rules fire through Prometheus' tools; another vendor keeps its own payload
    if plan.alert:
        facts = [layer.exporter_alert(plan, kube)] + facts[1:]
        alert_service = kube.subject if kube and "pod" in kube.alert_labels else scn.culprit
    logs = {name: [text for _, text in sorted(lines, key=lambda x: x[0])] for name, lines in layer.timed.items()}
    logs = {name: _node_format(lines, plan.node_format) if name in scn.world.nodes else lines
            for name, lines in logs.items()}
    for name, extra in layer.raw_tail.items():
        logs[name] = logs.get(name, []) + extra
    return FieldResult(logs=logs, events=sorted(layer.events, key=lambda e: e["ts"]), facts=facts,
                       kube_files=kube.files if kube and plan.kube == "folder" else {}, vendor=vendor, plan=plan,
                       alert_service=alert_service)


class _Layer:
    def __init__(self, scn: Scenario, writer: EvidenceWriter, rng: random.Random,
                 timed: dict[str, list[tuple[datetime, str]]], events: list[dict[str, str]]) -> None:
        self.scn, self.ev, self.rng, self.timed, self.events = scn, writer, rng, timed, events
        self.raw_tail: dict[str, list[str]] = {}  # raw lines (no timestamps) that end a log
        self.tl = scn.timeline

    def kubernetes(self, plan: FieldPlan) -> KubeOutput | None:
        if not plan.kube:
            return None
        sig = next(s for s in signatures_for(self.scn.kind, target_of(self.scn)) if s.id == plan.signature)
        return KubeEvidence(self.scn, self.ev, self.rng, self.timed).build(sig)

    # ---- logs ----------------------------------------------------------------------------------

    def _emit(self, name: str, at: float, level: str, text: str) -> None:
        comp = self.scn.world.components.get(name)
        ts = self.tl.at(at)
        if comp is None:  # a node or a device: syslog
            app, _, msg = text.partition(": ")
            line = render_syslog(ts, name, app, {"info": 6, "warn": 4, "error": 3}[level], msg,
                                 pid=None if app == "kernel" else self.rng.randint(300, 9000))
        else:
            event = LogEvent(ts=ts, level=level, message=text, host=self.ev.pods.get(name, ""))
            line = render(self.scn.world, comp, event, self.rng)
        self.timed.setdefault(name, []).append((ts, line))

    def _fill(self, text: str, **extra: str) -> str:
        r = self.rng
        values = {"n": str(r.randint(10, 99)), "d": str(r.randint(0, 9)), "hex": f"{r.getrandbits(64):016x}",
                  "hex16": f"{r.getrandbits(64):016X}", "uuid": f"{r.getrandbits(32):08x}-{r.getrandbits(16):04x}-"
                  f"{r.getrandbits(16):04x}-{r.getrandbits(16):04x}-{r.getrandbits(48):012x}", **extra}
        out = []
        for chunk in re.split(r"(\{\w+\})", text):
            key = chunk[1:-1] if chunk.startswith("{") and chunk.endswith("}") else None
            if key in ("n", "d"):
                out.append(str(r.randint(10, 99)) if key == "n" else str(r.randint(0, 9)))
            elif key is not None and key in values:
                out.append(values[key])
            else:
                out.append(chunk)
        return "".join(out).replace("{{", "{").replace("}}", "}")

    def extra_lines(self, plan: FieldPlan) -> None:
        scn, tl, r = self.scn, self.tl, self.rng
        node = scn.culprit if scn.culprit in scn.world.nodes else scn.world.placement.get(scn.culprit, "")
        proc = self.ev._process(scn.culprit) if scn.culprit in scn.world.components else "java"
        if "kernel" in plan.lines and node:
            table = KERNEL["node_oom"] if scn.kind == "oom_kill" and scn.culprit == node else KERNEL[scn.kind]
            for _ in range(r.randint(3, 12)):
                at = tl.fault_at + (r.uniform(-3, 0.4) if scn.kind == "node_failure"  # its log stops when it dies
                                    else r.uniform(0, tl.minutes - tl.fault_at - 1))
                self._emit(node, at, "warn", "kernel: " + self._fill(r.choice(table), proc=proc))
        if "router" in plan.lines and node:
            device = r.choice([f"tor-{node.split('-')[-1]}", "leaf-2a", "tor-rack3-a"])
            style = r.choice(("ios", "nxos", "eos", "junos", "frr"))
            rows = [m for s, m in ROUTER if s == style]
            for _ in range(r.randint(2, 6)):
                at = tl.fault_at + r.uniform(-0.2, 3)
                self._emit(device, at, "error", f"{style}: " + self._fill(r.choice(rows), port=str(r.randint(1, 48)),
                                                                           peer=f"10.0.{r.randint(0, 9)}.1", node=node))
        if "db_lines" in plan.lines:
            db_rows = DB_FAILOVER if scn.kind == "db_down" else DB_LAG
            ip = self.ev.ips.get(scn.culprit, "10.96.3.5")
            start = tl.fault_at + r.uniform(0.3, 1.5)
            for k, (level, text) in enumerate(db_rows):
                self._emit(scn.culprit, start + k * r.uniform(0.05, 0.6), level,
                           self._fill(text, db=scn.culprit, ip=ip))
        if "throttle" in plan.lines:
            style = PROVIDER_STYLE.get(scn.culprit, "http")
            for caller in scn.world.callers_of(scn.culprit):
                if caller not in scn.world.components or scn.world.components[caller].role == EXTERNAL:
                    continue
                for _ in range(r.randint(4, 20)):
                    text = self._fill(r.choice(THROTTLE[style]), host=f"{scn.culprit}.example.com",
                                      api=r.choice(["SES", "DynamoDB", "KMS"]), op=r.choice(["SendEmail", "Query"]),
                                      path=r.choice(["charges", "send", "objects"]))
                    self._emit(caller, tl.fault_at + r.uniform(0.2, tl.minutes - tl.fault_at - 1), "error", text)
        if "dump" in plan.lines and scn.culprit in scn.world.components:
            comp = scn.world.components[scn.culprit]
            cause = "thread_dump" if scn.kind == "deadlock" else "busy_pool"
            when = tl.at(tl.fault_at + r.uniform(3, 8))
            lines = crash_tail(cause, comp.language, r, {"ts": iso(when),
                                                         "gts": when.strftime("%Y-%m-%d %H:%M:%S +0000"),
                                                         "pkg": f"github.com/example/{comp.name}",
                                                         "jpkg": f"com.example.{comp.name.replace('-', '')}",
                                                         "mod": comp.name.replace("-", "_")})
            self.timed.setdefault(comp.name, []).append((when, "\n".join(lines)))

    def shorten(self, kube: KubeOutput | None) -> None:
        """Keep only the culprit's last 3-30 lines before it died (or before the window ends)."""
        scn, r = self.scn, self.rng
        name = scn.culprit
        lines = sorted(self.timed.get(name, []), key=lambda x: x[0])
        if not lines:
            return
        if kube and kube.subject == name and kube.previous:
            self.timed[name] = []
            self.raw_tail[name] = kube.previous[-r.randint(3, 30):]
            return
        cut = self.tl.at(self.tl.fault_at + r.uniform(0.5, 4)) if scn.kind in CRASHING else lines[-1][0]
        kept = [x for x in lines if x[0] <= cut][-r.randint(3, 30):]
        self.timed[name] = kept

    def drop_fault_lines(self) -> None:
        """The new version never ran (image, config or scheduling failure): no app-level fault lines of it."""
        scn = self.scn
        comp = scn.world.components.get(scn.culprit)
        if comp is None:
            return
        marks = [line.text[:25] for line in scn.spec.logs if line.text] + \
            [phrase(line.family, comp.language)[1][:25] for line in scn.spec.logs if line.family]
        marks = [m for m in marks if m and "{" not in m]
        start = self.tl.at(self.tl.fault_at)
        self.timed[comp.name] = [(ts, text) for ts, text in self.timed.get(comp.name, [])
                                 if ts < start or not any(m in text for m in marks)]

    def as_event_rows(self, kube: KubeOutput) -> None:
        self.events += kube.event_rows
        if kube.previous and kube.subject not in self.raw_tail:
            if kube.subject == self.scn.culprit or self.rng.random() < 0.5:
                died = kube.died_at
                self.timed[kube.subject] = [x for x in self.timed.get(kube.subject, []) if died is None or x[0] <= died]
            self.raw_tail[kube.subject] = kube.previous

    def replace_change(self, kube: KubeOutput) -> None:
        if not kube.change:
            return
        spec_kind = self.scn.spec.change.kind if self.scn.spec.change else ""
        self.events = [e for e in self.events if not (e["service"] == self.scn.culprit and e["kind"] == spec_kind)]
        at = self.scn.change_at if self.scn.change_at is not None else self.tl.fault_at - self.rng.uniform(1, 6)
        self.events.append({"ts": iso(self.tl.at(at)), **kube.change})

    # ---- alerts --------------------------------------------------------------------------------

    def exporter_alert(self, plan: FieldPlan, kube: KubeOutput | None) -> AlertFacts:
        scn, r = self.scn, self.rng
        starts = self.tl.at(self.tl.alert_at)
        if plan.alert == "ksm" and kube:
            labels = dict(kube.alert_labels)
            what = next((f"{k} {labels[k]}" for k in ("pod", "deployment", "statefulset", "node", "persistentvolumeclaim",
                                                       "horizontalpodautoscaler") if k in labels), "workload")
            return AlertFacts(name=kube.alert_name, service=labels.get("service", ""), severity="warning",
                              summary=_KSM_SUMMARY.get(kube.alert_name, "Kubernetes workload unhealthy."),
                              description=f"{kube.alert_name} for {what} in namespace {labels.get('namespace', '')}.",
                              starts_at=starts, metric="", value=1.0, threshold=1.0,
                              expr=_KSM_EXPR.get(kube.alert_name, "kube_pod_status_ready == 0"), labels=labels,
                              runbook_url="https://runbooks.prometheus-operator.dev/runbooks/kubernetes/"
                                          f"{kube.alert_name.lower()}", exact=True)
        name, extra, text = HOST_ALERTS[scn.kind]
        instance = f"{scn.culprit}:9100"
        labels = {"instance": instance, "job": r.choice(["node", "node-exporter"]), **extra}
        return AlertFacts(name=name, service="", severity="critical" if name == "InstanceDown" else "warning",
                          summary=f"{name} on {instance}",
                          description=text.format(instance=instance, pct=r.randint(2, 9) if "space" in text
                                                  else r.randint(91, 99), n=r.randint(50, 900)),
                          starts_at=starts, metric="", value=1.0, threshold=1.0, expr=f"{name} rule", labels=labels,
                          exact=True)

    # ---- red herrings --------------------------------------------------------------------------

    def herrings(self, plan: FieldPlan) -> None:
        scn, r, tl = self.scn, self.rng, self.tl
        hit = {scn.culprit, *scn.victims, *scn.impacts}
        innocents = [s for s in scn.world.by_role(APP, WORKER, EDGE) if s not in hit]
        # not onto a service whose unrelated error burst follows (a deploy then fresh errors is a bad deploy)
        bursting = {str(h["service"]) for h in scn.herrings if h["type"] == "log_burst"}
        quiet = [s for s in innocents if s not in bursting]
        if "deploy" in plan.herrings and quiet:
            name = r.choice(quiet)
            at = tl.fault_at - r.uniform(2, 12)
            old = f"{r.randint(1, 5)}.{r.randint(0, 40)}.{r.randint(0, 9)}"
            new = old.rsplit(".", 1)[0] + f".{int(old.rsplit('.', 1)[1]) + 1}"
            self.events.append({"ts": iso(tl.at(at)), "kind": "deploy", "service": name,
                                "text": f"{name} v{old} -> v{new} rolled out (image registry.example.com/"
                                        f"{scn.world.name}/{name}:{new})"})
            self.events.append({"ts": iso(tl.at(at + 0.4)), "kind": "k8s_event", "service": name,
                                "text": render_k8s_event("Normal", "ScalingReplicaSet", f"deployment/{name}",
                                                         f"Scaled up replica set {self.ev.pods[name][:-6]} to 1")})
            self._emit(name, at + 0.6, "info", "server listening on :8080")
        if "noise" in plan.herrings and innocents:
            name = r.choice(innocents)
            level, text = r.choice(NOISE)
            rate = r.uniform(0.2, 0.8)
            for i in range(tl.minutes):
                if r.random() < rate:
                    self._emit(name, i + r.random(), level, self._fill(text))
        callers = sorted(scn.impacts, key=lambda s: (-scn.impacts[s].strength, s))
        if "cpu" in plan.herrings and callers and (callers[0], "cpu_usage") in scn.series:
            series = scn.series[(callers[0], "cpu_usage")]
            ramp = np.clip((np.arange(len(series)) - tl.fault_at) / 3.0, 0.0, 1.0)
            scn.series[(callers[0], "cpu_usage")] = series * (1 + r.uniform(0.4, 0.8) * ramp)
        if "available" in plan.herrings:
            self._available(callers)

    def _available(self, callers: list[str]) -> None:
        scn, r, tl = self.scn, self.rng, self.tl
        for name in scn.world.by_role(APP, WORKER, EDGE):
            replicas = r.choice([2, 3, 4, 6])
            values = np.full(tl.minutes, float(replicas))
            falls = name in callers[:1] or (name == scn.culprit and scn.kind in CRASHING)
            if falls:
                start = tl.fault_at + int(r.uniform(1, 4))
                values[start:] = max(0, replicas - r.randint(1, replicas))
            scn.series[(name, "replicas_available")] = values


def _never_runs(signature: str) -> bool:
    sig = next(s for s in SIGNATURES if s.id == signature)
    return sig.kind in ("bad_deploy", "config_change") and (sig.phase == "Pending" or sig.last is None)


_KSM_SUMMARY = {"KubePodCrashLooping": "Pod is crash looping.", "KubePodNotReady": "Pod has been in a non-ready "
                "state for more than 15 minutes.", "KubeDeploymentReplicasMismatch": "Deployment has not matched the "
                "expected number of replicas.", "KubeContainerWaiting": "Pod container waiting longer than 1 hour",
                "KubeNodeNotReady": "Node is not ready.", "KubeNodePressure": "Node has an active condition.",
                "KubePersistentVolumeFillingUp": "PersistentVolume is filling up.",
                "CPUThrottlingHigh": "Processes experience elevated CPU throttling.",
                "KubeHpaMaxedOut": "HPA is running at max replicas",
                "NodeProblemDetected": "node-problem-detector reports a problem on the node.",
                "KubeStatefulSetReplicasMismatch": "StatefulSet has not matched the expected number of replicas."}
_KSM_EXPR = {"KubePodCrashLooping": 'max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}'
                                    "[5m]) >= 1",
             "KubeNodeNotReady": 'kube_node_status_condition{condition="Ready",status="true"} == 0',
             "KubeHpaMaxedOut": "kube_horizontalpodautoscaler_status_current_replicas == "
                                "kube_horizontalpodautoscaler_spec_max_replicas"}


def _node_format(lines: list[str], style: str) -> list[str]:
    """A node's RFC 5424 lines as BSD syslog (``/var/log/syslog``) or ``dmesg -T`` (kernel lines only)."""
    if style == "rfc5424" or (style == "dmesg" and not any(" kernel - - " in line for line in lines)):
        return lines
    out = []
    for line in lines:
        m = _SYSLOG.match(line)
        if not m:
            out.append(line)
            continue
        ts = datetime.fromisoformat(m.group(2).replace("Z", "+00:00"))
        host, app, pid, msg = m.group(3), m.group(4), m.group(5), m.group(6)
        if style == "dmesg":
            if app == "kernel":
                out.append(f"[{ts.strftime('%a %b %e %H:%M:%S %Y')}] {msg}")
            continue
        tag = "kernel" if app == "kernel" else f"{app}[{pid}]" if pid != "-" else app
        out.append(f"{ts.strftime('%b %e %H:%M:%S')} {host} {tag}: {msg}")
    return out
