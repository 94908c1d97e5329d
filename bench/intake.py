"""Intake throughput: alerts per second accepted by ONE ``sherlog serve`` process, nothing lost.

The server runs as a real process (SQLite, the embedded default, in a temporary data dir; analysis of
created/changed incidents runs in the server as in production). The load comes from a second process
on loopback posting Alertmanager v4 webhooks with ``--concurrency`` requests in flight. Each run uses
fresh fingerprints spread over ``--services`` services; afterwards the database must hold every alert
exactly once and every answer must have been 202, or the run is reported as lossy.

Runs: one alert per request, and ``--group`` alerts per request (how Alertmanager batches a group).
The baseline is ``IntakeService.accept`` called in this process on the same alerts without HTTP (same
group size). The machine may be shared, so besides wall-clock alerts/s the server's CPU time is read from
/proc: alerts per server CPU-second (analysis work included) is what one dedicated core gives, and the
speed ratio is taken on CPU time against the in-process baseline.

With ``--before GIT_REV`` a second server runs the code of that revision (``git archive``) beside this
tree's, and their runs are interleaved, so before/after figures come from one run under the same load.

Run from the project root: ``.venv/bin/python -m bench.intake [--alerts 5000] [--concurrency 16]
[--before a92816e]``.
The last stdout line is one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def payload(run: int, start: int, count: int, services: int) -> dict[str, Any]:
    alerts = []
    for i in range(start, start + count):
        svc = f"svc-{i % services:03d}"
        alerts.append({"status": "firing", "fingerprint": f"{run:02x}{i:014x}",
                       "labels": {"alertname": f"Symptom{i % 5}", "service": svc, "pod": f"{svc}-{i}",
                                  "severity": "warning", "cluster": "bench"},
                       "annotations": {"summary": f"symptom on {svc}"},
                       "startsAt": (T0 + timedelta(seconds=i % 600)).isoformat(), "endsAt": "0001-01-01T00:00:00Z",
                       "generatorURL": "http://prometheus:9090/graph?g0.expr=up"})
    return {"version": "4", "groupKey": f"{{}}:{{run=\"{run}\"}}", "status": "firing", "receiver": "sherlog",
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am:9093",
            "truncatedAlerts": 0, "alerts": alerts}


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str,
                body: bytes) -> int:
    """One HTTP/1.1 POST on a kept-alive connection; the status code. (A bare client: the load process must
    cost far less than the server, and a full client library costs about as much per request.)"""
    writer.write(b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                 % (path.encode(), host.encode(), len(body)) + body)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readline()).strip() or b"0", 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def load(url: str, run: int, alerts: int, group: int, concurrency: int, services: int) -> dict[str, Any]:
    from urllib.parse import urlsplit

    target = urlsplit(url)
    host, port = target.hostname or "127.0.0.1", target.port or 80
    bodies = [json.dumps(payload(run, s, min(group, alerts - s), services)).encode()
              for s in range(0, alerts, group)]
    statuses: dict[int, int] = {}
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while not queue.empty():
                body = queue.get_nowait()
                code = await _post(reader, writer, f"{host}:{port}", "/api/v1/alerts/alertmanager", body)
                statuses[code] = statuses.get(code, 0) + 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "requests": len(bodies), "statuses": statuses}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc): the machine may be shared, wall time is not enough."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def stored(db: Path, run: int) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT count(*), count(DISTINCT fingerprint) FROM alerts WHERE fingerprint LIKE ?",
                           (f"am:{run:02x}%",)).fetchone()
    return int(row[0]) if row[0] == row[1] else -1


def baseline(alerts: int, group: int, services: int) -> tuple[float, float]:
    """(alerts per wall second, alerts per CPU second) of ``IntakeService.accept`` in this process, no HTTP."""
    from bot.pipeline.intake import IntakeService
    from bot.storage import Store
    from connectors.alerts import parse_alerts

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'b.db'}")
        intake = IntakeService(store=store)
        batches = [parse_alerts(payload(99, s, min(group, alerts - s), services), source="alertmanager")
                   for s in range(0, alerts, group)]
        t0, c0 = time.perf_counter(), time.process_time()
        for batch in batches:
            intake.accept(batch)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        store.close()
    return alerts / seconds, alerts / cpu


class Server:
    """``sherlog serve`` as a child process (its own data dir and port), from ``code`` (a source tree)."""

    def __init__(self, code: Path, data: Path) -> None:
        self.port = free_port()
        self.data = data
        env = {**os.environ, "SHERLOG__DATA_DIR": str(data), "SHERLOG__RETRIEVAL__BACKEND": "memory",
               "HF_HUB_OFFLINE": "1", "SHERLOG__LOG_LEVEL": "WARNING"}
        env.pop("SHERLOG_CONFIG", None)
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "serve", "--port", str(self.port)],
                                     cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit("sherlog serve did not start")
            time.sleep(0.3)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def measure(self, run: int, group: int, args: argparse.Namespace) -> dict[str, Any]:
        cpu0 = cpu_seconds(self.proc.pid)
        out = subprocess.run(
            [sys.executable, "-m", "bench.intake", "--load", f"http://127.0.0.1:{self.port}", "--run", str(run),
             "--alerts", str(args.alerts), "--group", str(group), "--concurrency", str(args.concurrency),
             "--services", str(args.services)], cwd=ROOT, capture_output=True, text=True, check=True)
        stats = json.loads(out.stdout.strip().splitlines()[-1])
        server_cpu = cpu_seconds(self.proc.pid) - cpu0
        kept = stored(self.data / "sherlog.db", run)
        ok = stats["statuses"].get("202", 0) == stats["requests"] and kept == args.alerts
        return {"alerts_per_s": args.alerts / stats["seconds"], "seconds": stats["seconds"],
                "alerts_per_cpu_s": args.alerts / server_cpu if server_cpu > 0 else float("nan"),
                "stored": kept, "lossless": ok, "statuses": stats["statuses"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=5000, help="alerts per run")
    parser.add_argument("--group", type=int, default=10, help="alerts per request in the grouped run")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--before", metavar="GIT_REV",
                        help="also run a server from this git revision, interleaved with this tree's runs")
    parser.add_argument("--load", help=argparse.SUPPRESS)  # internal: be the load process
    parser.add_argument("--run", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        print(json.dumps(asyncio.run(load(args.load, args.run, args.alerts, args.group, args.concurrency,
                                          args.services))))
        return

    runs = (("1 alert/request", 1), (f"{args.group} alerts/request", args.group))
    results: dict[str, dict[str, dict[str, Any]]] = {}  # tree -> run -> figures
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this tree": ROOT}
        if args.before:
            old = Path(tmp) / "before"
            old.mkdir()
            archive = subprocess.run(["git", "archive", args.before], cwd=ROOT, capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
            trees = {f"before ({args.before[:10]})": old, **trees}
        servers: dict[str, Server] = {}
        try:
            for i, (label, code) in enumerate(trees.items()):
                (Path(tmp) / f"data{i}").mkdir()
                servers[label] = Server(code, Path(tmp) / f"data{i}")
            for server in servers.values():
                server.wait_ready()
            for run, (name, group) in enumerate(runs, start=1):
                for label, server in servers.items():  # interleaved: both see the same machine load
                    results.setdefault(label, {})[name] = server.measure(run, group, args)
        finally:
            for server in servers.values():
                server.stop()
    base, base_cpu = baseline(args.alerts, args.group, args.services)
    print(f"one `sherlog serve` process, load from a second process over loopback, {args.alerts} alerts per run, "
          f"concurrency {args.concurrency}")
    print(f"{'server':<22}{'run':<20}{'alerts/s':>10}{'alerts/CPU-s':>14}{'CPU vs in-process':>19}{'stored':>8}"
          f"{'lossless':>10}")
    for label, by_run in results.items():
        for name, r in by_run.items():
            print(f"{label:<22}{name:<20}{r['alerts_per_s']:>10.0f}{r['alerts_per_cpu_s']:>14.0f}"
                  f"{r['alerts_per_cpu_s'] / base_cpu:>19.2f}{r['stored']:>8}{str(r['lossless']):>10}")
    print(f"{'in-process baseline':<42}{base:>10.0f}{base_cpu:>14.0f}{1.0:>19.2f}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: alerts/server-CPU-s is what one "
          f"dedicated core would give (the server's analysis work included); the in-process baseline is this "
          f"tree's IntakeService.accept, {args.group} alerts per call, no HTTP")
    mine = results["this tree"]
    grouped, single = mine[f"{args.group} alerts/request"], mine["1 alert/request"]
    headline: dict[str, Any] = {
        "alerts": args.alerts, "concurrency": args.concurrency,
        "single_alerts_per_s": round(single["alerts_per_s"], 1), "single_lossless": single["lossless"],
        "grouped_alerts_per_s": round(grouped["alerts_per_s"], 1), "grouped_lossless": grouped["lossless"],
        "grouped_alerts_per_server_cpu_s": round(grouped["alerts_per_cpu_s"], 1),
        "single_alerts_per_server_cpu_s": round(single["alerts_per_cpu_s"], 1),
        "load_average": round(os.getloadavg()[0], 1),
        "group_size": args.group, "inprocess_alerts_per_s": round(base, 1),
        "inprocess_alerts_per_cpu_s": round(base_cpu, 1),
        "grouped_cpu_vs_inprocess": round(grouped["alerts_per_cpu_s"] / base_cpu, 3),
        "single_cpu_vs_inprocess": round(single["alerts_per_cpu_s"] / base_cpu, 3),
        "goal_1000_per_s_met": grouped["alerts_per_s"] >= 1000 and grouped["lossless"],
    }
    for label, by_run in results.items():
        if label != "this tree":
            for key, name in (("before_single", runs[0][0]), ("before_grouped", runs[1][0])):
                headline[f"{key}_alerts_per_s"] = round(by_run[name]["alerts_per_s"], 1)
                headline[f"{key}_alerts_per_server_cpu_s"] = round(by_run[name]["alerts_per_cpu_s"], 1)
                headline[f"{key}_lossless"] = by_run[name]["lossless"]
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
