"""What Kubernetes shows for each fault: container states, events, the previous logs' crash cause, the
change that led to it and the kube-state-metrics alert that fires. A data table, one row per variant.

Rows follow the Kubernetes documentation (pod lifecycle and container states, image pull errors, scheduling
and eviction messages, node conditions and taints, probe failures) and docs/causes.md, which says which
service and kind each Kubernetes failure mode names. Placeholders (``{pod}``, ``{image}``, ``{node}`` ...) are
filled by ``bot.simulation.kube_evidence``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KEv:
    """One event: on the described pod (``pod``), the culprit's pod, its ReplicaSet, Deployment, node or HPA."""

    type: str
    reason: str
    message: str
    obj: str = "pod"  # pod | rs | deploy | node | hpa | sts
    source: str = "kubelet"
    at: float = 1.0  # minutes after the fault starts
    count: int = 1  # > 1: repeated until the end of the window


@dataclass(frozen=True)
class Signature:
    id: str
    kind: str
    targets: tuple[str, ...] = ("app",)  # which culprits it fits: app | node | stateful | external | dns
    subject: str = "culprit"  # whose pod is described: culprit | caller | node | none
    phase: str = "Running"
    state: str = "Waiting"  # Running | Waiting | "" (no container yet)
    reason: str = "CrashLoopBackOff"
    message: str = ""
    last: tuple[str, int] | None = None  # Last State: Terminated (reason, exit code)
    events: tuple[KEv, ...] = ()
    tail: str = ""  # crash cause of the previous logs (crashes.TAILS), "" when the container never ran
    change: tuple[str, str] | None = None  # (events.jsonl kind, text) of the change that triggered it
    alert: tuple[str, str] = ("KubePodCrashLooping", "pod")  # (alertname, workload label)
    files: tuple[str, ...] = ()  # extra kubectl files: netpol | hpa | pods | rollout (describe deployment,
    # the two revisions' pods and rollout history)
    conditions: tuple[tuple[str, str, str, str], ...] = ()  # node conditions that differ from healthy
    taints: tuple[str, ...] = ()
    tells: bool = True  # the kubectl output alone says what failed (a sparse bundle, alert and kubectl only, may use it)


_BACKOFF = KEv("Warning", "BackOff", "Back-off restarting failed container {container} in pod {pod}_{ns}({uid})",
               at=1.5, count=14)
_PULLED = KEv("Normal", "Pulled", 'Container image "{image}" already present on machine', at=0.5, count=6)
_PULL_BACKOFF = (KEv("Normal", "Pulling", 'Pulling image "{image}"', at=0.2, count=5),
                 KEv("Warning", "Failed", "Error: ErrImagePull", at=0.3, count=5),
                 KEv("Normal", "BackOff", 'Back-off pulling image "{image}"', at=0.6, count=18),
                 KEv("Warning", "Failed", "Error: ImagePullBackOff", at=0.6, count=18))
