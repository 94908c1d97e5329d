"""The reason table, one realistic kubectl line per row: which rule reads it, which kind and which component."""

from __future__ import annotations

import pytest

from bot.domain import SYMPTOM_KINDS, is_cause_kind
from detectors.kubernetes.rules import RULES, match_rule, reason_from_message

PULL = 'Failed to pull image "{image}": rpc error: code = Unknown desc = '
# (rule id, on, reason, message, exit code, kind, blame)
CASES: list[tuple[str, str, str, str, int | None, str, str]] = [
    ("oom.terminated", "terminated", "OOMKilled", "", 137, "oom_kill", "workload"),
    ("oom.event", "event", "OOMKilling", "Memory cgroup out of memory: Killed process 4242 (java) total-vm:4194304kB, "
     "anon-rss:1048576kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:2400kB oom_score_adj:936", None,
     "oom_kill", "workload"),
    ("oom.system", "event", "SystemOOM", "System OOM encountered, victim process: java, pid: 4242", None,
     "oom_kill", "node"),
    ("image.rate_limited", "event", "Failed", PULL.format(image="nginx:1.25") + "failed to pull and unpack image "
     '"docker.io/library/nginx:1.25": 429 Too Many Requests - Server message: toomanyrequests: You have reached your '
     "pull rate limit.", None, "rate_limited", "registry"),
    ("image.registry_cert_expired", "event", "Failed", PULL.format(image="harbor.corp.example/pay/fx:3.2")
     + 'failed to pull and unpack image "harbor.corp.example/pay/fx:3.2": failed to resolve reference: failed to do '
     'request: Head "https://harbor.corp.example/v2/pay/fx/manifests/3.2": tls: failed to verify certificate: x509: '
     "certificate has expired or is not yet valid: current time 2026-11-03T09:14:02Z is after 2026-11-03T00:00:00Z",
     None, "certificate_expired", "registry"),
    ("image.auth", "event", "Failed", PULL.format(image="registry.example.com/shop/api:2.0") + "failed to resolve "
     'reference "registry.example.com/shop/api:2.0": pulling from host registry.example.com failed with status code '
     "[manifests 2.0]: 401 Unauthorized", None, "config_change", "workload"),
    ("image.not_found", "waiting", "ErrImagePull", 'rpc error: code = NotFound desc = failed to pull and unpack image '
     '"ghcr.io/acme/web:2.3.1": failed to resolve reference "ghcr.io/acme/web:2.3.1": ghcr.io/acme/web:2.3.1: not '
     "found", None, "bad_deploy", "workload"),
    ("image.registry_unreachable", "event", "Failed", PULL.format(image="registry.example.com/shop/api:2.0")
     + 'failed to pull and unpack image "registry.example.com/shop/api:2.0": failed to resolve reference: Head '
     '"https://registry.example.com/v2/shop/api/manifests/2.0": dial tcp: lookup registry.example.com on '
     "10.96.0.10:53: no such host", None, "dependency_failure", "registry"),
    ("image.invalid_name", "event", "Failed", 'Failed to apply default image tag "Shop/API:latest": couldn\'t parse '
     'image reference "Shop/API:latest": invalid reference format: repository name must be lowercase', None,
     "bad_deploy", "workload"),
    ("image.invalid_name.default", "waiting", "InvalidImageName", "", None, "bad_deploy", "workload"),
    ("image.pull_secret", "event", "FailedToRetrieveImagePullSecret", "Unable to retrieve some image pull secrets "
     "(regcred); attempting to pull the image may not succeed.", None, "config_change", "workload"),
    ("image.backoff", "waiting", "ImagePullBackOff", 'Back-off pulling image "ghcr.io/acme/web:2.3.1"', None,
     "bad_deploy", "workload"),
    ("image.backoff.event", "event", "BackOff", 'Back-off pulling image "ghcr.io/acme/web:2.3.1"', None,
     "bad_deploy", "workload"),
    ("image.failed.generic", "event", "Failed", "Error: ErrImagePull", None, "bad_deploy", "workload"),
    ("config.missing_ref", "event", "Failed", 'Error: secret "payments-db" not found', None, "config_change",
     "workload"),
    ("config.security", "waiting", "CreateContainerConfigError",
     "container has runAsNonRoot and image will run as root (pod: \"api-0_shop(1f2e)\", container: api)", None,
     "config_change", "workload"),
    ("config.default", "waiting", "CreateContainerConfigError", "", None, "config_change", "workload"),
    ("start.exec", "terminated", "StartError", 'failed to create containerd task: failed to create shim task: OCI '
     'runtime create failed: runc create failed: unable to start container process: exec: "/app/server": stat '
     "/app/server: no such file or directory: unknown", 128, "bad_deploy", "workload"),
    ("start.no_command", "waiting", "CreateContainerError", "Error: no command specified", None, "bad_deploy",
     "workload"),
    ("start.create_default", "waiting", "CreateContainerError", "context deadline exceeded", None, "config_change",
     "workload"),
    ("start.memory_limit_too_low", "waiting", "RunContainerError", "runc create failed: unable to start container "
     "process: container init was OOM-killed (memory limit too low?): unknown", None, "config_change", "workload"),
    ("start.run_default", "waiting", "RunContainerError", "", None, "bad_deploy", "workload"),
    ("start.poststart_hook", "event", "FailedPostStartHook", 'PostStartHook failed', None, "bad_deploy", "workload"),
    ("exit.normal", "terminated", "Error", "", 143, "", "workload"),
    ("exit.completed", "terminated", "Completed", "", None, "", "workload"),
    ("exit.sigkill", "terminated", "Error", "", 137, "crash_loop", "workload"),
    ("exit.segfault", "terminated", "Error", "", 139, "crash_loop", "workload"),
    ("exit.abort", "terminated", "Error", "", 134, "crash_loop", "workload"),
    ("exit.not_executable", "terminated", "Error", "", 127, "bad_deploy", "workload"),
    ("exit.start_failed", "terminated", "Error", "", 128, "bad_deploy", "workload"),
    ("exit.app_error", "terminated", "Error", "", 1, "crash_loop", "workload"),
    ("exit.other", "terminated", "Error", "", 3, "crash_loop", "workload"),
    ("crash.backoff", "event", "BackOff", "Back-off restarting failed container api in pod api-6c8d7f9b4-lm2xs_shop"
     "(0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6)", None, "crash_loop", "workload"),
    ("crash.waiting", "waiting", "CrashLoopBackOff", "back-off 5m0s restarting pod=api-0", None, "crash_loop",
     "workload"),
    ("probe.wrong_path", "event", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 404", None,
     "config_change", "workload"),
    ("probe.liveness.timeout", "event", "Unhealthy", 'Liveness probe failed: Get "http://10.244.1.9:8080/healthz": '
     "context deadline exceeded (Client.Timeout exceeded while awaiting headers)", None, "thread_pool_exhaustion",
     "workload"),
    ("probe.liveness.refused", "event", "Unhealthy", 'Liveness probe failed: Get "http://10.244.1.9:8081/healthz": '
     "dial tcp 10.244.1.9:8081: connect: connection refused", None, "config_change", "workload"),
    ("probe.readiness.timeout", "event", "Unhealthy", "Readiness probe failed: command timed out", None,
     "thread_pool_exhaustion", "workload"),
    ("probe.readiness.refused", "event", "Unhealthy", 'Readiness probe failed: Get "http://10.244.1.12:8080/ready": '
     "dial tcp 10.244.1.12:8080: connect: connection refused", None, "error_rate_increase", "workload"),
    ("probe.server_error", "event", "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 503", None,
     "exception_surge", "workload"),
    ("probe.readiness.default", "event", "Unhealthy", "Readiness probe failed: /var/run/postgresql:5432 - no "
     "response", None, "error_rate_increase", "workload"),
    ("probe.default", "event", "Unhealthy", "Startup probe failed: /bin/sh: pg_isready: not ready", None,
     "crash_loop", "workload"),
    ("probe.killed.startup", "event", "Killing", "Container api failed startup probe, will be restarted", None,
     "config_change", "workload"),
    ("probe.killed", "event", "Killing", "Container api failed liveness probe, will be restarted", None, "crash_loop",
     "workload"),
    ("schedule.nodes_down", "event", "FailedScheduling", "0/3 nodes are available: 3 node(s) had untolerated taint "
     "{node.kubernetes.io/unreachable: }. preemption: 0/3 nodes are available: 3 Preemption is not helpful for "
     "scheduling.", None, "node_failure", "workload"),
    ("schedule.insufficient", "event", "FailedScheduling", "0/5 nodes are available: 2 Insufficient cpu, 3 "
     "Insufficient memory. preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod.",
     None, "resource_quota", "workload"),
    ("schedule.pvc_missing", "event", "FailedScheduling", "0/3 nodes are available: 3 pod has unbound immediate "
     "PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
     None, "config_change", "workload"),
    ("schedule.affinity", "event", "FailedScheduling", "0/4 nodes are available: 4 node(s) didn't match Pod's node "
     "affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.", None,
     "config_change", "workload"),
    ("schedule.taint", "event", "FailedScheduling", "0/3 nodes are available: 3 node(s) had untolerated taint "
     "{dedicated: gpu}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.", None,
     "config_change", "workload"),
    ("schedule.ports_volumes", "event", "FailedScheduling", "0/3 nodes are available: 3 node(s) had volume node "
     "affinity conflict.", None, "config_change", "workload"),
    ("schedule.default", "event", "FailedScheduling", "running PreFilter plugin \"VolumeBinding\": error", None,
     "resource_quota", "workload"),
    ("schedule.preempted", "event", "Preempted", "Preempted by pod 7d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a on node "
     "node-2", None, "resource_quota", "workload"),
    ("admission.out_of", "event", "OutOfcpu", "Node didn't have enough resource: cpu, requested: 2000, used: 3500, "
     "capacity: 4000", None, "resource_quota", "workload"),
    ("admission.node_affinity", "event", "NodeAffinity", "Pod Predicate NodeAffinity failed", None, "config_change",
     "workload"),
    ("create.quota", "event", "FailedCreate", 'Error creating: pods "api-6c8d7f9b4-zz9x8" is forbidden: exceeded '
     "quota: compute-resources, requested: limits.cpu=2, used: limits.cpu=31, limited: limits.cpu=32", None,
     "resource_quota", "workload"),
    ("create.quota_field_required", "event", "FailedCreate", 'Error creating: pods "report-api-5b7c9d8f4-x2n4q" is '
     "forbidden: failed quota: compute: must specify limits.cpu for: report-api; limits.memory for: report-api", None,
     "config_change", "workload"),
    ("create.webhook", "event", "FailedCreate", 'Error creating: Internal error occurred: failed calling webhook '
     '"validate.kyverno.svc-fail": failed to call webhook: Post "https://kyverno-svc.kyverno.svc:443/validate/fail?'
     'timeout=10s": dial tcp 10.96.14.2:443: connect: connection refused', None, "dependency_failure", "dependency"),
    ("create.serviceaccount", "event", "FailedCreate", 'Error creating: pods "api-6c8d7f9b4-" is forbidden: error '
     'looking up service account shop/api: serviceaccount "api" not found', None, "config_change", "workload"),
    ("create.policy", "event", "FailedCreate", 'Error creating: pods "api-6c8d7f9b4-q" is forbidden: violates '
     'PodSecurity "restricted:latest": allowPrivilegeEscalation != false', None, "config_change", "workload"),
    ("hpa.scale_up_limit", "event", "ScaleUpLimit", "the desired replica count is increasing faster than the maximum "
     "scale rate", None, "traffic_spike", "workload"),
    ("create.default", "event", "FailedCreate", "Error creating: something unexpected", None, "config_change",
     "workload"),
    ("create.runtimeclass_missing", "event", "FailedCreate", 'Error creating: pods "sanitizer-6c9d7f8b5-" is '
     'forbidden: pod rejected: RuntimeClass "kata-qemu" not found', None, "config_change", "workload"),
    ("admit.sysctl_forbidden", "event", "SysctlForbidden", 'forbidden sysctl: "net.core.somaxconn" not allowlisted',
     None, "config_change", "workload"),
    ("sandbox.runtime_handler_missing", "event", "FailedCreatePodSandBox", "Failed to create pod sandbox: rpc error: "
     'code = Unknown desc = failed to get sandbox runtime: no runtime for "runsc" is configured', None,
     "config_change", "workload"),
    ("deploy.progress_deadline", "event", "ProgressDeadlineExceeded", 'ReplicaSet "api-6c8d7f9b4" has timed out '
     "progressing.", None, "bad_deploy", "workload"),
    ("job.backoff_limit", "event", "BackoffLimitExceeded", "Job has reached the specified backoff limit", None,
     "crash_loop", "workload"),
    ("job.deadline", "event", "DeadlineExceeded", "Job was active longer than specified deadline", None,
     "latency_increase", "workload"),
    ("volume.missing_ref", "event", "FailedMount", 'MountVolume.SetUp failed for volume "config" : configmap '
     '"api-config" not found', None, "config_change", "workload"),
    ("volume.multi_attach", "event", "FailedAttachVolume", 'Multi-Attach error for volume '
     '"pvc-5b1c0e2d-6a7f-4c3b-9d8e-0f1a2b3c4d5e" Volume is already exclusively attached to one node and can\'t be '
     "attached to another", None, "disk_io_latency", "workload"),
    ("volume.io_error", "event", "FailedMount", 'MountVolume.MountDevice failed for volume "pvc-1" : rpc error: code '
     "= Internal desc = mount failed: exit status 32: mount: /var/lib/kubelet/plugins: can't read superblock on "
     "/dev/nvme1n1: Input/output error", None, "disk_io_latency", "workload"),
    ("volume.timeout", "event", "FailedMount", "Unable to attach or mount volumes: unmounted volumes=[data], "
     "unattached volumes=[data kube-api-access-8xq2m]: timed out waiting for the condition", None, "disk_io_latency",
     "workload"),
    ("volume.default", "event", "FailedMount", 'MountVolume.SetUp failed for volume "nfs" : mount failed: exit '
     "status 32", None, "config_change", "workload"),
    ("volume.storageclass", "event", "ProvisioningFailed", 'storageclass.storage.k8s.io "fast-ssd" not found', None,
     "config_change", "workload"),
    ("volume.provisioning", "event", "ProvisioningFailed", 'failed to provision volume with StorageClass "gp3": '
     "rpc error: code = Internal desc = Could not create volume", None, "config_change", "workload"),
    ("evict.pod_storage_limit", "event", "Evicted", "Pod ephemeral local storage usage exceeds the total limit of "
     "containers 1Gi.", None, "disk_full", "workload"),
    ("evict.memory", "event", "Evicted", "The node was low on resource: memory. Threshold quantity: 100Mi, available: "
     "88Mi. Container api was using 1200Mi, request is 512Mi, has larger consumption of memory.", None, "oom_kill",
     "node"),
    ("evict.disk", "event", "Evicted", "The node was low on resource: ephemeral-storage. Threshold quantity: "
     "2146223972, available: 1984704Ki.", None, "disk_full", "node"),
    ("evict.default", "event", "Evicted", "Pod was evicted", None, "node_failure", "node"),
    ("pressure.memory", "event", "EvictionThresholdMet", "Attempting to reclaim memory", None, "oom_kill", "node"),
    ("pressure.disk", "event", "EvictionThresholdMet", "Attempting to reclaim ephemeral-storage", None, "disk_full",
     "node"),
    ("pressure.disk.event", "event", "FreeDiskSpaceFailed", "Failed to garbage collect required amount of images. "
     "Attempted to free 4047925248 bytes, but only found 0 bytes eligible to free.", None, "disk_full", "node"),
    ("pressure.memory.event", "event", "NodeHasInsufficientMemory", "Node node-2 status is now: "
     "NodeHasInsufficientMemory", None, "oom_kill", "node"),
    ("pressure.pid.event", "event", "NodeHasInsufficientPID", "Node node-2 status is now: NodeHasInsufficientPID",
     None, "resource_quota", "node"),
    ("pressure.pid", "event", "EvictionThresholdMet", "Attempting to reclaim pids", None, "resource_quota", "node"),
    ("evict.pids", "event", "Evicted", "The node was low on resource: pids. Threshold quantity: 3276, available: "
     "2104. ", None, "resource_quota", "node"),
    ("etcd.space_exceeded", "event", "FailedCreate", "Error creating: etcdserver: mvcc: database space exceeded",
     None, "disk_full", "named"),
    ("volume.csi_unregistered", "event", "FailedMount", 'MountVolume.MountDevice failed for volume "pvc-0c7a9d12" : '
     "kubernetes.io/csi: attacher.MountDevice failed to create newCsiDriverClient: driver name rbd.csi.ceph.com not "
     "found in the list of registered CSI drivers", None, "dependency_failure", "csi_driver"),
    ("node.stopped_posting", "event", "NodeStatusUnknown", "Kubelet stopped posting node status.", None,
     "node_failure", "node"),
    ("node.not_ready", "event", "NodeNotReady", "Node node-3 status is now: NodeNotReady", None, "node_failure",
     "node"),
    ("node.rebooted", "event", "Rebooted", "Node node-3 has been rebooted, boot id: 6f1e3c2a", None, "node_failure",
     "node"),
    ("node.network", "event", "NetworkNotReady", "network is not ready: container runtime network not ready: "
     "NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not "
     "initialized", None, "node_failure", "node"),
    ("sandbox.ip_exhausted", "event", "FailedCreatePodSandBox", "Failed to create pod sandbox: rpc error: code = "
     'Unknown desc = failed to setup network for sandbox "9f8e": plugin type="aws-cni" name="aws-cni" failed (add): '
     "add cmd: failed to assign an IP address to container", None, "resource_quota", "node"),
    ("sandbox.default", "event", "FailedCreatePodSandBox", "Failed to create pod sandbox: rpc error: code = Unknown "
     'desc = failed to setup network for sandbox "1a2b": plugin type="calico" failed (add): stat '
     "/var/lib/calico/nodename: no such file or directory", None, "node_failure", "node"),
    ("node.kernel_deadlock", "event", "TaskHung", "kernel: INFO: task jbd2/nvme0n1p1-8:412 blocked for more than 120 "
     "seconds.", None, "hardware_error", "node"),
    ("node.readonly_fs", "event", "FilesystemIsReadOnly", "Node condition ReadonlyFilesystem is now: True, reason: "
     "FilesystemIsReadOnly", None, "hardware_error", "node"),
    ("condition.stopped_posting", "condition", "Ready=Unknown", "Kubelet stopped posting node status.", None,
     "node_failure", "node"),
    ("condition.not_ready", "condition", "Ready=False", "PLEG is not healthy: pleg was last seen active 3m12.5s ago; "
     "threshold is 3m0s", None, "node_failure", "node"),
    ("condition.memory", "condition", "MemoryPressure=True", "kubelet has insufficient memory available", None,
     "oom_kill", "node"),
    ("condition.disk", "condition", "DiskPressure=True", "kubelet has disk pressure", None, "disk_full", "node"),
    ("condition.pid", "condition", "PIDPressure=True", "kubelet has insufficient PID available", None,
     "resource_quota", "node"),
    ("condition.network", "condition", "NetworkUnavailable=True", "RouteController failed to create a route", None,
     "node_failure", "node"),
    ("condition.readonly_fs", "condition", "ReadonlyFilesystem=True", "Filesystem is read-only", None,
     "hardware_error", "node"),
    ("condition.kernel_deadlock", "condition", "KernelDeadlock=True", "kernel has a deadlock", None,
     "hardware_error", "node"),
    ("taint.unreachable", "taint", "node.kubernetes.io/unreachable", "", None, "node_failure", "node"),
    ("taint.disk", "taint", "node.kubernetes.io/disk-pressure", "", None, "disk_full", "node"),
    ("taint.memory", "taint", "node.kubernetes.io/memory-pressure", "", None, "oom_kill", "node"),
    ("taint.network", "taint", "node.kubernetes.io/network-unavailable", "", None, "node_failure", "node"),
    ("taint.pid", "taint", "node.kubernetes.io/pid-pressure", "", None, "resource_quota", "node"),
    ("hpa.max_replicas", "event", "ScalingLimited", "the desired replica count is more than the maximum replica "
     "count", None, "traffic_spike", "workload"),
    ("hpa.rescale_up", "event", "SuccessfulRescale", "New size: 10; reason: cpu resource utilization (percentage of "
     "request) above target", None, "traffic_spike", "workload"),
    ("drain.pdb", "event", "FailedDraining", "Failed to drain node: 1 pod(s) could not be evicted: zk-1 "
     "(PodDisruptionBudget streaming/zk-pdb allows 0 disruptions)", None, "config_change", "pod"),
    ("hpa.trigger_auth_refused", "event", "KEDAScalerFailed", 'error inspecting rabbitMQ: Exception (403) Reason: '
     '"username or password not allowed"', None, "config_change", "workload"),
    ("hpa.metrics_api_down", "event", "FailedGetResourceMetric", "failed to get cpu utilization: unable to get "
     "metrics for resource cpu: unable to fetch metrics from resource metrics API: the server is currently unable to "
     "handle the request (get pods.metrics.k8s.io)", None, "dependency_failure", "metrics_api"),
    ("hpa.metrics", "event", "FailedGetResourceMetric", "failed to get cpu utilization: unable to get metrics for "
     "resource cpu: no metrics returned from resource metrics API", None, "traffic_spike", "workload"),
    ("hpa.missing_request", "event", "FailedGetResourceMetric", "failed to get memory utilization: missing request "
     "for memory in container otel-agent of Pod web-5d6e7f8a9b-2c3d4", None, "config_change", "workload"),
    ("image.never_pull", "waiting", "ErrImageNeverPull", 'Container image "shop/api:2.0" is not present with pull '
     "policy of Never", None, "config_change", "workload"),
    ("schedule.pvc_deleting", "event", "FailedScheduling", '0/5 nodes are available: persistentvolumeclaim '
     '"data-cache-1" is being deleted. preemption: 0/5 nodes are available: 5 Preemption is not helpful for '
     "scheduling.", None, "config_change", "workload"),
    ("service.lb_quota", "event", "SyncLoadBalancerFailed", "Error syncing load balancer: failed to ensure load "
     "balancer: TooManyLoadBalancers: Exceeded quota of account 111122223333", None, "resource_quota", "workload"),
    ("cronjob.missed", "event", "MissSchedule", "Missed scheduled time to start a job: Tue, 08 Dec 2026 12:10:00 "
     "+0000", None, "config_change", "workload"),
    ("ipam.cidr_not_available", "event", "CIDRNotAvailable", "Node wrk-17 status is now: CIDRNotAvailable", None,
     "resource_quota", "named"),
    ("volume.provisioner_refused", "event", "ProvisioningFailed", 'failed to provision volume with StorageClass "gp3":'
     ' rpc error: code = Internal desc = Could not create volume "pvc-8e2d": could not create volume in EC2: operation'
     " error EC2: CreateVolume, https response error StatusCode: 403, api error UnauthorizedOperation: You are not "
     "authorized to perform this operation.", None, "config_change", "provisioner"),
    ("cronjob.pile_up", "event", "JobsPileUp", "8 Jobs of the CronJob active at once (concurrencyPolicy Allow): its "
     "runs overlap and pile up", None, "config_change", "workload"),
    ("start.windows_os_mismatch", "event", "Failed", "Error: failed to create containerd task: failed to create shim "
     "task: hcs::CreateComputeSystem 8f1d2c7a3b: The container operating system does not match the host operating "
     "system.: unknown", None, "bad_deploy", "workload"),
    ("scale.nodes_refused", "event", "NotTriggerScaleUp", "pod didn't trigger scale-up: 1 in backoff after failed "
     "scale-up, 2 node(s) didn't match Pod's node affinity/selector", None, "resource_quota", "workload"),
]


