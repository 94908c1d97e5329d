"""Kubernetes findings as decisive signals (PREAMBLE seam): one signal per (where, reason, rule) with the count
of occurrences, named on the component docs/causes.md blames, quoting the object, reason and message.

Non-decisive context rides along: a workload's recent rollout as a ``deploy`` change (``rollouts.py``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.domain import (
    ChangeEvent,
    Evidence,
    EvidenceType,
    IncidentContext,
    Signal,
    SignalSource,
    is_cause_kind,
    stable_hash,
)
from bot.domain.models import aware
from bot.domain.roles import DNS, role_of_lines
from detectors.kubernetes.certificates import certificate_signals
from detectors.kubernetes.container_logs import logs_by_workload
from detectors.kubernetes.drains import unbounded_drain_signals
from detectors.kubernetes.event_rows import findings_from_rows
from detectors.kubernetes.ingress import owner_of, secret_owners
from detectors.kubernetes.lines import LINE_RULES, line_signals, without_yielding
from detectors.kubernetes.model import ContainerState, Findings, KubeEvent, ObjectRef, PodInfo
from detectors.kubernetes.parse import parse_all
from detectors.kubernetes.peers import peer_signals
from detectors.kubernetes.policies import (
    confirmed_by_callers,
    label_listings,
    policy_signals,
    unmatched_selectors,
)
from detectors.kubernetes.preemption import preempting_workload
from detectors.kubernetes.resolve import (
    Resolver,
    csi_node_plugin,
    dependency_host,
    metrics_api_server,
    provisioner_workload,
    registry_host,
    service_workload,
)
from detectors.kubernetes.restarts import stopped_while_starting, throttled_pods
from detectors.kubernetes.rollouts import rollout_signals
from detectors.kubernetes.rules import (
    CONDITION,
    EVENT,
    PID_PRESSURE_RULES,
    TAINT,
    TERMINATED,
    WAITING,
    WORKLOAD,
    Rule,
    match_rule,
)
from detectors.kubernetes.scaling import scaled_to_zero
from detectors.kubernetes.services import target_port_signals
from detectors.kubernetes.stops import stop_cut_signals
from detectors.kubernetes.strategy import strategy_signals
from detectors.kubernetes.timeouts import timeout_cut_signals

log = logging.getLogger(__name__)

MAX_EVIDENCE = 3
# findings whose cause shows up as other components' findings (bot/reasoning/decisive.with_explanations): piled-up
# CronJob runs exhaust what they share, a namespace quota or a database's connections
EXPLAINS_ELSEWHERE: dict[str, tuple[str, ...]] = {
    "cronjob.pile_up": ("db_connection_exhaustion", "resource_quota"),
    # a workload whose unreaped processes hold the node's PIDs is why the node is out of them
    "process.zombies": ("resource_quota",),
}
# line readings that stand only with a finding of the node's own: a zombie or two is harmless, thousands on a
# node short of PIDs are the leak
NEEDS_PID_PRESSURE = ("process.zombies",)
CHANGE_CAUSES = ("bad_deploy", "config_change", "feature_flag")
# Each decisive bad_deploy / config_change finding mirrored as a non-decisive change (a bridge for a ranker that
# takes change-cause kinds only from "changes" signals). Off: the ranker reads decisive findings of every source
# (bot/reasoning/decisive.py), and the mirror counted the same finding twice.
MIRROR_CHANGE_CAUSES = False


@dataclass
class _Finding:
    """One matched observation before aggregation."""

    rule: Rule
    family: str
    reason: str
    message: str
    obj: ObjectRef
    count: int = 1
    at: datetime | None = None
    exit_code: int | None = None
    event: KubeEvent | None = None
    container: str = ""
    allocated: dict[str, tuple[int, int]] = field(default_factory=dict)
    said_by: str = ""  # the specific message a catch-all took its rule from: it names the culprit


@dataclass
class _Group:
    rule: Rule
    family: str
    service: str
    reason: str
    culprit: str = ""
    seen_on: str = ""
    items: list[_Finding] = field(default_factory=list)
    explained_by: str = ""  # another group's finding this one follows from (a preemption behind Insufficient)


_UID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _workload_of_uid(uid: str, findings: Findings, resolver: Resolver) -> str:
    """The workload of the pod with this UID: by the UID when a listing shows it, else the bundle's one workload
    (the pod a responder pasted beside the node's journal), "" when several and none is known by its UID, or when
    the evidence lists pods' UIDs and this one is not among them (a pod it does not show: guessing the one workload
    would blame a pod whose UID says it is not the one)."""
    if uid in findings.uids:
        return resolver.workload_of_pod(findings.uids[uid])
    if any(_UID.fullmatch(known) for known in findings.uids):
        return ""
    workloads = sorted({resolver.workload_of_pod(p) for p in resolver.pods})
    return workloads[0] if len(workloads) == 1 else ""


def gather_findings(context: IncidentContext) -> Findings:
    """Everything parsed from ``context.kubernetes`` and the ``k8s_event`` rows of ``context.events``."""
    findings = parse_all(context.kubernetes)
    findings.extend(findings_from_rows(context.events))
    return findings


def detect_kubernetes_signals(context: IncidentContext) -> list[Signal]:
    findings = gather_findings(context)
    resolver = Resolver(findings)
    owners = secret_owners(context.kubernetes, resolver.workloads())
    said = line_signals(context.logs, resolver.workload_of_pod, lambda secret: owner_of(owners, secret),
                        tuple(resolver.nodes),
                        lambda service: name_servers_among(context.topology.get(service, []), context.logs),
                        lambda uid: _workload_of_uid(uid, findings, resolver))
    said = [_kind_of_own_setup(sig, context) for sig in said]
    said.extend(target_port_signals(context.kubernetes, context.logs))
    said.extend(peer_signals([t.text for t in context.kubernetes] + ["\n".join(v) for v in context.logs.values()]))
    said.extend(timeout_cut_signals(context.events, context.logs))
    said.extend(certificate_signals(context.kubernetes, {*resolver.workloads(), *_topology_names(context)},
                                    lambda secret: owner_of(owners, secret), context.alert_time))
    if not (findings.events or findings.pods or findings.nodes or findings.rollouts or findings.policies):
        said.extend(_throttling_signals([], resolver, context))
        said.extend(strategy_signals(findings, resolver, context.kubernetes, context.events, context.alert_time))
        return sorted(_with_pid_pressure(said, set()), key=lambda s: s.score, reverse=True)
    alert_time = context.alert_time
    matched = _refine([*_event_findings(findings.events, alert_time), *_container_findings(findings),
                       *_node_findings(findings)])
    groups: dict[tuple[str, str, str], _Group] = {}
    for item in matched:
        group = _group_for(item, resolver)
        if not group.service:
            continue
        known = groups.setdefault((group.family, group.service, group.reason), group)
        known.items.append(item)
        if item.rule.score > known.rule.score:  # the most specific reading of a reason names the group
            known.rule, known.culprit, known.seen_on = group.rule, group.culprit, group.seen_on
    with_logs = set(logs_by_workload(findings, resolver)) - {""}
    kept = _without_explained(list(groups.values()))
    for group in kept:
        _new_revision_crash(group, resolver)
        _job_deadline_of_its_own(group, resolver, context.events)
        _autoscaler_limit_of_its_own(group, context.events, context.alert_time)
    kept = _probe_restarts(kept, findings, resolver, context)
    texts = [t.text for t in context.kubernetes] + ["\n".join(lines) for lines in context.logs.values()]
    for group in kept:
        _cut_off_by_mesh_redirect(group, findings)
        _sidecar_after_its_user(group, findings, texts)
    throttling = _throttling_signals(kept, resolver, context)
    _preemptions(kept, findings, resolver)
    signals = [_signal(g, with_logs, alert_time) for g in kept] + throttling
    signals = _without_explained_not_ready(signals, said)
    if MIRROR_CHANGE_CAUSES:
        signals.extend(_change_mirror(s) for s in list(signals) if s.kind in CHANGE_CAUSES)
    short_of_pids = {g.service for g in kept if g.rule.id in PID_PRESSURE_RULES}
    signals.extend(_with_pid_pressure(without_yielding(said, signals), short_of_pids))
    signals.extend(rollout_signals(findings, resolver, alert_time=alert_time))
    signals.extend(scaled_to_zero(findings, resolver, context.kubernetes, alert_time))
    signals.extend(strategy_signals(findings, resolver, context.kubernetes, context.events, alert_time))
    signals.extend(unbounded_drain_signals(context.kubernetes))
    signals.extend(policy_signals(findings.policies, findings.pods, resolver.workload_of_pod, alert_time=alert_time,
                                  alert_text=_alert_text(context),
                                  unmatched=unmatched_selectors([t.text for t in context.kubernetes]),
                                  listings=label_listings([t.text for t in context.kubernetes])))
    stopped = {e.obj.name: resolver.workload(e.obj) for e in findings.events if e.reason == "Killing"}
    signals.extend(stop_cut_signals(findings.events, context.logs, stopped, context.topology))
    return sorted(confirmed_by_callers(signals), key=lambda s: s.score, reverse=True)


# a node agent's own failure that says why the node is NotReady and names another kind than the state (its runtime or
# kubelet refusing the node's configuration). A kernel OOM kill of the agent keeps the state beside it: both name the
# node, and the state then supports the node's own finding (a kubelet killed by the kernel); a kubelet whose clock
# is behind refuses the API server's certificate as not yet valid and cannot post its status
NOT_READY_CAUSES = frozenset({"node.agent_config_refused", "host.clock_behind"})


def _without_explained_not_ready(signals: list[Signal], said: list[Signal]) -> list[Signal]:
    """A node's NotReady (its condition, ``container runtime is down``) is a state: when a line of its own agent says
    why (``NOT_READY_CAUSES``), that line is the finding and the bare state no rival to it."""
    explained = {s.service for s in said if s.attributes.get("rule") in NOT_READY_CAUSES}
    return [s for s in signals if not (s.kind == "node_failure" and s.service in explained)]


BY_CHANGE_RULES = frozenset(rule.id for rule in LINE_RULES if rule.by_change)
_SETUP_CHANGE_KINDS = {"deploy": "bad_deploy", "config": "config_change"}
SETUP_CHANGE_WINDOW = timedelta(hours=24)


def _kind_of_own_setup(signal: Signal, context: IncidentContext) -> Signal:
    """A component's own setup failing (``LineRule.by_change``: kube-proxy unable to program its rules) is what its
    latest change before the alert (within ``SETUP_CHANGE_WINDOW``) changed: a deploy of new code ``bad_deploy``, a
    configuration ``config_change``, as the change log types it; with no change the row's kind stays."""
    if signal.attributes.get("rule") not in BY_CHANGE_RULES:
        return signal
    alert_time = aware(context.alert_time)  # times without a zone in evidence are UTC
    changes = [e for e in context.events if e.service == signal.service and e.kind in _SETUP_CHANGE_KINDS
               and timedelta(0) <= alert_time - aware(e.ts) <= SETUP_CHANGE_WINDOW]
    if not changes:
        return signal
    latest = max(changes, key=lambda e: aware(e.ts))
    kind = _SETUP_CHANGE_KINDS[latest.kind]
    if kind == signal.kind:
        return signal
    return signal.model_copy(update={"kind": kind, "attributes": {**signal.attributes, "setup_change": latest.text[:200]}})


