"""Helpers for tests that start a real server process: a free port, waiting until it answers, stopping it."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], *, timeout: float, status: int = 200,
              interval: float = 0.2) -> bool:
    """Poll ``url`` until it answers ``status``: True then, False when ``proc`` exits or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url, timeout=1).status_code == status:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(interval)
    return False


def stop(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Terminate ``proc``, and kill it if it has not exited after ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
