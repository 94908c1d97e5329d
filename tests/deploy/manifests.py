"""Shared helpers of the deployment tests: render the Kustomize overlays, read the Compose file, and check
that the commands and environment variables the deployment files use exist in Sherlog itself."""

from __future__ import annotations

import shutil
import subprocess
import typing
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, SecretStr
from typer.testing import CliRunner

from bot.cli.main import app
from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = ("single", "production")

# Commands used by the deployment files that arrive with branch `durable` (issue 18's process roles). They
# are allowed to be missing from the CLI until then; test_pending_commands_are_still_missing fails once one
# exists, so that the entry is removed and the command is checked like the others.
PENDING_COMMANDS: dict[tuple[str, ...], str] = {}


@cache
def render(overlay: str) -> tuple[dict[str, Any], ...]:
    """The objects ``kubectl kustomize deploy/k8s/overlays/<overlay>`` prints."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise RuntimeError("kubectl is not installed (it renders the Kustomize overlays)")
    out = subprocess.run([kubectl, "kustomize", str(DEPLOY / "k8s" / "overlays" / overlay)],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    return tuple(doc for doc in yaml.safe_load_all(out) if doc)


def objects(overlay: str, kind: str) -> list[dict[str, Any]]:
    return [o for o in render(overlay) if o["kind"] == kind]


def one(overlay: str, kind: str, name: str) -> dict[str, Any]:
    found = [o for o in objects(overlay, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"{overlay}: expected one {kind} {name}, found {len(found)}"
    return found[0]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return data


def cli_exit_code(args: list[str]) -> int:
    """Exit code of ``sherlog <args> --help``: 0 when the command and every option name exist."""
    return CliRunner().invoke(app, [*args, "--help"]).exit_code


def command_status(args: list[str]) -> str:
    """'ok' when the command line exists in the CLI, 'pending' when it is a known command of branch durable,
    else a message naming what is missing."""
    if cli_exit_code(args) == 0:
        return "ok"
    for prefix in PENDING_COMMANDS:
        if args[:1] == list(prefix[:1]) and set(prefix[1:]) <= set(args):
            return "pending"
    return f"`sherlog {' '.join(args)}` is not a sherlog command line (sherlog ... --help fails)"


def _model(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or SecretStr in typing.get_args(annotation)


def setting_env_vars() -> dict[str, bool]:
    """Every ``SHERLOG__SECTION__KEY`` the settings accept, mapped to whether it holds a secret."""
    out: dict[str, bool] = {}
    for name, field in Settings.model_fields.items():
        section = _model(field.annotation)
        if section is None:
            out[f"SHERLOG__{name.upper()}"] = False
            continue
        for key, sub in section.model_fields.items():
            out[f"SHERLOG__{name.upper()}__{key.upper()}"] = _is_secret(sub.annotation)
    return out


def secret_env_vars() -> set[str]:
    """The settings that hold a secret, plus the database URL (it carries the database password)."""
    return {k for k, secret in setting_env_vars().items() if secret} | {"SHERLOG__STORAGE__URL"}
