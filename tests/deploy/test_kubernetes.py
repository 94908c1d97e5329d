"""deploy/k8s: every overlay renders with ``kubectl kustomize``, every object is valid against the Kubernetes
JSON schemas (offline, kubernetes-validate), and the properties a cluster operator relies on hold."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
import yaml

from bot.api.routes_core import router as core_router
from config.settings import load_settings
from tests.deploy.manifests import (
    OVERLAYS,
    PENDING_COMMANDS,
    cli_exit_code,
    command_status,
    objects,
    one,
    pod_spec,
    render,
    secret_env_vars,
    setting_env_vars,
)

# The oldest Kubernetes minor still maintained upstream when this was written, and the newest schema shipped.
KUBERNETES_VERSIONS = ("1.30", kubernetes_validate.latest_version())
READ_VERBS = {"get", "list", "watch"}
# (apiGroup, resource): what the Kubernetes evidence collector reads (docs/integrations.md).
EVIDENCE_RESOURCES = [
    ("", "pods"), ("", "pods/log"), ("", "events"),
    ("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets"), ("apps", "daemonsets"),
    ("batch", "jobs"), ("batch", "cronjobs"),
]
WORKLOAD_KINDS = {"Deployment", "Job"}
ROLE_ARGS = {"sherlog-api": "serve", "sherlog-worker": "worker", "sherlog-scheduler": "scheduler"}


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(obj)
    return [*spec.get("initContainers", []), *spec["containers"]]


def _all_containers(overlay: str) -> list[tuple[str, dict[str, Any]]]:
    return [(o["metadata"]["name"], c) for o in render(overlay) if o["kind"] in WORKLOAD_KINDS for c in _containers(o)]


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def _config(overlay: str) -> dict[str, Any]:
    (cm,) = objects(overlay, "ConfigMap")
    data: dict[str, Any] = yaml.safe_load(cm["data"]["sherlog.yaml"])
    return data


def _route_paths() -> set[str]:
    return {getattr(r, "path", "") for r in core_router.routes}


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_against_the_kubernetes_schema(overlay: str, version: str) -> None:
    rendered = render(overlay)
    assert len(rendered) >= 8
    for obj in rendered:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            pytest.fail(f"{overlay}: {obj['kind']}/{obj['metadata']['name']} invalid for {version}: {e.message}")


def test_the_schema_validation_rejects_a_broken_object() -> None:
    deployment = one("production", "Deployment", "sherlog-api")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pathh"] = "/healthz"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_value_is_committed(overlay: str) -> None:
    assert objects(overlay, "Secret") == []
    refs = [e for _, c in _all_containers(overlay) for e in c.get("env", []) if "valueFrom" in e]
    assert refs, "the manifests should reference the operator's Secret"
    for ref in refs:
        assert set(ref["valueFrom"]) == {"secretKeyRef"}, ref
        assert ref["valueFrom"]["secretKeyRef"]["name"] == "sherlog"
    for _, container in _all_containers(overlay):
        for name, entry in _env(container).items():
            if name in secret_env_vars():
                assert "value" not in entry, f"{name} must come from the Secret, not a literal value"


def test_every_secret_setting_can_come_from_the_secret() -> None:
    env = _env(one("production", "Deployment", "sherlog-api")["spec"]["template"]["spec"]["containers"][0])
    from_secret = {name for name, e in env.items() if "secretKeyRef" in e.get("valueFrom", {})}
    assert secret_env_vars() <= from_secret, f"secrets with no Secret reference: {secret_env_vars() - from_secret}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_sherlog_env_var_is_a_real_setting(overlay: str) -> None:
    known = setting_env_vars()
    for workload, container in _all_containers(overlay):
        for name in _env(container):
            if name.startswith("SHERLOG__"):
                assert name in known, f"{workload}: {name} is no Sherlog setting"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_config_map_is_a_valid_sherlog_config(overlay: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "sherlog.yaml"
    path.write_text(yaml.safe_dump(_config(overlay)))
    settings = load_settings(path)
    assert str(settings.data_dir) == "/data"
    assert settings.kubernetes.enabled and settings.kubernetes.kubeconfig is None  # the pod's service account
    assert settings.auth.open_on_loopback is False
    config = _config(overlay)
    for var in secret_env_vars():  # no secret in the ConfigMap: every one comes from the Secret
        section, key = var.removeprefix("SHERLOG__").lower().split("__")
        assert (config.get(section) or {}).get(key) is None, f"{section}.{key} must not be in the ConfigMap"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_is_locked_down_and_sized(overlay: str) -> None:
    for workload in (o for o in render(overlay) if o["kind"] in WORKLOAD_KINDS):
        spec = pod_spec(workload)
        pod_sc = spec["securityContext"]
        assert pod_sc["runAsNonRoot"] is True and pod_sc["runAsUser"] == 10001
        assert pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}
        mounts_by_volume = {v["name"]: v for v in spec["volumes"]}
        for container in _containers(workload):
            where = f"{overlay}: {workload['metadata']['name']}/{container['name']}"
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            for part in ("requests", "limits"):
                assert set(container["resources"][part]) >= {"cpu", "memory"}, where
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert {"/data", "/tmp"} <= set(mounts), f"{where}: the writable dirs must be volumes"
            assert all(name in mounts_by_volume for name in mounts.values()), where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_long_running_containers_have_probes(overlay: str) -> None:
    paths = _route_paths()
    assert {"/healthz", "/readyz"} <= paths  # the API really answers both
    for deployment in objects(overlay, "Deployment"):
        for container in pod_spec(deployment)["containers"]:
            assert "livenessProbe" in container and "readinessProbe" in container, deployment["metadata"]["name"]
    api = pod_spec(one(overlay, "Deployment", "sherlog-api"))["containers"][0]
    port_names = {p["name"]: p["containerPort"] for p in api["ports"]}
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["startupProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert api[probe]["httpGet"]["port"] in port_names
    assert "--port" in api["args"] and api["args"][api["args"].index("--port") + 1] == str(port_names["http"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_image_and_tag_everywhere(overlay: str) -> None:
    images = {c["image"] for _, c in _all_containers(overlay)}
    assert len(images) == 1, images
    (image,) = images
    name, _, tag = image.rpartition(":")
    assert name and tag and tag != "latest" and "/" not in tag


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_command_is_a_sherlog_command(overlay: str) -> None:
    seen = []
    for workload, container in _all_containers(overlay):
        assert container["command"] == ["sherlog"], workload
        status = command_status(container["args"])
        assert status in {"ok", "pending"}, f"{workload}/{container['name']}: {status}"
        seen.append(container["args"][0])
        for probe in ("livenessProbe", "readinessProbe"):
            exec_cmd = container.get(probe, {}).get("exec", {}).get("command")
            if exec_cmd:
                assert exec_cmd[0] == "sherlog" and cli_exit_code(exec_cmd[1:]) == 0, exec_cmd
    assert "serve" in seen


def test_the_role_commands_the_manifests_run_exist() -> None:
    """The scheduler role and the all-in-one serve of the single-pod overlay are real command lines."""
    assert not PENDING_COMMANDS
    for args in (["scheduler"], ["serve", "--all"], ["serve", "--api"], ["worker"]):
        assert cli_exit_code(args) == 0, args


def test_production_roles_replicas_and_scaling() -> None:
    for name, role in ROLE_ARGS.items():
        deployment = one("production", "Deployment", name)
        assert pod_spec(deployment)["containers"][0]["args"][0] == role
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert one("production", "Deployment", "sherlog-api")["spec"]["replicas"] >= 2
    scheduler = one("production", "Deployment", "sherlog-scheduler")
    assert scheduler["spec"]["replicas"] == 1 and scheduler["spec"]["strategy"]["type"] == "Recreate"
    worker = one("production", "Deployment", "sherlog-worker")
    assert "replicas" not in worker["spec"], "the HPA owns the worker count"
    hpa = one("production", "HorizontalPodAutoscaler", "sherlog-worker")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "sherlog-worker"}
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    worker_cpu = pod_spec(worker)["containers"][0]["resources"]["requests"]["cpu"]
    assert worker_cpu, "CPU utilisation needs a CPU request"


def test_production_service_ingress_and_disruption_budget_reach_the_api() -> None:
    api_labels = one("production", "Deployment", "sherlog-api")["spec"]["template"]["metadata"]["labels"]
    service = one("production", "Service", "sherlog-api")
    assert service["spec"]["selector"].items() <= api_labels.items()
    api_ports = {p["name"] for p in pod_spec(one("production", "Deployment", "sherlog-api"))["containers"][0]["ports"]}
    assert all(p["targetPort"] in api_ports for p in service["spec"]["ports"])
    pdb = one("production", "PodDisruptionBudget", "sherlog-api")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= api_labels.items()
    assert pdb["spec"]["minAvailable"] < one("production", "Deployment", "sherlog-api")["spec"]["replicas"]
    (ingress,) = objects("production", "Ingress")
    (rule,) = ingress["spec"]["rules"]
    assert ingress["spec"]["tls"] == [{"hosts": [rule["host"]], "secretName": "sherlog-tls"}]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "sherlog-api"
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}


def test_production_migrations_run_once_before_the_roles() -> None:
    job = one("production", "Job", "sherlog-migrate")
    (container,) = pod_spec(job)["containers"]
    assert container["args"] == ["migrate"]
    assert pod_spec(job)["restartPolicy"] in {"OnFailure", "Never"}
    db_url = _env(container)["SHERLOG__STORAGE__URL"]
    for name in ROLE_ARGS:
        spec = pod_spec(one("production", "Deployment", name))
        (init,) = spec["initContainers"]
        assert init["args"][:2] == ["migrate", "--wait"] and float(init["args"][2]) > 0
        assert _env(init)["SHERLOG__STORAGE__URL"] == db_url  # waits on the database the Job migrates
        assert _env(spec["containers"][0])["SHERLOG__STORAGE__URL"] == db_url
    rabbit = _env(pod_spec(one("production", "Deployment", "sherlog-worker"))["containers"][0])["SHERLOG__RABBITMQ__URL"]
    assert rabbit["valueFrom"]["secretKeyRef"]["optional"] is False
    assert _config("production")["retrieval"]["backend"] == "http"  # one Chroma server for every replica


def test_single_is_one_process_on_a_persistent_volume() -> None:
    (deployment,) = objects("single", "Deployment")
    spec = pod_spec(deployment)
    container = spec["containers"][0]
    assert container["args"][:2] == ["serve", "--all"]
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    assert "initContainers" not in spec and objects("single", "Job") == []
    assert objects("single", "HorizontalPodAutoscaler") == [] and objects("single", "PodDisruptionBudget") == []
    assert "SHERLOG__STORAGE__URL" not in _env(container)  # SQLite under the data dir
    data = next(v for v in spec["volumes"] if v["name"] == "data")
    (pvc,) = objects("single", "PersistentVolumeClaim")
    assert data == {"name": "data", "persistentVolumeClaim": {"claimName": pvc["metadata"]["name"]}}
    config = _config("single")
    assert config["retrieval"]["backend"] == "embedded" and config["storage"]["url"] is None


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rbac_is_read_only_and_covers_the_evidence(overlay: str) -> None:
    roles = objects(overlay, "Role") + objects(overlay, "ClusterRole")
    assert roles
    for role in roles:
        for rule in role["rules"]:
            assert set(rule["verbs"]) <= READ_VERBS, (role["metadata"]["name"], rule)
            assert "*" not in rule["resources"] and "*" not in rule.get("apiGroups", [])
            assert "secrets" not in rule["resources"]

    def granted(role: dict[str, Any]) -> set[tuple[str, str]]:
        return {(g, r) for rule in role["rules"] if {"get", "list"} <= set(rule["verbs"])
                for g in rule["apiGroups"] for r in rule["resources"]}

    assert set(EVIDENCE_RESOURCES) <= granted(one(overlay, "Role", "sherlog-evidence"))
    assert set(EVIDENCE_RESOURCES) <= granted(one(overlay, "ClusterRole", "sherlog-evidence-reader"))
    assert ("", "nodes") in granted(one(overlay, "ClusterRole", "sherlog-node-reader"))
    (account,) = objects(overlay, "ServiceAccount")
    namespace = account["metadata"]["namespace"]
    for binding in objects(overlay, "RoleBinding") + objects(overlay, "ClusterRoleBinding"):
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account["metadata"]["name"],
                                        "namespace": namespace}]
    bound = {(b["roleRef"]["kind"], b["roleRef"]["name"]) for b in
             objects(overlay, "RoleBinding") + objects(overlay, "ClusterRoleBinding")}
    assert bound == {("Role", "sherlog-evidence"), ("ClusterRole", "sherlog-node-reader")}
    for deployment in objects(overlay, "Deployment"):
        assert pod_spec(deployment)["serviceAccountName"] == account["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_recommended_labels_everywhere(overlay: str) -> None:
    for obj in render(overlay):
        labels = obj["metadata"].get("labels", {})
        assert labels.get("app.kubernetes.io/name") == "sherlog", (obj["kind"], obj["metadata"]["name"])
        assert labels.get("app.kubernetes.io/part-of") == "sherlog"
        if obj["kind"] in WORKLOAD_KINDS:
            template = obj["spec"]["template"]["metadata"]["labels"]
            assert template["app.kubernetes.io/component"] == labels["app.kubernetes.io/component"]
            assert template["app.kubernetes.io/name"] == "sherlog"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_lands_in_one_namespace(overlay: str) -> None:
    cluster_scoped = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
    (namespace,) = objects(overlay, "Namespace")
    for obj in render(overlay):
        if obj["kind"] not in cluster_scoped:
            assert obj["metadata"].get("namespace") == namespace["metadata"]["name"], (obj["kind"], obj["metadata"])
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