# words of a component's name that say it answers DNS queries (``dc-resolver``, ``corp-dns``, ``unbound-1``, ``ns2``)
_NAME_SERVER_WORDS = frozenset({"dns", "resolver", "resolvers", "nameserver", "nameservers", "named", "bind",
                                "unbound", "coredns", "kubedns", "pdns", "dnsmasq", "knot", "nsd"})


def name_servers_among(dependencies: list[str], logs: dict[str, list[str]]) -> list[str]:
    """The dependencies that are name servers, by their name's words or by their own log lines (``roles``).

    What a resolver forwards to is a name server, never the node it runs on nor any other dependency a topology
    lists for it: "its one dependency" alone would blame a node for its resolver's timeouts."""
    out = []
    for dep in dependencies:
        words = [w for w in re.split(r"[^a-z0-9]+", dep.lower()) if w]
        if any(w in _NAME_SERVER_WORDS or re.fullmatch(r"ns\d*", w) for w in words) \
                or role_of_lines(logs.get(dep, [])) == DNS:
            out.append(dep)
    return out


def _topology_names(context: IncidentContext) -> set[str]:
    names = set(context.topology)
    for deps in context.topology.values():
        names.update(deps)
    return names


def _with_pid_pressure(said: list[Signal], short_of_pids: set[str]) -> list[Signal]:
    """``said`` without the readings that need a node short of PIDs when no node is; those kept explain it."""
    out = []
    for sig in said:
        rule = str(sig.attributes.get("rule", ""))
        if rule in NEEDS_PID_PRESSURE:
            if not short_of_pids:
                continue
            sig = sig.model_copy(update={"attributes": {**sig.attributes,
                                                        "explains": list(EXPLAINS_ELSEWHERE[rule])}})
        out.append(sig)
    return out


