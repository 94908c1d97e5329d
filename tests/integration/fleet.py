"""Real Sherlog processes for the crash and scale-out tests: one role each (``serve --all``, ``serve --api``,
``worker``, ``scheduler``), started, SIGKILLed and restarted, over the settings of ``sherlog_env``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.fakes.slack_api import SlackAPI
from tests.processes import free_port, wait_http

ROOT = Path(__file__).resolve().parents[2]


def sherlog_env(tmp_path: Path, storage: dict[str, str], slack: SlackAPI) -> dict[str, str]:
    """Settings for every process of one run: its own data dir and database (``storage``), the Slack Web API
    stand-in, and short leases and polls so that a killed process' work is taken over within seconds."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "SHERLOG__DATA_DIR": str(tmp_path / "data"), "SHERLOG__RETRIEVAL__BACKEND": "memory",
           "SHERLOG__SLACK__ENABLED": "true", "SHERLOG__SLACK__BOT_TOKEN": "xoxb-test-token",
           "SHERLOG__SLACK__SIGNING_SECRET": "s" * 32, "SHERLOG__SLACK__API_URL": slack.api_url,
           "SHERLOG__SLACK__INCIDENT_CHANNEL": "C0INCIDENTS", "SHERLOG__SLACK__TIMEOUT_S": "1",
           "SHERLOG__SLACK__POST_LEASE_S": "20", "SHERLOG__SLACK__RETRY_INTERVAL_S": "1",
           "SHERLOG__SLACK__RETRY_BACKOFF_S": "0.5",
           "SHERLOG__ANALYSIS__LEASE_S": "3", "SHERLOG__ANALYSIS__POLL_INTERVAL_S": "0.2",
           "SHERLOG__OUTBOX__LEASE_S": "3", "SHERLOG__OUTBOX__POLL_INTERVAL_S": "0.2", **storage}
    env.pop("SHERLOG_CONFIG", None)
    return env


class SherlogProcess:
    """``python -m bot.cli.main <args>``; a ``serve`` process gets a port and counts as started when
    ``/readyz`` answers, the others as soon as they run."""

    def __init__(self, env: dict[str, str], log: Path, args: tuple[str, ...] = ("serve", "--all")) -> None:
        self.env, self.log, self.args = env, log, args
        self.serves = args[0] == "serve"
        self.port = free_port() if self.serves else 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        out = self.log.open("ab")
        port = ("--port", str(self.port)) if self.serves else ()
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", *self.args, *port], cwd=ROOT,
                                     env=self.env, stdout=out, stderr=subprocess.STDOUT)
        if self.serves and not wait_http(f"{self.base}/readyz", self.proc, timeout=120, interval=0.2):
            raise AssertionError(f"sherlog {' '.join(self.args)} did not start: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
