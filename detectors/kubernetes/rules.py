"""What Kubernetes reasons mean: a data table from documented reasons and messages to a cause (docs/causes.md).

A row matches a finding when its ``on`` (what was read: an event, a container's waiting or terminated state, a
node condition or a node taint), one of its ``reasons`` (exact: reasons are a closed vocabulary; "*" = any) and,
when given, its ``message`` pattern (case-insensitive search) and ``exit_codes`` all fit. Rows are tried in order,
the first match wins, so a row that refines a reason by its message comes before the reason's default row.

``blame`` says which component the cause is named on:
  workload    the object's owner (pod -> Deployment/StatefulSet/Job/CronJob...)
  node        the node the object ran on (or the node the event is about)
  registry    the image registry host in the message (culprit); the signal stays on the workload
  dependency  the host the message could not reach (culprit); the signal stays on the workload
  metrics_api the server behind the metrics API the message names (culprit: ``metrics-server`` for the resource
              metrics API, the adapter the evidence shows for custom/external metrics)
  pod         the workload of the pod the message names (a drain refused for ``zk-1``: the workload ``zk``)
  named       the component the row names (``culprit``: ``etcd``); the signal stays on the workload
  provisioner the workload of the external provisioner that reported the event (its identity
              ``<driver>_<pod>_<id>``), else the one CSI controller among the bundle's workloads (culprit)
  csi_driver  the CSI node plugin's workload that should have registered the driver the message names
              (``ebs.csi.aws.com`` -> ``ebs-csi-node``) (culprit); the signal stays on the workload
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EVENT, WAITING, TERMINATED, CONDITION, TAINT = "event", "waiting", "terminated", "condition", "taint"


@dataclass(frozen=True)
class Rule:
    id: str
    on: tuple[str, ...]
    reasons: tuple[str, ...]
    kind: str
    blame: str
    score: float
    message: str | None = None
    exit_codes: tuple[int, ...] | None = None
    generic_of: str = ""  # a catch-all of this rule family: a specific row's finding on the same object wins
    culprit: str = ""  # the component a ``named`` row blames

    def matches(self, on: str, reason: str, message: str, exit_code: int | None = None) -> bool:
        if on not in self.on or not ("*" in self.reasons or reason in self.reasons):
            return False
        if self.exit_codes is not None and exit_code not in self.exit_codes:
            return False
        return self.message is None or _compiled(self.message).search(message) is not None


_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _CACHE:
        _CACHE[pattern] = re.compile(pattern, re.I)
    return _CACHE[pattern]


EV, ST = (EVENT,), (EVENT, WAITING, TERMINATED)
# the rows that say a node is short of process IDs (``lines.process.zombies`` stands only with one of them)
PID_PRESSURE_RULES = ("evict.pids", "pressure.pid", "pressure.pid.event", "condition.pid", "taint.pid")
WORKLOAD = "workload"  # generic_of: a catch-all of any more specific finding on the same workload
PULL = ("Failed", "ErrImagePull", "ImagePullBackOff", "BackOff")
CONFIG = ("Failed", "CreateContainerConfigError")
START = ("Failed", "CreateContainerError", "RunContainerError", "StartError", "ContainerCannotRun", "Error")
_EXEC = (r"executable file not found|exec format error|no such file or directory|permission denied|"
         r"exec: \"|not a directory|unable to start container process|starting container process caused")
def _pull(pattern: str) -> str:
    """Only in a message about pulling an image (a ``Failed`` event may be about anything)."""
    return rf"(?s)^(?=.*(pull|image|manifest|registr)).*(?:{pattern})"


_NET = (r"no such host|i/o timeout|connection refused|network is unreachable|no route to host|"
        r"TLS handshake timeout|server misbehaving|connection reset by peer|dial tcp|proxyconnect")

RULES: tuple[Rule, ...] = (
    # ---- memory -------------------------------------------------------------------------------------------------
    Rule("oom.terminated", (TERMINATED,), ("OOMKilled",), "oom_kill", "workload", 0.95),
    Rule("oom.event", EV, ("OOMKilled", "OOMKilling"), "oom_kill", "workload", 0.9),
    Rule("oom.system", EV, ("SystemOOM",), "oom_kill", "node", 0.8),
    # ---- the control plane's store ------------------------------------------------------------------------------
    # etcd at its space quota (alarm NOSPACE) refuses every write: whatever controller reports it, etcd is full
    Rule("etcd.space_exceeded", EV, ("*",), "disk_full", "named", 0.8, r"mvcc: database space exceeded",
         culprit="etcd"),
    # ---- images -------------------------------------------------------------------------------------------------
    Rule("image.rate_limited", ST, PULL, "rate_limited", "registry", 0.8,
         _pull(r"toomanyrequests|pull rate limit|429 Too Many Requests")),
    # the registry's own serving certificate expired: every pull from it fails verification, whatever the image
    Rule("image.registry_cert_expired", ST, PULL, "certificate_expired", "registry", 0.85,
         _pull(r"x509: certificate has expired|certificate has expired or is not yet valid")),
    Rule("image.auth", ST, PULL, "config_change", "workload", 0.8,
         _pull(r"unauthorized|pull access denied|no basic auth credentials|authentication required|"
               r"403 Forbidden|denied: requested access|failed to authorize|insufficient_scope")),
    Rule("image.not_found", ST, PULL, "bad_deploy", "workload", 0.85,
         _pull(r"manifest unknown|manifest for \S+ not found|code = NotFound|: not found|"
               r"repository does not exist|not found: manifest|failed to resolve reference.*not found")),
    Rule("image.registry_unreachable", ST, PULL, "dependency_failure", "registry", 0.8, _pull(_NET)),
    Rule("image.invalid_name", ST, ("InvalidImageName", "Failed", "InspectFailed"), "bad_deploy", "workload", 0.85,
         r"invalid reference format|couldn't parse image reference|InvalidImageName|must be lowercase"),
    Rule("image.invalid_name.default", ST, ("InvalidImageName",), "bad_deploy", "workload", 0.8),
    Rule("image.pull_secret", EV, ("FailedToRetrieveImagePullSecret",), "config_change", "workload", 0.8),
    # imagePullPolicy: Never and the image is not on the node: the spec asks for what cannot be
    Rule("image.never_pull", ST, ("ErrImageNeverPull",), "config_change", "workload", 0.75),
    Rule("image.backoff", ST, ("ErrImagePull", "ImagePullBackOff"), "bad_deploy", "workload", 0.5,
         generic_of="image."),
    Rule("image.backoff.event", EV, ("BackOff",), "bad_deploy", "workload", 0.5, r"Back-off pulling image",
         generic_of="image."),
    Rule("image.failed.generic", EV, ("Failed",), "bad_deploy", "workload", 0.45,
         r"Error: (ErrImagePull|ImagePullBackOff)|Failed to pull image", generic_of="image."),
    # ---- container configuration and start ----------------------------------------------------------------------
    Rule("config.missing_ref", ST, CONFIG, "config_change", "workload", 0.9,
         r"(secret|configmap)s? \"?[\w.-]+\"? not found|couldn't find key|not found in (secret|configmap)"),
    Rule("config.security", ST, CONFIG + ("CreateContainerError",), "config_change", "workload", 0.8,
         r"runAsNonRoot|non-numeric user|cannot verify user|"
         # a Localhost seccomp or AppArmor profile the spec names and the node does not have
         r"cannot load seccomp profile|seccomp spec opts|apparmor profile not found|apparmor spec opts|"
         r"Cannot enforce AppArmor|profile \S+ is not loaded"),
    Rule("config.default", ST, ("CreateContainerConfigError",), "config_change", "workload", 0.75),
    # runc could not start the container's first process inside its memory cgroup: the limit is below any process
    # (written without its unit, ``768`` bytes, or in milli-units, ``300m``): the spec is malformed, not the program
    Rule("start.memory_limit_too_low", ST, START, "config_change", "workload", 0.85,
         r"container init was OOM-killed \(memory limit too low\?\)"),
    # a Windows image built for another Windows version than the node's (process isolation needs the host's
    # build): the image is wrong for the nodes, like an image without the node's architecture
    Rule("start.windows_os_mismatch", ST, START, "bad_deploy", "workload", 0.85,
         r"container operating system does not match the host operating system"),
    Rule("start.exec", ST, START, "bad_deploy", "workload", 0.8, _EXEC),
    Rule("start.no_command", ST, START, "bad_deploy", "workload", 0.75, r"no command specified"),
    Rule("start.create_default", ST, ("CreateContainerError",), "config_change", "workload", 0.5),
    Rule("start.run_default", ST, ("RunContainerError", "StartError", "ContainerCannotRun"), "bad_deploy",
         "workload", 0.6),
    Rule("start.poststart_hook", EV, ("FailedPostStartHook",), "bad_deploy", "workload", 0.55),
    # ---- exit codes (a terminated container, current or last state) ---------------------------------------------
    Rule("exit.normal", (TERMINATED,), ("*",), "", "workload", 0.0, exit_codes=(0, 143)),  # done, or SIGTERM
    Rule("exit.completed", (TERMINATED,), ("Completed",), "", "workload", 0.0),
    Rule("exit.sigkill", (TERMINATED,), ("*",), "crash_loop", "workload", 0.5, exit_codes=(137,)),
    Rule("exit.segfault", (TERMINATED,), ("*",), "crash_loop", "workload", 0.65, exit_codes=(139,)),
    Rule("exit.abort", (TERMINATED,), ("*",), "crash_loop", "workload", 0.6, exit_codes=(134,)),
    Rule("exit.not_executable", (TERMINATED,), ("*",), "bad_deploy", "workload", 0.8, exit_codes=(126, 127)),
    Rule("exit.start_failed", (TERMINATED,), ("*",), "bad_deploy", "workload", 0.6, exit_codes=(128,)),
    Rule("exit.app_error", (TERMINATED,), ("Error",), "crash_loop", "workload", 0.5, exit_codes=(1, 2, 255)),
    Rule("exit.other", (TERMINATED,), ("Error",), "crash_loop", "workload", 0.45),
    # ---- restarts ----------------------------------------------------------------------------------------------
    Rule("crash.backoff", (EVENT, WAITING), ("BackOff", "CrashLoopBackOff"), "crash_loop", "workload", 0.55,
         r"restarting failed container|CrashLoopBackOff|^$"),
    Rule("crash.waiting", (WAITING,), ("CrashLoopBackOff",), "crash_loop", "workload", 0.55),
    # ---- probes -------------------------------------------------------------------------------------------------
    Rule("probe.wrong_path", EV, ("Unhealthy",), "config_change", "workload", 0.65,
         r"probe failed: HTTP probe failed with statuscode: 40[134]"),
    Rule("probe.liveness.timeout", EV, ("Unhealthy",), "thread_pool_exhaustion", "workload", 0.6,
         r"(Liveness|Startup) probe failed:.*(deadline exceeded|timeout|timed out|Client\.Timeout)"),
    Rule("probe.liveness.refused", EV, ("Unhealthy",), "config_change", "workload", 0.55,
         r"(Liveness|Startup) probe failed:.*connection refused"),
    Rule("probe.readiness.timeout", EV, ("Unhealthy",), "thread_pool_exhaustion", "workload", 0.45,
         r"Readiness probe failed:.*(deadline exceeded|timeout|timed out|Client\.Timeout)"),
    Rule("probe.readiness.refused", EV, ("Unhealthy",), "error_rate_increase", "workload", 0.35,
         r"Readiness probe failed:.*connection refused"),  # mostly a starting or crashing app: a symptom
    Rule("probe.server_error", EV, ("Unhealthy",), "exception_surge", "workload", 0.45,
         r"probe failed: HTTP probe failed with statuscode: 5\d\d"),
    Rule("probe.readiness.default", EV, ("Unhealthy",), "error_rate_increase", "workload", 0.35,
         r"Readiness probe failed"),  # not ready is a symptom: readiness never restarts a container
    Rule("probe.default", EV, ("Unhealthy",), "crash_loop", "workload", 0.4),
    # a startup probe runs only while the container starts: a kill for it is a start longer than the probe's
    # budget (failureThreshold x periodSeconds) allows, the probe's configuration (docs/causes.md)
    Rule("probe.killed.startup", EV, ("Killing",), "config_change", "workload", 0.65, r"failed startup probe"),
    Rule("probe.killed", EV, ("Killing",), "crash_loop", "workload", 0.4, r"failed (liveness|startup) probe"),
    # ---- scheduling ---------------------------------------------------------------------------------------------
    Rule("schedule.nodes_down", EV, ("FailedScheduling",), "node_failure", "workload", 0.5,
         r"taint \{?node\.kubernetes\.io/(unreachable|not-ready)"),
    # a node's own limit reached: a resource, its pod count, or the volumes its instance type can attach (the CSI
    # driver's allocatable count): nothing in the pod's spec is wrong, the nodes are full (docs/causes.md)
    Rule("schedule.insufficient", EV, ("FailedScheduling",), "resource_quota", "workload", 0.8,
         r"Insufficient [\w./-]+|Too many pods|exceed max volume count"),
    Rule("schedule.pvc_missing", EV, ("FailedScheduling",), "config_change", "workload", 0.8,
         r"persistentvolumeclaim \"?[\w.-]+\"? not found|unbound (immediate )?PersistentVolumeClaims"),
    Rule("schedule.affinity", EV, ("FailedScheduling",), "config_change", "workload", 0.75,
         r"didn't match (Pod's )?node (affinity|selector)|node affinity/selector|didn't match pod (anti-)?affinity|"
         r"didn't match pod topology spread constraints"),
    Rule("schedule.taint", EV, ("FailedScheduling",), "config_change", "workload", 0.7,
         r"untolerated taint|the pod didn't tolerate"),
    # the pod's claim was deleted while in use (``kubernetes.io/pvc-protection`` keeps it Terminating): nothing is
    # short, the claim the spec names is going away
    Rule("schedule.pvc_deleting", EV, ("FailedScheduling",), "config_change", "workload", 0.8,
         r"persistentvolumeclaim \"?[\w.-]+\"? is being deleted"),
    Rule("schedule.ports_volumes", EV, ("FailedScheduling",), "config_change", "workload", 0.6,
         r"free ports|volume node affinity conflict"),
    Rule("schedule.default", EV, ("FailedScheduling",), "resource_quota", "workload", 0.5),
    Rule("schedule.preempted", EV, ("Preempted", "Preempting"), "resource_quota", "workload", 0.5),
    Rule("admission.out_of", EV, ("OutOfcpu", "OutOfmemory", "OutOfpods", "OutOfephemeral-storage"),
         "resource_quota", "workload", 0.7),
    Rule("admission.node_affinity", EV, ("NodeAffinity",), "config_change", "workload", 0.6),
    # ---- controllers creating pods ------------------------------------------------------------------------------
    # a quota that constrains a resource requires every new pod to state it: a spec without the field is refused
    # however much room the quota has (admission policy, like PodSecurity), not for the namespace's usage
    Rule("create.quota_field_required", EV, ("FailedCreate",), "config_change", "workload", 0.85,
         r"must specify (limits|requests)\.[\w-]+"),
    Rule("create.quota", EV, ("FailedCreate",), "resource_quota", "workload", 0.85,
         r"exceeded quota|forbidden: (maximum|minimum)|LimitRange"),
    Rule("create.webhook", EV, ("FailedCreate",), "dependency_failure", "dependency", 0.75,
         r"failed calling webhook"),
    Rule("create.serviceaccount", EV, ("FailedCreate",), "config_change", "workload", 0.8,
         r"serviceaccount \"?[\w.-]+\"? not found"),
    Rule("create.policy", EV, ("FailedCreate",), "config_change", "workload", 0.75,
         r"PodSecurity|security context constraint|PodSecurityPolicy|admission webhook .* denied|"
         r"ValidatingAdmissionPolicy '[^']+' with binding '[^']+' denied request"),
    # the pod asks for a RuntimeClass the cluster does not define: admission rejects it (the spec's, like a policy)
    Rule("create.runtimeclass_missing", EV, ("FailedCreate",), "config_change", "workload", 0.85,
         r"RuntimeClass \"?[\w.-]+\"? not found"),
    Rule("create.default", EV, ("FailedCreate",), "config_change", "workload", 0.5),
    # the kubelet rejects the pod at admission for a sysctl its spec sets and the node does not allow (unsafe, or
    # not namespaced): the pod's own setting (the pod is ``Failed``, ``Pod was rejected: forbidden sysctl: ...``)
    Rule("admit.sysctl_forbidden", ST, ("SysctlForbidden",), "config_change", "workload", 0.85),
    # a new revision that never became available: a symptom when the workload's own findings say why
    Rule("deploy.progress_deadline", EV, ("ProgressDeadlineExceeded",), "bad_deploy", "workload", 0.6,
         generic_of=WORKLOAD),
    # a voluntary eviction (drain, upgrade) refused by the budget that protects the pod's workload
    Rule("drain.pdb", EV, ("*",), "config_change", "pod", 0.8,
         r"violate the pod's disruption budget|PodDisruptionBudget \S+ allows 0 disruptions"),
    # ---- jobs ---------------------------------------------------------------------------------------------------
    Rule("job.backoff_limit", EV, ("BackoffLimitExceeded",), "crash_loop", "workload", 0.7),
    Rule("job.deadline", EV, ("DeadlineExceeded",), "latency_increase", "workload", 0.4),
    # a CronJob's runs overlap and pile up (conditions.pile_up_event): they exhaust what they share (quota,
    # connections), and the CronJob's schedule or concurrency policy is what to fix
    Rule("cronjob.pile_up", EV, ("JobsPileUp",), "config_change", "workload", 0.85),
    # the controller skipped a run: it came later than the CronJob's ``startingDeadlineSeconds`` allows, or too
    # many runs were missed to count; the CronJob's own schedule settings are what to fix
    Rule("cronjob.missed", EV, ("MissSchedule", "TooManyMissedTimes"), "config_change", "workload", 0.75),
    # ---- volumes ------------------------------------------------------------------------------------------------
    # the node has no plugin registered for the volume's CSI driver: the driver's node plugin (a DaemonSet) is
    # not running there, and its own findings say why
    Rule("volume.csi_unregistered", EV, ("FailedMount", "FailedAttachVolume", "FailedMapVolume"),
         "dependency_failure", "csi_driver", 0.8, r"not found in the list of registered CSI drivers"),
    Rule("volume.missing_ref", EV, ("FailedMount", "FailedAttachVolume", "FailedMapVolume"), "config_change",
         "workload", 0.85, r"(configmap|secret|persistentvolumeclaim)s? \"?[\w.-]+\"? not found"),
    Rule("volume.multi_attach", EV, ("FailedAttachVolume", "FailedMount"), "disk_io_latency", "workload", 0.8,
         r"Multi-Attach error|already (exclusively )?attached|VolumeInUse"),
    Rule("volume.io_error", EV, ("FailedMount", "FailedAttachVolume", "FailedMapVolume"), "disk_io_latency",
         "workload", 0.75, r"input/output error|I/O error"),
    # the pod cannot start until its volume attaches or mounts: a stuck attach is the fault, whatever errors
    # its callers print meanwhile
    Rule("volume.timeout", EV, ("FailedMount", "FailedAttachVolume", "FailedMapVolume"), "disk_io_latency",
         "workload", 0.75, r"timed out|timeout expired|deadline exceeded|not responding|could not attach|"
                           r"but was attaching|attachment of disk .* failed|stuck in attaching"),
    Rule("volume.default", EV, ("FailedMount", "FailedAttachVolume", "FailedMapVolume"), "config_change",
         "workload", 0.5),
    Rule("volume.storageclass", EV, ("ProvisioningFailed", "FailedBinding"), "config_change", "workload", 0.85,
         r"storageclass\S* \"?[\w.-]+\"? not found|no storage class is set|no persistent volumes available"),
    # the provisioner's own cloud identity is refused the volume it creates (AWS ``UnauthorizedOperation``, ``not
    # authorized to perform: ec2:CreateVolume``; Azure ``AuthorizationFailed``; GCE ``PERMISSION_DENIED``) after a
    # change of that identity's permissions: every new claim stays Pending; the claims' workloads are victims
    # The same refusal as the other clouds' drivers and identity providers word it: GCE's ``googleapi: Error 403:
    # Required 'compute.disks.create' permission``, gRPC's ``code = PermissionDenied``, a token's missing scope
    # (``insufficient authentication scopes``), a workload identity's ``Permission 'iam.serviceAccounts.
    # getAccessToken' denied``; Entra ID's ``AADSTS<n>`` sign-in errors (a federated credential or secret refused);
    # vSphere's ``NoPermission`` / ``Permission to perform this operation was denied``
    Rule("volume.provisioner_refused", EV, ("ProvisioningFailed",), "config_change", "provisioner", 0.85,
         r"UnauthorizedOperation|is not authorized to perform|AuthorizationFailed|"
         r"does not have authorization to perform|PERMISSION_DENIED|AccessDenied|"
         r"Required '[\w.]+' permission|code = PermissionDenied|insufficient authentication scopes|"
         r"Permission '[\w.]+' denied|\bAADSTS\d{5,}|\bNoPermission\b|Permission to perform this operation was denied"),
    Rule("volume.provisioning", EV, ("ProvisioningFailed",), "config_change", "workload", 0.6),
    # ---- eviction and node pressure -----------------------------------------------------------------------------
    Rule("evict.pod_storage_limit", EV, ("Evicted",), "disk_full", "workload", 0.8,
         r"ephemeral local storage usage exceeds|exceeded its local ephemeral storage limit|"
         r"emptyDir usage exceeds|Usage of EmptyDir volume .{1,120} exceeds the limit"),
    # a node out of process IDs evicts pods by priority: they are victims; the workload that leaks processes is
    # the cause (``process.zombies`` in lines.py), the node's exhaustion the reading when none is seen
    Rule("evict.pids", EV, ("Evicted",), "resource_quota", "node", 0.5, r"low on resource: pids"),
    Rule("evict.memory", EV, ("Evicted",), "oom_kill", "node", 0.8, r"low on resource: memory"),
    Rule("evict.disk", EV, ("Evicted",), "disk_full", "node", 0.85,
         r"low on resource: (ephemeral-storage|nodefs|imagefs|inodes)|DiskPressure|no space left"),
    Rule("evict.default", EV, ("Evicted",), "node_failure", "node", 0.4),
    Rule("pressure.memory", EV, ("EvictionThresholdMet",), "oom_kill", "node", 0.7, r"memory"),
    Rule("pressure.disk", EV, ("EvictionThresholdMet",), "disk_full", "node", 0.75,
         r"ephemeral-storage|nodefs|imagefs|inodes|disk"),
    Rule("pressure.pid", EV, ("EvictionThresholdMet",), "resource_quota", "node", 0.6, r"\bpids?\b"),
    Rule("pressure.disk.event", EV, ("NodeHasDiskPressure", "FreeDiskSpaceFailed", "ImageGCFailed"), "disk_full",
         "node", 0.75),
    Rule("pressure.memory.event", EV, ("NodeHasInsufficientMemory",), "oom_kill", "node", 0.7),
    Rule("pressure.pid.event", EV, ("NodeHasInsufficientPID",), "resource_quota", "node", 0.6),
    # ---- Services of type LoadBalancer ------------------------------------------------------------------------
    # the service controller cannot get a balancer because the cloud account is at a quota (AWS
    # ``TooManyLoadBalancers``, GCE ``QUOTA_EXCEEDED``/``Quota 'X' exceeded``, Azure public IP count limits)
    Rule("service.lb_quota", EV, ("SyncLoadBalancerFailed", "EnsureLoadBalancerFailed"), "resource_quota",
         "workload", 0.8, r"TooManyLoadBalancers|QUOTA_EXCEEDED|Quota '[\w-]+' exceeded|quotaExceeded|"
         r"PublicIPCountLimitReached|LimitExceeded|exceeded quota|quota limit"),
    # ---- nodes --------------------------------------------------------------------------------------------------
    Rule("node.stopped_posting", EV, ("*",), "node_failure", "node", 0.9, r"Kubelet stopped posting node status"),
    Rule("node.not_ready", EV, ("NodeNotReady", "KubeletNotReady", "NodeStatusUnknown"), "node_failure", "node",
         0.85),
    Rule("node.rebooted", EV, ("Rebooted",), "node_failure", "node", 0.7),
    Rule("node.network", EV, ("NetworkNotReady",), "node_failure", "node", 0.75),
    # the CNI's IP address management has no address left for the node's pods: AWS VPC CNI (``failed to assign
    # an IP address to container``), host-local (``no IP addresses available in range set``), Azure CNI
    # (``Failed to allocate address: No available addresses``), Calico (``IPAM allocated only 0``), Cilium
    # (``range is full``)
    # the node IPAM controller has no pod range left for a node (``CIDRNotAvailable``): the cluster's pod CIDR is
    # exhausted, and kube-controller-manager's allocation (its ``--cluster-cidr``) is the limit reached
    Rule("ipam.cidr_not_available", EV, ("CIDRNotAvailable",), "resource_quota", "named", 0.85,
         culprit="kube-controller-manager"),
    # the pod's RuntimeClass names a handler the node's runtime does not have (containerd ``no runtime for "runsc"
    # is configured``, CRI-O ``failed to find runtime handler``): the pod landed where its runtime is not offered,
    # because its spec (or its RuntimeClass's ``scheduling``) does not say where it is: not the node's failure
    Rule("sandbox.runtime_handler_missing", EV, ("FailedCreatePodSandBox",), "config_change", "workload", 0.8,
         r"no runtime for \"?[\w.-]+\"? is configured|failed to find runtime handler|"
         r"RuntimeHandler \"?[\w.-]+\"? not supported|unknown runtime handler"),
    Rule("sandbox.ip_exhausted", EV, ("FailedCreatePodSandBox",), "resource_quota", "node", 0.6,
         r"failed to assign an IP|no (available|free) IP|ip address.*exhausted|failed to allocate for range|"
         r"no IP addresses available|No available addresses|Failed to allocate address|IPAM allocated only 0|"
         r"range is full|no more (free )?IPs? (addresses )?available"),
    # a sandbox that failed for no named reason: a later attempt on the same pod that names one says why
    Rule("sandbox.default", EV, ("FailedCreatePodSandBox",), "node_failure", "node", 0.6, generic_of="sandbox."),
    Rule("node.kernel_deadlock", EV, ("KernelDeadlock", "TaskHung", "KernelOops"), "hardware_error", "node", 0.7),
    Rule("node.readonly_fs", EV, ("FilesystemIsReadOnly",), "hardware_error", "node", 0.75),
    Rule("condition.stopped_posting", (CONDITION,), ("Ready=Unknown",), "node_failure", "node", 0.9),
    Rule("condition.not_ready", (CONDITION,), ("Ready=False",), "node_failure", "node", 0.85),
    Rule("condition.memory", (CONDITION,), ("MemoryPressure=True",), "oom_kill", "node", 0.7),
    Rule("condition.disk", (CONDITION,), ("DiskPressure=True",), "disk_full", "node", 0.85),
    Rule("condition.pid", (CONDITION,), ("PIDPressure=True",), "resource_quota", "node", 0.6),
    Rule("condition.network", (CONDITION,), ("NetworkUnavailable=True",), "node_failure", "node", 0.75),
    Rule("condition.readonly_fs", (CONDITION,), ("ReadonlyFilesystem=True",), "hardware_error", "node", 0.8),
    Rule("condition.kernel_deadlock", (CONDITION,), ("KernelDeadlock=True",), "hardware_error", "node", 0.75),
    Rule("taint.unreachable", (TAINT,), ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"),
         "node_failure", "node", 0.8),
    Rule("taint.disk", (TAINT,), ("node.kubernetes.io/disk-pressure",), "disk_full", "node", 0.75),
    Rule("taint.memory", (TAINT,), ("node.kubernetes.io/memory-pressure",), "oom_kill", "node", 0.65),
    Rule("taint.network", (TAINT,), ("node.kubernetes.io/network-unavailable",), "node_failure", "node", 0.7),
    Rule("taint.pid", (TAINT,), ("node.kubernetes.io/pid-pressure",), "resource_quota", "node", 0.55),
    # ---- autoscaling --------------------------------------------------------------------------------------------
    # the node autoscaler will not or cannot add the nodes the pods need: a configured ceiling (cluster autoscaler's
    # max node group size, a Karpenter NodePool's limits) or the cloud out of the instance type (a scale-up that
    # failed and is backed off, EC2's InsufficientInstanceCapacity, GCE's ZONE_RESOURCE_POOL_EXHAUSTED)
    Rule("scale.nodes_refused", EV, ("NotTriggerScaleUp", "FailedScheduling", "FailedToScaleUpGroup",
                                     "FailedLaunch", "InsufficientCapacityError"), "resource_quota", "workload", 0.75,
         r"max node group size reached|in backoff after failed scale-up|exceed limits for nodepool|"
         r"InsufficientInstanceCapacity|insufficient capacity|ZONE_RESOURCE_POOL_EXHAUSTED|"
         r"do not have sufficient \S+ capacity"),
    Rule("hpa.max_replicas", EV, ("ScalingLimited", "TooManyReplicas"), "traffic_spike", "workload", 0.6,
         r"more than the maximum|maximum replica count|^$"),
    # the HPA adds pods as fast as its scale-up policies allow and no faster (``ScalingLimited True ScaleUpLimit``):
    # load rising faster than the default policy, unless a change of the policies slowed it (detector.py)
    Rule("hpa.scale_up_limit", EV, ("ScaleUpLimit",), "traffic_spike", "workload", 0.5,
         r"increasing faster than the maximum scale rate|^$"),
    Rule("hpa.rescale_up", EV, ("SuccessfulRescale",), "traffic_spike", "workload", 0.45, r"above target"),
    # a utilization target is a share of the pods' requests: a container without one (a new sidecar, a dropped
    # request) leaves the autoscaler unable to scale at all, whatever the traffic does
    Rule("hpa.missing_request", EV, ("FailedGetResourceMetric", "FailedComputeMetricsReplicas"), "config_change",
         "workload", 0.8, r"missing request for \w+"),
    # an event-driven autoscaler (KEDA) refused by the source it reads its trigger from (a queue, a list) for its
    # credential: the credential it was given went stale in a change (a rotation, an ACL edit) while the source
    # serves everyone else; the workload stays at its floor, and its scaling settings are what to fix
    Rule("hpa.trigger_auth_refused", EV, ("KEDAScalerFailed", "ScaledObjectCheckFailed", "FailedGetExternalMetric"),
         "config_change", "workload", 0.8,
         r"\(403\)|username or password|WRONGPASS|NOAUTH|NOPERM|authentication failed|invalid credentials|"
         r"access denied|unauthori[sz]ed|AccessDenied|SASL authentication|"
         # the other scalers' sources: RabbitMQ's ``ACCESS_REFUSED - Login was refused``, AWS's
         # ``InvalidClientTokenId`` / ``security token included in the request is invalid``, Azure's
         # ``AuthenticationFailed``, gRPC/GCP's ``PermissionDenied``, an HTTP source's ``status code 401``
         r"ACCESS_REFUSED|InvalidClientTokenId|security token included in the request is (?:invalid|expired)|"
         r"AuthenticationFailed|PermissionDenied|status(?: code)?:? 40[13]\b"),
    # the autoscaler is blind because the metrics API's server is down: that server is the fault
    Rule("hpa.metrics_api_down", EV, ("FailedGetResourceMetric", "FailedComputeMetricsReplicas",
                                      "FailedGetExternalMetric", "FailedGetPodsMetric", "FailedGetObjectMetric"),
         "dependency_failure", "metrics_api", 0.6,
         r"unable to fetch metrics from (resource|custom|external) metrics API|"
         r"the server is currently unable to handle the request \(get [\w.]*metrics\.k8s\.io\)|"
         r"the server could not find the requested resource \(get [\w.]*metrics\.k8s\.io\)"),
    Rule("hpa.metrics", EV, ("FailedGetResourceMetric", "FailedComputeMetricsReplicas", "FailedGetExternalMetric"),
         "traffic_spike", "workload", 0.4),
)

# Reasons inferred from a message alone (an events.jsonl row that holds only kubectl's message column)
REASON_HINTS: tuple[tuple[str, str], ...] = (
    (r"Back-off restarting failed container", "BackOff"),
    (r"Back-off pulling image", "BackOff"),
    (r"(Liveness|Readiness|Startup) probe failed", "Unhealthy"),
    (r"nodes are available|pod has unbound|didn't match Pod's node", "FailedScheduling"),
    (r"Failed to pull image|ErrImagePull|ImagePullBackOff", "Failed"),
    (r"Error creating: .*(forbidden|exceeded quota)|exceeded quota", "FailedCreate"),
    (r"MountVolume\.|Unable to attach or mount volumes|Multi-Attach error", "FailedMount"),
    (r"The node was low on resource", "Evicted"),
    (r"Attempting to reclaim", "EvictionThresholdMet"),
    (r"Job has reached the specified backoff limit", "BackoffLimitExceeded"),
    (r"Job was active longer than specified deadline", "DeadlineExceeded"),
    (r"status is now: NodeNotReady|Node is not ready|Kubelet stopped posting node status", "NodeNotReady"),
    (r"status is now: NodeHasDiskPressure", "NodeHasDiskPressure"),
    (r"status is now: CIDRNotAvailable", "CIDRNotAvailable"),
    (r"status is now: NodeHasInsufficientMemory", "NodeHasInsufficientMemory"),
    (r"status is now: NodeHasInsufficientPID", "NodeHasInsufficientPID"),
    (r"(Memory cgroup )?out of memory: Kill(ed)? process|was OOMKilled|OOMKilled", "OOMKilling"),
    (r"System OOM encountered", "SystemOOM"),
    (r"Error: (secret|configmap) \S+ not found|couldn't find key", "CreateContainerConfigError"),
    (r"Failed to create pod sandbox", "FailedCreatePodSandBox"),
    (r"forbidden sysctl: \S+ not allowlisted", "SysctlForbidden"),
    (r"Error syncing load balancer", "SyncLoadBalancerFailed"),
    (r"has timed out progressing", "ProgressDeadlineExceeded"),
    (r"Missed scheduled time to start a job", "MissSchedule"),
    (r"too many missed start times", "TooManyMissedTimes"),
    (r"violate the pod's disruption budget", "FailedDraining"),
    (r"New size: \d+; reason: .*above target", "SuccessfulRescale"),
    (r"failed to get \w+ utilization|unable to get metrics for resource", "FailedGetResourceMetric"),
    (r"unable to get external metric", "FailedGetExternalMetric"),
)


def match_rule(on: str, reason: str, message: str = "", exit_code: int | None = None) -> Rule | None:
    """The first row that fits, or None when the reason says nothing about a cause (``Scheduled``, ``Pulled``).
    A row whose kind is "" fits a benign finding (exit code 0, SIGTERM): no signal."""
    for rule in RULES:
        if rule.matches(on, reason, message, exit_code):
            return rule
    return None


def reason_from_message(message: str) -> str:
    for pattern, reason in REASON_HINTS:
        if _compiled(pattern).search(message):
            return reason
    return ""