def _alert_text(context: IncidentContext) -> str:
    """The alerts' service, label values, summaries and descriptions, as one text."""
    parts: list[str] = []
    for alert in context.incident.alerts:
        parts.extend([alert.service or "", alert.summary, alert.description, *alert.labels.values(),
                      *alert.annotations.values()])
    return " ".join(p for p in parts if p)


def _refine(items: list[_Finding]) -> list[_Finding]:
    """A catch-all finding (``Back-off pulling image``, a sandbox that failed for no named reason) takes the
    specific rule another finding on the same object matched (``Failed to pull image ...: unauthorized``, the
    sandbox's IP that could not be allocated)."""
    specific: dict[tuple[str, str], _Finding] = {}
    for item in items:
        if not item.rule.generic_of and item.rule.id.startswith(("image.", "sandbox.")):
            key = (item.obj.name, item.rule.id.split(".", 1)[0] + ".")
            if key not in specific or item.rule.score > specific[key].rule.score:
                specific[key] = item
    for item in items:
        better = specific.get((item.obj.name, item.rule.generic_of)) if item.rule.generic_of else None
        if better is not None:
            item.rule, item.said_by = better.rule, better.message
    return items


_CRASH_RULES = ("crash.", "exit.")
_LIVENESS_RULES = ("probe.liveness.", "probe.killed")
_TIMEOUT_RULES = ("probe.liveness.timeout", "probe.readiness.timeout")


