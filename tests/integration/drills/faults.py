"""Real, bounded faults on this machine for the live drills: a CPU burn, memory pressure and an OOM kill
inside a memory cgroup of our own, a small tmpfs that fills up. Root-owned local resources only; each
fault is undone when its context exits (processes killed, cgroup removed, tmpfs unmounted)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STRESS_NG = shutil.which("stress-ng")
CGROUP_ROOT = Path("/sys/fs/cgroup")

# random reads of a file larger than the cgroup can cache: every read refaults, and the kernel counts
# the stall as memory pressure (PSI); bounded by its own deadline
THRASH = """
import mmap, random, sys, time
f = open(sys.argv[1], 'rb'); m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
pages = len(m) // 4096; end = time.time() + float(sys.argv[2]); s = 0
while time.time() < end:
    for _ in range(2000):
        s += m[random.randrange(pages) * 4096]
"""


def _own_memory_cgroup() -> tuple[Path, str] | None:
    """(directory of this process's memory cgroup, "v1" or "v2"), None when there is none we can use."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        hier, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            d = CGROUP_ROOT / "memory" / path.lstrip("/")
            if (d / "memory.limit_in_bytes").exists():
                return d, "v1"
        if hier == "0" and controllers == "":
            d = CGROUP_ROOT / path.lstrip("/")
            if (d / "cgroup.controllers").exists() and "memory" in (d / "cgroup.controllers").read_text():
                return d, "v2"
    return None


@contextmanager
def memory_cgroup(name: str, limit_bytes: int) -> Iterator[Path]:
    """A child memory cgroup of this process's own with a hard limit; removed afterwards."""
    found = _own_memory_cgroup()
    if found is None:
        raise AssertionError("no writable memory cgroup (v1 memory controller or v2 with memory enabled)")
    parent, version = found
    d = parent / name
    d.mkdir(exist_ok=True)
    (d / ("memory.limit_in_bytes" if version == "v1" else "memory.max")).write_text(str(limit_bytes))
    try:
        yield d
    finally:
        for _ in range(50):
            try:
                d.rmdir()
                break
            except OSError:  # tasks still exiting
                time.sleep(0.1)


def spawn_in(cgroup: Path | None, args: list[str]) -> subprocess.Popen[bytes]:
    """Start ``args`` (inside ``cgroup`` when given: the child joins it before exec)."""
    def join() -> None:
        if cgroup is not None:
            (cgroup / "cgroup.procs").write_text(str(os.getpid()))

    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=join)  # noqa: PLW1509


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


@contextmanager
def cpu_burn(seconds: int) -> Iterator[None]:
    procs = [spawn_in(None, [str(STRESS_NG), "--cpu", "2", "--timeout", f"{seconds}s", "--quiet"])]
    try:
        yield
    finally:
        stop_all(procs)


@contextmanager
def memory_pressure(work: Path, seconds: int) -> Iterator[None]:
    """Memory held (stress-ng --vm-keep) in a 64 MiB cgroup whose page cache a 256 MiB file's random
    reads then thrash: real memory stalls (PSI), bounded by the cgroup, not the machine's memory."""
    with memory_cgroup("sherlog-drill-pressure", 64 * 2**20) as cg:
        big = work / "thrash.bin"
        subprocess.run(["dd", "if=/dev/zero", f"of={big}", "bs=1M", "count=256", "status=none"], check=True,
                       preexec_fn=lambda: (cg / "cgroup.procs").write_text(str(os.getpid())))  # noqa: PLW1509
        procs = [
            spawn_in(cg, [str(STRESS_NG), "--vm", "1", "--vm-bytes", "36M", "--vm-keep", "--timeout",
                          f"{seconds}s", "--quiet"]),
            spawn_in(cg, [sys.executable, "-c", THRASH, str(big), str(seconds)]),
            spawn_in(cg, [sys.executable, "-c", THRASH, str(big), str(seconds)]),
        ]
        try:
            yield
        finally:
            stop_all(procs)
            big.unlink(missing_ok=True)


@contextmanager
def oom_kill(seconds: int) -> Iterator[None]:
    """stress-ng asking for 128 MiB in a 48 MiB cgroup: the kernel's OOM killer kills its worker (and
    stress-ng restarts it, so it is killed again) until the timeout."""
    with memory_cgroup("sherlog-drill-oom", 48 * 2**20) as cg:
        procs = [spawn_in(cg, [str(STRESS_NG), "--vm", "1", "--vm-bytes", "128M", "--vm-keep", "--timeout",
                               f"{seconds}s", "--quiet"])]
        try:
            yield
        finally:
            stop_all(procs)


@contextmanager
def tmpfs(mountpoint: Path, size_mib: int = 64) -> Iterator[Path]:
    mountpoint.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0700", "sherlog-drill", str(mountpoint)],
                   check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def fill(path: Path, mib: int, seconds: float) -> None:
    """Write ``mib`` MiB into ``path`` over about ``seconds`` (a fill, not a single jump)."""
    chunk = b"\0" * 2**20
    pause = seconds / mib
    with (path / "fill.bin").open("wb") as fh:
        for _ in range(mib):
            fh.write(chunk)
            fh.flush()
            time.sleep(pause)
