"""What a container prints in its last seconds, by cause and by language runtime.

``crash_tail(cause, language, rng, values)`` returns the raw lines a ``kubectl logs --previous`` shows at the
end: the runtime's own crash output (a Go panic, a Python traceback, a JVM exception, a Node stack, a shell
error, an edge proxy's error log), not a structured log line. Wording follows what the runtimes, proxies and
client libraries print (Go's ``net`` and ``crypto/x509`` errors, psycopg/libpq, JDBC, glibc's getaddrinfo,
Node's error codes, nginx's ``error.log`` and Envoy's ``[critical]`` lines; an edge proxy (language ``nginx``)
draws from nginx and Envoy variants). Values such as ``{dep}``, ``{host}``, ``{ip}``, ``{port}``, ``{var}`` come
from ``values``; ``{nts}`` is nginx's ``2026/03/03 09:43:57`` time, ``{ets}`` Envoy's
``2026-03-03 09:43:57.118``.
"""

from __future__ import annotations

import random

Variant = tuple[str, ...]

_GO_PANIC_TAIL = ("", "goroutine 1 [running]:", "main.main()", "\t/src/cmd/{svc}/main.go:{n}", "exit status 2")

TAILS: dict[str, dict[str, tuple[Variant, ...]]] = {
    "app_exception": {
        "go": (("panic: runtime error: invalid memory address or nil pointer dereference",
                "[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x8d3f2a]", "",
                "goroutine {n} [running]:", "{pkg}/internal/orders.(*Pricer).Total(0x0, {{0xc000{n}a0, 0x2, 0x2}})",
                "\t/src/internal/orders/pricer.go:{n} +0x2a", "{pkg}/internal/api.(*Handler).Checkout(...)",
                "\t/src/internal/api/handler.go:{n} +0x1c4"),
               ("panic: assignment to entry in nil map", "", "goroutine {n} [running]:",
                "{pkg}/internal/cache.(*Store).Put(...)", "\t/src/internal/cache/store.go:{n} +0x9b")),
        "java": (('Exception in thread "main" java.lang.IllegalStateException: Failed to execute CommandLineRunner',
                  "\tat org.springframework.boot.SpringApplication.callRunner(SpringApplication.java:774)",
                  "Caused by: java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"region\" "
                  "is null", "\tat {jpkg}.bootstrap.RegionLoader.load(RegionLoader.java:{n})"),
                 ("java.lang.ArrayIndexOutOfBoundsException: Index 3 out of bounds for length 3",
                  "\tat {jpkg}.service.ShardRouter.route(ShardRouter.java:{n})",
                  "\tat java.base/java.lang.Thread.run(Thread.java:1583)")),
        "python": (("Traceback (most recent call last):", '  File "/app/main.py", line {n}, in <module>',
                    "    main()", '  File "/app/{mod}/worker.py", line {n}, in run',
                    "    total = sum(line[\"amount\"] for line in batch)",
                    "TypeError: unsupported operand type(s) for +: 'int' and 'NoneType'"),
                   ("Traceback (most recent call last):", '  File "/app/{mod}/consumer.py", line {n}, in handle',
                    "    payload = json.loads(message.body)",
                    "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)")),
        "node": (("/app/dist/server.js:{n}", "    const region = config.regions[0].name;", "                      ^",
                  "", "TypeError: Cannot read properties of undefined (reading 'name')",
                  "    at loadRegions (/app/dist/server.js:{n}:23)", "", "Node.js v20.11.1"),),
        "nginx": (("{nts} [notice] 1#1: signal 17 (SIGCHLD) received from {n}",
                   "{nts} [alert] 1#1: worker process {n} exited on signal 11 (core dumped)",
                   "{nts} [alert] 1#1: worker process {n} exited on signal 11 (core dumped)"),
                  ("[{ets}][1][critical][backtrace] [./source/server/backtrace.h:104] Caught Segmentation fault, "
                   "suspect faulting address 0x0",
                   "[{ets}][1][critical][backtrace] [./source/server/backtrace.h:91] Backtrace (use "
                   "tools/stack_decode.py to get line numbers):",
                   "[{ets}][1][critical][backtrace] [./source/server/backtrace.h:92] Envoy version: "
                   "6b9db09c69965d5bfb37bdd29693f8b7f9e9e9ec/1.31.2/Clean/RELEASE/BoringSSL")),
    },
    "segfault": {
        "go": (("fatal error: unexpected signal during runtime execution",
                "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x7f3c2a1b4c6d]", "",
                "runtime stack:", "runtime.throw({{0x1a2b3c4, 0x2a}})", "\t/usr/local/go/src/runtime/panic.go:1077 +0x5c",
                "", "goroutine {n} [syscall]:", "runtime.cgocall(0x14f2e40, 0xc00047b5d8)",
                "{pkg}/internal/codec._Cfunc_decode_frame(0x7f3c1c000b70, 0x400)"),),
        "java": (("#", "# A fatal error has been detected by the Java Runtime Environment:", "#",
                  "#  SIGSEGV (0xb) at pc=0x00007f8e6d2c1a4f, pid=1, tid={n}", "#",
                  "# JRE version: OpenJDK Runtime Environment Temurin-21.0.5+11 (21.0.5+11) (build 21.0.5+11-LTS)",
                  "# Problematic frame:", "# C  [libzstd-jni-1.5.6-4.so+0x4ca4f]  ZSTD_decompressBlock_internal+0x6f",
                  "#", "# Core dump will be written. Default location: /app/core"),),
        "python": (("Fatal Python error: Segmentation fault", "",
                    "Current thread 0x00007f5e2c9ff740 (most recent call first):",
                    '  File "/usr/local/lib/python3.11/site-packages/lxml/html/__init__.py", line {n} in fromstring',
                    '  File "/app/{mod}/parser.py", line {n} in parse'),),
        "node": (("PID 1 received SIGSEGV for address: 0x0",
                  "/app/node_modules/segfault-handler/build/Release/segfault-handler.node(+0x3a2f)[0x7f0a9c1d2a2f]",
                  "/app/node_modules/sharp/build/Release/sharp-linux-x64.node(+0x5e1c0)[0x7f0a9b8e11c0]"),),
        "nginx": (("{nts} [alert] 1#1: worker process {n} exited on signal 11 (core dumped)",),),
    },
    "db_refused": {
        "go": (("{ts} FATAL failed to connect to database: dial tcp {ip}:5432: connect: connection refused",),
               ('{ts} level=fatal msg="cannot open database" err="failed to connect to `host={db} user=app '
                'database=app`: dial error (dial tcp {ip}:5432: connect: connection refused)"',)),
        "java": (("{ts} ERROR com.zaxxer.hikari.pool.HikariPool - HikariPool-1 - Exception during pool initialization.",
                  "org.postgresql.util.PSQLException: Connection to {db}:5432 refused. Check that the hostname and "
                  "port are correct and that the postmaster is accepting TCP/IP connections.",
                  "\tat org.postgresql.core.v3.ConnectionFactoryImpl.openConnectionImpl(ConnectionFactoryImpl.java:346)",
                  "Caused by: java.net.ConnectException: Connection refused"),),
        "python": (("Traceback (most recent call last):", '  File "/app/{mod}/db.py", line {n}, in connect',
                    "    return psycopg.connect(dsn)",
                    'psycopg.OperationalError: connection failed: connection to server at "{ip}", port 5432 failed: '
                    "Connection refused", "\tIs the server running on that host and accepting TCP/IP connections?"),),
        "node": (("Error: connect ECONNREFUSED {ip}:5432",
                  "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1595:16) {",
                  "  errno: -111,", "  code: 'ECONNREFUSED',", "  syscall: 'connect',", "  address: '{ip}',",
                  "  port: 5432", "}"),),
    },
    "dns": {
        "go": (("{ts} FATAL dial tcp: lookup {dep} on 10.96.0.10:53: server misbehaving",),
               ("{ts} FATAL dial tcp: lookup {dep} on 10.96.0.10:53: read udp 10.244.{d}.{n}:{port}->10.96.0.10:53: "
                "i/o timeout",),
               ("{ts} FATAL dial tcp: lookup {dep}: no such host",)),
        "java": (("java.net.UnknownHostException: {dep}: Temporary failure in name resolution",
                  "\tat java.base/java.net.Inet6AddressImpl.lookupAllHostAddr(Native Method)",
                  "\tat java.base/java.net.InetAddress.getAllByName0(InetAddress.java:1529)"),),
        "python": (("Traceback (most recent call last):", '  File "/app/{mod}/client.py", line {n}, in call',
                    "    return self.session.post(url, json=body)",
                    "socket.gaierror: [Errno -3] Temporary failure in name resolution"),),
        "node": (("Error: getaddrinfo EAI_AGAIN {dep}", "    at GetAddrInfoReqWrap.onlookup [as oncomplete] "
                  "(node:dns:107:26) {", "  errno: -3001,", "  code: 'EAI_AGAIN',", "  syscall: 'getaddrinfo',",
                  "  hostname: '{dep}'", "}"),),
        "nginx": (("/docker-entrypoint.sh: Configuration complete; ready for start up",
                   '{nts} [emerg] 1#1: host not found in upstream "{dep}:8080" in /etc/nginx/conf.d/default.conf:{n}',
                   'nginx: [emerg] host not found in upstream "{dep}:8080" in /etc/nginx/conf.d/default.conf:{n}'),),
    },
    "x509": {
        "go": (('{ts} FATAL Get "https://{host}/": tls: failed to verify certificate: x509: certificate has expired '
                "or is not yet valid: current time {now} is after {expiry}",),),
        "java": (("javax.net.ssl.SSLHandshakeException: PKIX path validation failed: "
                  "java.security.cert.CertPathValidatorException: validity check failed",
                  "Caused by: java.security.cert.CertificateExpiredException: NotAfter: {expiry_java}",
                  "\tat java.base/sun.security.x509.CertificateValidity.valid(CertificateValidity.java:277)"),),
        "python": (("Traceback (most recent call last):", '  File "/app/{mod}/client.py", line {n}, in call',
                    "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
                    "certificate has expired (_ssl.c:1006)",
                    "During handling of the above exception, another exception occurred:",
                    "httpx.ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has "
                    "expired (_ssl.c:1006) for https://{host}"),),
        "node": (("Error: certificate has expired", "    at TLSSocket.onConnectSecure (node:_tls_wrap:1674:34) {",
                  "  code: 'CERT_HAS_EXPIRED'", "}"),),
        "nginx": (("{nts} [error] 29#29: *{n} upstream SSL certificate verify error: (10:certificate has expired) "
                   "while SSL handshaking to upstream, client: 10.244.{d}.{n}, server: _, request: \"GET /healthz "
                   'HTTP/1.1", upstream: "https://{host}/healthz"',),),
    },
    "missing_env": {
        "go": (("{ts} FATAL config: required key {var} missing value",),
               ('panic: env: environment variable "{var}" should not be empty', *_GO_PANIC_TAIL)),
        "java": (("***************************", "APPLICATION FAILED TO START", "***************************", "",
                  "Description:", "", "Failed to bind properties under '{prop}' to java.lang.String:", "",
                  "    Reason: Could not resolve placeholder '{var}' in value \"${{{var}}}\""),),
        "python": (("Traceback (most recent call last):", '  File "/app/{mod}/settings.py", line {n}, in <module>',
                    '    DATABASE_URL = os.environ["{var}"]', "  File \"<frozen os>\", line 679, in __getitem__",
                    "KeyError: '{var}'"),),
        "node": (("Error: Missing required environment variable {var}",
                  "    at requireEnv (/app/dist/config.js:{n}:11)"),),
        "nginx": (("/docker-entrypoint.sh: Running envsubst on /etc/nginx/templates/default.conf.template to "
                   "/etc/nginx/conf.d/default.conf",
                   "{nts} [emerg] 1#1: invalid URL prefix in /etc/nginx/conf.d/default.conf:{n}",
                   "nginx: [emerg] invalid URL prefix in /etc/nginx/conf.d/default.conf:{n}"),
                  ("[{ets}][1][critical][main] [source/server/server.cc:414] error initializing configuration "
                   "'/etc/envoy/envoy.yaml': Proto constraint validation failed (BootstrapValidationError."
                   "StaticResources: embedded message failed validation | caused by StaticResourcesValidationError."
                   "Clusters[0]: embedded message failed validation | caused by ClusterValidationError.Name: value "
                   'length must be at least 1 characters): {{"name":"","type":"STRICT_DNS"}}',
                   "[{ets}][1][info][main] [source/server/server.cc:1012] exiting")),
    },
    "exec_format": {"*": (("exec /usr/local/bin/{svc}: exec format error",), ("exec /app/server: exec format error",))},
    "entrypoint_syntax": {"*": (("/docker-entrypoint.sh: line {n}: syntax error near unexpected token `fi'",
                                 "/docker-entrypoint.sh: line {n}: `fi'"),
                                ("/entrypoint.sh: line {n}: syntax error: unexpected end of file",))},
    "net_timeout": {
        "go": (('{ts} ERROR call failed err="dial tcp {ip}:8080: i/o timeout" target={dep}',),
               ('{ts} ERROR Post "http://{dep}:8080/api": dial tcp {ip}:8080: connect: connection timed out',)),
        "java": (("org.springframework.web.client.ResourceAccessException: I/O error on POST request for "
                  '"http://{dep}:8080/api": Connect timed out',
                  "Caused by: java.net.SocketTimeoutException: Connect timed out"),),
        "python": (("httpx.ConnectTimeout: timed out while connecting to http://{dep}:8080",),),
        "node": (("Error: connect ETIMEDOUT {ip}:8080", "  code: 'ETIMEDOUT',", "  syscall: 'connect'"),),
        "nginx": (("{nts} [error] 29#29: *{n} upstream timed out (110: Connection timed out) while connecting to "
                   'upstream, client: 10.244.{d}.{n}, server: _, request: "POST /api HTTP/1.1", upstream: '
                   '"http://{ip}:8080/api", host: "{dep}"',),),
    },
    "disk_full": {
        "postgres": (('{ts} UTC [{n}] PANIC:  could not write to file "pg_wal/xlogtemp.{n}": No space left on device',
                      "{ts} UTC [1] LOG:  WAL writer process (PID {n}) was terminated by signal 6: Aborted",
                      "{ts} UTC [1] LOG:  terminating any other active server processes"),),
        "redis": (("1:M {rts} # Write error saving DB on disk: No space left on device",
                   "1:M {rts} # Background saving error"),),
        "rabbitmq": (("{ts} [error] <0.{n}.0> Error when writing to file: enospc",
                      "{ts} [warning] <0.{n}.0> disk resource limit alarm set on node rabbit@{svc}-0."),),
        "kafka": (("[{kts}] ERROR Error while appending records to jobs-{d} in dir /var/lib/kafka/data "
                   "(kafka.server.LogDirFailureChannel)", "java.io.IOException: No space left on device"),),
        "*": (("write /data/state.db: no space left on device",),),
    },
    "busy_pool": {
        "java": (("{ts} INFO  [http-nio-8080-Acceptor] o.a.tomcat.util.net.NioEndpoint - Maximum number of threads "
                  "(200) created for connector with address [null] and port [8080]",
                  '"http-nio-8080-exec-{n}" #{n} daemon prio=5 os_prio=0 tid=0x00007f2c4c0{n} nid=0x{n} runnable',
                  "   java.lang.Thread.State: RUNNABLE",
                  "\tat java.base/sun.nio.ch.SocketDispatcher.read0(Native Method)",
                  "\tat java.base/java.net.SocketInputStream.read(SocketInputStream.java:168)",
                  "\tat {jpkg}.client.LegacyClient.fetch(LegacyClient.java:{n})"),),
        "python": (("[{gts}] [1] [CRITICAL] WORKER TIMEOUT (pid:{n})", "[{gts}] [1] [CRITICAL] WORKER TIMEOUT (pid:{n})",
                    "[{gts}] [{n}] [INFO] Booting worker with pid: {n}",
                    "[{gts}] [1] [CRITICAL] WORKER TIMEOUT (pid:{n})"),),
        "go": (("{ts} WARN worker pool saturated: 256/256 workers busy, rejecting request",
                "{ts} WARN worker pool saturated: 256/256 workers busy, rejecting request",
                "{ts} ERROR http: handler blocked for 30s, 1843 requests queued"),),
        "node": (("{ts} WARN event loop blocked for {n}23ms (libuv threadpool 4/4 busy)",
                  "{ts} WARN event loop blocked for {n}87ms (libuv threadpool 4/4 busy)"),),
    },
    "thread_dump": {
        "java": (("Found one Java-level deadlock:", "=============================", '"pool-3-thread-7":',
                  "  waiting to lock monitor 0x00007f3a1c004f58 (object 0x000000070ff1a2b8, a {jpkg}.cache.Region),",
                  '  which is held by "pool-3-thread-2"', '"pool-3-thread-2":',
                  "  waiting to lock monitor 0x00007f3a1c007a18 (object 0x000000070ff1a2c8, a {jpkg}.cache.Index),",
                  '  which is held by "pool-3-thread-7"', "", "Found 1 deadlock."),),
        "go": (("SIGQUIT: quit", "", "goroutine {n} [sync.Mutex.Lock, 9 minutes]:",
                "sync.runtime_SemacquireMutex(0xc0001a6{n}, 0x0, 0x1)", "\t/usr/local/go/src/runtime/sema.go:77 +0x25",
                "{pkg}/internal/cache.(*Store).Refresh(0xc0001a6{n})", "\t/src/internal/cache/store.go:{n} +0x4b", "",
                "goroutine {n} [sync.Mutex.Lock, 9 minutes]:", "{pkg}/internal/cache.(*Index).Rebuild(0xc0002b1{n})",
                "\t/src/internal/cache/index.go:{n} +0x71"),),
        "python": (("Thread 0x00007f5e2b7fe640 (most recent call first):",
                    '  File "/usr/local/lib/python3.11/threading.py", line 320 in wait',
                    '  File "/app/{mod}/cache.py", line {n} in refresh', "",
                    "Thread 0x00007f5e2bfff640 (most recent call first):",
                    '  File "/app/{mod}/cache.py", line {n} in rebuild_index',
                    "watchdog: 2 threads blocked on each other's locks for 540s"),),
    },
    "oom_quiet": {"*": ((),)},  # the kernel kills it: the log just stops
}


def crash_tail(cause: str, language: str, rng: random.Random, values: dict[str, str]) -> list[str]:
    """The last lines ``cause`` makes a ``language`` process print before it exits (filled from ``values``)."""
    table = TAILS[cause]
    variants = table.get(language) or table.get("*") or table.get("python") or next(iter(table.values()))
    lines = rng.choice(variants)
    filled: list[str] = []
    for line in lines:
        try:
            filled.append(line.format_map(_Values(values, rng)))
        except (KeyError, IndexError, ValueError):
            filled.append(line)
    return filled


class _Values(dict[str, str]):
    def __init__(self, values: dict[str, str], rng: random.Random) -> None:
        super().__init__(values)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        if key == "n":
            return str(self.rng.randint(12, 480))
        if key == "d":
            return str(self.rng.randint(0, 9))
        if key == "port":
            return str(self.rng.randint(32768, 60999))
        raise KeyError(key)