def _probe_restarts(groups: list[_Group], findings: Findings, resolver: Resolver,
                    context: IncidentContext) -> list[_Group]:
    """Restarts the kubelet made are read by why it made them (docs/causes.md):
    - a workload whose containers the kubelet killed for failing liveness (``Killing ... failed liveness probe``)
      did not crash: its crash findings (back-off, exit 137) are the kills, dropped for the probe's reading;
    - a container killed while its log still shows it starting: the probe does not allow for the start
      (``config_change``), whatever the probe printed (a log that names no pod is the one workload's, when the
      evidence shows one);
    - probes that time out on a container throttled at its CPU limit: ``cpu_throttling``."""
    killed = {g.service for g in groups if g.rule.id.startswith("probe.killed")}
    groups = [g for g in groups if not (g.service in killed and g.rule.id.startswith(_CRASH_RULES))]
    previous: dict[str, list[str]] = {}
    [only] = resolver.workloads() if len(resolver.workloads()) == 1 else [""]
    for item in findings.logs:
        if item.previous and item.pod:
            previous.setdefault(resolver.workload_of_pod(item.pod), []).extend(item.lines)
        elif not item.pod and only:  # a log pasted without the command that named its pod: the one workload's
            previous.setdefault(only, []).extend(item.lines)
    starting = {w for w, lines in previous.items() if stopped_while_starting(lines)}
    throttled = {resolver.workload_of_pod(pod): why
                 for pod, why in throttled_pods(context, resolver.workload_of_pod).items()}
    for group in groups:
        if group.service in starting and (group.rule.id.startswith(_CRASH_RULES + _LIVENESS_RULES)):
            group.rule = replace(group.rule, id="restart.killed_while_starting", kind="config_change", score=0.7)
        elif group.service in throttled and group.rule.id.startswith(_TIMEOUT_RULES):
            group.rule = replace(group.rule, id=f"{group.rule.id}.throttled", kind="cpu_throttling", score=0.75)
    return groups


THROTTLED_SCORE = 0.65


def _throttling_signals(groups: list[_Group], resolver: Resolver, context: IncidentContext) -> list[Signal]:
    """A workload the evidence shows held at its CPU limit (its cgroup's ``cpu.stat`` throttled in a quarter of the
    periods or more, ``kubectl top`` at the limit its spec shows, a throttling alert) is ``cpu_throttling`` by
    itself (docs/causes.md), when no probe reading of the same workload already says so: a quota that slows every
    request shows as latency, not only as failed probes."""
    said = {g.service for g in groups if g.rule.kind == "cpu_throttling"}
    out: list[Signal] = []
    seen: set[str] = set()
    for pod, why in throttled_pods(context, resolver.workload_of_pod).items():
        workload = resolver.workload_of_pod(pod) or pod
        if workload in said or workload in seen:
            continue
        seen.add(workload)
        evidence = [Evidence(id=f"k8s:{stable_hash('cpu.throttled', workload, why)}", type=EvidenceType.KUBERNETES,
                             summary=why[:300], service=workload, detail="rule cpu.throttled")]
        out.append(Signal(source=SignalSource.KUBERNETES, detector="k8s.throttling", service=workload,
                          kind="cpu_throttling", title=f"CPU throttled at its limit: {why[:200]}",
                          score=THROTTLED_SCORE, started_at=None, evidence=evidence,
                          attributes={"decisive": True, "rule": "cpu.throttled", "object": pod, "blame": "workload"}))
    return out


def _preemptions(groups: list[_Group], findings: Findings, resolver: Resolver) -> None:
    """A workload whose pods were preempted by one other workload's pods: the preemptor's priority is the cause
    (its ``config_change``, docs/causes.md), the victims' ``Insufficient`` scheduling failures follow from it."""
    victims = set()
    for group in groups:
        if group.rule.id != "schedule.preempted":
            continue
        preemptor = preempting_workload((i.message for i in group.items), findings.uids, resolver.workload_of_pod,
                                        group.service)
        if preemptor:
            group.culprit = preemptor
            group.rule = replace(group.rule, id="schedule.preempted_by", kind="config_change", score=0.85)
            victims.add(group.service)
    for group in groups:
        if group.service in victims and group.rule.id == "schedule.insufficient":
            group.explained_by = "schedule.preempted_by"


def _without_explained(groups: list[_Group]) -> list[_Group]:
    """A workload-wide catch-all (a rollout past its progress deadline) says only that something failed: it
    is dropped when the same workload has a finding that says what (a probe, an image, a quota, a crash)."""
    specific = {g.service for g in groups if g.rule.generic_of != WORKLOAD and is_cause_kind(g.rule.kind)}
    return [g for g in groups if not (g.rule.generic_of == WORKLOAD and g.service in specific)]


