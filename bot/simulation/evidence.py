"""Turn a scenario into raw evidence: log lines for every component and node, and change events.

Request log lines follow each component's own metric series (a 5xx line is as likely as its error
rate says), so logs and metrics agree. Fault lines come from the catalog; callers log failures of
the dependency they call; background warnings and unrelated errors exist everywhere.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.simulation.faults import Line
from bot.simulation.logs import LogEvent, iso, render, render_k8s_event, render_syslog
from bot.simulation.metrics import profile
from bot.simulation.phrases import phrase
from bot.simulation.scenario import Scenario
from bot.simulation.world import APP, CACHE, DATABASE, DNS, EDGE, EXTERNAL, QUEUE, WORKER, Component

_BACKGROUND: dict[str, list[tuple[str, str]]] = {
    "app": [("warn", "retrying call to {dep} (attempt 2/3)"),
            ("warn", "failed to export spans: context deadline exceeded"),
            ("info", "cache refresh completed in {ms}ms"),
            ("warn", "deprecated header X-Client-Version used by client"),
            ("error", "failed to publish metrics to statsd:8125: connection refused"),
            ("info", "config reloaded, no changes")],
    "java": [("warn", "HikariPool-1 - Thread starvation or clock leap detected (housekeeper delta=1m1s).")],
    "postgres": [("info", "checkpoint starting: time"),
                 ("info", "checkpoint complete: wrote {n} buffers (0.{n}%); 0 WAL file(s) added, 0 removed, "
                          "1 recycled; write=26.9 s, sync=0.004 s, total=26.95 s"),
                 ("info", "connection received: host=10.244.1.{n} port=5{n}"),
                 ("info", "automatic analyze of table \"app.public.orders\""),
                 ("error", "duplicate key value violates unique constraint \"idempotency_keys_pkey\"")],
    "redis": [("info", "{n} changes in 60 seconds. Saving..."), ("info", "Background saving started by pid {n}"),
              ("info", "DB saved on disk"), ("info", "Background saving terminated with success")],
    "rabbitmq": [("info", "accepting AMQP connection <0.{n}.0> (10.244.1.{n}:5{n} -> 10.244.3.5:5672)"),
                 ("info", "connection <0.{n}.0> (10.244.1.{n}:5{n} -> 10.244.3.5:5672): user 'app' authenticated "
                          "and granted access to vhost '/'"),
                 ("warn", "closing AMQP connection <0.{n}.0> (10.244.2.{n}:4{n} -> 10.244.3.5:5672, vhost: '/', "
                          "user: 'app'): client unexpectedly closed TCP connection")],
    "kafka": [("info", "[LocalLog partition=jobs-{d}, dir=/var/lib/kafka/data] Rolled new log segment at offset "
                       "{n}{n} in 3 ms."),
              ("info", "[GroupCoordinator 1]: Stabilized group transcoder generation {n} (__consumer_offsets-12)")],
    "coredns": [("info", "10.244.{d}.{n}:4{n} - {n} \"A IN {name}.default.svc.cluster.local. udp 56 false 512\" "
                         "NOERROR qr,aa,rd 118 0.000{n}s"),
                ("info", "10.244.{d}.{n}:5{n} - {n} \"AAAA IN {name}.default.svc.cluster.local. udp 56 false 512\" "
                         "NOERROR qr,aa,rd 149 0.000{n}s")],
}
_NODE_ROUTINE = [("kubelet", 6, "I0000 kubelet_getters.go:182] \"Pod status updated\" pod=\"default/{pod}\" "
                                 "status=\"Running\""),
                 ("systemd", 6, "Started Session {n} of User core."),
                 ("containerd", 6, "time=\"{ts}\" level=info msg=\"ImageCreate event name:\\\"registry.example.com/"
                                   "pause:3.9\\\"\""),
                 ("kubelet", 4, "W0000 reflector.go:462] watch of *v1.ConfigMap ended with: an error on the server "
                                "(\"unable to decode an event from the watch stream\") has prevented the request "
                                "from succeeding")]
_LEVEL_SYSLOG = {"debug": 7, "info": 6, "warn": 4, "error": 3, "fatal": 2}


POD_HASH_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes draws name hashes from


def pod_name(workload: str, role: str, rng: random.Random) -> str:
    """A pod's name as its controller makes it: ``<deployment>-<template hash>-<5 chars>`` for a Deployment,
    ``<statefulset>-<ordinal>`` for the stateful components."""
    if role in (DATABASE, CACHE, QUEUE):
        return f"{workload}-{rng.randint(0, 2)}"
    template = "".join(rng.choice(POD_HASH_CHARS) for _ in range(rng.choice((9, 10))))
    return f"{workload}-{template}-" + "".join(rng.choice(POD_HASH_CHARS) for _ in range(5))


class _Lazy(dict[str, str]):
    """A format_map mapping that draws a placeholder's value only when the text uses it."""

    def __init__(self, fixed: dict[str, str], makers: dict[str, Callable[[], str]]) -> None:
        super().__init__(fixed)
        self.makers = makers

    def __missing__(self, key: str) -> str:
        if key not in self.makers:
            raise KeyError(key)
        value = self.makers[key]()
        if key not in ("n", "ms", "d", "user", "name"):  # fixed for one text; random ones vary per use
            self[key] = value
        return value


