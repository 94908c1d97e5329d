"""deploy/compose.yaml: valid against the Compose specification's JSON schema (offline), startup order by
health, no secret in the file, every Sherlog command real, and Alertmanager posting to Sherlog's webhook."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.api.routes_core import router as core_router
from config.settings import load_settings
from connectors.alerts import alert_sources
from tests.deploy.manifests import DEPLOY, command_status, compose, secret_env_vars, setting_env_vars

SHERLOG_ROLES = ("api", "worker", "scheduler")
ONE_SHOT = ("migrate",)
THIRD_PARTY = ("postgres", "rabbitmq", "chroma", "prometheus", "alertmanager")
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


def _schema() -> dict[str, Any]:
    text = (resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _validator() -> jsonschema.protocols.Validator:
    schema = _schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _sherlog_services() -> dict[str, dict[str, Any]]:
    services = compose()["services"]
    return {name: services[name] for name in (*SHERLOG_ROLES, *ONE_SHOT)}


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    errors = sorted(_validator().iter_errors(compose()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_compose_schema_rejects_a_broken_file() -> None:
    broken = compose()
    broken["services"]["api"]["depends_on"]["postgres"]["condition"] = "service_happy"
    broken["services"]["worker"]["healthcheck"] = {"test": ["CMD", "true"], "intervall": "5s"}
    assert len(list(_validator().iter_errors(broken))) >= 2


def test_the_stack_has_every_part() -> None:
    services = compose()["services"]
    assert set(services) == {*SHERLOG_ROLES, *ONE_SHOT, *THIRD_PARTY}
    for name in (*SHERLOG_ROLES, *THIRD_PARTY):
        assert "healthcheck" in services[name], f"{name} has no healthcheck"
    assert services["migrate"]["restart"] == "no"


def test_startup_order_waits_on_health_and_migrations() -> None:
    services = compose()["services"]
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}'s health, which has no check"
            elif condition == "service_completed_successfully":
                assert target in ONE_SHOT
            else:
                pytest.fail(f"{name} -> {target}: {condition} does not wait for readiness")
    for role in SHERLOG_ROLES:
        needs = services[role]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert {"postgres", "rabbitmq", "chroma"} <= set(needs)
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_sherlog_service_runs_a_real_command() -> None:
    for name, service in _sherlog_services().items():
        assert service["image"].startswith("sherlog:")
        assert service["build"] == {"context": "..", "dockerfile": "Dockerfile"}
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
        status = command_status(service["command"])
        assert status in {"ok", "pending"}, f"{name}: {status}"
        check = service.get("healthcheck", {}).get("test", [])
        if check[:2] == ["CMD", "sherlog"]:
            assert command_status(check[2:]) == "ok", check
    assert _sherlog_services()["migrate"]["command"] == ["migrate"]
    api = _sherlog_services()["api"]
    assert "/readyz" in api["healthcheck"]["test"][-1] and "/readyz" in {r.path for r in core_router.routes}


def test_sherlog_services_are_locked_down_and_share_one_configuration() -> None:
    services = list(_sherlog_services().values())
    for service in services:
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in service["security_opt"]
        assert "/tmp" in service["tmpfs"]
        targets = {v.split(":")[1] for v in service["volumes"]}
        assert {"/data", "/etc/sherlog/sherlog.yaml"} <= targets
    assert all(s["environment"] == services[0]["environment"] for s in services)


def test_no_secret_in_the_compose_files() -> None:
    env: dict[str, str] = _sherlog_services()["api"]["environment"]
    known = setting_env_vars()
    for name, value in env.items():
        if name.startswith("SHERLOG__"):
            assert name in known, f"{name} is no Sherlog setting"
        if name in secret_env_vars():
            assert INTERPOLATION.search(value), f"{name} must come from deploy/.env, not the file"
            if "://" in value:  # URLs: the password part is interpolated
                userinfo = value.split("://", 1)[1].split("@", 1)[0]
                assert ":" not in userinfo or INTERPOLATION.search(userinfo), name
    for service in compose()["services"].values():
        for name, value in (service.get("environment") or {}).items():
            if re.search(r"PASS|TOKEN|SECRET|KEY", name):
                assert INTERPOLATION.fullmatch(str(value)), f"{name} holds a literal value"


def test_env_example_lists_every_variable_and_holds_no_secret() -> None:
    example = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            example[key.strip()] = value.strip()
    used = set(INTERPOLATION.findall((DEPLOY / "compose.yaml").read_text()))
    assert used == set(example), f"missing: {used - set(example)}; unused: {set(example) - used}"
    for key, value in example.items():
        if re.search(r"PASS|TOKEN|SECRET|KEY", key):
            assert value == "", f"{key} must be empty in the example"
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", (DEPLOY / "compose.yaml").read_text()))
    assert {"POSTGRES_PASSWORD", "RABBITMQ_PASSWORD", "SHERLOG_INTAKE_TOKEN", "SHERLOG_ADMIN_TOKEN"} <= required


def test_named_volumes_are_declared() -> None:
    data = compose()
    declared = set(data["volumes"])
    used = set()
    for service in data["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                used.add(source)
            else:
                assert (DEPLOY / source).exists(), f"bind mount {source} is missing"
    assert used == declared


def test_sherlog_config_of_the_stack_is_valid(tmp_path: Path) -> None:
    settings = load_settings(DEPLOY / "compose" / "sherlog.yaml")
    assert settings.retrieval.backend == "http" and settings.retrieval.chroma_host == "chroma"
    assert settings.prometheus.url == "http://prometheus:9090"
    assert settings.auth.open_on_loopback is False


def test_alertmanager_posts_to_sherlogs_webhook_with_the_intake_token() -> None:
    config = yaml.safe_load((DEPLOY / "compose" / "alertmanager.yml").read_text())
    receivers = {r["name"]: r for r in config["receivers"]}
    (hook,) = receivers[config["route"]["receiver"]]["webhook_configs"]
    url = hook["url"]
    assert url.startswith("http://api:8080/")
    prefix, _, source = ("/" + url.split("/", 3)[3]).rpartition("/")
    assert f"{prefix}/{{source}}" in {r.path for r in core_router.routes} and source in alert_sources()
    alertmanager = compose()["services"]["alertmanager"]
    (secret,) = alertmanager["secrets"]
    assert hook["http_config"]["authorization"]["credentials_file"] == f"/run/secrets/{secret['target']}"
    assert compose()["secrets"][secret["source"]] == {"environment": "SHERLOG_INTAKE_TOKEN"}
    assert _sherlog_services()["api"]["environment"]["SHERLOG__INTAKE__TOKEN"].startswith("${SHERLOG_INTAKE_TOKEN")
    assert compose()["services"]["prometheus"]["volumes"][0].startswith("./compose/prometheus.yml")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (.ci/run installs the prometheus and prometheus-alertmanager packages)")
    return path


@pytest.mark.integration
def test_prometheus_and_alertmanager_accept_their_configs(tmp_path: Path) -> None:
    compose_dir = DEPLOY / "compose"
    rules = tmp_path / "alert-rules.yml"
    rules.write_text((compose_dir / "alert-rules.yml").read_text())
    prometheus = (compose_dir / "prometheus.yml").read_text().replace("/etc/prometheus/alert-rules.yml", str(rules))
    (tmp_path / "prometheus.yml").write_text(prometheus)
    for args in ([_tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml")],
                 [_tool("amtool"), "check-config", str(compose_dir / "alertmanager.yml")]):
        result = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SUCCESS" in result.stdout + result.stderr


def test_the_chroma_server_matches_the_client() -> None:
    from importlib.metadata import version

    tag = compose()["services"]["chroma"]["image"].rpartition(":")[2]
    client = version("chromadb")
    assert tag.split(".")[:2] == client.split(".")[:2], f"chromadb client {client}, server image {tag}: bump both"


def test_the_filled_in_env_file_is_never_committed() -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", str(DEPLOY / ".env")], cwd=DEPLOY, timeout=30)
    assert ignored.returncode == 0, "deploy/.env must be in .gitignore"