@pytest.mark.parametrize(("rule_id", "on", "reason", "message", "exit_code", "kind", "blame"), CASES,
                         ids=[c[0] for c in CASES])
def test_each_row_reads_its_line(rule_id: str, on: str, reason: str, message: str, exit_code: int | None,
                                 kind: str, blame: str) -> None:
    rule = match_rule(on, reason, message, exit_code)
    assert rule is not None, f"no rule read {reason}: {message}"
    assert (rule.id, rule.kind, rule.blame) == (rule_id, kind, blame)


def test_the_nodes_volume_attach_limit_is_a_limit_reached_not_a_spec_to_fix() -> None:
    # like "Too many pods": every node holds as many volumes as its instance type can attach (CSINode allocatable)
    message = ("0/7 nodes are available: 1 node(s) had untolerated taint {dedicated: ingress}, 6 node(s) exceed max "
               "volume count. preemption: 0/7 nodes are available: 1 Preemption is not helpful for scheduling, 6 No "
               "preemption victims found for incoming pod.")
    rule = match_rule("event", "FailedScheduling", message, None)
    assert rule is not None and (rule.id, rule.kind) == ("schedule.insufficient", "resource_quota")


def test_every_row_has_a_case_and_names_a_vocabulary_kind() -> None:
    assert sorted(c[0] for c in CASES) == sorted(r.id for r in RULES)
    assert len({r.id for r in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.kind == "" or is_cause_kind(rule.kind) or rule.kind in SYMPTOM_KINDS, rule.id
        assert 0.0 <= rule.score <= 1.0
    # 0.9 and above only for reasons that explain a failure by themselves
    assert {r.id for r in RULES if r.score >= 0.9} == {
        "oom.terminated", "oom.event", "config.missing_ref", "node.stopped_posting", "condition.stopped_posting"}


@pytest.mark.parametrize(("on", "reason", "message"), [
    ("event", "Scheduled", "Successfully assigned shop/api-0 to node-2"),
    ("event", "Pulled", 'Container image "nginx:1.25" already present on machine'),
    ("event", "Started", "Started container api"),
    ("event", "Killing", "Stopping container api"),
    ("waiting", "ContainerCreating", ""),
    ("condition", "Ready=True", "kubelet is posting ready status"),
    ("terminated", "Completed", ""),
])
def test_routine_reasons_name_no_cause(on: str, reason: str, message: str) -> None:
    rule = match_rule(on, reason, message, 0 if on == "terminated" else None)
    assert rule is None or rule.kind == ""


def test_a_failed_event_about_a_secret_is_not_read_as_an_image_pull() -> None:
    rule = match_rule("event", "Failed", "Error: couldn't find key DB_PASSWORD in Secret shop/payments-db")
    assert rule is not None and rule.id == "config.missing_ref"


@pytest.mark.parametrize(("message", "reason"), [
    ("Back-off restarting failed container api in pod api-0_shop(1f2e)", "BackOff"),
    ("0/3 nodes are available: 3 Insufficient memory.", "FailedScheduling"),
    ("The node was low on resource: memory.", "Evicted"),
    ("Job has reached the specified backoff limit", "BackoffLimitExceeded"),
    ("Node node-3 status is now: NodeNotReady", "NodeNotReady"),
    ("Error syncing load balancer: failed to ensure load balancer: TooManyLoadBalancers", "SyncLoadBalancerFailed"),
    ("Cannot evict pod as it would violate the pod's disruption budget.", "FailedDraining"),
    ("Missed scheduled time to start a job: Tue, 08 Dec 2026 12:10:00 +0000", "MissSchedule"),
    ("Node wrk-18 status is now: CIDRNotAvailable", "CIDRNotAvailable"),
    ('Pod was rejected: forbidden sysctl: "kernel.msgmax" not allowlisted', "SysctlForbidden"),
    ("request completed in 12 ms", ""),
])
def test_a_bare_message_suggests_its_reason(message: str, reason: str) -> None:
    assert reason_from_message(message) == reason


def test_a_volume_stuck_attaching_is_read_as_an_attach_fault() -> None:
    message = ('AttachVolume.Attach failed for volume "pvc-9a8b7c6d" : rpc error: code = Internal desc = Could not '
               'attach volume "vol-0123456789abcdef0" to node "i-0fedcba9876543210": attachment of disk '
               '"vol-0123456789abcdef0" failed, expected device to be attached but was attaching')
    rule = match_rule("event", "FailedAttachVolume", message)
    assert rule is not None and (rule.id, rule.kind) == ("volume.timeout", "disk_io_latency")


def test_a_topology_spread_no_node_meets_is_the_spec_constraint() -> None:
    rule = match_rule("event", "FailedScheduling", "0/12 nodes are available: 4 node(s) had untolerated taint "
                      "{dedicated: gpu}, 8 node(s) didn't match pod topology spread constraints. preemption: 0/12 "
                      "nodes are available: 12 Preemption is not helpful for scheduling.")
    assert rule is not None and (rule.id, rule.kind) == ("schedule.affinity", "config_change")


@pytest.mark.parametrize("message", [
    'Usage of EmptyDir volume "scratch" exceeds the limit "512Mi". ',
    'Container log-agent exceeded its local ephemeral storage limit "1Gi". ',
])
def test_a_pod_over_its_own_ephemeral_storage_limit_is_the_workloads_disk(message: str) -> None:
    rule = match_rule("event", "Evicted", message)
    assert rule is not None and (rule.id, rule.kind, rule.blame) == ("evict.pod_storage_limit", "disk_full", "workload")


def test_an_etcd_row_names_etcd_and_the_pid_rows_are_listed() -> None:
    from detectors.kubernetes.rules import PID_PRESSURE_RULES

    rule = match_rule("event", "FailedUpdate", "Operation cannot be fulfilled: etcdserver: mvcc: database space exceeded")
    assert rule is not None and rule.culprit == "etcd"
    assert set(PID_PRESSURE_RULES) <= {r.id for r in RULES}
    assert all(r.kind == "resource_quota" for r in RULES if r.id in PID_PRESSURE_RULES)


@pytest.mark.parametrize(("reason", "message", "rule_id"), [
    ("Evicted", "The node was low on resource: inodes. Threshold quantity: 5%, available: 1.9%.", "evict.disk"),
    ("EvictionThresholdMet", "Attempting to reclaim inodes", "pressure.disk"),
])
def test_a_node_out_of_inodes_is_a_full_disk(reason: str, message: str, rule_id: str) -> None:
    # free bytes do not help a filesystem with no inode left: the kubelet reports DiskPressure for either
    rule = match_rule("event", reason, message)
    assert rule is not None and (rule.id, rule.kind, rule.blame) == (rule_id, "disk_full", "node")


@pytest.mark.parametrize("message", [
    # host-local IPAM (the node's pod CIDR used up)
    'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "4d3c": '
    'plugin type="bridge" failed (add): failed to allocate for range 0: no IP addresses available in range set: '
    "10.244.3.1-10.244.3.254",
    # Azure CNI
    'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "8e7f": '
    'plugin type="azure-vnet" failed (add): IPAM Invoker Add failed with error: Failed to allocate pool: Failed to '
    "delegate: Failed to allocate address: No available addresses",
    # Calico IPAM
    'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "0a9b": '
    'plugin type="calico" failed (add): failed to request 1 IPv4 addresses. IPAM allocated only 0',
    # Cilium
    'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "5c6d": '
    "plugin type=\"cilium-cni\" failed (add): unable to allocate IP via local cilium agent: [POST /ipam][502] "
    "postIpamFailure  range is full",
])
def test_each_cnis_words_for_no_address_left_are_the_nodes_ip_exhaustion(message: str) -> None:
    rule = match_rule("event", "FailedCreatePodSandBox", message)
    assert rule is not None and (rule.id, rule.kind, rule.blame) == ("sandbox.ip_exhausted", "resource_quota", "node")


def test_a_sandbox_failure_without_a_named_reason_is_not_read_as_ip_exhaustion() -> None:
    message = ('Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox '
               '"7c1e": plugin type="azure-vnet" failed (add): IPAM Invoker Add failed with error: Failed to get IP '
               'address from CNS: http request failed: Post "http://localhost:10090/network/requestipconfigs": dial '
               "tcp 127.0.0.1:10090: connect: connection refused")
    rule = match_rule("event", "FailedCreatePodSandBox", message)
    assert rule is not None and rule.id == "sandbox.default"


@pytest.mark.parametrize("message", [
    "Error syncing load balancer: failed to ensure load balancer: failed to create forwarding rule for load balancer "
    "(abc(web/gw)): googleapi: Error 403: QUOTA_EXCEEDED - Quota 'IN_USE_ADDRESSES' exceeded.  Limit: 4.0 in region "
    "us-east1., quotaExceeded",
    "Error syncing load balancer: failed to ensure load balancer: PublicIPCountLimitReached: Cannot create more than "
    "10 public IP addresses for this subscription in this region.",
])
def test_a_balancer_refused_for_a_cloud_quota_is_the_services_quota(message: str) -> None:
    rule = match_rule("event", "SyncLoadBalancerFailed", message)
    assert rule is not None and (rule.id, rule.kind) == ("service.lb_quota", "resource_quota")


def test_a_balancer_that_fails_for_another_reason_is_not_a_quota() -> None:
    message = "Error syncing load balancer: failed to ensure load balancer: could not find any suitable subnets"
    assert match_rule("event", "SyncLoadBalancerFailed", message) is None


@pytest.mark.parametrize(("reason", "message"), [
    # a Localhost profile the spec names that the node does not have: the runtime's words (containerd), not a
    # missing executable of the image, although they say "no such file or directory"
    ("Failed", 'Error: failed to generate container "4b1e" spec: failed to generate seccomp spec opts: cannot load '
     'seccomp profile "/var/lib/kubelet/seccomp/profiles/fx.json": open /var/lib/kubelet/seccomp/profiles/fx.json: '
     "no such file or directory"),
    ("Failed", "Error: failed to get container spec opts: failed to generate apparmor spec opts: apparmor profile "
     "not found k8s-apparmor-example-deny-write"),
    ("CreateContainerError", 'cannot load seccomp profile "/var/lib/kubelet/seccomp/audit.json"'),
])
def test_a_security_profile_missing_on_the_node_is_the_specs_security_settings(reason: str, message: str) -> None:
    on = "event" if reason == "Failed" else "waiting"
    rule = match_rule(on, reason, message, None)
    assert rule is not None and (rule.id, rule.kind) == ("config.security", "config_change")


def test_too_many_missed_runs_is_the_cronjobs_own_schedule_settings() -> None:
    rule = match_rule("event", "TooManyMissedTimes", "too many missed start times: 147. Set or decrease "
                      ".spec.startingDeadlineSeconds or check clock skew", None)
    assert rule is not None and (rule.id, rule.kind) == ("cronjob.missed", "config_change")


@pytest.mark.parametrize(("on", "reason"), [("event", "Failed"), ("terminated", "StartError"),
                                            ("waiting", "RunContainerError")])
def test_a_memory_limit_below_any_process_is_a_malformed_spec_not_a_new_image(on: str, reason: str) -> None:
    # runc's words when the container's first process cannot live in its cgroup (a limit of 768 bytes or 300m)
    message = ("failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create "
               "failed: unable to start container process: container init was OOM-killed (memory limit too low?): "
               "unknown")
    rule = match_rule(on, reason, message, 128 if on == "terminated" else None)
    assert rule is not None and (rule.id, rule.kind) == ("start.memory_limit_too_low", "config_change")


def test_a_provisioning_failure_without_a_cloud_refusal_is_the_claims_own() -> None:
    rule = match_rule("event", "ProvisioningFailed", 'failed to provision volume with StorageClass "gp3": rpc error: '
                      "code = ResourceExhausted desc = Could not create volume: VolumeLimitExceeded")
    assert rule is not None and (rule.id, rule.blame) == ("volume.provisioning", "workload")


def test_azures_authorization_refusal_is_the_provisioners_identity() -> None:
    message = ('failed to provision volume with StorageClass "managed-premium": rpc error: code = Internal desc = '
               'HTTPStatusCode: 403, RawError: {"error":{"code":"AuthorizationFailed","message":"The client \'6f1e\' '
               "does not have authorization to perform action 'Microsoft.Compute/disks/write' over scope "
               "'/subscriptions/x'\"}}")
    rule = match_rule("event", "ProvisioningFailed", message)
    assert rule is not None and (rule.id, rule.blame) == ("volume.provisioner_refused", "provisioner")


# the provisioner's identity refused as GCE's, Azure's and vSphere's drivers and their identity providers word it
PROVISIONER_REFUSALS = [
    'failed to provision volume with StorageClass "standard-rwo": rpc error: code = Internal desc = CreateVolume '
    "failed to create single zonal disk pvc-71c4: googleapi: Error 403: Required 'compute.disks.create' permission for "
    "'projects/p1/zones/us-east1-b/disks/pvc-71c4', forbidden",
    'failed to provision volume with StorageClass "premium": rpc error: code = PermissionDenied desc = caller lacks '
    "permission on the disk resource group",
    "failed to provision volume: retrieving token: AADSTS70021: No matching federated identity record found for "
    "presented assertion.",
    "failed to provision volume: metadata: Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it "
    "may not exist).",
    'failed to provision volume with StorageClass "vsan": rpc error: code = Internal desc = failed to create volume. '
    "Error: ServerFaultCode: NoPermission",
    "failed to provision volume: googleapi: Error 403: Request had insufficient authentication scopes.",
]


@pytest.mark.parametrize("message", PROVISIONER_REFUSALS)
def test_a_provisioner_refused_by_any_cloud_is_read_as_its_identity(message: str) -> None:
    rule = match_rule("event", "ProvisioningFailed", message)
    assert rule is not None and (rule.id, rule.kind, rule.blame) == ("volume.provisioner_refused", "config_change",
                                                                     "provisioner")


# a scaler's source refusing its credential, as other sources word it
SCALER_REFUSALS = [
    'error inspecting rabbitMQ: Exception (403) Reason: "ACCESS_REFUSED - Login was refused using authentication '
    'mechanism PLAIN"',
    "error getting queue length: InvalidClientTokenId: The security token included in the request is invalid.",
    "error getting metric: azure queue: AuthenticationFailed: Server failed to authenticate the request.",
    "error inspecting prometheus metrics: prometheus query api returned error. status: 401 response: Unauthorized",
    "error getting subscription size: rpc error: code = PermissionDenied desc = The caller does not have permission",
]


@pytest.mark.parametrize("message", SCALER_REFUSALS)
def test_a_scaler_refused_by_any_source_is_its_workloads_setting(message: str) -> None:
    rule = match_rule("event", "KEDAScalerFailed", message)
    assert rule is not None and (rule.id, rule.kind) == ("hpa.trigger_auth_refused", "config_change")


@pytest.mark.parametrize(("on", "reason", "message", "rule_id"), [
    # a Windows image for another Windows version than the node's, as the waiting state says it
    ("waiting", "CreateContainerError", "hcs::CreateComputeSystem abc: The container operating system does not match "
     "the host operating system.", "start.windows_os_mismatch"),
    # nodes the autoscaler will not or cannot add: a ceiling, or the cloud out of the instance type (AWS, GCE)
    ("event", "NotTriggerScaleUp", "pod didn't trigger scale-up: 1 max node group size reached", "scale.nodes_refused"),
    ("event", "FailedToScaleUpGroup", "Scale-up failed for group eks-g5-7cc4: Could not launch On-Demand Instances. "
     "InsufficientInstanceCapacity - We currently do not have sufficient g5.2xlarge capacity in the Availability Zone "
     "you requested (us-east-1c).", "scale.nodes_refused"),
    ("event", "NotTriggerScaleUp", "pod didn't trigger scale-up: 1 in backoff after failed scale-up "
     "(ZONE_RESOURCE_POOL_EXHAUSTED)", "scale.nodes_refused"),
])
def test_node_platform_and_capacity_variants_read_as_their_row(on: str, reason: str, message: str,
                                                                rule_id: str) -> None:
    rule = match_rule(on, reason, message, None)
    assert rule is not None and rule.id == rule_id


@pytest.mark.parametrize(("on", "reason", "message", "rule_id"), [
    # containerd, CRI-O and a runtime that names the handler it does not know
    ("event", "FailedCreatePodSandBox", "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to get "
     'sandbox runtime: no runtime for "kata" is configured', "sandbox.runtime_handler_missing"),
    ("event", "FailedCreatePodSandBox", "Failed to create pod sandbox: rpc error: code = Unknown desc = error finding "
     "runtime handler: failed to find runtime handler runsc from runtime list map[crun:0xc000 runc:0xc001]",
     "sandbox.runtime_handler_missing"),
    # the pod admitted with a RuntimeClass the cluster does not define
    ("event", "FailedCreate", 'Error creating: pods "x-" is forbidden: pod rejected: RuntimeClass "gvisor" not found',
     "create.runtimeclass_missing"),
    # the kubelet's admission: the pod's status (a listing's STATUS column) and its event
    ("waiting", "SysctlForbidden", 'Pod was rejected: forbidden sysctl: "net.ipv4.tcp_tw_reuse" not allowlisted',
     "admit.sysctl_forbidden"),
])
def test_a_runtime_or_sysctl_the_node_does_not_offer_is_the_pods_own_spec(on: str, reason: str, message: str,
                                                                            rule_id: str) -> None:
    rule = match_rule(on, reason, message, None)
    assert rule is not None and (rule.id, rule.kind, rule.blame) == (rule_id, "config_change", "workload")


def test_a_sandbox_failure_of_the_cni_is_still_the_nodes() -> None:
    rule = match_rule("event", "FailedCreatePodSandBox", "Failed to create pod sandbox: rpc error: code = Unknown desc "
                      "= failed to setup network for sandbox: plugin type=\"calico\" failed (add): stat "
                      "/var/lib/calico/nodename: no such file or directory", None)
    assert rule is not None and (rule.id, rule.kind, rule.blame) == ("sandbox.default", "node_failure", "node")


@pytest.mark.parametrize("message", [
    'Error creating: pods "api-7d9c6b5f4c-8xk2p" is forbidden: ValidatingAdmissionPolicy \'allowed-image-registries\' '
    "with binding 'allowed-image-registries-prod' denied request: images must be pulled from registry.corp.internal",
    'Error creating: pods "sync-29068185-" is forbidden: ValidatingAdmissionPolicy \'require-memory-limits\' with '
    "binding 'require-memory-limits-workloads' denied request: failed expression: object.spec.containers.all(c, "
    "has(c.resources.limits))",
])
def test_an_in_process_admission_policy_refusal_is_the_workloads_spec(message: str) -> None:
    rule = match_rule("event", "FailedCreate", message, None)
    assert rule is not None and (rule.id, rule.kind, rule.blame) == ("create.policy", "config_change", "workload")