_REVISION_POD = re.compile(r"^(?P<workload>.+)-(?P<hash>[a-z0-9]{5,10})-[a-z0-9]{5}$")


def _revision(pod: str, resolver: Resolver) -> str:
    """The ReplicaSet (pod template revision) a Deployment's pod belongs to, "" when the name says none."""
    info = resolver.pods.get(pod)
    if info is not None and info.owner is not None and info.owner.kind == "ReplicaSet":
        return info.owner.name
    match = _REVISION_POD.match(pod)
    return f"{match.group('workload')}-{match.group('hash')}" if match else ""


def _new_revision_crash(group: _Group, resolver: Resolver) -> None:
    """A crash only in one revision's pods while another revision's pods of the same workload run ready is that
    revision's fault (docs/causes.md: a crash confined to the new pods of a rollout is ``bad_deploy``)."""
    if group.rule.kind != "crash_loop":
        return
    pods = {i.obj.name for i in group.items if i.obj.kind == "Pod"}
    crashing = {_revision(p, resolver) for p in pods}
    if not pods or "" in crashing or len(crashing) != 1:
        return
    healthy = {_revision(name, resolver) for name, info in resolver.pods.items()
               if name not in pods and resolver.workload_of_pod(name) == group.service and info.containers
               and all(c.ready for c in info.containers)}
    if healthy - {""} - crashing:
        group.rule = replace(group.rule, id=f"{group.rule.id}.new_revision", kind="bad_deploy")


# a failure that is the enforcement of one field of the workload's own spec -> that field's name as a change states
# it. The limit alone decides such a failure (the work would have gone on under a longer one), so a change that set
# the field, or a container that keeps the work from ending, is the cause; a Job slowed by a dependency is neither
JOB_SPEC_LIMITS: dict[str, str] = {"job.deadline": "activeDeadlineSeconds"}
# an autoscaler held back by its own limits (a rule id -> the spec fields that set the limit it reports, the most
# specific first, each with the direction that tightens it): a change of the workload that set one of them is the
# cause, not the load that reached it (docs/causes.md); a change that moved the field the other way (``maxReplicas
# 12 -> 40``, a scale-up ``stabilizationWindowSeconds 600 -> 0``) is not
HPA_SPEC_LIMITS: dict[str, tuple[tuple[str, str], ...]] = {
    "hpa.max_replicas": (("maxReplicas", "lowered"),),
    "hpa.scale_up_limit": (("stabilizationWindowSeconds", "raised"), ("scaleUp", "set")),
}
# in a change's text as ``_field_key`` leaves it (``->`` is ``>`` without its hyphen)
_MOVED = re.compile(r"^\D{0,40}?(?P<old>\d+)\s*(?:=?>|\u2192|to)\s*(?P<new>\d+)")


def _field_key(text: str) -> str:
    return re.sub(r"[_-]", "", text.lower())


def _job_deadline_of_its_own(group: _Group, resolver: Resolver, changes: list[ChangeEvent]) -> None:
    """A Job failed at its deadline by its own spec (docs/causes.md): a change of its workload that set the field
    the failure enforces (``activeDeadlineSeconds 7200 -> 900``), or a pod of it whose work ended (a container
    terminated with exit 0) while another container of the pod keeps running (a proxy sidecar run as a regular
    container holds the Job open), is the workload's ``config_change``."""
    field_name = JOB_SPEC_LIMITS.get(group.rule.id)
    if field_name is None:
        return
    # the field as the API spells it or as other tools do (Terraform's ``active_deadline_seconds``, Helm values'
    # ``active-deadline-seconds``): compared without case, underscores or hyphens
    wanted = _field_key(field_name)
    set_by_change = any(c.service == group.service and wanted in _field_key(c.text) for c in changes)
    if set_by_change or any(_held_open(info) for name, info in resolver.pods.items()
                            if resolver.workload_of_pod(name) == group.service):
        rule_id = f"{group.rule.id}.{'set_by_change' if set_by_change else 'held_open'}"
        group.rule = replace(group.rule, id=rule_id, kind="config_change", score=0.8)


def _autoscaler_limit_of_its_own(group: _Group, changes: list[ChangeEvent], alert_time: datetime | None) -> None:
    """An HPA at its ceiling or its scale-up rate after a change of the workload that lowered ``maxReplicas`` or set
    its ``behavior.scaleUp`` policies is that change's ``config_change`` (docs/causes.md)."""
    fields = HPA_SPEC_LIMITS.get(group.rule.id)
    if fields is None:
        return
    for change in changes:
        if change.service != group.service or change.kind in ("note", "k8s", "k8s_event"):
            continue
        if alert_time is not None and aware(change.ts) > aware(alert_time):  # a time without a zone is UTC
            continue
        key = _field_key(change.text)
        for field_name, tightened in fields:
            at = key.find(_field_key(field_name))
            if at < 0:
                continue
            moved = _MOVED.match(key[at + len(_field_key(field_name)):])
            if moved and tightened != "set":
                old, new = int(moved["old"]), int(moved["new"])
                if (new >= old) if tightened == "lowered" else (new <= old):
                    break  # loosened: this change did not hold the autoscaler back
            group.rule = replace(group.rule, id=f"{group.rule.id}.set_by_change", kind="config_change", score=0.8)
            return


