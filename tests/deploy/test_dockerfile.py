"""The Dockerfile, tested the way CI can without a Docker engine: its instructions are parsed and checked
against the repository and the Makefile, and its build step (``pip install .`` of exactly the COPYed files)
is run for real into a throwaway target, which must then migrate a database and answer the image's CMD."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.api.routes_core import router as core_router
from tests.deploy.manifests import ROOT, command_status, one, pod_spec

PACKAGES = ("bot", "retrieval", "detectors", "connectors", "prompts", "config")


@dataclass(frozen=True)
class Instruction:
    stage: int
    keyword: str
    value: str


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped, numbered by build stage."""
    out: list[Instruction] = []
    stage, pending = -1, ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, value = line.partition(" ")
        keyword = keyword.upper()
        stage += keyword == "FROM"
        out.append(Instruction(stage, keyword, value.strip()))
    return out


def _dockerfile() -> list[Instruction]:
    return parse_dockerfile((ROOT / "Dockerfile").read_text(encoding="utf-8"))


def _last(keyword: str) -> Instruction:
    return [i for i in _dockerfile() if i.keyword == keyword][-1]


def _exec_form(value: str) -> list[str]:
    assert value.startswith("["), f"use the exec form: {value}"
    import json

    items: list[str] = json.loads(value)
    return items


def _copies() -> list[list[str]]:
    """Sources and destination of each COPY from the build context (not --from another stage)."""
    return [shlex.split(i.value) for i in _dockerfile() if i.keyword == "COPY" and "--from" not in i.value]


def _pip_installs(commands: list[str]) -> list[str]:
    return [c.strip() for cmd in commands for c in re.split(r"&&|;", cmd) if re.search(r"\bpip install\b", c)]


def _steps(commands: list[str]) -> list[str]:
    """What each pip install installs: 'torch', 'project' (the checkout itself, `.` or `.[extras]`) or 'other'."""
    out = []
    for command in commands:
        tokens = shlex.split(command)
        if any(t.startswith("torch==") for t in tokens):
            out.append("torch")
        elif any(t == "." or t.startswith(".[") for t in tokens):
            out.append("project")
        else:
            out.append("other")
    return out


def _makefile_pins() -> dict[str, str]:
    return dict(re.findall(r"^([A-Z_]+) \?= (.+)$", (ROOT / "Makefile").read_text(), flags=re.M))


def test_copy_sources_exist_and_cover_the_package() -> None:
    copied: set[str] = set()
    for parts in _copies():
        sources = parts[:-1]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY source {source} is not in the repository"
            copied.add(source.rstrip("/"))
    assert {"pyproject.toml", "README.md", *PACKAGES} <= copied


def test_install_steps_match_the_makefile() -> None:
    build_runs = [i.value for i in _dockerfile() if i.keyword == "RUN" and i.stage == 0]
    docker = _pip_installs(build_runs)
    make_lines = re.findall(r"^\t\$\(PIP\) (install .+)$", (ROOT / "Makefile").read_text(), flags=re.M)
    make = [m for m in _pip_installs([f"pip {line}" for line in make_lines]) if "--upgrade pip" not in m]
    # torch first (its CPU build, so sentence-transformers does not pull the CUDA one), then the package
    assert _steps(docker) == _steps(make) == ["torch", "project"]
    version = _makefile_pins()["TORCH_VERSION"]
    assert f"torch=={version}" in docker[0] and "torch==$(TORCH_VERSION)" in make[0]
    assert "--index-url" in docker[0] and "cpu" in next(i.value for i in _dockerfile() if i.value.startswith("TORCH_INDEX"))


def test_runtime_stage_is_non_root_offline_and_healthchecked() -> None:
    runtime = [i for i in _dockerfile() if i.stage == max(i.stage for i in _dockerfile())]
    env = " ".join(i.value for i in runtime if i.keyword == "ENV")
    for setting in ("HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1", "SHERLOG__DATA_DIR=/data"):
        assert setting in env
    user = _last("USER").value
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0, "a numeric, non-root USER (Kubernetes runAsNonRoot checks it)"
    useradd = next(i.value for i in runtime if "useradd" in i.value)
    assert f"--uid {uid}" in useradd and (not gid or f"--gid {gid}" in useradd)
    pod = pod_spec(one("production", "Deployment", "sherlog-api"))["securityContext"]
    assert pod["runAsUser"] == int(uid) and (not gid or pod["runAsGroup"] == int(gid))
    port = _last("EXPOSE").value
    healthcheck = _last("HEALTHCHECK").value
    assert f"http://127.0.0.1:{port}/healthz" in healthcheck and "/healthz" in {r.path for r in core_router.routes}
    entrypoint, cmd = _exec_form(_last("ENTRYPOINT").value), _exec_form(_last("CMD").value)
    assert entrypoint == ["sherlog"]
    assert command_status(cmd) == "ok"
    assert cmd[cmd.index("--port") + 1] == port and cmd[cmd.index("--host") + 1] == "0.0.0.0"
    venv = next(i.value.split()[-1] for i in _dockerfile() if "python -m venv" in i.value)
    assert any(f"--from=build {venv}" in i.value for i in runtime if i.keyword == "COPY")
    assert f"PATH={venv}/bin" in env


def test_the_build_check_of_the_embedding_model_passes() -> None:
    build_runs = [i.value for i in _dockerfile() if i.keyword == "RUN" and i.stage == 0]
    check = next(c.strip() for run in build_runs for c in run.split("&&") if c.strip().startswith("python -c"))
    args = shlex.split(check)
    result = subprocess.run([sys.executable, *args[1:]], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
@pytest.mark.timeout(900)  # two pip installs (300 s bound each) and the served image's checks
def test_the_copied_files_build_a_package_that_migrates_and_serves(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    for parts in _copies():
        for source in parts[:-1]:
            src = ROOT / source
            if src.is_dir():
                shutil.copytree(src, context / source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(src, context / source)
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(context)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("sherlog-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert re.search(r"^sherlog = bot\.cli\.main:app$", entry_points, flags=re.M)
    tracked = subprocess.run(["git", "ls-files", *PACKAGES], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    missing = [f for f in tracked if f not in names]
    assert not missing, f"files of the repository the image would lack: {missing}"

    target = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "SHERLOG__DATA_DIR": str(tmp_path / "data"), "SHERLOG__STORAGE__URL": ""}
    env.pop("SHERLOG_CONFIG", None)

    def sherlog(*args: str) -> subprocess.CompletedProcess[str]:
        code = "import sys; from bot.cli.main import app; import bot; print(bot.__file__, file=sys.stderr); app()"
        return subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)

    migrated = sherlog("migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert str(target) in migrated.stderr.splitlines()[0], "the installed package, not the repository, ran"
    assert sherlog("migrate", "--check").returncode == 0
    cmd = _exec_form(_last("CMD").value)
    served = sherlog(*cmd, "--help")
    assert served.returncode == 0 and "Run the HTTP API" in served.stdout
