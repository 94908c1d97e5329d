"""A real Prometheus (``prometheus`` of Debian's package) for integration tests.

``prometheus_server(root, targets)`` starts one from a config written under ``root``: its own TSDB
directory, the web API on a free port of 127.0.0.1, scraping the given ``127.0.0.1`` ports every
second (and evaluating ``rules``, YAML of a rule file, when given); it yields the URL once the server
is ready and stops it afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.processes import free_port, stop, wait_http

PROMETHEUS = shutil.which("prometheus")
needs_prometheus = pytest.mark.skipif(
    PROMETHEUS is None, reason="prometheus binary not installed (apt-get install prometheus)"
)


@contextmanager
def prometheus_server(root: Path, targets: list[int], *, rules: str | None = None) -> Iterator[str]:
    port = free_port()
    rule_files = ""
    if rules is not None:
        (root / "rules.yml").write_text(rules)
        rule_files = f"rule_files: ['{root / 'rules.yml'}']\n"
    listed = ", ".join(f"'127.0.0.1:{t}'" for t in targets)
    (root / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"{rule_files}"
        "scrape_configs:\n- job_name: sherlog-test\n"
        f"  static_configs: [{{targets: [{listed}]}}]\n"
    )
    proc = subprocess.Popen(
        [
            str(PROMETHEUS),
            f"--config.file={root / 'prometheus.yml'}",
            f"--storage.tsdb.path={root / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_http(f"{url}/-/ready", proc, timeout=30):
            code = proc.poll()
            pytest.fail(f"prometheus exited with code {code}" if code is not None
                        else "prometheus did not become ready in 30 s")
        yield url
    finally:
        stop(proc)
