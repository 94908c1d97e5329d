"""Log renderers: one simulated event, written the way the component's software writes it.

Formats: nginx access and error (ingress-nginx style), Java/logback with stack traces, logfmt (Go),
JSON lines (Python structlog style, Node pino style), PostgreSQL, RabbitMQ, Kafka, Redis and CoreDNS
(the last three with the ``kubectl logs --timestamps`` prefix), RFC 5424 syslog for nodes, and
Kubernetes events in ``kubectl get events`` wording. Timestamps are UTC.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.simulation.world import Component, World


@dataclass
class LogEvent:
    ts: datetime
    level: str  # debug, info, warn, error, fatal
    message: str
    logger: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    exc: tuple[str, str] | None = None  # (exception class, exception message)
    access: bool = False  # an nginx access line (fields: method, path, status, upstream, rt, bytes)
    host: str = ""  # the pod that wrote it


def iso(ts: datetime, digits: int = 3) -> str:
    text = ts.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text[: 20 + digits] + "Z" if digits else text[:19] + "Z"


def _pkg(world: World, comp: Component) -> str:
    return f"com.{world.name}.{comp.name.replace('-', '')}"


def _java_frames(world: World, comp: Component, exc_class: str, rng: random.Random) -> list[str]:
    pkg = _pkg(world, comp)
    lib: list[str]
    if "hikari" in exc_class.lower() or "SQLTransientConnection" in exc_class:
        lib = ["com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)",
               "com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:181)",
               "com.zaxxer.hikari.HikariDataSource.getConnection(HikariDataSource.java:100)",
               "org.springframework.jdbc.datasource.DataSourceUtils.fetchConnection(DataSourceUtils.java:159)"]
    elif "SQL" in exc_class or "PSQL" in exc_class or "Lock" in exc_class:
        lib = ["org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2676)",
               "org.postgresql.core.v3.QueryExecutorImpl.processResults(QueryExecutorImpl.java:2366)",
               "org.postgresql.jdbc.PgPreparedStatement.executeUpdate(PgPreparedStatement.java:152)",
               "com.zaxxer.hikari.pool.HikariProxyPreparedStatement.executeUpdate(HikariProxyPreparedStatement.java)"]
    elif "Memory" in exc_class:
        lib = ["java.base/java.util.Arrays.copyOf(Arrays.java:3537)",
               "java.base/java.util.ArrayList.grow(ArrayList.java:237)"]
    elif "SSL" in exc_class or "Certificate" in exc_class:
        lib = ["java.base/sun.security.ssl.Alert.createSSLException(Alert.java:131)",
               "java.base/sun.security.ssl.TransportContext.fatal(TransportContext.java:378)",
               "java.base/sun.security.ssl.CertificateMessage$T13CertificateConsumer.checkServerCerts(CertificateMessage.java:1329)"]
    elif "Rejected" in exc_class:
        lib = ["java.base/java.util.concurrent.ThreadPoolExecutor$AbortPolicy.rejectedExecution(ThreadPoolExecutor.java:2065)",
               "java.base/java.util.concurrent.ThreadPoolExecutor.execute(ThreadPoolExecutor.java:1374)"]
    else:
        lib = ["org.springframework.web.client.RestTemplate.doExecute(RestTemplate.java:791)",
               "org.springframework.web.client.RestTemplate.execute(RestTemplate.java:717)"]
    own = [f"{pkg}.service.{cls}.{meth}({cls}.java:{rng.randint(40, 400)})" for cls, meth in
           (("OrderService", "handle"), ("Repository", "save"), ("ApiController", "post"))]
    tail = ["org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883)",
            "org.apache.tomcat.util.threads.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:659)",
            "java.base/java.lang.Thread.run(Thread.java:1583)"]
    frames = lib + own + tail
    return [f"\tat {f}" for f in frames]


def _java(world: World, comp: Component, ev: LogEvent, rng: random.Random) -> str:
    level = {"warn": "WARN", "fatal": "ERROR"}.get(ev.level, ev.level.upper())
    thread = ev.fields.get("thread") or f"http-nio-8080-exec-{rng.randint(1, 48)}"
    logger = ev.logger or f"{_pkg(world, comp)}.web.ApiController"
    short = ".".join(p[0] for p in logger.split(".")[:-1]) + "." + logger.split(".")[-1]
    extra = " ".join(f"{k}={v}" for k, v in ev.fields.items() if k != "thread")
    line = f"{iso(ev.ts)} {level:<5} [{thread}] {short} - {ev.message}" + (f" {extra}" if extra else "")
    if ev.exc:
        lines = [line, f"{ev.exc[0]}: {ev.exc[1]}"] + _java_frames(world, comp, ev.exc[0], rng)
        if rng.random() < 0.4:
            lines.append(f"\t... {rng.randint(20, 90)} common frames omitted")
        return "\n".join(lines)
    return line


def _logfmt_value(value: Any) -> str:
    text = str(value)
    if text == "" or any(ch in text for ch in ' ="\t'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _logfmt(world: World, comp: Component, ev: LogEvent, rng: random.Random) -> str:
    parts = {"time": iso(ev.ts), "level": ev.level if ev.level != "fatal" else "error", "msg": ev.message}
    parts["caller"] = ev.logger or f"{comp.name.replace('-', '')}/{rng.choice(['handler', 'store', 'client'])}.go:{rng.randint(30, 300)}"
    parts.update(ev.fields)
    if ev.exc:
        parts["err"] = ev.exc[1] if not ev.exc[0] else f"{ev.exc[0]}: {ev.exc[1]}"
    return " ".join(f"{k}={_logfmt_value(v)}" for k, v in parts.items())


def _py_traceback(comp: Component, exc: tuple[str, str], rng: random.Random) -> str:
    mod = comp.name.replace("-", "_")
    return ("Traceback (most recent call last):\n"
            f'  File "/app/{mod}/api/handlers.py", line {rng.randint(20, 200)}, in handle\n'
            "    result = await service.run(request)\n"
            f'  File "/app/{mod}/service.py", line {rng.randint(20, 200)}, in run\n'
            "    rows = await self.repository.fetch(query)\n"
            f"{exc[0]}: {exc[1]}")


def _json_python(world: World, comp: Component, ev: LogEvent, rng: random.Random) -> str:
    obj: dict[str, Any] = {"timestamp": iso(ev.ts, 6), "level": ev.level.upper() if ev.level != "warn" else "WARNING",
                           "logger": ev.logger or f"{comp.name.replace('-', '_')}.api", "message": ev.message}
    obj.update(ev.fields)
    if ev.exc:
        obj["exc_info"] = _py_traceback(comp, ev.exc, rng)
    return json.dumps(obj, separators=(",", ":"))


def _json_node(world: World, comp: Component, ev: LogEvent, rng: random.Random) -> str:
    obj: dict[str, Any] = {"level": ev.level if ev.level != "warn" else "warn", "time": iso(ev.ts),
                           "pid": 1, "hostname": ev.host or f"{comp.name}-7c9f8d6b5-x2k4p",
                           "msg": ev.message}
    obj.update(ev.fields)
    if ev.exc:
        obj["err"] = {"type": ev.exc[0] or "Error", "message": ev.exc[1],
                      "stack": f"{ev.exc[0] or 'Error'}: {ev.exc[1]}\n    at /app/src/{comp.name}/handler.js:"
                               f"{rng.randint(10, 200)}:13\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)"}
    return json.dumps(obj, separators=(",", ":"))


def _nginx(world: World, comp: Component, ev: LogEvent, rng: random.Random) -> str:
    f = ev.fields
    if ev.access:
        local = ev.ts.strftime("%d/%b/%Y:%H:%M:%S +0000")
        up = f.get("upstream", "-")
        upstream_name = f"default-{up}-8080" if up != "-" else "-"
        addr = f.get("upstream_addr", f"10.244.{rng.randint(0, 3)}.{rng.randint(2, 250)}:8080")
        rt = f.get("rt", 0.05)
        status = f.get("status", 200)
        ustatus = f.get("upstream_status", status)
        urt = f.get("urt", max(0.001, rt - 0.002))
        return (f'{f.get("client", "10.0.3.17")} - - [{local}] "{f.get("method", "GET")} {f.get("path", "/")} HTTP/1.1" '
                f'{status} {f.get("bytes", 512)} "-" "{f.get("agent", "Mozilla/5.0 (X11; Linux x86_64)")}" '
                f'{rng.randint(300, 900)} {rt:.3f} [{upstream_name}] [] {addr} {f.get("bytes", 512)} {urt:.3f} '
                f'{ustatus} {f.get("req_id", f"{rng.getrandbits(128):032x}")}')
    stamp = ev.ts.strftime("%Y/%m/%d %H:%M:%S")
    level = {"warn": "warn", "fatal": "crit"}.get(ev.level, ev.level)
    return f"{stamp} [{level}] {rng.randint(20, 40)}#{rng.randint(20, 40)}: *{rng.randint(10000, 999999)} {ev.message}"


def _postgres(world: World, comp: Component, ev: LogEvent, rng: random.Random) -> str:
    level = {"info": "LOG", "warn": "WARNING", "error": "ERROR", "fatal": "FATAL", "debug": "DEBUG"}[ev.level]
    stamp = ev.ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:23] + " UTC"
    who = ev.fields.get("who", "")
    return f"{stamp} [{ev.fields.get('pid', rng.randint(100, 9999))}] {who}{level}:  {ev.message}"


def _rabbitmq(world: World, comp: Component, ev: LogEvent, rng: random.Random) -> str:
    stamp = ev.ts.strftime("%Y-%m-%d %H:%M:%S.%f") + "+00:00"
    level = {"warn": "warning", "fatal": "critical"}.get(ev.level, ev.level)
    return f"{stamp} [{level}] <0.{rng.randint(200, 9000)}.0> {ev.message}"


def _kafka(world: World, comp: Component, ev: LogEvent, rng: random.Random) -> str:
    stamp = ev.ts.strftime("%Y-%m-%d %H:%M:%S,%f")[:23]
    level = {"warn": "WARN", "fatal": "FATAL"}.get(ev.level, ev.level.upper())
    return f"{iso(ev.ts, 9)} [{stamp}] {level} {ev.message} ({ev.logger or 'kafka.server.ReplicaManager'})"


def _redis(world: World, comp: Component, ev: LogEvent, rng: random.Random) -> str:
    mark = {"debug": ".", "info": "*", "warn": "#", "error": "#", "fatal": "#"}[ev.level]
    return f"{iso(ev.ts, 9)} 1:M {ev.ts.strftime('%d %b %Y %H:%M:%S.%f')[:24]} {mark} {ev.message}"


def _coredns(world: World, comp: Component, ev: LogEvent, rng: random.Random) -> str:
    tag = {"info": "INFO", "warn": "WARNING", "error": "ERROR", "fatal": "ERROR", "debug": "DEBUG"}[ev.level]
    return f"{iso(ev.ts, 9)} [{tag}] {ev.message}"


def render_syslog(ts: datetime, host: str, app: str, severity: int, message: str, pid: int | None = None) -> str:
    """One RFC 5424 line (facility daemon, or kern for the kernel)."""
    facility = 0 if app == "kernel" else 3
    return f"<{facility * 8 + severity}>1 {iso(ts, 6)} {host} {app} {pid if pid else '-'} - - {message}"


def render_k8s_event(event_type: str, reason: str, obj: str, message: str) -> str:
    """A Kubernetes event in the wording of ``kubectl get events`` (TYPE REASON OBJECT MESSAGE)."""
    return f"{event_type}  {reason}  {obj}  {message}"


RENDERERS = {
    "java": _java, "go": _logfmt, "python": _json_python, "node": _json_node, "nginx": _nginx,
    "postgres": _postgres, "rabbitmq": _rabbitmq, "kafka": _kafka, "redis": _redis, "coredns": _coredns,
}

FORMAT_OF_LANGUAGE = {
    "java": "java", "go": "logfmt", "python": "json", "node": "json", "nginx": "nginx",
    "postgres": "postgres", "rabbitmq": "rabbitmq", "kafka": "kafka", "redis": "redis", "coredns": "coredns",
}


def render(world: World, comp: Component, event: LogEvent, rng: random.Random) -> str:
    return RENDERERS[comp.language](world, comp, event, rng)
