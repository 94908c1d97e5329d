"""What each kind of software says when something fails: exception classes and messages by language.

An error family (``db_pool``, ``timeout``, ``tls`` ...) maps a component language to the
``(exception class, message)`` its client library really produces. Messages may hold ``{dep}``,
``{db}``, ``{ip}``, ``{host}`` and ``{n}`` placeholders, filled by the scenario.
"""

from __future__ import annotations

FAMILIES: dict[str, dict[str, tuple[str, str]]] = {
    "db_pool": {
        "java": ("java.sql.SQLTransientConnectionException",
                 "HikariPool-1 - Connection is not available, request timed out after 30000ms."),
        "python": ("sqlalchemy.exc.TimeoutError",
                   "QueuePool limit of size 20 overflow 10 reached, connection timed out, timeout 30.00"),
        "go": ("", "failed to acquire connection from pool: context deadline exceeded (20/20 conns in use)"),
        "node": ("KnexTimeoutError", "Knex: Timeout acquiring a connection. The pool is probably full. "
                                     "Are you missing a .transacting(trx) call?"),
    },
    "db_timeout": {
        "java": ("org.postgresql.util.PSQLException", "ERROR: canceling statement due to statement timeout"),
        "python": ("sqlalchemy.exc.OperationalError",
                   "(psycopg2.errors.QueryCanceled) canceling statement due to statement timeout"),
        "go": ("", "pq: canceling statement due to statement timeout"),
        "node": ("DatabaseError", "canceling statement due to statement timeout"),
    },
    "db_lock": {
        "java": ("org.postgresql.util.PSQLException", "ERROR: canceling statement due to lock timeout"),
        "python": ("sqlalchemy.exc.OperationalError",
                   "(psycopg2.errors.LockNotAvailable) canceling statement due to lock timeout"),
        "go": ("", "pq: canceling statement due to lock timeout"),
        "node": ("DatabaseError", "canceling statement due to lock timeout"),
    },
    "db_refused": {
        "java": ("org.postgresql.util.PSQLException",
                 "Connection to {db}:5432 refused. Check that the hostname and port are correct and that the "
                 "postmaster is accepting TCP/IP connections."),
        "python": ("sqlalchemy.exc.OperationalError",
                   '(psycopg2.OperationalError) connection to server at "{db}" ({ip}), port 5432 failed: '
                   "Connection refused"),
        "go": ("", "dial tcp {ip}:5432: connect: connection refused"),
        "node": ("Error", "connect ECONNREFUSED {ip}:5432"),
    },
    "db_stale": {
        "java": ("", "read-after-write miss on replica for order {n}, retrying on primary"),
        "python": ("", "row {n} not visible on read replica yet, falling back to primary"),
        "go": ("", "stale read from replica: version {n} behind primary, retrying on primary"),
        "node": ("", "replica returned stale session {n}, retrying on primary"),
    },
    "timeout": {
        "java": ("org.springframework.web.client.ResourceAccessException",
                 'I/O error on POST request for "http://{dep}:8080/api": Read timed out'),
        "python": ("httpx.ReadTimeout", "timed out while calling http://{dep}:8080"),
        "go": ("", 'Post "http://{dep}:8080/api": context deadline exceeded (Client.Timeout exceeded while '
                   "awaiting headers)"),
        "node": ("Error", "ESOCKETTIMEDOUT calling http://{dep}:8080"),
    },
    "http5xx": {
        "java": ("org.springframework.web.client.HttpServerErrorException$ServiceUnavailable",
                 '503 Service Unavailable: "{{"error":"upstream unavailable"}}"'),
        "python": ("httpx.HTTPStatusError", "Server error '503 Service Unavailable' for url 'http://{dep}:8080'"),
        "go": ("", "unexpected status 503 from {dep}"),
        "node": ("HTTPError", "Response code 503 (Service Unavailable) from {dep}"),
    },
    "refused": {
        "java": ("java.net.ConnectException", "Connection refused"),
        "python": ("httpx.ConnectError", "[Errno 111] Connection refused"),
        "go": ("", 'Get "http://{dep}:8080/healthz": dial tcp {ip}:8080: connect: connection refused'),
        "node": ("Error", "connect ECONNREFUSED {ip}:8080"),
    },
    "io_timeout": {
        "java": ("java.net.SocketTimeoutException", "Connect timed out"),
        "python": ("httpx.ConnectTimeout", "timed out"),
        "go": ("", 'Get "http://{dep}:8080/api": dial tcp {ip}:8080: i/o timeout'),
        "node": ("Error", "connect ETIMEDOUT {ip}:8080"),
    },
    "reset": {
        "java": ("java.net.SocketException", "Connection reset"),
        "python": ("httpx.RemoteProtocolError", "Server disconnected without sending a response."),
        "go": ("", 'Post "http://{dep}:8080/api": read tcp {ip}:8080: read: connection reset by peer'),
        "node": ("Error", "read ECONNRESET"),
    },
    "tls": {
        "java": ("javax.net.ssl.SSLHandshakeException",
                 "PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check "
                 "failed (caused by java.security.cert.CertificateExpiredException: NotAfter: Sun Mar 01 "
                 "00:00:00 UTC 2026)"),
        "python": ("httpx.ConnectError",
                   "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)"),
        "go": ("", 'Get "https://{dep}/api": tls: failed to verify certificate: x509: certificate has expired or '
                   "is not yet valid"),
        "node": ("Error", "certificate has expired (CERT_HAS_EXPIRED) calling https://{dep}"),
    },
    "dns": {
        "java": ("java.net.UnknownHostException", "{dep}: Temporary failure in name resolution"),
        "python": ("httpx.ConnectError", "[Errno -3] Temporary failure in name resolution ({dep})"),
        "go": ("", "dial tcp: lookup {dep} on 10.96.0.10:53: server misbehaving"),
        "node": ("Error", "getaddrinfo EAI_AGAIN {dep}"),
    },
    "rate429": {
        "java": ("org.springframework.web.client.HttpClientErrorException$TooManyRequests",
                 '429 Too Many Requests: "{{"error":"rate_limit_exceeded","retry_after":30}}"'),
        "python": ("httpx.HTTPStatusError", "Client error '429 Too Many Requests' for url 'https://{dep}/v1'"),
        "go": ("", "unexpected status 429 Too Many Requests from {dep} (retry-after 30s)"),
        "node": ("HTTPError", "Response code 429 (Too Many Requests) from {dep}"),
    },
    "oom": {
        "java": ("java.lang.OutOfMemoryError", "Java heap space"),
        "python": ("MemoryError", ""),
        "go": ("", "runtime: out of memory: cannot allocate 268435456-byte block (3221225472 in use)"),
        "node": ("", "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"),
    },
    "gc": {
        "java": ("", "GC pause (G1 Evacuation Pause) {n}ms, heap 1843M->1790M(2048M)"),
        "python": ("", "gc: collected {n} objects in generation 2, rss growing"),
        "go": ("", "gc 812 @3600s 9%: heap 1790->1750->1720 MB, {n}ms pause"),
        "node": ("", "Mark-Compact 1790.2 (2050.1) -> 1770.8 (2049.3) MB, {n} ms: allocation failure"),
    },
    "threadpool": {
        "java": ("java.util.concurrent.RejectedExecutionException",
                 "Task rejected from java.util.concurrent.ThreadPoolExecutor[Running, pool size = 200, active "
                 "threads = 200, queued tasks = 1000, completed tasks = 4821943]"),
        "python": ("RuntimeError", "can't start new thread: worker pool at 64/64, request queue full"),
        "go": ("", "worker pool saturated: 256/256 workers busy, rejecting request"),
        "node": ("", "event loop lag {n}ms, libuv threadpool saturated (UV_THREADPOOL_SIZE=4)"),
    },
    "deadlock": {
        "java": ("", 'Found one Java-level deadlock: "pool-3-thread-7" waiting to lock monitor 0x00007f3a1c004f58 '
                     'held by "pool-3-thread-2"'),
        "python": ("", "worker thread blocked for {n}s waiting on lock held by thread-7"),
        "go": ("", "watchdog: handler goroutines blocked on mutex for {n}s (sync.(*Mutex).Lock)"),
        "node": ("", "request handler blocked for {n}ms awaiting lock 'inventory-sync'"),
    },
    "bug": {
        "java": ("java.lang.NullPointerException",
                 'Cannot invoke "java.math.BigDecimal.multiply(java.math.BigDecimal)" because "price" is null'),
        "python": ("KeyError", "'currency'"),
        "go": ("", "panic: runtime error: invalid memory address or nil pointer dereference [recovered]"),
        "node": ("TypeError", "Cannot read properties of undefined (reading 'currency')"),
    },
    "bad_input": {
        "java": ("com.fasterxml.jackson.databind.exc.MismatchedInputException",
                 "Cannot deserialize value of type `java.lang.Long` from String \"N/A\""),
        "python": ("pydantic_core._pydantic_core.ValidationError",
                   "1 validation error for OrderLine\nquantity\n  Input should be a valid integer"),
        "go": ("", 'json: cannot unmarshal string into Go struct field Line.quantity of type int'),
        "node": ("SyntaxError", "Unexpected token N in JSON at position 118"),
    },
    "config": {
        "java": ("java.lang.IllegalStateException", "Failed to resolve upstream URL from property 'clients.{dep}.url'"),
        "python": ("pydantic_core._pydantic_core.ValidationError", "1 validation error for Settings\n{dep}_url\n  "
                                                                   "Input should be a valid URL"),
        "go": ("", "invalid config: {dep}.endpoint: parse \"htp//{dep}:8080\": missing protocol scheme"),
        "node": ("Error", "Invalid configuration: {dep}.baseUrl is not a valid URL"),
    },
    "startup": {
        "java": ("org.springframework.beans.factory.BeanCreationException",
                 "Error creating bean with name 'dataSource': Failed to bind properties under 'spring.datasource'"),
        "python": ("KeyError", "'DATABASE_PASSWORD'"),
        "go": ("", "fatal: missing required environment variable DATABASE_PASSWORD"),
        "node": ("Error", "Missing required environment variable DATABASE_PASSWORD"),
    },
}


def phrase(family: str, language: str) -> tuple[str, str]:
    """The (exception class, message) of ``family`` in ``language``; Python's wording by default."""
    table = FAMILIES[family]
    return table.get(language) or table.get("python") or next(iter(table.values()))