def _held_open(pod: PodInfo) -> bool:
    """One container finished its work (terminated, exit 0) while another of the same pod still runs."""
    states = [c.current for c in pod.containers if c.current is not None]
    done = any(s.state == "terminated" and s.exit_code == 0 for s in states)
    return done and any(s.state == "running" for s in states)


# the init containers service meshes inject to redirect a pod's traffic to their proxy (Istio, Linkerd, Kuma, OSM,
# Consul), and the proxies they redirect to. While the proxy is a regular container it starts only after every init
# container, so an application init container after the redirect reaches no one (the meshes' own documentation)
# With a mesh's CNI plugin the redirect is set up before any init container, and the mesh injects a validation init
# container instead (Istio CNI's ``istio-validation``, Linkerd CNI's ``linkerd-network-validator``): the same trap
MESH_REDIRECT_INITS = frozenset({"istio-init", "linkerd-init", "kuma-init", "osm-init", "consul-connect-inject-init",
                                 "proxy-init", "istio-validation", "linkerd-network-validator"})
MESH_PROXIES = frozenset({"istio-proxy", "linkerd-proxy", "kuma-sidecar", "envoy", "consul-dataplane",
                          "envoy-sidecar"})
_CRASH_KINDS = frozenset({"crash_loop", "bad_deploy"})


def _cut_off_by_mesh_redirect(group: _Group, findings: Findings) -> None:
    """An application init container that fails in a pod whose mesh redirect ran (its init container completed)
    while the mesh's proxy still waits for the init containers (``PodInitializing``): its connections go to a proxy
    that is not there, whatever it names; the workload's mesh settings are the cause (docs/causes.md)."""
    if group.rule.kind not in _CRASH_KINDS:
        return
    names = {i.obj.name for i in group.items if i.obj.kind in ("Pod", "")}
    for name in names:
        # every reading of the pod (a table row, a describe): the containers' states are in the fullest
        states = {c.container: c.current for p in findings.pods if p.name == name for c in p.containers
                  if c.current is not None}
        redirected = any(n in MESH_REDIRECT_INITS and s.state == "terminated" and s.exit_code == 0
                         for n, s in states.items())
        proxy_waits = any(n in MESH_PROXIES and s.state == "waiting" and s.reason == "PodInitializing"
                          for n, s in states.items())
        failing = {i.container for i in group.items if i.obj.name == name} - MESH_REDIRECT_INITS - MESH_PROXIES
        if redirected and proxy_waits and failing - {""}:
            group.rule = replace(group.rule, id="init.mesh_redirect", kind="config_change", score=0.8)
            return


# a connection refused on the pod's own loopback: what a container sees when the sidecar it talks to is not running
_LOOPBACK_REFUSED = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\]):\d+\S*:? (?:connect: )?connection refused|"
                               r"connect ECONNREFUSED (?:127\.0\.0\.1|::1):\d+|"
                               r"host='(?:127\.0\.0\.1|localhost)', port=\d+\).*(?:Connection refused|Errno 111)", re.I)


def _sidecar_after_its_user(group: _Group, findings: Findings, texts: list[str]) -> None:
    """An init container that fails, refused on the pod's loopback, while a native sidecar (an init container with
    ``restartPolicy: Always``) listed after it still waits (``PodInitializing``): init containers start in order, so
    the sidecar it needs is not there yet; the pod's own container order is the cause (docs/causes.md)."""
    if group.rule.kind not in _CRASH_KINDS or not any(_LOOPBACK_REFUSED.search(t) for t in texts):
        return
    for name in {i.obj.name for i in group.items if i.obj.kind in ("Pod", "")}:
        readings = [p for p in findings.pods if p.name == name]
        order = max((p.containers for p in readings), key=len, default=[])
        names = [c.container for c in order]
        waiting = [names.index(c.container) for c in order if c.restart_policy == "Always" and c.current is not None
                   and c.current.state == "waiting" and c.current.reason == "PodInitializing"]
        failing = {i.container for i in group.items if i.obj.name == name and i.container in names}
        if waiting and any(names.index(f) < max(waiting) for f in failing):
            group.rule = replace(group.rule, id="init.sidecar_order", kind="config_change", score=0.8)
            return