_ROLLOUT = ("deploy", "{svc} {version} rolled out (image {image})")
_SCHED = "default-scheduler"
_NOT_READY = (("Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."),
              ("MemoryPressure", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."),
              ("DiskPressure", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."),
              ("PIDPressure", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."))
_NODE_EVICTION = KEv("Normal", "TaintManagerEviction", "Marking for deletion Pod {ns}/{victim_pod}",
                     obj="victim", source="taint-eviction-controller", at=5.5)

SIGNATURES: tuple[Signature, ...] = (
    # ---- memory
    Signature("oom_restarting", "oom_kill", last=("OOMKilled", 137), events=(_PULLED, _BACKOFF), tail="oom_quiet"),
    Signature("oom_running_again", "oom_kill", state="Running", reason="", last=("OOMKilled", 137),
              events=(_PULLED, KEv("Normal", "Started", "Started container {container}", at=0.6, count=5)),
              tail="oom_quiet"),
    Signature("node_memory_pressure", "oom_kill", targets=("node",), subject="node",
              events=(KEv("Normal", "NodeHasInsufficientMemory", "Node {node} status is now: NodeHasInsufficientMemory",
                          obj="node", at=0.5),
                      KEv("Warning", "EvictionThresholdMet", "Attempting to reclaim memory", obj="node", at=0.6,
                          count=4),
                      KEv("Warning", "Evicted", "The node was low on resource: memory. Threshold quantity: 100Mi, "
                          "available: {avail}Ki. Container {victim} was using {used}Ki, request is 512Mi, has larger "
                          "consumption of memory.", obj="victim", at=1.0)),
              alert=("KubeNodePressure", "node"), files=("pods",),
              conditions=(("MemoryPressure", "True", "KubeletHasInsufficientMemory", "kubelet has insufficient "
                           "memory available"),), taints=("node.kubernetes.io/memory-pressure:NoSchedule",)),
    # ---- application
    Signature("app_crash", "crash_loop", last=("Error", 1), events=(_PULLED, _BACKOFF), tail="app_exception"),
    Signature("app_crash_running", "crash_loop", state="Running", reason="", last=("Error", 2),
              events=(_PULLED, _BACKOFF), tail="app_exception"),
    Signature("app_segfault", "crash_loop", last=("Error", 139), events=(_PULLED, _BACKOFF), tail="segfault"),
    Signature("probe_server_error", "exception_surge", state="Running", reason="",
              events=(KEv("Warning", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 500",
                          at=0.4, count=30),),
              alert=("KubeDeploymentReplicasMismatch", "deployment")),
    Signature("readiness_timeout", "thread_pool_exhaustion", state="Running", reason="",
              events=(KEv("Warning", "Unhealthy", 'Readiness probe failed: Get "http://{ip}:8080/ready": context '
                          "deadline exceeded (Client.Timeout exceeded while awaiting headers)", at=0.8, count=25),),
              alert=("KubeDeploymentReplicasMismatch", "deployment")),
    Signature("liveness_busy_pool", "thread_pool_exhaustion", state="Running", reason="", last=("Error", 137),
              events=(KEv("Warning", "Unhealthy", 'Liveness probe failed: Get "http://{ip}:8080/healthz": context '
                          "deadline exceeded (Client.Timeout exceeded while awaiting headers)", at=1.0, count=9),
                      KEv("Normal", "Killing", "Container {container} failed liveness probe, will be restarted",
                          at=2.5, count=3)),
              tail="busy_pool"),
    Signature("liveness_deadlock", "deadlock", state="Running", reason="", last=("Error", 137),
              events=(KEv("Warning", "Unhealthy", 'Liveness probe failed: Get "http://{ip}:8080/healthz": context '
                          "deadline exceeded (Client.Timeout exceeded while awaiting headers)", at=1.5, count=6),
                      KEv("Normal", "Killing", "Container {container} failed liveness probe, will be restarted",
                          at=4.0, count=2)),
              tail="thread_dump"),
    # ---- bad releases
    Signature("pull_manifest_unknown", "bad_deploy", phase="Pending", reason="ImagePullBackOff",
              message='Back-off pulling image "{image}"',
              events=(KEv("Warning", "Failed", 'Failed to pull image "{image}": rpc error: code = NotFound desc = '
                          'failed to pull and unpack image "{image}": failed to resolve reference "{image}": {image}: '
                          "not found", at=0.3, count=5), *_PULL_BACKOFF),
              change=_ROLLOUT, alert=("KubePodNotReady", "pod")),
    Signature("pull_manifest_unknown_docker", "bad_deploy", phase="Pending", reason="ErrImagePull",
              message="manifest unknown",
              events=(KEv("Warning", "Failed", 'Failed to pull image "{image}": Error response from daemon: manifest '
                          "for {image} not found: manifest unknown: manifest unknown", at=0.3, count=5),
                      *_PULL_BACKOFF),
              change=_ROLLOUT, alert=("KubeDeploymentReplicasMismatch", "deployment")),
    Signature("invalid_image_name", "bad_deploy", phase="Pending", reason="InvalidImageName",
              message='Failed to apply default image tag "{bad_image}": couldn\'t parse image name "{bad_image}": '
                      "invalid reference format",
              events=(KEv("Warning", "InspectFailed", 'Failed to apply default image tag "{bad_image}": couldn\'t '
                          'parse image name "{bad_image}": invalid reference format', at=0.3, count=8),
                      KEv("Warning", "Failed", "Error: InvalidImageName", at=0.3, count=8)),
              change=("deploy", "{svc} rolled out (image {bad_image})"), alert=("KubePodNotReady", "pod")),
    Signature("new_revision_crash", "bad_deploy", last=("Error", 1), events=(_PULLED, _BACKOFF),
              tail="app_exception", change=_ROLLOUT, alert=("KubeDeploymentReplicasMismatch", "deployment"),
              files=("rollout",)),
    Signature("exec_format_error", "bad_deploy", last=("Error", 1), events=(_PULLED, _BACKOFF), tail="exec_format",
              change=_ROLLOUT),
    Signature("entrypoint_syntax_error", "bad_deploy", last=("Error", 2), events=(_PULLED, _BACKOFF),
              tail="entrypoint_syntax", change=_ROLLOUT),
    Signature("executable_not_found", "bad_deploy", reason="RunContainerError", last=("StartError", 128),
              message='failed to create containerd task: failed to create shim task: OCI runtime create failed: runc '
                      'create failed: unable to start container process: exec: "/app/bin/{svc}": stat /app/bin/{svc}: '
                      "no such file or directory: unknown",
              events=(_PULLED, KEv("Warning", "Failed", 'Error: failed to create containerd task: failed to create '
                                   'shim task: OCI runtime create failed: runc create failed: unable to start container '
                                   'process: exec: "/app/bin/{svc}": stat /app/bin/{svc}: no such file or directory: '
                                   "unknown", at=0.5, count=6), _BACKOFF),
              change=_ROLLOUT),
    # ---- configuration
    Signature("secret_not_found", "config_change", phase="Pending", reason="CreateContainerConfigError",
              message='secret "{secret}" not found',
              events=(KEv("Warning", "Failed", 'Error: secret "{secret}" not found', at=0.4, count=12), _PULLED),
              change=("config", "Deployment {svc}: env {var} now read from secret {secret} ({version})"),
              alert=("KubeContainerWaiting", "pod")),
    Signature("configmap_key_missing", "config_change", phase="Pending", reason="CreateContainerConfigError",
              message="couldn't find key {key} in ConfigMap {ns}/{svc}-config",
              events=(KEv("Warning", "Failed", "Error: couldn't find key {key} in ConfigMap {ns}/{svc}-config", at=0.4,
                          count=12), _PULLED),
              change=("config", "ConfigMap {svc}-config updated: key {key} renamed"),
              alert=("KubeContainerWaiting", "pod")),
    Signature("missing_env_crash", "config_change", last=("Error", 1), events=(_PULLED, _BACKOFF), tail="missing_env",
              change=("config", "ConfigMap {svc}-config updated: {var} removed")),
    Signature("pull_unauthorized", "config_change", phase="Pending", reason="ImagePullBackOff",
              message='Back-off pulling image "{image}"',
              events=(KEv("Warning", "Failed", 'Failed to pull image "{image}": failed to pull and unpack image '
                          '"{image}": failed to resolve reference "{image}": pull access denied, repository does not '
                          "exist or may require authorization: server message: insufficient_scope: authorization "
                          "failed", at=0.3, count=5), *_PULL_BACKOFF),
              change=("config", "Deployment {svc}: imagePullSecrets changed (regcred removed)"),
              alert=("KubePodNotReady", "pod")),
    Signature("node_selector_mismatch", "config_change", phase="Pending", state="", reason="",
              events=(KEv("Warning", "FailedScheduling", "0/{nodes} nodes are available: {nodes} node(s) didn't match "
                          "Pod's node affinity/selector. preemption: 0/{nodes} nodes are available: {nodes} Preemption "
                          "is not helpful for scheduling.", source=_SCHED, at=0.3, count=9),),
              change=("config", "Deployment {svc}: nodeSelector pool={pool} added"),
              alert=("KubeDeploymentReplicasMismatch", "deployment")),
    Signature("untolerated_taint", "config_change", phase="Pending", state="", reason="",
              events=(KEv("Warning", "FailedScheduling", "0/{nodes} nodes are available: {nodes} node(s) had "
                          "untolerated taint {{dedicated: {pool}}}. preemption: 0/{nodes} nodes are available: "
                          "{nodes} Preemption is not helpful for scheduling.", source=_SCHED, at=0.3, count=9),),
              change=("config", "Deployment {svc}: tolerations removed"), alert=("KubePodNotReady", "pod")),
    Signature("configmap_volume_missing", "config_change", phase="Pending", reason="ContainerCreating",
              events=(KEv("Warning", "FailedMount", 'MountVolume.SetUp failed for volume "config" : configmap '
                          '"{svc}-settings" not found', at=0.4, count=10),),
              change=("config", "Deployment {svc}: volume config now from ConfigMap {svc}-settings"),
              alert=("KubePodNotReady", "pod")),
    Signature("pvc_not_found", "config_change", phase="Pending", state="", reason="",
              events=(KEv("Warning", "FailedScheduling", '0/{nodes} nodes are available: persistentvolumeclaim '
                          '"{svc}-data" not found. preemption: 0/{nodes} nodes are available: {nodes} Preemption is not '
                          "helpful for scheduling.", source=_SCHED, at=0.3, count=9),),
              change=("config", "Deployment {svc}: volume data now from PersistentVolumeClaim {svc}-data"),
              alert=("KubePodNotReady", "pod")),
    Signature("probe_wrong_port", "config_change", state="Running", reason="", last=("Error", 143),
              events=(KEv("Warning", "Unhealthy", 'Liveness probe failed: Get "http://{ip}:8081/healthz": dial tcp '
                          "{ip}:8081: connect: connection refused", at=0.8, count=9),
                      KEv("Normal", "Killing", "Container {container} failed liveness probe, will be restarted",
                          at=1.5, count=3)),
              change=("config", "Deployment {svc}: livenessProbe port 8080 -> 8081"),
              alert=("KubePodCrashLooping", "pod")),
    # ---- capacity
    Signature("insufficient_cpu", "resource_quota", phase="Pending", state="", reason="",
              events=(KEv("Warning", "FailedScheduling", "0/{nodes} nodes are available: {nodes} Insufficient cpu. "
                          "preemption: 0/{nodes} nodes are available: {nodes} No preemption victims found for incoming "
                          "pod.", source=_SCHED, at=0.5, count=9),),
              alert=("KubeDeploymentReplicasMismatch", "deployment")),
    Signature("insufficient_memory", "resource_quota", phase="Pending", state="", reason="",
              events=(KEv("Warning", "FailedScheduling", "0/{nodes} nodes are available: 1 node(s) had untolerated "
                          "taint {{node-role.kubernetes.io/control-plane: }}, {workers} Insufficient memory. "
                          "preemption: 0/{nodes} nodes are available: 1 Preemption is not helpful for scheduling, "
                          "{workers} No preemption victims found for incoming pod.", source=_SCHED, at=0.5,
                          count=9),),
              alert=("KubePodNotReady", "pod")),
    Signature("insufficient_gpu", "resource_quota", phase="Pending", state="", reason="",
              events=(KEv("Warning", "FailedScheduling", "0/{nodes} nodes are available: {nodes} Insufficient "
                          "nvidia.com/gpu. preemption: 0/{nodes} nodes are available: {nodes} No preemption victims "
                          "found for incoming pod.", source=_SCHED, at=0.5, count=9),),
              alert=("KubePodNotReady", "pod")),
    Signature("limit_range_forbidden", "resource_quota", subject="none",
              events=(KEv("Warning", "FailedCreate", 'Error creating: pods "{pod}" is forbidden: maximum memory usage '
                          "per Container is 2Gi, but limit is 4Gi", obj="rs", source="replicaset-controller", at=0.5,
                          count=12),),
              alert=("KubeDeploymentReplicasMismatch", "deployment")),
    Signature("quota_exceeded", "resource_quota", subject="none",
              events=(KEv("Warning", "FailedCreate", 'Error creating: pods "{pod}" is forbidden: exceeded quota: '
                          "compute-resources, requested: limits.cpu=2, used: limits.cpu=32, limited: limits.cpu=32",
                          obj="rs", source="replicaset-controller", at=0.5, count=12),),
              alert=("KubeDeploymentReplicasMismatch", "deployment")),
    # ---- nodes
    Signature("node_not_ready", "node_failure", targets=("node",), subject="node",
              events=(KEv("Normal", "NodeNotReady", "Node {node} status is now: NodeNotReady", obj="node",
                          source="node-controller", at=0.8), _NODE_EVICTION),
              alert=("KubeNodeNotReady", "node"), files=("pods",), conditions=_NOT_READY,
              taints=("node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule")),
    Signature("node_pleg", "node_failure", targets=("node",), subject="node",
              events=(KEv("Normal", "NodeNotReady", "Node {node} status is now: NodeNotReady", obj="node",
                          source="node-controller", at=0.8), _NODE_EVICTION),
              alert=("KubeNodeNotReady", "node"), files=("pods",),
              conditions=(("Ready", "False", "KubeletNotReady", "PLEG is not healthy: pleg was last seen active "
                           "3m12.48s ago; threshold is 3m0s"),),
              taints=("node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/not-ready:NoSchedule")),
    # node-problem-detector: a kernel-monitor condition or event about the node's own hardware
    Signature("node_readonly_fs", "hardware_error", targets=("node",), subject="node",
              events=(KEv("Warning", "FilesystemIsReadOnly", "Node condition ReadonlyFilesystem is now: True, reason: "
                          "FilesystemIsReadOnly, message: \"Filesystem is read-only\"", obj="node",
                          source="kernel-monitor", at=0.5),),
              alert=("NodeProblemDetected", "node"), files=("pods",),
              conditions=(("ReadonlyFilesystem", "True", "FilesystemIsReadOnly", "Filesystem is read-only"),)),
    Signature("node_disk_pressure", "disk_full", targets=("node",), subject="node",
              events=(KEv("Normal", "NodeHasDiskPressure", "Node {node} status is now: NodeHasDiskPressure", obj="node",
                          at=0.5),
                      KEv("Warning", "EvictionThresholdMet", "Attempting to reclaim ephemeral-storage", obj="node",
                          at=0.6, count=5),
                      KEv("Warning", "FreeDiskSpaceFailed", "Failed to garbage collect required amount of images. "
                          "Attempted to free {bytes} bytes, but only found 0 bytes eligible to free.", obj="node",
                          at=1.0, count=3),
                      KEv("Warning", "Evicted", "The node was low on resource: ephemeral-storage. Threshold quantity: "
                          "10Gi, available: {avail}Ki. Container {victim} was using {used}Ki, request is 0, has larger "
                          "consumption of ephemeral-storage.", obj="victim", at=1.5)),
              alert=("KubeNodePressure", "node"), files=("pods",),
              conditions=(("DiskPressure", "True", "KubeletHasDiskPressure", "kubelet has disk pressure"),),
              taints=("node.kubernetes.io/disk-pressure:NoSchedule",)),
    Signature("volume_full_crash", "disk_full", targets=("stateful",), last=("Error", 1), events=(_BACKOFF,),
              tail="disk_full", alert=("KubePersistentVolumeFillingUp", "persistentvolumeclaim")),
    # ---- volumes
    Signature("attach_timeout", "disk_io_latency", targets=("stateful",), phase="Pending", reason="ContainerCreating",
              events=(KEv("Warning", "FailedAttachVolume", 'AttachVolume.Attach failed for volume "{pv}" : rpc error: '
                          "code = DeadlineExceeded desc = context deadline exceeded", source="attachdetach-controller",
                          at=0.5, count=6),
                      KEv("Warning", "FailedMount", "Unable to attach or mount volumes: unmounted volumes=[data], "
                          "unattached volumes=[data kube-api-access-{suffix}]: timed out waiting for the condition",
                          at=2.5, count=4)),
              alert=("KubeStatefulSetReplicasMismatch", "statefulset")),
    Signature("multi_attach", "disk_io_latency", targets=("stateful",), phase="Pending", reason="ContainerCreating",
              events=(KEv("Warning", "FailedAttachVolume", 'Multi-Attach error for volume "{pv}" Volume is already '
                          "exclusively attached to one node and can't be attached to another",
                          source="attachdetach-controller", at=0.4, count=5),
                      KEv("Warning", "FailedMount", "Unable to attach or mount volumes: unmounted volumes=[data], "
                          "unattached volumes=[data kube-api-access-{suffix}]: timed out waiting for the condition",
                          at=2.5, count=4)),
              alert=("KubeStatefulSetReplicasMismatch", "statefulset")),
    # ---- dependencies seen from a caller's pod
    Signature("caller_db_refused", "db_down", targets=("stateful",), subject="caller", last=("Error", 1),
              events=(_PULLED, _BACKOFF,
                      KEv("Warning", "Unhealthy", "Readiness probe failed: /var/run/postgresql:5432 - no response",
                          obj="culprit", at=0.3, count=8)),
              tail="db_refused"),
    Signature("caller_dns", "dns_failure", targets=("dns",), subject="caller", last=("Error", 1),
              events=(_PULLED, _BACKOFF), tail="dns"),
    Signature("caller_x509", "certificate_expired", targets=("app", "external"), subject="caller", last=("Error", 1),
              events=(_PULLED, _BACKOFF), tail="x509"),
    Signature("netpol_timeouts", "network_policy_block", subject="caller", state="Running", reason="",
              last=("Error", 1), events=(_BACKOFF,), tail="net_timeout",
              change=("k8s", "NetworkPolicy {policy} created in namespace {ns} (podSelector app={svc})"),
              alert=("KubeDeploymentReplicasMismatch", "deployment"), files=("netpol",)),
    # ---- context without a decisive reason
    Signature("throttled_limits", "cpu_throttling", state="Running", reason="", alert=("CPUThrottlingHigh", "pod"),
              tells=False),
    Signature("hpa_at_max", "traffic_spike", state="Running", reason="", subject="none",
              events=(KEv("Normal", "SuccessfulRescale", "New size: {max}; reason: cpu resource utilization "
                          "(percentage of request) above target", obj="hpa", source="horizontal-pod-autoscaler",
                          at=1.0),),
              alert=("KubeHpaMaxedOut", "horizontalpodautoscaler"), files=("hpa",), tells=False),
)

BY_KIND: dict[str, tuple[Signature, ...]] = {}
for _sig in SIGNATURES:
    BY_KIND[_sig.kind] = BY_KIND.get(_sig.kind, ()) + (_sig,)


def signatures_for(kind: str, target: str) -> tuple[Signature, ...]:
    """The variants of ``kind`` that fit a culprit of ``target`` (app, node, stateful, external, dns)."""
    return tuple(s for s in BY_KIND.get(kind, ()) if target in s.targets)