class EvidenceWriter:
    """Builds log lines and change events for one scenario (deterministic)."""

    def __init__(self, scn: Scenario) -> None:
        self.scn = scn
        self.rng = random.Random(f"evidence:{scn.kind}:{scn.culprit}:{scn.seed}:{scn.difficulty}")
        self.pods = {name: pod_name(name, c.role, self.rng) for name, c in scn.world.components.items()}
        self.ips = {name: f"10.{96 if c.role in (DATABASE, CACHE, QUEUE) else 244}.{self.rng.randint(0, 3)}."
                          f"{self.rng.randint(2, 250)}" for name, c in scn.world.components.items()}
        w = scn.world
        ext = w.by_role(EXTERNAL)
        self.vars = {"db": w.database, "queue": w.queue, "world": w.name, "flag": self.rng.choice(
            ["new-pricing-engine", "async-confirmation", "smart-retries", "v2-serializer"]),
            "ext": (ext[0] + ".example.com") if ext else "api.example.com"}
        major, minor, patch = self.rng.randint(1, 4), self.rng.randint(0, 30), self.rng.randint(0, 9)
        self.vars["version"] = f"v{major}.{minor}.{patch} -> v{major}.{minor + 1}.0"
        self.vars["tag"] = f"{major}.{minor + 1}.0"
        self._names = sorted(scn.world.components)

    # ---- helpers -----------------------------------------------------------------------------

    def fill(self, text: str, comp: str, dep: str = "") -> str:
        """Fill the ``{placeholders}`` of a catalog text; only those present are drawn."""
        if "{" not in text:
            return text
        r = self.rng
        target = dep or self.vars["db"]
        makers: dict[str, Callable[[], str]] = {
            "svc": lambda: comp, "host": lambda: comp, "dep": lambda: target,
            "pod": lambda: self.pods.get(comp, f"{comp}-0"), "ip": lambda: self.ips.get(target, "10.96.0.12"),
            "n": lambda: str(r.randint(10, 99)), "ms": lambda: str(r.randint(900, 9500)),
            "user": lambda: f"user{r.randint(1000, 99999)}@mail.example", "d": lambda: str(r.randint(0, 9)),
            "name": lambda: r.choice(self._names), "node": lambda: self.scn.world.placement.get(comp, comp),
            "proc": lambda: self._process(comp),
        }
        values = _Lazy(self.vars, makers)
        try:
            return text.format_map(values)
        except (KeyError, IndexError, ValueError):
            return text

    def _logger(self, comp: Component, family: str | None, dep: str) -> str:
        """A Java logger name that fits what failed (the other languages keep their default)."""
        if comp.language != "java" or not family:
            return ""
        pkg = f"com.{self.scn.world.name}.{comp.name.replace('-', '')}"
        if family.startswith("db_"):
            return f"{pkg}.repository.OrderRepository"
        if family in ("timeout", "http5xx", "refused", "io_timeout", "reset", "tls", "dns", "rate429") and dep:
            client = "".join(part.capitalize() for part in dep.split(".")[0].split("-"))
            return f"{pkg}.client.{client}Client"
        if family in ("threadpool", "deadlock", "gc", "oom"):
            return f"{pkg}.runtime.Watchdog"
        return ""

    def _process(self, comp: str) -> str:
        """The process name the kernel sees for a component's container."""
        language = self.scn.world.components[comp].language if comp in self.scn.world.components else ""
        return {"java": "java", "python": "python3", "node": "node", "postgres": "postgres", "redis": "redis-server",
                "rabbitmq": "beam.smp", "kafka": "java", "nginx": "nginx"}.get(language, comp)

    def t(self, minute: float) -> datetime:
        return self.scn.timeline.at(minute)

    def series(self, comp: str, metric: str, i: int, default: float = 0.0) -> float:
        arr = self.scn.series.get((comp, metric))
        if arr is None or i >= len(arr) or math.isnan(float(arr[i])):
            return default
        return float(arr[i])

    def _poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        limit, k, p = math.exp(-min(lam, 30.0)), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    def _fault_lines(self, comp: str, lines: tuple[Line, ...], out: list[tuple[datetime, str]],
                     strength: float = 1.0, dep: str = "", who: str = "") -> None:
        """Lines of the fault in ``comp``'s log; ``who`` fills {svc}/{pod}/{proc} (default: ``comp``)."""
        component = self.scn.component(comp)
        tl = self.scn.timeline
        for spec_line in lines:
            if spec_line.once:
                ts = self.t(tl.fault_at + spec_line.delay + self.rng.random() * 0.5)
                out.append((ts, self._line(component, spec_line, ts, dep, who)))
                continue
            from bot.simulation.faults import Effect

            p = profile(Effect("x", "add", shape="step", delay=spec_line.delay, ramp=1.5), tl)
            for i in range(tl.minutes):
                for _ in range(self._poisson(spec_line.rate * p[i] * strength)):
                    ts = self.t(i + self.rng.random())
                    out.append((ts, self._line(component, spec_line, ts, dep, who)))

    def _line(self, comp: Component, spec_line: Line, ts: datetime, dep: str, who: str = "") -> str:
        if comp.role == "node":
            app, _, msg = spec_line.text.partition(": ")
            return render_syslog(ts, comp.name, app, _LEVEL_SYSLOG[spec_line.level], self.fill(msg, who or comp.name, dep),
                                 pid=None if app == "kernel" else self.rng.randint(800, 3000))
        exc = None
        message = spec_line.text
        if spec_line.family:
            cls, text = phrase(spec_line.family, comp.language)
            if cls and comp.language in ("java", "python", "node"):
                exc = (cls, self.fill(text, who or comp.name, dep))
            else:
                detail = self.fill(text, who or comp.name, dep)
                message = f"{message}: {detail}" if message else detail
        event = LogEvent(ts=ts, level=spec_line.level, message=self.fill(message, who or comp.name, dep) or "error",
                         exc=exc, logger=self._logger(comp, spec_line.family, dep), host=self.pods.get(comp.name, ""))
        if comp.role == EDGE:
            event.fields = {}
        return render(self.scn.world, comp, event, self.rng)

    # ---- per component -------------------------------------------------------------------------

    def logs(self) -> dict[str, list[str]]:
        """Every component's and node's log lines, in time order."""
        return {name: [text for _, text in lines] for name, lines in self.timed_logs().items()}

    def timed_logs(self) -> dict[str, list[tuple[datetime, str]]]:
        scn, w = self.scn, self.scn.world
        out: dict[str, list[tuple[datetime, str]]] = {}
        for name in w.owned():
            lines: list[tuple[datetime, str]] = []
            self._routine(name, lines)
            if name == scn.culprit:
                self._fault_lines(name, scn.spec.logs, lines)
            if name in scn.victims:
                via = self._victim_dep(name)
                self._fault_lines(name, scn.spec.victim_logs, lines, dep=via)
            for target, extra_lines in scn.spec.extra_logs.items():
                if name == {"queue": w.queue, "database": w.database, "edge": w.edge}.get(target):
                    self._fault_lines(name, extra_lines, lines, strength=1.0, dep=scn.culprit, who=scn.culprit)
            if name in scn.impacts and w.components[name].role != EDGE:
                self._caller_lines(name, lines)
            self._herring_lines(name, lines)
            out[name] = sorted(lines, key=lambda x: x[0])
        for node in w.nodes:
            lines = []
            self._node_routine(node, lines)
            own_node = node == w.placement.get(scn.culprit) and scn.kind != "disk_full"  # a full volume is not the node's
            if node == scn.culprit or (own_node and scn.spec.syslog):
                self._fault_lines(node, scn.spec.syslog, lines, who=scn.culprit)
            if scn.kind == "node_failure" and node == scn.culprit:
                cut = scn.timeline.at(scn.timeline.fault_at + 0.5)
                lines = [(ts, tx) for ts, tx in lines if ts <= cut]
            out[node] = sorted(lines, key=lambda x: x[0])
        return out

    def _victim_dep(self, name: str) -> str:
        deps = [d for d in self.scn.world.components[name].deps]
        if self.scn.kind == "dns_failure":
            ext = [d for d in deps if self.scn.world.components[d].role == EXTERNAL]
            return (ext or deps or [self.scn.world.database])[0] + (".example.com" if ext else "")
        return self.rng.choice(deps) if deps else self.scn.world.database

    def _silent(self, name: str, i: int) -> bool:
        scn = self.scn
        tl = scn.timeline
        if scn.kind == "node_failure" and name in scn.victims:
            return tl.fault_at <= i < tl.fault_at + 4
        if scn.kind in ("crash_loop",) and name == scn.culprit:
            return i >= tl.fault_at and (i - tl.fault_at) % 2 == 1
        if scn.kind == "db_down" and name == scn.culprit:
            return i >= tl.fault_at + 1
        return False

    def _routine(self, name: str, out: list[tuple[datetime, str]]) -> None:
        comp = self.scn.world.components[name]
        tl = self.scn.timeline
        restarts = self.scn.series.get((name, "restarts"))
        for i in range(tl.minutes):
            if restarts is not None and i > 0 and not math.isnan(restarts[i]) and not math.isnan(restarts[i - 1]) \
                    and restarts[i] > restarts[i - 1]:
                self._startup(comp, i, out)
            if self._silent(name, i):
                continue
            if comp.role == EDGE:
                self._edge_minute(comp, i, out)
            elif comp.role in (APP, WORKER):
                self._request_minute(comp, i, out)
            if comp.language in _BACKGROUND and self.rng.random() < (0.5 if comp.role == DNS else 0.12):
                level, text = self.rng.choice(_BACKGROUND[comp.language])
                self._emit(comp, level, text, i, out)
            if comp.role in (APP, WORKER, EDGE) and self.rng.random() < 0.05:
                level, text = self.rng.choice(_BACKGROUND["app"] + _BACKGROUND.get(comp.language, []))
                if comp.role == EDGE:
                    continue
                dep = self.rng.choice(comp.deps) if comp.deps else ""
                self._emit(comp, level, text, i, out, dep=dep)

    def _emit(self, comp: Component, level: str, text: str, i: float, out: list[tuple[datetime, str]],
              dep: str = "", exc: tuple[str, str] | None = None, fields: dict[str, Any] | None = None,
              family: str | None = None) -> None:
        ts = self.t(i + self.rng.random())
        event = LogEvent(ts=ts, level=level, message=self.fill(text, comp.name, dep), exc=exc, fields=fields or {},
                         logger=self._logger(comp, family, dep), host=self.pods.get(comp.name, ""))
        out.append((ts, render(self.scn.world, comp, event, self.rng)))

    def _startup(self, comp: Component, i: int, out: list[tuple[datetime, str]]) -> None:
        text = {"java": "Started Application in {d}.{n} seconds (process running for {d}.9)",
                "postgres": "database system is ready to accept connections"}.get(comp.language,
                                                                                     "server listening on :8080")
        self._emit(comp, "info", text, i + 0.5, out)

    def _request_minute(self, comp: Component, i: int, out: list[tuple[datetime, str]]) -> None:
        rps = self.series(comp.name, "request_rate", i, comp.base_rps)
        lam = min(6.0, 1.6 * rps / max(comp.base_rps, 1.0))
        err = self.series(comp.name, "error_rate", i)
        lat = self.series(comp.name, "latency_p95_ms", i, comp.base_latency_ms)
        for _ in range(self._poisson(lam)):
            failed = self.rng.random() < err
            path = self.rng.choice(comp.paths)
            duration = int(lat * self.rng.uniform(0.25, 1.0))
            status = self.rng.choice([500, 503]) if failed else self.rng.choice([200, 200, 200, 201, 204])
            fields = {"method": self.rng.choice(["GET", "POST"]), "path": path, "status": status,
                      "duration_ms": duration, "trace_id": f"{self.rng.getrandbits(64):016x}"}
            self._emit(comp, "error" if failed else "info", "request failed" if failed else "request completed", i,
                       out, fields=fields)

    def _caller_lines(self, name: str, out: list[tuple[datetime, str]]) -> None:
        scn = self.scn
        comp = scn.world.components[name]
        imp = scn.impacts[name]
        tl = scn.timeline
        from bot.simulation.faults import Effect

        p = profile(Effect("x", "add", delay=imp.delay, ramp=1.5), tl)
        rate = 2.5 * imp.strength if imp.errors else 1.0 * imp.strength
        for i in range(tl.minutes):
            for _ in range(self._poisson(rate * p[i])):
                if imp.errors:
                    cls, text = phrase(imp.family, comp.language)
                    detail = self.fill(text, name, imp.via)
                    if cls and comp.language in ("java", "python", "node"):
                        self._emit(comp, "error", f"call to {imp.via} failed", i, out, dep=imp.via, exc=(cls, detail),
                                   family=imp.family)
                    else:
                        self._emit(comp, "error", f"call to {imp.via} failed: {detail}", i, out, dep=imp.via,
                                   family=imp.family)
                else:
                    self._emit(comp, "warn", f"slow response from {imp.via}: {{ms}}ms", i, out, dep=imp.via)

    def _edge_minute(self, comp: Component, i: int, out: list[tuple[datetime, str]]) -> None:
        scn = self.scn
        rps = self.series(comp.name, "request_rate", i, comp.base_rps)
        lam = min(10.0, 3.0 * rps / max(comp.base_rps, 1.0))
        attack = scn.kind in ("ddos", "auth_failure_surge") and i >= scn.timeline.fault_at and \
            (scn.culprit == comp.name or scn.kind == "auth_failure_surge")
        for _ in range(self._poisson(lam)):
            k = self.rng.randrange(len(comp.paths))
            path, up = comp.paths[k], comp.deps[k % len(comp.deps)]
            up_err = self.series(up, "error_rate", i) + self.series(comp.name, "error_rate", i) * 0.3
            up_lat = self.series(up, "latency_p95_ms", i, 50.0) / 1000.0 * self.rng.uniform(0.3, 1.0)
            client = f"10.0.{self.rng.randint(0, 7)}.{self.rng.randint(2, 250)}"
            method = "POST" if "checkout" in path or "login" in path else "GET"
            status: int = 200
            ustatus: int | str = 200
            if attack and self.rng.random() < 0.7:
                client = f"{self.rng.choice(['45.155.205', '185.220.101', '91.92.109'])}.{self.rng.randint(2, 250)}"
                if scn.kind == "auth_failure_surge":
                    login = [p for p in comp.paths if "login" in p or "users" in p]
                    path = login[0] if login else path
                    method, status, ustatus = "POST", 401, 401
                else:
                    status, ustatus = (503, "-") if self.rng.random() < 0.5 else (200, 200)
            elif self.rng.random() < up_err:
                imp = scn.impacts.get(comp.name)
                timeout = up_lat > 2.0 or (imp is not None and i >= scn.timeline.fault_at
                                           and imp.family in ("timeout", "io_timeout"))
                status = 504 if timeout else self.rng.choice([502, 503])
                ustatus = "-" if status == 504 else status
                if self.rng.random() < 0.5:
                    self._nginx_error(comp, i, out, up, path, method, client, status)
            fields = {"client": client, "method": method, "path": path, "status": status, "upstream": up,
                      "upstream_status": ustatus, "rt": up_lat + 0.002, "urt": up_lat,
                      "bytes": self.rng.randint(120, 4800), "upstream_addr": f"{self.ips.get(up, '10.244.0.9')}:8080"}
            if status == 504:
                fields["rt"], fields["urt"] = 60.0, 60.0
            ts = self.t(i + self.rng.random())
            out.append((ts, render(scn.world, comp, LogEvent(ts=ts, level="info", message="", fields=fields,
                                                             access=True), self.rng)))
        if scn.culprit == comp.name and i >= scn.timeline.fault_at:
            pass

    def _nginx_error(self, comp: Component, i: int, out: list[tuple[datetime, str]], up: str, path: str,
                     method: str, client: str, status: int) -> None:
        addr = f"http://{self.ips.get(up, '10.244.0.9')}:8080{path}"
        if status == 504:
            what = "upstream timed out (110: Connection timed out) while reading response header from upstream"
        elif self.scn.impacts.get(comp.name) and self.scn.impacts[comp.name].family in ("refused", "db_refused"):
            what = "connect() failed (111: Connection refused) while connecting to upstream"
        else:
            what = "upstream prematurely closed connection while reading response header from upstream"
        text = (f'{what}, client: {client}, server: {self.scn.world.domain}, request: "{method} {path} HTTP/1.1", '
                f'upstream: "{addr}", host: "{self.scn.world.domain}"')
        ts = self.t(i + self.rng.random())
        out.append((ts, render(self.scn.world, comp, LogEvent(ts=ts, level="error", message=text), self.rng)))

    def _node_routine(self, node: str, out: list[tuple[datetime, str]]) -> None:
        pods = [self.pods[s] for s in self.scn.world.on_node(node)] or ["kube-proxy-x"]
        for i in range(self.scn.timeline.minutes):
            if self.rng.random() < 0.35:
                app, sev, text = self.rng.choice(_NODE_ROUTINE)
                ts = self.t(i + self.rng.random())
                msg = text.replace("{pod}", self.rng.choice(pods)).replace("{ts}", iso(ts)).replace(
                    "{n}", str(self.rng.randint(100, 9999))).replace("I0000", "I" + ts.strftime("%m%d %H:%M:%S.%f")) \
                    .replace("W0000", "W" + ts.strftime("%m%d %H:%M:%S.%f"))
                out.append((ts, render_syslog(ts, node, app, sev, msg, pid=self.rng.randint(800, 3000))))

    def _herring_lines(self, name: str, out: list[tuple[datetime, str]]) -> None:
        comp = self.scn.world.components[name]
        for h in self.scn.herrings:
            if h["service"] != name:
                continue
            at = float(h["at"])  # type: ignore[arg-type]
            if h["type"] == "deploy":
                self._startup(comp, at + 0.5, out)  # type: ignore[arg-type]
            elif h["type"] == "log_burst":
                dep = comp.deps[0] if comp.deps else ""
                for k in range(self.rng.randint(12, 25)):
                    self._emit(comp, "error", "failed to refresh feature flags from flag-service, serving "
                                              "last known values", at + k * self.rng.uniform(0.2, 0.6), out, dep=dep)

    # ---- changes -------------------------------------------------------------------------------

    def events(self) -> list[dict[str, str]]:
        scn, tl = self.scn, self.scn.timeline
        events: list[tuple[float, dict[str, str]]] = []

        def add(at: float, kind: str, service: str | None, text: str) -> None:
            events.append((at, {"ts": iso(self.t(at)), "kind": kind, "service": service or "", "text": text}))

        for h in scn.herrings:
            name, at = str(h["service"]), float(h["at"])  # type: ignore[arg-type]
            if h["type"] == "deploy":
                major, minor, old_p = self.rng.randint(1, 5), self.rng.randint(0, 40), self.rng.randint(0, 9)
                new_v = f"{major}.{minor}.{old_p + 1}" if self.rng.random() < 0.6 else f"{major}.{minor + 1}.0"
                add(at, "deploy", name, f"{name} v{major}.{minor}.{old_p} -> v{new_v} rolled out (image "
                                        f"registry.example.com/{scn.world.name}/{name}:{new_v})")
                add(at + 0.3, "k8s", name, render_k8s_event("Normal", "ScalingReplicaSet", f"deployment/{name}",
                                                            f"Scaled up replica set {self.pods[name][:-6]} to 3"))
            elif h["type"] == "flapping_alert":
                when = at
                for k in range(self.rng.randint(4, 7)):
                    state = "firing" if k % 2 == 0 else "resolved"
                    add(when, "alert", name, f"HighLatencyP95 {state} for {name} (p95 briefly above 500ms)")
                    when += self.rng.uniform(3, 9)
        if self.rng.random() < 0.6:  # a routine config push, older than the 30 minutes the change rule looks back
            name = self.rng.choice(scn.world.by_role(APP, WORKER))
            add(self.rng.uniform(2, tl.fault_at - 35), "config", name,
                f"ConfigMap {name}-config updated: LOG_LEVEL info -> info, CACHE_TTL_SECONDS 300 -> 600")
        if scn.change_at is not None and scn.spec.change:
            ch = scn.spec.change
            dep = (scn.world.components[scn.culprit].deps[0] if scn.culprit in scn.world.components
                   and scn.world.components[scn.culprit].deps else "")
            service = scn.culprit if ch.kind != "config" or scn.culprit in scn.world.components else scn.culprit
            add(scn.change_at, ch.kind, service, self.fill(ch.text, scn.culprit, dep))
            if ch.kind == "deploy":
                add(scn.change_at + 0.4, "k8s", scn.culprit, render_k8s_event(
                    "Normal", "ScalingReplicaSet", f"deployment/{scn.culprit}",
                    f"Scaled up replica set {self.pods[scn.culprit][:-6]} to 3"))
        on_node = scn.culprit in scn.world.nodes
        for etype, reason, message, delay in scn.spec.k8s:
            if scn.kind == "disk_full" and not on_node:
                continue  # the kubelet's eviction events speak of a node's disk, not of a full volume
            target = scn.culprit
            if scn.culprit in scn.world.nodes and scn.victims and "{pod}" in message:
                target = self.rng.choice(scn.victims)
            obj = f"node/{scn.culprit}" if reason.startswith("Node") or (on_node and "{pod}" not in message) \
                else f"pod/{self.pods.get(target, target)}"
            add(tl.fault_at + delay + self.rng.random(), "k8s", target, render_k8s_event(
                etype, reason, obj, self.fill(message, target)))
        events.sort(key=lambda x: x[0])
        return [e for _, e in events if self.t(0) <= datetime.fromisoformat(e["ts"].replace("Z", "+00:00"))
                <= self.t(tl.minutes)]


def minutes_between(a: datetime, b: datetime) -> float:
    return (b - a) / timedelta(minutes=1)