def _event_time(event: KubeEvent, alert_time: datetime) -> datetime | None:
    if event.first_seen or event.last_seen:
        return event.first_seen or event.last_seen
    age = event.first_age or event.last_age
    return alert_time - age if age is not None else None


def _event_findings(events: list[KubeEvent], alert_time: datetime) -> list[_Finding]:
    # the same event read twice (describe + get events): keep the largest count per distinct message
    # (rows of one event at distinct times, as events.jsonl records each occurrence, count as so many occurrences)
    best: dict[tuple[str, str, str], KubeEvent] = {}
    times: dict[tuple[str, str, str], set[datetime]] = {}
    for event in events:
        key = (event.obj.name, event.reason, " ".join(event.message.split())[:300])
        if key not in best or event.count > best[key].count:
            best[key] = event
        seen = event.first_seen or event.last_seen
        if seen is not None:
            times.setdefault(key, set()).add(seen)
    out = []
    for key, event in best.items():
        rule = match_rule(EVENT, event.reason, event.message)
        if rule is None or not rule.kind:
            continue
        count = max(1, event.count, len(times.get(key, ())))
        out.append(_Finding(rule=rule, family="k8s.events", reason=event.reason, message=event.message,
                            obj=event.obj, count=count, at=_event_time(event, alert_time), event=event))
    return out


def _container_findings(findings: Findings) -> list[_Finding]:
    # one pod read twice (describe + get pods): one finding per (pod, reason, rule), the larger restart count
    best: dict[tuple[str, str, str], _Finding] = {}
    for pod in findings.pods:
        ref = ObjectRef("Pod", pod.name, pod.namespace)
        for status in pod.containers:
            for state in (status.current, status.last):
                item = _state_finding(state, ref, status.container, status.restart_count)
                if item is None:
                    continue
                key = (pod.name, item.reason, item.rule.id)
                known = best.get(key)
                if known is None or (item.count, item.at is not None) > (known.count, known.at is not None):
                    best[key] = item
    return list(best.values())


def _state_finding(state: ContainerState | None, ref: ObjectRef, container: str, restarts: int) -> _Finding | None:
    if state is None or state.state not in (WAITING, TERMINATED) or not state.reason:
        return None
    rule = match_rule(state.state, state.reason, state.message, state.exit_code)
    if rule is None or not rule.kind:
        return None
    return _Finding(rule=rule, family="k8s.container_state", reason=state.reason, message=state.message, obj=ref,
                    count=max(1, restarts), at=state.finished or state.started, exit_code=state.exit_code,
                    container=container)


def _node_findings(findings: Findings) -> list[_Finding]:
    out = []
    for node in findings.nodes:
        ref = ObjectRef("Node", node.name)
        for cond in node.conditions:
            reason = f"{cond.type}={cond.status}"
            rule = match_rule(CONDITION, reason, cond.message)
            if rule is not None and rule.kind:
                out.append(_Finding(rule=rule, family="k8s.node", reason=cond.reason or reason,
                                    message=f"{reason} {cond.message}".strip(), obj=ref, at=cond.since,
                                    allocated=node.allocated))
        for taint in node.taints:
            rule = match_rule(TAINT, taint)
            if rule is not None and rule.kind:
                out.append(_Finding(rule=rule, family="k8s.node", reason=taint, message=f"taint {taint}", obj=ref))
    return out


def _group_for(item: _Finding, resolver: Resolver) -> _Group:
    rule, event = item.rule, item.event
    # an events.jsonl row that named no object is about the row's service
    hinted = event is not None and event.service_hint and not item.obj.kind
    workload = event.service_hint if hinted and event is not None else resolver.workload(item.obj)
    group = _Group(rule=rule, family=item.family, service=workload, reason=item.reason)
    if rule.blame == "node":
        node = resolver.node_of(event, item.obj) or (event.service_hint if event else "")
        if not node and rule.id == "node.not_ready" and len(resolver.not_ready) == 1:
            node = resolver.not_ready[0]  # a pod told "Node is not ready" while one node of several is NotReady
        group.service, group.culprit, group.seen_on = node or workload, node, workload
    elif rule.blame == "workload" and item.obj.kind == "Node":
        # a node event about a pod's container (OOMKilling): the pod's workload when named, else the node
        group.service = resolver.pod_in_message(item.message) or item.obj.name
    elif rule.blame == "pod":
        named = resolver.pod_in_message(item.message)
        group.service, group.seen_on = named or workload, workload
    elif rule.blame == "registry":
        group.culprit = registry_host(item.said_by or item.message, resolver.image_of(item.obj, item.container))
    elif rule.blame == "dependency":
        group.culprit = service_workload(dependency_host(item.said_by or item.message), resolver.workloads())
    elif rule.blame == "named":
        group.culprit = rule.culprit
    elif rule.blame == "provisioner":
        group.culprit = provisioner_workload(event.reporter if event else "", resolver.workloads())
        if not group.culprit:  # no provisioner named or seen: the claim's own reading stays
            group.rule = match_rule(EVENT, "ProvisioningFailed", "") or rule
    elif rule.blame == "csi_driver":
        group.culprit = csi_node_plugin(item.message, resolver.workloads())
        if not group.culprit:  # no node plugin seen: a mount that fails, read as the spec's
            group.rule = match_rule(EVENT, "FailedMount", "") or rule
    elif rule.blame == "metrics_api":
        group.culprit = metrics_api_server(item.message, resolver.workloads())
        if not group.culprit:  # no server named or seen: the autoscaler's own reading stays
            group.rule = match_rule(EVENT, "FailedGetResourceMetric", "") or rule
    return group


