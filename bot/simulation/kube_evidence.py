"""The Kubernetes view of a scenario: what ``kubectl`` would have shown the responder.

``KubeEvidence(scn, writer, rng).build(signature)`` picks the pod (or node) the responder looked at, fills the
signature's events, container state and crash tail, and returns ``KubeOutput``: the ``kubernetes/`` files a
responder saves (some of describe pod, get events as a table or ``-o yaml|json``, logs --previous, get pod
-o yaml|json, describe node, get pods, netpol, hpa, describe deployment and rollout history after a rollout),
the same evidence as ``k8s_event`` rows for events.jsonl, the previous logs' lines, the change that triggered it
and the alert kube-state-metrics (or node-problem-detector) raises. Deterministic for the ``rng`` it is given.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.simulation.crashes import crash_tail
from bot.simulation.evidence import POD_HASH_CHARS, EvidenceWriter
from bot.simulation.k8s_signatures import KEv, Signature
from bot.simulation.kubectl import (
    ContainerView,
    DeploymentView,
    KubeEvent,
    NodeView,
    PodView,
    describe_deployment,
    describe_networkpolicy,
    describe_node,
    describe_pod,
    get_events,
    get_events_as,
    get_hpa,
    get_networkpolicies,
    get_pods,
    human_age,
    logs_previous,
    pod_json,
    pod_yaml,
    rollout_history,
)
from bot.simulation.logs import iso, render_k8s_event
from bot.simulation.scenario import Scenario
from bot.simulation.world import CACHE, DATABASE, DNS, EXTERNAL, QUEUE

STATEFUL = (DATABASE, QUEUE, CACHE)


def target_of(scn: Scenario) -> str:
    """app | node | stateful | external | dns: which signature rows can describe this culprit."""
    if scn.culprit in scn.world.nodes:
        return "node"
    role = scn.world.components[scn.culprit].role
    if role in STATEFUL:
        return "stateful"
    return {EXTERNAL: "external", DNS: "dns"}.get(role, "app")


@dataclass
class KubeOutput:
    signature: str
    subject: str  # the workload (or node) described
    files: dict[str, str] = field(default_factory=dict)
    event_rows: list[dict[str, str]] = field(default_factory=list)
    previous: list[str] = field(default_factory=list)  # the previous logs' lines (subject's container)
    died_at: datetime | None = None
    change: dict[str, str] | None = None
    alert_labels: dict[str, str] = field(default_factory=dict)
    alert_name: str = ""


class KubeEvidence:
    def __init__(self, scn: Scenario, writer: EvidenceWriter, rng: random.Random,
                 timed_logs: dict[str, list[tuple[datetime, str]]]) -> None:
        self.scn, self.ev, self.rng, self.timed_logs = scn, writer, rng, timed_logs
        tl = scn.timeline
        self.t0 = tl.at(tl.fault_at)
        self.now = tl.at(tl.minutes - 1) + timedelta(seconds=rng.randint(5, 90))
        self.ns = rng.choice([scn.world.name, "default", "prod", f"{scn.world.name}-prod"])
        self.node_ips = {n: f"10.0.{i + 1}.{rng.randint(10, 240)}" for i, n in enumerate(scn.world.nodes)}

    # ---- names ---------------------------------------------------------------------------------

    def pod_of(self, workload: str) -> str:
        return self.ev.pods.get(workload, f"{workload}-0")

    def _rs(self, workload: str) -> str:
        pod = self.ev.pods.get(workload, workload)
        return pod.rsplit("-", 1)[0]

    def _subject(self, sig: Signature) -> str:
        scn, w = self.scn, self.scn.world
        if sig.subject == "node":
            return scn.culprit
        if sig.subject != "caller":
            return scn.culprit
        if scn.kind == "dns_failure" and scn.victims:
            pool = list(scn.victims)
        else:
            pool = [c for c in w.callers_of(scn.culprit) if w.components[c].role not in STATEFUL + (EXTERNAL, DNS)]
            if scn.kind == "db_down":
                pool = [c for c in pool if w.components[c].uses_db] or pool
        return self.rng.choice(sorted(pool)) if pool else scn.culprit

    def values(self, sig: Signature, subject: str, pod: str) -> dict[str, str]:
        scn, ev, r = self.scn, self.ev, self.rng
        svc = scn.culprit
        image = f"registry.example.com/{scn.world.name}/{svc}:{ev.vars['tag']}"
        victims = scn.victims or [subject]
        victim = r.choice(sorted(victims))
        dep, host, ip = svc, svc, ev.ips.get(svc, f"10.96.{r.randint(0, 255)}.{r.randint(2, 250)}")
        if scn.kind == "db_down":
            dep, host = scn.world.database, scn.world.database
        elif scn.kind == "dns_failure":
            deps = scn.world.components[subject].deps if subject in scn.world.components else ()
            ext = [d for d in deps if scn.world.components[d].role == EXTERNAL]
            dep = f"{ext[0]}.example.com" if ext else f"{(deps or (scn.world.database,))[0]}.{self.ns}.svc.cluster.local"
        elif scn.kind == "certificate_expired":
            external = scn.world.components[svc].role == EXTERNAL
            host = f"{svc}.example.com" if external else f"{svc}.{self.ns}.svc.cluster.local:8443"
        expiry = self.t0 - timedelta(hours=r.randint(1, 30), minutes=r.randint(0, 59))
        return {
            "svc": svc, "pod": pod, "ns": self.ns, "container": subject, "image": image,
            "bad_image": f"registry.example.com/{scn.world.name}/{svc.upper()}:{ev.vars['tag']}",
            "uid": f"{r.getrandbits(32):08x}-{r.getrandbits(16):04x}-4{r.getrandbits(12):03x}-"
                   f"{r.getrandbits(16):04x}-{r.getrandbits(48):012x}",
            "version": ev.vars["version"], "secret": r.choice([f"{svc}-credentials", f"{svc}-db", "api-keys"]),
            "var": r.choice(["DATABASE_URL", "API_TOKEN", "SIGNING_KEY", "REDIS_PASSWORD", "UPSTREAM_URL"]),
            "key": r.choice(["db.host", "LOG_FORMAT", "feature.pricing", "UPSTREAM_URL"]),
            "prop": r.choice(["app.datasource.url", "clients.upstream.url"]),
            "nodes": str(len(scn.world.nodes)), "workers": str(len(scn.world.nodes) - 1),
            "pool": r.choice(["batch", "gpu", "highmem", "spot"]),
            "node": scn.culprit if scn.culprit in scn.world.nodes else scn.world.placement.get(subject, ""),
            "victim_pod": self.ev.pods.get(victim, f"{victim}-0"), "victim": victim,
            "avail": str(r.randint(40_000, 990_000)), "used": str(r.randint(1_200_000, 9_800_000)),
            "bytes": str(r.randint(2, 9) * 1_073_741_824 + r.randint(0, 999_999)),
            "ip": ev.ips.get(subject, "10.244.1.9"), "policy": r.choice(["default-deny-ingress", f"{svc}-ingress",
                                                                         "deny-all"]),
            "pv": f"pvc-{r.getrandbits(32):08x}-{r.getrandbits(16):04x}-{r.getrandbits(16):04x}-"
                  f"{r.getrandbits(16):04x}-{r.getrandbits(48):012x}", "suffix": pod[-5:],
            "max": str(r.choice([6, 8, 10, 12])), "db": scn.world.database, "dep": dep, "host": host,
            "dep_ip": ip, "pkg": f"github.com/example/{subject}", "jpkg": f"com.example.{subject.replace('-', '')}",
            "mod": subject.replace("-", "_"), "now": self.t0.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "expiry": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "expiry_java": expiry.strftime("%a %b %d %H:%M:%S UTC %Y"), "pid": str(r.randint(300, 9000)),
        }

    # ---- build ---------------------------------------------------------------------------------

    def build(self, sig: Signature) -> KubeOutput:
        subject = self._subject(sig)
        pod = self.pod_of(subject) if sig.subject != "node" else ""
        shown = pod or (self.pod_of(self.scn.victims[0]) if self.scn.victims else subject)
        vals = self.values(sig, subject, shown)
        events = self._events(sig, vals, subject, pod)
        out = KubeOutput(signature=sig.id, subject=subject)
        died = self.now - timedelta(seconds=self.rng.randint(20, 150))
        if sig.tail:
            out.previous = self._previous(sig, subject, vals, died)
            out.died_at = died
        if sig.change:
            text = sig.change[1].format_map(_Safe(vals))
            out.change = {"kind": sig.change[0], "service": self.scn.culprit, "text": text}
        out.alert_name, out.alert_labels = sig.alert[0], self._alert_labels(sig, subject, pod, vals)
        out.event_rows = [{"ts": iso(e.last), "kind": "k8s_event", "service": self._service_of(e.obj, subject),
                           "text": render_k8s_event(e.type, e.reason, e.obj, e.message)} for e in events]
        self._files(sig, out, subject, pod, vals, events, died)
        return out

    def every_format(self, sig: Signature) -> dict[str, str]:
        """The signature in every layout this module renders (the command that prints it -> its text), whatever
        the shares ``build`` draws: for tests and for reading what the simulator writes."""
        subject = self._subject(sig)
        pod = self.pod_of(subject) if sig.subject != "node" else ""
        vals = self.values(sig, subject, pod or (self.pod_of(self.scn.victims[0]) if self.scn.victims else subject))
        events = self._events(sig, vals, subject, pod)
        died = self.now - timedelta(seconds=self.rng.randint(20, 150))
        out: dict[str, str] = {}
        if sig.subject == "node":
            out["kubectl describe node"] = describe_node(self._node_view(sig, events))
        elif pod and sig.subject != "none":
            view = self._pod_view(sig, subject, pod, vals, [e for e in events if e.obj == f"pod/{pod}"], died)
            out["kubectl describe pod"] = describe_pod(view)
            out["kubectl get pod -o yaml"] = pod_yaml(view)
            out["kubectl get pod -o json"] = pod_json(view)
        if "rollout" in sig.files or (sig.change and sig.change[0] == "deploy"):
            dep, history, pods = self._rollout(sig, vals)
            events = events + dep.events
            out["kubectl describe deployment"] = describe_deployment(dep)
            out["kubectl rollout history deployment"] = history
            out["kubectl get pods -o wide"] = get_pods(pods)
        if "netpol" in sig.files:
            created = self.t0 - timedelta(minutes=self.rng.uniform(1, 4))
            out["kubectl get networkpolicy"] = get_networkpolicies(
                [(vals["policy"], f"app={self.scn.culprit}", human_age(self.now - created))])
            out["kubectl describe networkpolicy"] = describe_networkpolicy(vals["policy"], self.ns, created,
                                                                          f"app={self.scn.culprit}", [])
        out["kubectl get events"] = get_events(events, self.now)
        out["kubectl get events -o yaml"] = get_events_as(events, output="yaml", api="v1")
        out["kubectl get events -o json"] = get_events_as(events, output="json", api="events.k8s.io/v1")
        if sig.tail:
            lines = self._previous(sig, subject, vals, died)
            out["kubectl logs --previous"] = logs_previous(lines, pod=pod or subject, container=subject, header=True)
        return out

    def _service_of(self, obj: str, subject: str) -> str:
        name = obj.partition("/")[2]
        if obj.startswith("node/"):
            return name
        for comp in sorted(self.scn.world.components, key=len, reverse=True):
            if name == comp or name.startswith(comp + "-"):
                return comp
        return subject

    def _events(self, sig: Signature, vals: dict[str, str], subject: str, pod: str) -> list[KubeEvent]:
        out: list[KubeEvent] = []
        end = self.now - timedelta(seconds=self.rng.randint(3, 60))
        for kev in sig.events:
            first = self.t0 + timedelta(minutes=kev.at + self.rng.random() * 0.3)
            if first > end:
                first = end - timedelta(seconds=30)
            last = end - timedelta(seconds=self.rng.randint(0, 40)) if kev.count > 1 else first
            count = max(kev.count, 1) if kev.count == 1 else self.rng.randint(max(2, kev.count // 2), kev.count + 6)
            out.append(KubeEvent(kev.type, kev.reason, self._obj(kev, subject, pod, vals),
                                 kev.message.format_map(_Safe(vals)), first, max(first, last), count,
                                 source=kev.source, namespace=self.ns))
        return out

    def _obj(self, kev: KEv, subject: str, pod: str, vals: dict[str, str]) -> str:
        svc = self.scn.culprit
        return {"pod": f"pod/{pod or vals['victim_pod']}", "culprit": f"pod/{self.pod_of(svc)}",
                "rs": f"replicaset/{self._rs(svc)}", "deploy": f"deployment/{svc}", "node": f"node/{vals['node']}",
                "victim": f"pod/{vals['victim_pod']}", "hpa": f"horizontalpodautoscaler/{svc}",
                "sts": f"statefulset/{svc}"}.get(kev.obj, f"pod/{pod}")

    def _previous(self, sig: Signature, subject: str, vals: dict[str, str], died: datetime) -> list[str]:
        """A few ordinary lines of the subject before it died, then what the crash printed."""
        comp = self.scn.world.components.get(subject)
        language = comp.language if comp else "go"
        before = [text for ts, text in self.timed_logs.get(subject, []) if ts <= died][-self.rng.randint(1, 6):]
        if self.rng.random() < 0.3:
            before = before[-1:]
        ts_vals = dict(vals, ts=iso(died, 3), gts=died.strftime("%Y-%m-%d %H:%M:%S +0000"),
                       rts=died.strftime("%d %b %Y %H:%M:%S.%f")[:24], kts=died.strftime("%Y-%m-%d %H:%M:%S,%f")[:23],
                       nts=died.strftime("%Y/%m/%d %H:%M:%S"), ets=died.strftime("%Y-%m-%d %H:%M:%S.%f")[:23])
        lines: list[str] = []
        for text in before:
            lines += text.split("\n")
        return lines + crash_tail(sig.tail, language, self.rng, ts_vals)

    # ---- files ---------------------------------------------------------------------------------

    def _files(self, sig: Signature, out: KubeOutput, subject: str, pod: str, vals: dict[str, str],
               events: list[KubeEvent], died: datetime) -> None:
        r, files = self.rng, out.files
        noise = self._noise_events()
        style = r.choice(("plain", "kubectl", "dated"))
        if sig.subject == "node":
            files[_name(style, "describe-node", subject)] = describe_node(self._node_view(sig, events))
            if "pods" in sig.files and r.random() < 0.6:
                files[_name(style, "get-pods", self.ns)] = self._pods_table(subject)
        elif pod and (sig.subject != "none") and r.random() < 0.85:
            view = self._pod_view(sig, subject, pod, vals, [e for e in events if e.obj == f"pod/{pod}"], died)
            files[_name(style, "describe-pod", pod)] = describe_pod(view)
            if r.random() < 0.2:
                if r.random() < 0.6:
                    files[_name(style, "pod", pod, ".yaml")] = pod_yaml(view)
                else:
                    files[_name(style, "pod", pod, ".json")] = pod_json(view)
        rollout = self._rollout(sig, vals) if "rollout" in sig.files or (
            sig.change and sig.change[0] == "deploy" and r.random() < 0.4) else None
        if rollout is not None:
            dep, history, pods = rollout
            events = events + dep.events
            files[_name(style, "describe-deployment", dep.name)] = describe_deployment(dep)
            if "rollout" in sig.files or r.random() < 0.5:
                files[_name(style, "get-pods", self.ns)] = get_pods(pods)
            if r.random() < 0.6:
                files[_name(style, "rollout-history", dep.name)] = history
        if r.random() < 0.8 or not files:
            roll = r.random()
            if roll < 0.8:
                all_ns = r.random() < 0.3
                files[_name(style, "events", self.ns)] = get_events(events + noise, self.now, all_namespaces=all_ns)
            else:  # -o yaml / -o json, as core/v1 Events or (kubectl events, newer tools) events.k8s.io/v1
                output = "yaml" if roll < 0.9 else "json"
                files[_name(style, "events", self.ns, f".{output}")] = get_events_as(
                    events + noise, output=output, api=r.choice(("v1", "events.k8s.io/v1")))
        if out.previous and r.random() < 0.75:
            files[_name(style, "logs-previous", pod or subject, ".log")] = logs_previous(
                out.previous, pod=pod or subject, container=subject, header=r.random() < 0.5)
        if "netpol" in sig.files:
            created = self.t0 - timedelta(minutes=r.uniform(1, 4))
            rows = [(vals["policy"], f"app={self.scn.culprit}", human_age(self.now - created)),
                    ("allow-dns", "<none>", f"{r.randint(40, 300)}d")]
            files[_name(style, "get-networkpolicy", self.ns)] = get_networkpolicies(rows)
            if r.random() < 0.6:
                files[_name(style, "describe-networkpolicy", vals["policy"])] = describe_networkpolicy(
                    vals["policy"], self.ns, created, f"app={self.scn.culprit}", [])
        if "hpa" in sig.files:
            top = int(vals["max"])
            files[_name(style, "get-hpa", self.scn.culprit)] = get_hpa(
                self.scn.culprit, "Deployment", r.randint(140, 260), r.choice([60, 70, 75]), r.choice([2, 3]), top,
                top, f"{r.randint(20, 400)}d")

    def _rollout(self, sig: Signature, vals: dict[str, str]
                 ) -> tuple[DeploymentView, str, list[tuple[str, str, str, str, str, str, str]]]:
        """The culprit's Deployment mid-rollout: the new ReplicaSet's pod fails while the old one's pods run."""
        r, w, svc = self.rng, self.scn.world, self.scn.culprit
        new_rs = self._rs(svc)
        old_rs = f"{svc}-" + "".join(r.choice(POD_HASH_CHARS) for _ in range(len(new_rs) - len(svc) - 1))
        replicas = r.choice([2, 3, 4])
        at = self.scn.timeline.at(self.scn.change_at) if self.scn.change_at is not None else self.t0
        scaled = [KubeEvent("Normal", "ScalingReplicaSet", f"deployment/{svc}", f"Scaled up replica set {new_rs} to 1",
                            at, at, source="deployment-controller", namespace=self.ns)]
        if r.random() < 0.5:
            at2 = at + timedelta(seconds=r.randint(20, 90))
            scaled.append(KubeEvent("Normal", "ScalingReplicaSet", f"deployment/{svc}",
                                    f"Scaled down replica set {old_rs} to {replicas - 1} from {replicas}", at2, at2,
                                    source="deployment-controller", namespace=self.ns))
        stalled = self.now - at > timedelta(minutes=10) and r.random() < 0.6
        revision = r.randint(2, 40)
        dep = DeploymentView(name=svc, namespace=self.ns, created=self.scn.timeline.start - timedelta(days=r.randint(
            20, 400)), now=self.now, revision=revision, replicas=replicas, updated=1, available=replicas - (
            1 if r.random() < 0.5 else 0), new_rs=new_rs, old_rs=old_rs,
            image=vals["bad_image"] if sig.id == "invalid_image_name" else vals["image"],
            progressing=("False", "ProgressDeadlineExceeded") if stalled else ("True", "ReplicaSetUpdated"),
            events=scaled)
        causes = [""] * (revision - 1 if revision < 4 else 2)
        if r.random() < 0.5:
            causes = [f"kubectl set image deployment/{svc} {svc}=registry.example.com/{w.name}/{svc}:"
                      f"{r.randint(1, 4)}.{r.randint(0, 30)}.{i}" for i in range(len(causes))]
        history = rollout_history("deployment", svc, [*causes, "" if not causes or not causes[-1] else
                                                      f"kubectl set image deployment/{svc} {svc}={dep.image}"])
        node = w.placement.get(svc, w.nodes[0])
        ip = self.ev.ips.get(svc, "10.244.1.9")
        ran = bool(sig.last)
        restarts = max(1, int((self.now - at).total_seconds() // 150)) if ran else 0
        if sig.state == "Waiting" and sig.reason not in ("", "CrashLoopBackOff"):
            status = sig.reason  # ImagePullBackOff, CreateContainerConfigError, RunContainerError ...
        elif ran:
            status = "CrashLoopBackOff" if r.random() < 0.8 else "Error"
        else:
            status = "Pending"
        pods = [(self.pod_of(svc), "0/1", status, str(restarts), human_age(self.now - at),
                 ip if ran else "<none>", node)]
        for _ in range(replicas - 1):
            suffix = "".join(r.choice(POD_HASH_CHARS) for _ in range(5))
            pods.append((f"{old_rs}-{suffix}", "1/1", "Running", "0", f"{r.randint(2, 30)}d",
                         f"10.244.{r.randint(0, 3)}.{r.randint(2, 250)}", r.choice(w.nodes)))
        return dep, history, sorted(pods)

    def _pod_view(self, sig: Signature, subject: str, pod: str, vals: dict[str, str], events: list[KubeEvent],
                  died: datetime) -> PodView:
        r, w = self.rng, self.scn.world
        comp = w.components.get(subject)
        scheduled = sig.state != "" or sig.phase != "Pending"
        node = w.placement.get(subject, w.nodes[0]) if scheduled else ""
        image = vals["image"] if subject == self.scn.culprit else (
            f"registry.example.com/{w.name}/{subject}:{r.randint(1, 4)}.{r.randint(0, 30)}.{r.randint(0, 9)}")
        if sig.id == "invalid_image_name":
            image = vals["bad_image"]
        restarts = 0
        if sig.last:
            restarts = max(1, min(40, int((self.now - self.t0).total_seconds() // 150) + r.randint(0, 3)))
        started = died - timedelta(seconds=r.randint(4, 80))
        cpu_limit = r.choice(["250m", "500m"]) if self.scn.kind == "cpu_throttling" else r.choice(["1", "2", "1500m"])
        container = ContainerView(
            name=subject, image=image, state=sig.state, state_reason=sig.reason,
            state_message=sig.message.format_map(_Safe(vals)) if sig.message else "",
            last_reason=sig.last[0] if sig.last else "", last_exit=sig.last[1] if sig.last else None,
            last_started=started if sig.last else None, last_finished=died if sig.last else None,
            started=died + timedelta(seconds=r.randint(5, 40)), ready=sig.state == "Running" and not sig.last,
            restarts=restarts, limits={"cpu": cpu_limit, "memory": r.choice(["512Mi", "1Gi", "2Gi"])},
            requests={"cpu": r.choice(["100m", "250m"]), "memory": r.choice(["256Mi", "512Mi"])},
            env={"LOG_LEVEL": "info", "PORT": "8080"} if r.random() < 0.6 else {},
            liveness="http-get http://:8080/healthz delay=10s timeout=1s period=10s #success=1 #failure=3",
            readiness="http-get http://:8080/ready delay=5s timeout=1s period=5s #success=1 #failure=3",
            container_id=f"containerd://{r.getrandbits(256):064x}" if sig.state else "",
            image_id=f"{image.split(':')[0]}@sha256:{r.getrandbits(256):064x}")
        if sig.id == "secret_not_found":
            container.env[vals["var"]] = f"<set to the key '{vals['var'].lower()}' in secret '{vals['secret']}'>  " \
                                         "Optional: false"
        ready = container.ready
        conditions = {"PodReadyToStartContainers": "True" if scheduled else "False",
                      "Initialized": "True", "Ready": str(ready), "ContainersReady": str(ready),
                      "PodScheduled": "True" if scheduled else "False"}
        if not scheduled:
            conditions = {"PodScheduled": "False"}
        stateful = comp is not None and comp.role in STATEFUL
        owner = f"StatefulSet/{subject}" if stateful else f"ReplicaSet/{self._rs(subject)}"
        labels = {"app": subject, **({"pod-template-hash": self._rs(subject).rsplit("-", 1)[-1]} if not stateful
                                     else {"statefulset.kubernetes.io/pod-name": pod})}
        volumes = [("config", f"ConfigMap (a volume populated by a ConfigMap)\n    Name:      {subject}-settings\n"
                              "    Optional:  false")] if sig.id == "configmap_volume_missing" else []
        start = (self.scn.timeline.at(self.scn.change_at) if self.scn.change_at is not None and sig.change
                 else self.scn.timeline.start - timedelta(hours=r.randint(2, 200)))
        return PodView(name=pod, namespace=self.ns, node=node, node_ip=self.node_ips.get(node, ""),
                       ip=self.ev.ips.get(subject, "") if scheduled else "", owner=owner, labels=labels, start=start,
                       phase=sig.phase, container=container, conditions=conditions, events=events, now=self.now,
                       node_selector={"pool": vals["pool"]} if sig.id == "node_selector_mismatch" else {},
                       volumes=volumes)

    def _node_view(self, sig: Signature, events: list[KubeEvent]) -> NodeView:
        node, r = self.scn.culprit, self.rng
        healthy = {"MemoryPressure": ("False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                   "DiskPressure": ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                   "PIDPressure": ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                   "Ready": ("True", "KubeletReady", "kubelet is posting ready status")}
        changed = {c[0]: c[1:] for c in sig.conditions}
        # node-problem-detector's conditions come first in describe node, then the kubelet's
        conditions = [c for c in sig.conditions if c[0] not in healthy]
        conditions += [(t, *changed.get(t, healthy[t])) for t in ("MemoryPressure", "DiskPressure", "PIDPressure",
                                                                   "Ready")]
        unknown = any(c[1] == "Unknown" for c in conditions)
        heartbeat = self.t0 - timedelta(seconds=r.randint(5, 40)) if unknown else self.now - timedelta(seconds=r.randint(1, 30))
        pods = [(self.ns, self.pod_of(s)) for s in self.scn.world.on_node(node)]
        pods += [("kube-system", f"kube-proxy-{''.join(r.choice(POD_HASH_CHARS) for _ in range(5))}")]
        return NodeView(name=node, ip=self.node_ips.get(node, "10.0.0.10"),
                        created=self.scn.timeline.start - timedelta(days=r.randint(3, 200)), now=self.now,
                        conditions=conditions, heartbeat=heartbeat, transition=self.t0 + timedelta(seconds=r.randint(20, 60)),
                        taints=list(sig.taints), pods=pods, events=[e for e in events if e.obj == f"node/{node}"],
                        memory_gi=r.choice([16, 32, 64]), cpu=r.choice([4, 8, 16]))

    def _pods_table(self, node: str) -> str:
        rows = []
        for svc in self.scn.world.on_node(node):
            status = self.rng.choice(["Terminating", "Unknown"]) if self.scn.kind == "node_failure" else \
                self.rng.choice(["Evicted", "Running", "ContainerStatusUnknown"])
            rows.append((self.pod_of(svc), "0/1" if status != "Running" else "1/1", status,
                         str(self.rng.randint(0, 3)), f"{self.rng.randint(2, 30)}d", self.ev.ips.get(svc, "<none>"),
                         node))
        return get_pods(rows)

    def _noise_events(self) -> list[KubeEvent]:
        """Ordinary events of the same namespace: rollouts of other services (red herrings), probes, jobs."""
        out: list[KubeEvent] = []
        tl = self.scn.timeline
        for h in self.scn.herrings:
            if h["type"] != "deploy":
                continue
            name = str(h["service"])
            at = tl.at(float(h["at"]))  # type: ignore[arg-type]
            if self.now - at > timedelta(minutes=60):
                continue
            out.append(KubeEvent("Normal", "ScalingReplicaSet", f"deployment/{name}",
                                 f"Scaled up replica set {self._rs(name)} to 1", at, at, source="deployment-controller",
                                 namespace=self.ns))
            pod = self.ev.pods.get(name, name)
            out.append(KubeEvent("Normal", "Pulled", f"pod/{pod}", f'Successfully pulled image "registry.example.com/'
                                 f'{self.scn.world.name}/{name}:{self.rng.randint(1, 9)}.{self.rng.randint(0, 40)}.0" in '
                                 f"{self.rng.uniform(0.8, 6):.3f}s", at, at, namespace=self.ns))
        if self.rng.random() < 0.5:
            at = self.now - timedelta(minutes=self.rng.randint(3, 40))
            out.append(KubeEvent("Normal", "SuccessfulCreate", "cronjob/nightly-report",
                                 f"Created job nightly-report-{self.rng.randint(28_000_000, 29_999_999)}", at, at,
                                 source="cronjob-controller", namespace=self.ns))
        return out

    def _alert_labels(self, sig: Signature, subject: str, pod: str, vals: dict[str, str]) -> dict[str, str]:
        name, which = sig.alert
        svc = self.scn.culprit
        exporter = self.rng.choice(["kube-prometheus-stack-kube-state-metrics", "kube-state-metrics",
                                    "prometheus-kube-state-metrics"])
        labels = {"job": "kube-state-metrics", "service": exporter, "namespace": self.ns,
                  "instance": f"10.244.{self.rng.randint(0, 3)}.{self.rng.randint(2, 250)}:8080", "endpoint": "http"}
        if name == "NodeProblemDetected":
            labels.update(job="node-problem-detector", service=self.rng.choice(["node-problem-detector",
                                                                                 "kube-prometheus-stack-npd"]),
                          instance=f"{self.node_ips.get(svc, '10.0.1.10')}:20257", endpoint="exporter",
                          reason=sig.events[0].reason if sig.events else "")
        if name in ("CPUThrottlingHigh", "KubePersistentVolumeFillingUp"):
            labels.update(job="kubelet", service=self.rng.choice(["kube-prometheus-stack-kubelet", "kubelet"]),
                          metrics_path="/metrics/cadvisor" if name == "CPUThrottlingHigh" else "/metrics",
                          endpoint="https-metrics", instance=f"{self.node_ips.get(self.scn.world.placement.get(svc, ''), '10.0.1.10')}:10250")
        if which == "pod":
            labels.update(pod=pod or self.pod_of(subject), container=subject)
            if name in ("KubePodCrashLooping", "KubeContainerWaiting"):
                labels["reason"] = sig.reason or "CrashLoopBackOff"
        elif which in ("deployment", "statefulset"):
            labels[which] = svc
        elif which == "node":
            labels["node"] = svc
            if name == "KubeNodePressure":
                labels["condition"] = sig.conditions[0][0] if sig.conditions else "MemoryPressure"
        elif which == "persistentvolumeclaim":
            labels["persistentvolumeclaim"] = f"data-{svc}-0"
        elif which == "horizontalpodautoscaler":
            labels["horizontalpodautoscaler"] = svc
        return labels


def _name(style: str, what: str, obj: str, ext: str = ".txt") -> str:
    """A file name as responders save kubectl output (the content, not the name, says what it is)."""
    if style == "plain":
        return f"{what}-{obj}{ext}"
    if style == "kubectl":
        return f"kubectl-{what.replace('-', '_')}_{obj}{ext}"
    return f"{what}.{obj}{'.out' if ext == '.txt' else ext}"


class _Safe(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
