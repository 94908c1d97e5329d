"""A real InfluxDB 1.x (``influxd`` of Debian's ``influxdb`` package) for integration tests.

``influxd_server(root)`` starts one from a config written under ``root``: own meta/data/wal dirs,
HTTP and RPC listeners on free ports of 127.0.0.1, reporting and every other service off; it yields
the URL and stops the server afterwards. ``create_db`` and ``write_lines`` talk to it over HTTP.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port, stop, wait_http

INFLUXD = shutil.which("influxd")
needs_influxd = pytest.mark.skipif(INFLUXD is None, reason="influxd binary not installed (apt-get install influxdb)")


def _config(root: Path, http_port: int, rpc_port: int, *, auth: bool, row_limit: int) -> str:
    return f"""reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{root / "meta"}"

[data]
  dir = "{root / "data"}"
  wal-dir = "{root / "wal"}"
  query-log-enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  auth-enabled = {"true" if auth else "false"}
  log-enabled = false
  pprof-enabled = false
  max-row-limit = {row_limit}

[logging]
  level = "warn"
  suppress-logo = true
"""


@contextmanager
def influxd_server(root: Path, *, auth: bool = False, row_limit: int = 0) -> Iterator[str]:
    """A running influxd on free ports; its URL. Retries with new ports if another run took one.

    ``row_limit`` is the server's ``max-row-limit`` (0: none).
    """
    if INFLUXD is None:
        pytest.skip("influxd binary not installed (apt-get install influxdb)")
    last_log = ""
    for attempt in range(3):
        home = root / f"run{attempt}"
        home.mkdir(parents=True)
        port = free_port()
        (home / "influxdb.conf").write_text(_config(home, port, free_port(), auth=auth, row_limit=row_limit))
        log_path = home / "influxd.log"
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen(
                [INFLUXD, "run", "-config", str(home / "influxdb.conf")],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            if wait_http(f"{url}/ping", proc, timeout=30, status=204, interval=0.1):
                yield url
                return
            last_log = log_path.read_text(errors="replace")[-2000:]
        finally:
            stop(proc)
    pytest.fail(f"influxd did not answer /ping in 3 attempts; last log:\n{last_log}")


def create_db(url: str, db: str, auth: tuple[str, str] | None = None) -> None:
    r = httpx.post(f"{url}/query", data={"q": f'CREATE DATABASE "{db}"'}, auth=auth, timeout=10)
    assert r.status_code == 200 and "error" not in r.text, r.text


def write_lines(url: str, db: str, lines: list[str], auth: tuple[str, str] | None = None,
                precision: str = "ms") -> None:
    r = httpx.post(
        f"{url}/write",
        params={"db": db, "precision": precision},
        content="\n".join(lines).encode(),
        auth=auth,
        timeout=10,
    )
    assert r.status_code == 204, r.text