# docs/causes.md, "When, not only what": a warning printed once, this long before the alert and never again, is
# older than the incident (the same lead as a decisive log line's, detectors/logs/decisive.py)
ONCE_LEAD = timedelta(minutes=30)
ONCE_FACTOR = 0.6


def _once_long_before(items: list[_Finding], alert_time: datetime) -> bool:
    """One event, seen once, whose time is known and more than ``ONCE_LEAD`` before the alert."""
    return (len(items) == 1 and items[0].event is not None and items[0].count == 1 and items[0].at is not None
            and alert_time - items[0].at > ONCE_LEAD)


def _signal(group: _Group, with_logs: set[str], alert_time: datetime | None = None) -> Signal:
    items = sorted(group.items, key=lambda i: (-i.rule.score, i.at is None, i.at or datetime.min))
    first = items[0]
    count = sum(i.count for i in items)
    objects = sorted({i.obj.label for i in items})
    times = [i.at for i in items if i.at is not None]
    started = min(times) if times else None
    code = next((i.exit_code for i in items if i.exit_code is not None), None)
    code_text = f" (exit code {code})" if code is not None else ""
    title = f"{group.reason}{code_text} on {first.obj.label}"
    if len(objects) > 1:
        title += f" and {len(objects) - 1} more"
    title += f" x{count}" if count > 1 else ""
    if first.message:
        title += f": {first.message[:160]}"
    evidence = [
        Evidence(
            id=f"k8s:{stable_hash(group.rule.id, group.service, i.obj.label, i.reason, i.message)}",
            type=EvidenceType.KUBERNETES,
            summary=_quote(i),
            service=group.service,
            ts=i.at,
            detail=f"rule {group.rule.id}; from {i.event.origin if i.event else 'container status'}",
        )
        for i in items[:MAX_EVIDENCE]
    ]
    attributes: dict[str, object] = {
        "decisive": is_cause_kind(group.rule.kind), "rule": group.rule.id, "object": first.obj.label,
        "objects": objects, "reason": group.reason, "exit_code": code, "count": count, "message": first.message[:500],
        "blame": group.rule.blame,
    }
    if group.culprit:
        attributes["culprit"] = group.culprit
    if group.seen_on and group.seen_on != group.service:
        attributes["seen_on"] = group.seen_on
    allocated = next((i.allocated for i in items if i.allocated), None)
    if allocated:  # a node's requests and limits as shares of its capacity
        attributes["allocated"] = {k: {"requests_pct": r, "limits_pct": li} for k, (r, li) in allocated.items()}
    if group.rule.kind == "crash_loop":
        attributes["container_logs"] = group.service in with_logs  # their decisive lines decide
    if group.rule.id in EXPLAINS_ELSEWHERE:
        attributes["explains"] = list(EXPLAINS_ELSEWHERE[group.rule.id])
    score = group.rule.score
    if group.explained_by:
        score = round(score * ONCE_FACTOR, 4)
        attributes.update(decisive=False, explained_by=group.explained_by)
    elif alert_time is not None and _once_long_before(items, alert_time):
        score = round(score * ONCE_FACTOR, 4)
        attributes.update(decisive=False, predates_alert=True)
    return Signal(source=SignalSource.KUBERNETES, detector=group.family, service=group.service, kind=group.rule.kind,
                  title=title, score=score, started_at=started, evidence=evidence, attributes=attributes)


def _change_mirror(signal: Signal) -> Signal:
    return Signal(
        source=SignalSource.CHANGES, detector="k8s.change_cause", service=signal.service, kind=signal.kind,
        title=signal.title, score=signal.score, started_at=signal.started_at,
        evidence=[e.model_copy() for e in signal.evidence],
        attributes={"kind": signal.kind, "decisive": False, "mirror_of": signal.id,
                    "rule": signal.attributes.get("rule")},
    )


def _quote(item: _Finding) -> str:
    count = f" (x{item.count})" if item.count > 1 else ""
    code = f", exit code {item.exit_code}" if item.exit_code is not None else ""
    where = f"{item.obj.label}" + (f" container {item.container}" if item.container else "")
    return f"{where}: {item.reason}{code}{count}: {item.message[:300]}".rstrip(": ")
