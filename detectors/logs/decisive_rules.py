"""Lines that explain a failure by themselves: the rule tables of ``decisive.py``.

Each row: rule id, family (the signal's detector ``logs.<family>``), kind, score (how decisive: 0.9+
only for unambiguous lines), whom it blames, and the pattern (case-insensitive). Wording follows what
the programs print (JVM, Go runtime, CPython, Node, bash/dash, libpq, MySQL, curl, nginx, the Linux
kernel, Cisco IOS/NX-OS, Junos, Arista EOS, FRR, Patroni, Redis Sentinel, AWS/GCP/Azure SDKs).

Blame (``docs/causes.md``: name the thing to fix):
- ``self``: the service whose log it is;
- ``peer``: the host the line names (``culprits.peer_of``); a refused connection to a database port
  turns ``dependency_failure`` into ``db_down`` on that host (``db_port``);
- ``lookup``: a failed name resolution: culprit ``dns``, the name asked for in ``looked_up``;
- ``provider``: the provider that throttled the call (``s3``, the host), never the caller;
- ``device``: the host in the syslog header (a router, a node), for kernel and network-device lines.

Families: ``decisive`` (programs), ``kernel``, ``storage`` (arrays, disk controllers, hypervisors' view of their
datastores), ``network`` (routers and switches).

``generic`` rows (a panic, a segfault, an exit status) name a crash with no more specific cause: they
count only in a log's last lines and are dropped when a specific row matched the same log.
``needs_culprit`` rows are too weak without a named peer (a bare timeout).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from detectors.logs.anchors import required_literals, trie_regex


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    family: str
    kind: str
    score: float
    blame: str
    pattern: str
    generic: bool = False
    needs_culprit: bool = False
    db_port: bool = False
    culprit_re: str | None = None  # a regex with a ``host`` group that names the culprit better than peer_of
    hint: tuple[str, ...] = ()  # lower-case literals one of which every match holds, when the pattern's own are weak
    context_re: str | None = None  # must match one of the few lines above (a traceback frame that read os.environ)
    role: str | None = None  # what the line blames when it names no host: "database" (the service's own database)
    weak: bool = False  # a symptom of a problem elsewhere (a timeout, a reset, a 5xx): evidence, never decisive
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    culprit_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    literals: frozenset[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern, re.IGNORECASE))
        culprit = re.compile(self.culprit_re, re.IGNORECASE) if self.culprit_re else None
        object.__setattr__(self, "culprit_regex", culprit)
        literals = frozenset(self.hint) if self.hint else required_literals(self.pattern)
        object.__setattr__(self, "literals", literals)

    def matches(self, text: str, lower: str) -> bool:
        """Whether the rule matches ``text`` (``lower`` is its lower-case form, for the literal shortcut)."""
        if self.literals is not None and not any(word in lower for word in self.literals):
            return False
        return self.regex.search(text) is not None


_H = r"[\w.\-]+"

CRASH_RULES: tuple[Rule, ...] = (
    # JVM
    Rule("java.oom.native_thread", "decisive", "thread_pool_exhaustion", 0.85, "self",
         r"OutOfMemoryError: unable to create (?:new )?native thread|pthread_create failed|"
         r"failed to create new OS thread|can't start new thread|failed to spawn thread|"
         r"Cannot create (?:GC|worker) thread|unable to create new native thread"),
    Rule("java.oom.heap", "decisive", "oom_kill", 0.8, "self",
         r"OutOfMemoryError: Java heap space|OutOfMemoryError: Requested array size exceeds VM limit"),
    Rule("java.oom.gc_overhead", "decisive", "memory_leak", 0.75, "self", r"OutOfMemoryError: GC overhead limit exceeded"),
    Rule("java.oom.metaspace", "decisive", "memory_leak", 0.7, "self",
         r"OutOfMemoryError: (?:Metaspace|Compressed class space|PermGen space)"),
    Rule("java.oom.direct", "decisive", "memory_leak", 0.6, "self", r"OutOfMemoryError: Direct buffer memory"),
    Rule("java.linkage", "decisive", "bad_deploy", 0.75, "self",
         r"java\.lang\.(?:NoClassDefFoundError|ClassNotFoundException|NoSuchMethodError|NoSuchFieldError|"
         r"AbstractMethodError|IncompatibleClassChangeError|UnsupportedClassVersionError)|"
         r"Could not find or load main class|has been compiled by a more recent version of the Java Runtime"),
    Rule("java.main_exception", "decisive", "crash_loop", 0.45, "self", r"Exception in thread \"main\"", generic=True),
    Rule("spring.failed_start", "decisive", "crash_loop", 0.45, "self",
         r"APPLICATION FAILED TO START|Application run failed", generic=True),
    # Go runtime
    Rule("go.deadlock", "decisive", "deadlock", 0.95, "self", r"fatal error: all goroutines are asleep - deadlock"),
    Rule("go.oom", "decisive", "oom_kill", 0.85, "self",
         r"fatal error: runtime: out of memory|runtime: out of memory: cannot allocate"),
    Rule("go.concurrent_map", "decisive", "crash_loop", 0.6, "self",
         r"fatal error: concurrent map (?:writes|read and map write|iteration and map write)"),
    Rule("go.panic", "decisive", "crash_loop", 0.45, "self",
         r"^(?:\S+ )?panic: |\[signal SIGSEGV: segmentation violation|^goroutine \d+ \[running\]:", generic=True),
    # CPython
    # an environment variable's name is upper case (``DATABASE_URL``); rules match case-insensitively, so the names are
    # matched case-sensitively here: a lower-case key missing from a dict (``KeyError: 'redis_cluster_v2'``) is the
    # code's own lookup, not a missing setting
    Rule("py.env_key", "decisive", "config_change", 0.75, "self",
         r"KeyError: ['\"](?-i:[A-Z][A-Z0-9]*_[A-Z0-9_]+)['\"]|"
         r"environ(?:ment)?\[['\"](?-i:[A-Z][A-Z0-9_]+)['\"]\].{0,40}KeyError|"
         r"(?:missing|required|undefined|not set).{0,20}environment variable|"
         r"environment variable \S+ (?:is )?(?:not set|missing|required|undefined|must be set)"),
    Rule("py.env_key_frame", "decisive", "config_change", 0.75, "self", r"^KeyError: ['\"][A-Za-z][A-Za-z0-9_]*['\"]$",
         context_re=r"environ\[|getenv\(|env\[", hint=("keyerror: ",)),
    Rule("py.module", "decisive", "bad_deploy", 0.75, "self",
         r"ModuleNotFoundError: No module named|ImportError: cannot import name|ImportError: No module named|"
         r"Error: Cannot find module '|ERR_MODULE_NOT_FOUND"),
    Rule("py.traceback", "decisive", "crash_loop", 0.4, "self", r"^Traceback \(most recent call last\)", generic=True),
    # Node
    # a server that cannot listen on its port (another process holds it): its configuration; not a client's dial whose
    # own source port could not be bound (``dial tcp 127.32.0.1:0->127.0.0.1:11211: bind: address already in use``):
    # that is the host out of local ports (``limits.local_ports``)
    Rule("node.eaddrinuse", "decisive", "config_change", 0.8, "self",
         r"^(?!.*\bdial (?:tcp|udp)[46]?\b)(?:.*?)(?:EADDRINUSE|bind: address already in use|Address already in use|"
         r"Port \d+ was already in use)",
         hint=("eaddrinuse", "address already in use", "was already in use")),
    Rule("node.heap_oom", "decisive", "oom_kill", 0.8, "self",
         r"JavaScript heap out of memory|Reached heap limit Allocation failed"),
    Rule("node.unhandled", "decisive", "crash_loop", 0.4, "self",
         r"UnhandledPromiseRejection|Unhandled promise rejection|uncaughtException", generic=True),
    # shells and the container runtime
    Rule("sh.syntax", "decisive", "bad_deploy", 0.8, "self",
         r"(?:line \d+|: \d+): syntax error|: \d+: Syntax error: |syntax error: unexpected end of file"),
    Rule("sh.exec_format", "decisive", "bad_deploy", 0.85, "self", r"exec format error"),
    Rule("sh.not_found", "decisive", "bad_deploy", 0.7, "self",
         r"executable file not found in \$PATH|^(?:/bin/|/usr/bin/env: )?(?:ba|da|z)?sh: (?:line )?\d+: \S+: "
         r"(?:command )?not found|^/\S+: line \d+: \S+: (?:command )?not found|exec \S+: no such file or directory|"
         r"/usr/bin/env: '?\S+'?: No such file or directory",
         hint=(": not found", ": command not found", "executable file not found", ": no such file or directory")),
    Rule("sh.unbound", "decisive", "config_change", 0.8, "self",
         r": unbound variable|: parameter null or not set|: parameter not set"),
    Rule("sh.permission", "decisive", "bad_deploy", 0.65, "self",
         r"exec \S+: permission denied|^(?:/bin/sh: \d+: )?/\S+: Permission denied$"),
    # a program started with a flag or argument it does not know (a new image, an old command line): Go's flag
    # package, cobra, Python's argparse, the JVM launcher
    Rule("cli.unknown_flag", "decisive", "bad_deploy", 0.75, "self",
         r"flag provided but not defined: -|\bunknown (?:shorthand )?flag: ['-]|error: unrecognized arguments: |"
         r"^Unrecognized option: -",
         hint=("flag provided but not defined", "unknown flag", "unknown shorthand flag", "unrecognized arguments",
               "unrecognized option")),
    # a release's schema migration that failed part-way now stops every start of the new version at the migration
    # tool's check (Flyway's failed row in its history, golang-migrate's dirty version): what the release shipped
    Rule("migration.failed_state", "decisive", "bad_deploy", 0.8, "self",
         r"Detected failed migration to version|Dirty database version \d+|"
         r"Migrations? have failed validation",
         hint=("detected failed migration", "dirty database version", "have failed validation",
               "has failed validation")),
    # a client's query naming a column or table its database does not have, in the client's driver's words (Rails'
    # PG::UndefinedColumn, psycopg's errors.UndefinedColumn, asyncpg's UndefinedColumnError, MySQL's error 1054
    # `Unknown column 'x' in 'field list'`, SQLite's `no such column`): the code and the schema are out of sync, what
    # the client's release shipped (a migration that did not run or failed part-way). The database's own log of the
    # same error is not read: it names no client
    Rule("sql.schema_mismatch", "decisive", "bad_deploy", 0.55, "self",
         r"\bPG::Undefined(?:Column|Table)\b|\berrors\.Undefined(?:Column|Table)\b|\bUndefined(?:Column|Table)Error\b|"
         r"Unknown column '[^']+' in '(?:field list|where clause|order clause|on clause)'|"
         r"\bno such (?:column|table): \w",
         hint=("pg::undefinedcolumn", "pg::undefinedtable", "errors.undefinedcolumn", "errors.undefinedtable",
               "undefinedcolumnerror", "undefinedtableerror", "unknown column '", "no such column: ",
               "no such table: ")),
    # native crashes and exit codes
    Rule("rust.panic", "decisive", "crash_loop", 0.45, "self", r"thread '[^']+' panicked at", generic=True),
    Rule("native.segv", "decisive", "crash_loop", 0.5, "self",
         r"Segmentation fault|SIGSEGV|signal 11\b|segfault at|core dumped|SIGABRT|double free or corruption|"
         r"stack smashing detected", generic=True),
    # a daemon that would not (re)start under systemd (it names no more specific cause)
    Rule("systemd.unit_failed", "decisive", "crash_loop", 0.5, "self",
         r"\S+\.service: Failed with result '(?:exit-code|timeout|signal|core-dump|start-limit-hit)'|"
         r"\S+\.service: Main process exited, code=(?:exited|killed|dumped), status=[1-9]",
         hint=(".service: failed with result", ".service: main process exited")),
    # a server refusing its own configuration file at start or reload (BIND, nginx, HAProxy, Envoy)
    Rule("config.invalid", "decisive", "config_change", 0.75, "self",
         r"loading configuration: failure|\[emerg\] .{0,200} in /\S+:\d+|configuration file \S+ test failed|"
         r"\[ALERT\].{0,120}(?:parsing|Error\(s\) found in configuration file)|error initializing configuration|"
         r"unable to load configuration|reload of configuration failed|Invalid configuration file",
         hint=("loading configuration: failure", "[emerg]", "test failed", "[alert]", "error initializing configuration",
               "unable to load configuration", "reload of configuration failed", "invalid configuration file")),
    Rule("exit.137", "decisive", "oom_kill", 0.5, "self", r"exit(?:ed)?(?: with)? (?:status|code)[ =:]*137\b",
         hint=("exit status", "exit code", "exited with status", "exited with code")),
    Rule("exit.nonzero", "decisive", "crash_loop", 0.35, "self",
         r"exit(?:ed)?(?: with)? (?:status|code)[ =:]*[1-9]\d*\b", generic=True,
         hint=("exit status", "exit code", "exited with status", "exited with code")),
)

CONNECT_RULES: tuple[Rule, ...] = (
    Rule("db.mysql_unreachable", "decisive", "db_down", 0.8, "peer", r"Can't connect to (?:MySQL|MariaDB|local MySQL) server"),
    Rule("db.not_accepting", "decisive", "db_down", 0.8, "peer",
         r"the database system is (?:starting up|shutting down|in recovery mode|not accepting connections)|"
         r"could not connect to server: Connection refused|terminating connection due to administrator command"),
    Rule("db.mongo_selection", "decisive", "db_down", 0.75, "peer",
         r"MongoServerSelectionError|ServerSelectionTimeoutError|No suitable servers found|Server selection timed out"),
    Rule("db.redis_down", "decisive", "db_down", 0.8, "peer",
         r"Could not connect to Redis|Redis connection (?:to \S+ )?(?:lost|failed)|LOADING Redis is loading"),
    Rule("conn.refused", "decisive", "dependency_failure", 0.75, "peer",
         r"connection refused|ECONNREFUSED|actively refused|Connection to \S+ refused|\(111\)|Errno 111",
         db_port=True, hint=(" refused", "econnrefused", "(111)", "errno 111")),
    Rule("conn.unreachable", "decisive", "network_partition", 0.6, "peer",
         r"no route to host|network is unreachable|EHOSTUNREACH|ENETUNREACH|\(113\)|Errno 113", needs_culprit=True),
    # the service's own health or readiness check says which dependency failed it (and how): what a bare timeout
    # cannot say, the check does; its probe failures follow from that dependency (docs/causes.md)
    Rule("conn.health_check", "decisive", "dependency_failure", 0.7, "peer",
         r"\b(?:dependency|health|readiness|upstream) ?check(?: for [\w.-]+)? failed\b.{0,400}"
         r"(?:timed out|timeout|refused|unreachable|unavailable|\b5\d\d\b)",
         needs_culprit=True, hint=("check failed", "check for ")),
    Rule("conn.timeout", "decisive", "dependency_failure", 0.6, "peer",
         r"i/o timeout|connect(?:ion)? timed out|ETIMEDOUT|connect timeout|upstream timed out|\(110\)|Errno 110|"
         r"timed out while connecting|Read timed out", needs_culprit=True, weak=True),
    Rule("conn.reset", "decisive", "dependency_failure", 0.45, "peer",
         r"connection reset by peer|ECONNRESET", needs_culprit=True, weak=True),
    Rule("kafka.broker", "decisive", "dependency_failure", 0.6, "peer", r"Broker may not be available"),
    Rule("nginx.no_live_upstreams", "decisive", "dependency_failure", 0.65, "peer",
         r"no live upstreams while connecting to upstream"),
    Rule("haproxy.server_down", "decisive", "dependency_failure", 0.7, "peer",
         r"Server \S+/\S+ is DOWN|backend \S+ has no server available", hint=(" is down", "has no server available"),
         culprit_re=r"(?:Server \S+/|backend )(?P<host>" + _H + r")(?: is DOWN| has no server)"),
    # a proxy (an Envoy sidecar or gateway) with no healthy endpoint in the destination's cluster answers by itself,
    # flag ``UH``: the access log names the destination in its cluster (``outbound|8080|subset|cart.ns.svc...``)
    Rule("envoy.no_healthy_upstream", "decisive", "dependency_failure", 0.65, "peer",
         r"\b503 UH\b|\bno_healthy_upstream\b|\bno healthy upstream\b", needs_culprit=True,
         hint=("503 uh", "no_healthy_upstream", "no healthy upstream"),
         culprit_re=r"\boutbound\|\d+\|[\w.-]*\|(?P<host>" + _H + r")"),
    Rule("envoy.upstream", "decisive", "dependency_failure", 0.5, "peer",
         r"upstream connect error or disconnect/reset before headers", weak=True),
    Rule("http.5xx_from", "decisive", "dependency_failure", 0.55, "peer",
         r"50[234] (?:Server Error|Service Unavailable|Bad Gateway|Gateway Timeout)(?: for url|:)|"
         r"(?:status(?: code)?|HTTP)[ =:]*50[234]\b.{0,60}\b(?:from|for url|url=)", needs_culprit=True,
         hint=("server error", "service unavailable", "bad gateway", "gateway timeout", " 502", " 503", " 504",
               "=502", "=503", "=504", ":502", ":503", ":504"), weak=True),
    Rule("dns.nxdomain", "decisive", "dns_failure", 0.85, "lookup",
         r"no such host|NXDOMAIN|Name or service not known|nodename nor servname provided|"
         r"getaddrinfo (?:ENOTFOUND|EAI_NONAME)|UnknownHostException|could not resolve host|"
         r"could not translate host name|Unknown MySQL server host|host not found in upstream|"
         r"No address associated with hostname|No such host is known|Failed to resolve '"),
    Rule("dns.temporary", "decisive", "dns_failure", 0.85, "lookup",
         r"Temporary failure in name resolution|EAI_AGAIN|server misbehaving|SERVFAIL|could not be resolved \(\d+: |"
         r"lookup \S+ on \S+:53: .{0,100}(?:i/o timeout|connection refused)|dial udp \S+:53: |"
         r"DNS (?:lookup|resolution|query) (?:failed|timed out|error)",
         hint=("temporary failure in name resolution", "eai_again", "server misbehaving", "servfail", "could not be resolved",
               "i/o timeout", "connection refused", "dial udp ", "dns lookup", "dns resolution", "dns query")),
    # a domain's registration changed at its registrar or registry: its nameservers moved away from the ones it had
    # (a monitor's `NS a -> b`, `MISMATCH expected`), or a hold status that takes it out of the zone (EPP's
    # clientHold/serverHold); every lookup under it then fails or lands elsewhere (docs/causes.md)
    Rule("dns.delegation_changed", "decisive", "dns_failure", 0.85, "self",
         r"\b(?:client|server)Hold\b|\bname ?servers? (?:(?:of|for) \S+ )?(?:were |was |have been |has been )?(?:set to|changed|reset|"
         r"moved|replaced|updated to)\b|\bNS:? \S+ ?-> ?\S+|\b(?:NS|name ?servers?)[=:] ?\S+.{0,80}\bMISMATCH\b|"
         r"\bdelegation (?:changed|lost|removed|moved)\b|"
         # the other EPP statuses that take a domain out of the zone (RFC 5731: a lapsed registration in its
         # redemption grace period or pending deletion, a domain with no nameservers ``inactive``) and the registrars'
         # own words for a hold (``suspended``), as whois/RDAP and their status pages print them
         r"\b(?:redemptionPeriod|pendingDelete)\b|\bDomain Status:\s*(?:inactive|suspended)\b|"
         r"\bdomain (?:\S+ )?(?:has been |was |is )?suspended by (?:the )?(?:registrar|registry)\b",
         hint=("clienthold", "serverhold", "nameserver", "name server", "ns ", "ns:", "ns=", "delegation",
               "redemptionperiod", "pendingdelete", "domain status", "suspended by")),
    Rule("tls.expired", "decisive", "certificate_expired", 0.9, "peer",
         # Go's wording for both; a time before the certificate's start is the reader's clock, not an expiry
         r"certificate has expired(?! or is not yet valid: current time \S+ is before)|certificate expired|CERT_HAS_EXPIRED|CertificateExpiredException|"
         r"certificate is not yet valid|CertPathValidatorException: validity check failed|"
         r"SEC_ERROR_EXPIRED(?:_ISSUER)?_CERTIFICATE|ERR_CERT_DATE_INVALID|CERT_E_EXPIRED|"
         r"RemoteCertificateChainErrors.{0,80}NotTimeValid|\bNotTimeValid\b|The certificate chain (?:has )?expired|"
         r"certificate is expired"),
    # a server's log: the client rejected the certificate this service presents (the client's address is no culprit)
    Rule("tls.remote_expired", "decisive", "certificate_expired", 0.8, "self",
         r"remote error: tls: expired certificate|alert certificate[ _]expired|SSL alert number 45\b",
         hint=("remote error: tls: expired certificate", "alert certificate expired", "alert certificate_expired",
               "ssl alert number 45")),
    Rule("tls.remote_rejected", "decisive", "certificate_expired", 0.6, "self",
         r"remote error: tls: (?:bad certificate|unknown certificate authority|certificate unknown)"),
    Rule("tls.untrusted", "decisive", "certificate_expired", 0.6, "peer",
         r"x509: certificate signed by unknown authority|unable to get local issuer certificate|"
         r"self[- ]signed certificate in certificate chain|PKIX path building failed|certificate verify failed|"
         r"SSL certificate problem|The remote certificate is invalid according to the validation procedure|"
         r"Could not establish trust relationship for the SSL/TLS secure channel"),
    Rule("tls.name_mismatch", "decisive", "certificate_expired", 0.55, "peer",
         r"x509: certificate is valid for .{1,200} not |certificate is not valid for|ERR_TLS_CERT_ALTNAME_INVALID|"
         r"doesn't match any of the subject alternative names|Hostname \S+ not verified|"
         # Node's check (``ERR_TLS_CERT_ALTNAME_INVALID``) and Chromium's net error, as a synthetic browser reports it
         r"Hostname/IP does not match certificate's altnames|ERR_CERT_COMMON_NAME_INVALID"),
)

SERVICE_RULES: tuple[Rule, ...] = (
    Rule("db.too_many_clients", "decisive", "db_connection_exhaustion", 0.85, "self",
         r"sorry, too many clients already|remaining connection slots are reserved|Too many connections|"
         r"too many connections for role|ERR max number of clients reached|"
         # PgBouncer at its client ceiling (max_client_conn): the pooler refuses the login
         r"no more connections allowed \(max_client_conn\)|"
         # memcached at its -c ceiling (it then stops accepting: listen_disabled_num counts it)
         r"\bmemcached\S*:\s+Too many open connections\b|^\s*Too many open connections\s*$", role="database",
         hint=("too many clients already", "remaining connection slots", "too many connections",
               "max number of clients", "too many open connections", "no more connections allowed")),
    Rule("db.pool_exhausted", "decisive", "db_connection_exhaustion", 0.75, "self",
         r"HikariPool-\d+ - Connection is not available, request timed out|QueuePool limit of size \d+ overflow|"
         r"Cannot get a connection, pool error|Timeout waiting for idle object|unable to acquire (?:a )?(?:JDBC )?connection|"
         r"connection pool (?:is )?exhausted|Timed out fetching a new connection from the connection pool|"
         # a pool that names its own fill (Go's database/sql wrappers, node-postgres): every connection is handed out
         r"(?:timed out|timeout) (?:waiting for|acquiring) (?:a |an )?(?:pooled |free |idle |available )?"
         r"(?:connection|client) (?:from (?:the )?pool\b|\(\d+/\d+ in use\))|"
         r"timed out waiting for (?:a |an )?(?:pooled|free|idle|available) connection",
         hint=("connection is not available", "queuepool limit", "pool error", "idle object", "unable to acquire",
               "pool exhausted", "pool is exhausted", "timed out fetching a new connection", "timed out waiting for",
               "timeout waiting for", "timeout acquiring", "timed out acquiring")),
    Rule("db.lock", "decisive", "db_lock_contention", 0.7, "self",
         r"ERROR:\s+deadlock detected|Deadlock found when trying to get lock|Lock wait timeout exceeded|"
         r"could not obtain lock on|canceling statement due to lock timeout", role="database"),
    # PostgreSQL log_lock_waits, MySQL processlist states: sessions queued behind a lock someone holds
    Rule("db.lock_wait", "decisive", "db_lock_contention", 0.7, "self",
         r"still waiting for \w*Lock on (?:relation|tuple|transaction|object|advisory)|"
         r"Waiting for (?:query cache|table metadata|table level|global read|table flush) lock",
         hint=("still waiting for ", "waiting for query cache lock", "waiting for table metadata lock",
               "waiting for table level lock", "waiting for global read lock", "waiting for table flush lock"),
         role="database"),
    # PostgreSQL out of transaction IDs: writes refused until a database-wide VACUUM (warnings come first)
    Rule("db.wraparound", "decisive", "db_down", 0.85, "self",
         r"database is not accepting commands (?:that assign new XIDs )?to avoid wraparound data loss|"
         r"must be vacuumed within \d+ transactions",
         hint=("to avoid wraparound data loss", "must be vacuumed within"), role="database"),
    # MySQL/InnoDB: the table or its tablespace cannot grow (file size limit, full disk, innodb_data_file max)
    Rule("db.table_full", "decisive", "disk_full", 0.8, "self", r"The table '[^']+' is full|ER_RECORD_FILE_FULL",
         hint=("' is full", "er_record_file_full"), role="database"),
    # InnoDB's watchdog: threads stuck on an internal latch; after 600 s it crashes the server on purpose
    Rule("db.innodb_semaphore", "decisive", "deadlock", 0.75, "self",
         r"InnoDB: (?:Warning: )?a long semaphore wait|Semaphore wait has lasted > \d+ seconds|"
         r"We intentionally crash the server,? because it appears to be hung",
         hint=("long semaphore wait", "semaphore wait has lasted", "appears to be hung"), role="database"),
    # MySQL replica threads stopped on an error: the replica no longer applies the source's changes
    Rule("db.replica_stopped", "decisive", "db_replication_lag", 0.75, "self",
         r"Slave SQL(?: thread| for channel '[^']*')?: .{0,200}Error_code: \d+|Replica SQL for channel .{0,200}Error_code|"
         r"Got fatal error 1236 from (?:master|source)|Last_(?:SQL|IO)_Error: \S",
         hint=("slave sql", "replica sql", "fatal error 1236", "last_sql_error: ", "last_io_error: "), role="database"),
    # a slow query log entry of ten seconds or more
    Rule("db.slow_log", "decisive", "db_slow_query", 0.55, "self",
         r"\bduration: [1-9]\d{4,}(?:\.\d+)? ms\s+(?:statement|execute|bind|parse)|# Query_time: (?:[1-9]\d+)\.\d+|"
         r"Slow query.{0,2000}\"durationMillis\":\s*[1-9]\d{4,}",
         hint=("duration: ", "# query_time: ", "durationmillis"), role="database"),
    Rule("db.statement_timeout", "decisive", "db_slow_query", 0.6, "self",
         r"canceling statement due to statement timeout|maximum statement execution time exceeded|MaxTimeMSExpired", role="database"),
    Rule("db.replication_lag", "decisive", "db_replication_lag", 0.65, "self",
         r"requested WAL segment \S+ has already been removed|replication lag|replica(?:tion)? (?:is )?lagging|"
         r"seconds behind (?:master|source)|Seconds_Behind_Master: [1-9]",
         hint=("has already been removed", "replication lag", "lagging", "seconds behind ", "seconds_behind_master: "), role="database"),
    Rule("db.primary_unreachable", "decisive", "network_partition", 0.65, "peer",
         r"(?:master|primary|leader) \S+ (?:is )?unreachable|(?:master|primary|leader) (?:is )?unreachable|"
         r"could not connect to the primary server: .{0,200}(?:timed out|No route to host|Network is unreachable)|"
         r"error (?:connecting|reconnecting) to (?:master|source) .{0,160}\((?:110|113)\)|"
         r"(?:Heartbeat|heartbeat) (?:to \S+ )?failed.{0,120}(?:HostUnreachable|NetworkTimeout|No route to host)",
         culprit_re=r"(?:master|primary|leader) '?(?P<host>[\w\-]+(?:\.[\w\-]+)*)'? (?:is )?unreachable",
         hint=("unreachable", "could not connect to the primary server", "(110)", "(113)", "no route to host",
               "networktimeout")),
    # a replica set or cluster with no primary to write to (none elected, none electable): the database is down
    # for writes even while its members run (MongoDB, Redis Sentinel, PostgreSQL/Patroni wording)
    Rule("db.no_primary", "decisive", "db_down", 0.8, "self",
         r"no primary (?:detected|found|available|elected|in (?:the )?replica set)|not electable|"
         r"(?:cannot|could not|unable to|failed to) (?:elect|find) (?:a |any )?(?:new )?(?:primary|master)|"
         r"Write rejected: not primary|\bNotWritablePrimary\b|\bNotPrimaryNoSecondaryOk\b|\bNotMasterNoSlaveOk\b|"
         r"not master and slaveOk=false|\bnot (?:master|primary) \(10107\)|-failover-abort-no-good-(?:slave|replica)",
         hint=("primary", "master", "electable", "-failover-abort-no-good-"), role="database"),
    # Redis Cluster without a serving master for some slots: its own state line, a replica that cannot win a failover
    # election, or a client's CLUSTERDOWN reply: the cluster is down, whatever took its masters away
    Rule("db.cluster_down", "decisive", "db_down", 0.8, "self",
         r"Cluster state changed: fail\b|\bCLUSTERDOWN\b|Currently unable to failover: Waiting for votes|"
         r"Currently unable to failover: Failover attempt expired",
         hint=("cluster state changed: fail", "clusterdown", "currently unable to failover"), role="database"),
    # a quorum store (Cassandra, Scylla) that cannot serve a read or write at the asked consistency because too
    # few replicas are alive: the database is down for it, whatever killed its nodes (Cassandra's and the DataStax/
    # Hector drivers' wording); a client's line blames the database it uses
    Rule("db.quorum_unavailable", "decisive", "db_down", 0.85, "self",
         r"\bUnavailableException\b|Not enough replicas? (?:available|present)|"
         r"May not be enough replicas present to handle consistency level|Cannot achieve consistency level",
         hint=("unavailableexception", "enough replica", "cannot achieve consistency level"), role="database"),
    # a ZooKeeper server that cannot serve: it will not load its own data (a corrupt or partial transaction log,
    # a znode larger than jute.maxbuffer) or it sits in a leader election that never completes for want of a
    # quorum: the coordination store is down, whatever took its members away (its server's own wording)
    Rule("db.coordination_store_down", "decisive", "db_down", 0.8, "self",
         r"Unable to load database on disk|Unreasonable length = \d+|\bLen error \d+|"
         r"\bNotification time out: \d+",
         hint=("unable to load database on disk", "unreasonable length", "len error", "notification time out")),
    Rule("db.failover", "decisive", "db_down", 0.6, "peer",
         r"promoted self to leader|received promote request|promoting standby|\bFailover to\b|"
         r"failover (?:complete|completed|started|triggered|initiated)|\+switch-master|\+odown master|\+sdown master|"
         r"Failover from (?:primary|master) node \S+ to replica node|"
         r"DeadMaster|transition to primary|Transition to PRIMARY|new primary elected",
         culprit_re=r"(?:switch-master|[os]down master) \S+ (?P<host>" + _H + r") \d+"),
    # a client writing to a node that a failover or a change of its settings has just made read-only (Redis's demoted
    # replica, PostgreSQL's ``cannot execute UPDATE in a read-only transaction`` on a standby or under
    # ``default_transaction_read_only``, MySQL's ``--read-only option``): the datastore no longer takes writes
    Rule("db.readonly_replica", "decisive", "db_down", 0.6, "self",
         r"READONLY You can't write against a read only (?:replica|slave)|"
         r"cannot execute (?:INSERT|UPDATE|DELETE|COPY FROM|CREATE \w+|ALTER \w+|DROP \w+|TRUNCATE|nextval\(\)) "
         r"in a read-only transaction|is running with the --(?:super-)?read-only option so it cannot execute",
         hint=("read only replica", "read only slave", "in a read-only transaction", "read-only option"),
         role="database"),
    # libmemcached (PHP Memcached, pylibmc) disabling a cache server after failures: that server is lost
    Rule("db.cache_server_failed", "decisive", "db_down", 0.6, "peer",
         r"SERVER HAS FAILED AND IS DISABLED UNTIL TIMED RETRY|SERVER IS MARKED DEAD",
         hint=("server has failed and is disabled", "server is marked dead")),
    # a queue consumer that stopped reading (cancelled by the broker, no consumer left on its queue): its queue backs up
    Rule("queue.consumer_stopped", "decisive", "queue_backlog", 0.6, "self",
         r"\bconsumer (?:stopped|cancelled|canceled)\b|consumer cancel(?:led|ed)? by (?:the )?broker|"
         r"no active consumers? (?:on|for) queue|basic\.cancel received",
         hint=("consumer", "basic.cancel")),
    Rule("db.auth_failed", "decisive", "config_change", 0.6, "self",
         r"password authentication failed for user|Access denied for user '[^']*'@|SASL authentication failed|"
         r"NOAUTH Authentication required|WRONGPASS|Login failed for user '"),
    Rule("pool.threads", "decisive", "thread_pool_exhaustion", 0.7, "self",
         r"RejectedExecutionException|Thread pool (?:is )?exhausted|All threads \(\d+\) are currently busy|"
         r"server reached (?:pm\.)?max_children|reached MaxRequestWorkers|worker_connections are not enough|"
         r"maximum number of threads reached"),
    Rule("disk.no_space", "decisive", "disk_full", 0.85, "self",
         r"No space left on device|ENOSPC|Disk quota exceeded|not enough space on the disk"),
    # a storage array's, filer's or thin pool's own report that its capacity ran out (EMC/Dell ``pool X: used 100%``,
    # LVM ``Thin pool ... is now 100.00% full``, dm-thin ``out of data space``, NetApp ``wafl.vol.full``): writes to
    # what it serves fail, whatever the hosts above it then say
    Rule("disk.pool_full", "decisive", "disk_full", 0.8, "self",
         r"\b(?:pool|aggregate|datastore|thin pool|LUN)\b[^.;]{0,60}?(?:\bused 100(?:\.0+)?%|is (?:now )?100(?:\.0+)?% full|"
         r"out of (?:data |metadata )?space)|\bwafl\.vol\.full\b",
         hint=("used 100", "% full", "out of data space", "out of metadata space", "out of space", "wafl.vol.full")),
    # Elasticsearch/OpenSearch: a node's disk past its watermarks; at flood stage its indices turn read-only
    Rule("disk.watermark", "decisive", "disk_full", 0.8, "self",
         r"(?:high|flood stage) disk watermark \[[^\]]+\] exceeded", hint=("disk watermark",)),
    Rule("disk.readonly_block", "decisive", "disk_full", 0.7, "self",
         r"index read-only / allow delete|FORBIDDEN/12/index read-only",
         hint=("index read-only / allow delete", "forbidden/12/"), role="database"),
    # a process at its open-file limit: it can neither accept connections nor open files (ulimit -n, LimitNOFILE)
    Rule("limits.open_files", "decisive", "resource_quota", 0.75, "self",
         r"Too many open files|EMFILE|ENFILE|accept4?\(\) failed \(24:|\(24: Too many open files\)",
         hint=("too many open files", "emfile", "enfile", "(24:")),
    # a host out of local (ephemeral) ports for the connections it opens: the kernel cannot pick a source port
    # (EADDRNOTAVAIL, errno 99 ``Cannot assign requested address`` on connect; Go's dial whose source-port bind fails:
    # ``dial tcp 127.32.0.1:0->127.0.0.1:11211: bind: address already in use``; HAProxy's ``no free ports``): a
    # limit of the component that opens them, like its open-file limit. Not ``bind() to ... failed (99: ...)``: a
    # server told to listen on an address the host does not have is its configuration.
    Rule("limits.local_ports", "decisive", "resource_quota", 0.75, "self",
         r"^(?!.*\bbind\(\) to\b).*?(?:\(99: Cannot assign requested address\)|"
         r"\b(?:connect|dial)\S*:? .{0,160}?(?:Cannot assign requested address|EADDRNOTAVAIL)|"
         r"(?:Cannot assign requested address|EADDRNOTAVAIL).{0,80}\bconnect|"
         r"NoRouteToHostException: Cannot assign requested address|"
         r"\bdial (?:tcp|udp)[46]? \S+->\S+: bind: address already in use|"
         r"Connect\(\) failed for backend \S+: no free ports)",
         hint=("cannot assign requested address", "eaddrnotavail", "address already in use", "no free ports")),
    # a provider's own status notice, recorded in its log: it says that it is disrupted (a status page's
    # ``Investigating - We are investigating a service disruption``, ``Identified``, ``major outage``; the AWS Health
    # Dashboard's ``[Investigating] Increased API error rates and connectivity issues in the SA-EAST-1 Region``).
    # A notice that names a cloud region names the part of the provider that is down: the culprit is that region,
    # moved to the component the incident knows it by (``aws-sa-east-1``) when there is one (``decisive.retarget``)
    Rule("provider.status_disruption", "decisive", "dependency_failure", 0.75, "self",
         r"\b(?:investigating|identified)\b.{0,120}?\b(?:service disruption|(?:major|partial) outage|outage affecting|"
         r"degraded performance|(?:elevated|increased) (?:api )?error rates?|increased connectivity issues|connectivity issues in the)|"
         r"\bstatus(?:page)?:\s*(?:major|partial) outage\b",
         hint=("service disruption", "outage", "degraded performance", "error rate", "connectivity issues"),
         culprit_re=r"\bin the (?P<host>[a-z]{2,}(?:-gov)?-(?:north|south|east|west|central)(?:east|west)?-?\d{1,2}) "
                    r"region\b"),
    Rule("provider.s3_slowdown", "decisive", "rate_limited", 0.85, "provider",
         r"\bSlowDown\b|Please reduce your request rate"),
    Rule("provider.aws_throttle", "decisive", "rate_limited", 0.85, "provider",
         r"ProvisionedThroughputExceededException|ThrottlingException|RequestLimitExceeded|Rate exceeded|"
         r"TooManyRequestsException|RequestThrottled|ThrottledException"),
    # a cloud SDK's report that the provider's own service failed the call (a server-side error, not the caller's
    # request): AWS SDK for Java ``(Service: X, Status Code: 500``, botocore ``An error occurred (InternalServerError)
    # when calling the GetItem operation``, ``InternalErrorException``, ``ServiceUnavailable``
    Rule("provider.server_error", "decisive", "dependency_failure", 0.7, "provider",
         r"\(Service: \w+[;,] Status Code: 5\d\d\b|An error occurred \((?:InternalServerError|InternalFailure|"
         r"InternalError|ServiceUnavailable(?:Exception)?|InternalErrorException|InternalServerException)\) when calling|"
         r"\bInternalErrorException: An internal error occurred",
         needs_culprit=True, hint=("status code: 5", "an error occurred (", "internalerrorexception")),
    Rule("provider.gcp_quota", "decisive", "rate_limited", 0.8, "provider",
         r"rateLimitExceeded|userRateLimitExceeded|RESOURCE_EXHAUSTED|Quota exceeded for quota metric"),
    Rule("provider.azure_busy", "decisive", "rate_limited", 0.75, "provider",
         r"\bServerBusy\b|The server is busy|(?:Ingress|Egress) is over the account limit"),
    # a provider's capacity quota (instances, vCPUs, addresses, volumes): a limit, not request-rate throttling
    Rule("provider.capacity_quota", "decisive", "resource_quota", 0.75, "provider",
         r"InstanceLimitExceeded|VcpuLimitExceeded|ServiceQuotaExceededException|AddressLimitExceeded|"
         r"VolumeLimitExceeded|QUOTA_EXCEEDED|Quota '[A-Z_]+' exceeded|insufficient regional quota|"
         r"exceeded (?:your|the) (?:\w+ )?quota for",
         hint=("limitexceeded", "quotaexceeded", "quota_exceeded", "quota '", "regional quota", "quota for")),
    # a sending provider that stopped taking the account's messages by its own policy (a stream or account paused or
    # suspended for its volume, its bounces or complaints: Postmark's ``Sending has been paused for this account``,
    # an SMTP ``account suspended`` reply): a policy limit reached, like a throttling reply
    Rule("provider.sending_paused", "decisive", "rate_limited", 0.75, "provider",
         r"\bsending (?:has been |was |is )?(?:paused|suspended|disabled) (?:for|on) (?:this|your|the) account\b|"
         r"\bmessage stream \S+ is paused\b|\baccount (?:has been |is |was )?suspended\b.{0,40}?\b(?:bounce|complaint|"
         r"spam|sending volume|volume)",
         hint=("sending has been", "sending was", "sending is", "message stream", "suspended")),
    Rule("http.429", "decisive", "rate_limited", 0.75, "provider",
         r"429 (?:Client Error: )?Too Many Requests|status(?: code)?[ =:]*429\b|HTTP/\d(?:\.\d)? 429|"
         r"\b429\b.{0,60}\b(?:from|for url)|(?:API )?rate limit exceeded|exceeded your rate limit",
         needs_culprit=True, hint=(" 429", "=429", ":429", "too many requests", "rate limit exceeded",
                                   "exceeded your rate limit")),
    Rule("app.clock", "decisive", "exception_surge", 0.45, "self",
         r"time went backwards|Clock moved backwards|clock skew (?:detected|too (?:great|large))|"
         r"leap second|clock_gettime.{0,30}(?:failed|backwards)|token is not valid yet|Token used before issued|"
         r"KRB_AP_ERR_SKEW|Clock skew too great"),
)

KERNEL_RULES: tuple[Rule, ...] = (
    Rule("kernel.conntrack_full", "kernel", "packet_loss", 0.85, "device",
         r"(?:nf_|ip_)conntrack: (?:nf_conntrack: )?table full, dropping packet"),
    Rule("kernel.netdev_watchdog", "kernel", "network_partition", 0.7, "device",
         r"NETDEV WATCHDOG: \S+ \([^)]*\): transmit queue \d+ timed out|Detected Tx Unit Hang|"
         r"tx(?:_| )timeout.{0,40}reset(?:ting)? (?:the )?adapter",
         hint=("netdev watchdog", "detected tx unit hang", "tx timeout", "tx_timeout")),
    # the NIC completes transmits late (AWS ENA): the path is slow, not cut (no link loss, no adapter reset yet)
    Rule("kernel.tx_completion_late", "kernel", "network_latency", 0.6, "device",
         r"Found a Tx that wasn't completed on time"),
    Rule("kernel.link_down", "kernel", "network_partition", 0.7, "device",
         r"NIC Link is Down|\bLink is Down\b|link status definitely down|\bcarrier lost\b|"
         r"now running without any active interface"),
    Rule("kernel.disk_error", "kernel", "hardware_error", 0.8, "device",
         r"EXT4-fs error|EXT4-fs \(\S+\): Remounting filesystem read-only|XFS \(\S+\): (?:metadata I/O error|"
         r"Corruption|log I/O error)|BTRFS (?:error|critical)|I/O error, dev [\w-]+, sector|Buffer I/O error on dev|"
         r"end_request: I/O error|Unrecovered read error|exception Emask .{0,80}frozen|medium error"),
    # an NVMe drive gone from its controller (not ready at probe, removed, controller down) and the ZFS pool that then
    # cannot be imported for the devices missing: the machine's disks failed, whatever restarted it. A command
    # timeout alone (``I/O 412 QID 7 timeout, aborting``) is slowness that may recover, not this
    Rule("kernel.nvme_lost", "kernel", "hardware_error", 0.8, "device",
         r"nvme nvme\d+: (?:Device not ready; aborting (?:initialisation|reset)|Removing after probe failure|"
         r"controller is down; will reset)|"
         r"cannot import '[^']+': (?:one or more devices is currently unavailable|I/O error)",
         hint=("nvme nvme", "cannot import '")),
    # a machine check or an uncorrectable memory error is the failure; corrected (CE) errors are the machine coping, a
    # separate row so that hours of them (chronic, docs/causes.md "When, not only what") do not make a new
    # uncorrectable error look as old as they are
    Rule("kernel.machine_check", "kernel", "hardware_error", 0.85, "device",
         r"mce: \[Hardware Error\]|Machine check events logged|EDAC \S+: \d+ UE |EDAC .{0,60}\bUE\b|"
         r"PCIe Bus Error|\{\d+\}\[Hardware Error\]"),
    Rule("kernel.ecc_corrected", "kernel", "hardware_error", 0.85, "device",
         r"EDAC \S+: \d+ CE |EDAC .{0,60}\bCE\b", hint=("edac ",)),
    Rule("kernel.oom", "kernel", "oom_kill", 0.9, "self",
         r"Out of memory: Kill(?:ed)? process|Memory cgroup out of memory|invoked oom-killer|oom-kill:"),
    # the kernel cannot allocate memory for what the host runs and nothing is killed (atomic allocations failing,
    # the TCP stack out of socket memory): the host's memory is exhausted, its programs keep running but stop working
    Rule("kernel.memory_starved", "kernel", "memory_leak", 0.75, "device",
         r"\bpage allocation failure[:.]? order:\s?\d+|TCP: out of memory -- consider tuning tcp_mem",
         hint=("page allocation failure", "consider tuning tcp_mem")),
    # the node's disk stalls; whose volume it is (the node, a database on it) is for the other evidence to say
    Rule("kernel.hung_task", "kernel", "disk_io_latency", 0.7, "device", r"task \S+ blocked for more than \d+ seconds",
         weak=True),
    Rule("kernel.soft_lockup", "kernel", "node_failure", 0.6, "device", r"soft lockup - CPU#\d+ stuck"),
    Rule("kernel.hard_lockup", "kernel", "node_failure", 0.75, "device", r"hard LOCKUP"),
    # Linux, and illumos/Solaris (``panic[cpu14]/thread=...: BAD TRAP``, savecore's ``reboot after panic:``)
    Rule("kernel.panic", "kernel", "node_failure", 0.85, "device",
         r"Kernel panic - not syncing|\bpanic\[cpu\d+\]/thread=|reboot after panic: ",
         hint=("kernel panic - not syncing", "panic[cpu", "reboot after panic: ")),
    Rule("kernel.oops", "kernel", "node_failure", 0.75, "device",
         r"BUG: unable to handle (?:kernel )?(?:NULL pointer dereference|paging request)|kernel BUG at \S+|"
         r"general protection fault(?:, probably for non-canonical address)?:? \S+|\bOops: \d{4}\b",
         hint=("bug: unable to handle", "kernel bug at", "general protection fault", "oops: ")),
    Rule("kernel.syn_flood", "kernel", "ddos", 0.75, "self", r"Possible SYN flooding on port"),
    # machines that lost power or were shut down for heat (a data centre's building management or a BMC's event
    # log, the kernel's own thermal shutdown): the machines whose log it is went away (docs/causes.md)
    Rule("facility.power_lost", "kernel", "node_failure", 0.8, "self",
         r"powered (?:off|down) (?:by|due to|after|for) (?:thermal|over-?temperature|high temperature)|"
         r"Critical temperature reached \(\d+ C\), shutting down|"
         r"\bPDU\b.{0,40}\binput (?:power )?(?:lost|failed)|\bUPS output (?:lost|off|failed)|"
         r"Power Supply AC lost\s*\|\s*Asserted|Power off/down\s*\|\s*Asserted|"
         # a building's power monitoring: the utility or mains feed to the rooms lost, loads left without input
         r"\b(?:utility|mains) (?:power |feed |supply )?(?:to \S+(?: \S+)? )?(?:lost|failed)\b|"
         r"\bno input on (?:the )?(?:secondary|primary|both|any) feeds?\b|(?:de-?energi[sz]ed|unreachable) after power",
         hint=("powered off", "powered down", "critical temperature reached", "pdu", "ups output", "ac lost",
               "power off/down", "utility", "mains", "no input on", "energised", "energized", "after power")),
    Rule("kernel.multipath", "kernel", "hardware_error", 0.6, "self",
         r"multipath: [\d:]+: Failing path|remaining active paths: 0\b|All paths (?:are )?down",
         hint=("failing path", "remaining active paths: 0", "all paths down", "all paths are down"), weak=True),
    # the host's clock lost its time source (chrony, ntpd, systemd-timesyncd)
    Rule("time.unsynchronised", "kernel", "exception_surge", 0.5, "device",
         r"Can't synchronise: no selectable sources|System clock wrong by -?\d+|"
         r"no servers can be used, system clock unsynchronized|kernel reports TIME_ERROR|time reset [+-]\d+\.\d+ s",
         hint=("can't synchronise", "system clock wrong by", "clock unsynchronized", "time_error", "time reset ")),
    Rule("kernel.clocksource", "kernel", "exception_surge", 0.45, "self",
         r"clocksource.{0,80}unstable|Marking clocksource \S+ as unstable"),
)

STORAGE_RULES: tuple[Rule, ...] = (
    # an array or disk controller reporting its own failure (errors, not slowness): failed paths, nodes taken
    # offline, controller errors on a disk (Windows disk event 11), bad blocks, SQL Server's I/O error 823
    Rule("storage.failed", "storage", "hardware_error", 0.8, "self",
         r"(?:Fibre Channel|\bFC\b|iSCSI|SAS) (?:port|path|link) .{0,40}has failed|"
         r"\bnode ?\d+ (?:was )?taken offline|controller error on \\Device\\|has a bad block|"
         r"returned error 1117\(The request could not be performed because of an I/O device error|"
         r"Physical (?:Disk|Drive) .{0,60}(?:failed|removed|offline|Predictive Failure)|Predictive Failure|"
         r"(?:Virtual|Logical) (?:Disk|Drive) .{0,60}(?:is now DEGRADED|is now OFFLINE|failed)|"
         r"md/raid\d*:\S+: Disk failure on \S+, disabling device|FAILED SMART self-check|"
         r"SMART overall-health self-assessment test result: FAILED|SMART (?:Failure|error).{0,40}FAILING_NOW",
         hint=("has failed", "taken offline", "controller error on", "bad block", "error 1117", "predictive failure",
               "physical disk", "physical drive", "virtual disk", "virtual drive", "logical disk", "logical drive",
               "disk failure on", "smart")),
    # an NFS client whose server stopped answering: the storage behind is unreachable or hung (a symptom here)
    Rule("storage.nfs_unresponsive", "storage", "disk_io_latency", 0.55, "peer",
         r"nfs: server \S+ not responding", culprit_re=r"nfs: server (?P<host>[\w.\-]+) not responding", weak=True),
    # a degraded array still serving, slowly: cache off (write-through), service times far above threshold
    Rule("storage.degraded", "storage", "disk_io_latency", 0.75, "self",
         r"write[- ]through mode|Write cache disabled|Service time for \S+ .{0,30}\d+ ms \(threshold|"
         r"I/O requests taking longer than 15 seconds to complete",
         hint=("write-through", "write through", "write cache disabled", "service time for ",
               "taking longer than 15 seconds")),
    # a hypervisor or host seeing its storage device slow down: the storage behind it is slow (a symptom here)
    Rule("storage.device_latency", "storage", "disk_io_latency", 0.6, "self",
         r"performance has deteriorated\. I/O latency increased|esx\.problem\.vmfs\.heartbeat\.timedout|"
         r"Lost access to volume",
         hint=("performance has deteriorated", "vmfs.heartbeat.timedout", "lost access to volume"), weak=True),
)

# an operator taking a session or an interface down on purpose (IOS's ``Down Admin. shutdown``, a BGP Cease
# NOTIFICATION's administrative subcodes, a daemon's ``Shutdown requested``/``Disabled by user``): a change, not a
# failure; a Cease the neighbour sent us (``received``) is the neighbour's doing, not ours. A session-down line right
# after such a line (``REQUESTED_DOWN_LINES`` above), or after a routing daemon's
# ``Shutdown requested`` (``REQUESTED_DOWN``), reads the same way.
ADMIN_DOWN = (r"neighbor \S+ Down (?:Admin\. shutdown|User reset)|changed state to administratively down|"
              r"^(?!.*\breceived\b).*?(?:\(Administrative (?:Shutdown|Reset)\)|"
              r"Cease(?: subcode \d+)?[/ ]\(?administrative (?:shutdown|reset))")
REQUESTED_DOWN = ADMIN_DOWN + r"|\bShutdown requested\b|\bDisabled by (?:user|administrator|operator)\b"
REQUESTED_DOWN_LINES = 4
# the neighbour a routing line is about: the description the device prints after its address (``neighbor 203.0.113.9
# (ext-transit AS64500)``, Arista's ``Interface Ethernet1 (to-spine1)``), else the address (``received from 192.0.2.1``)
NEIGHBOR_NAME = (r"(?:neighbor|peer|received from) \S+ \((?:to[- ])?(?P<host>(?!(?:external|internal|afi|vrf|as)\b)"
                 r"[a-z][\w.-]*[a-z0-9])|(?:(?:neighbor|peer|received from) |^|: )(?P<addr>\d{1,3}(?:\.\d{1,3}){3}|"
                 r"[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7})\b")

NETWORK_RULES: tuple[Rule, ...] = (
    Rule("net.bgp_down", "network", "network_partition", 0.8, "device",
         r"%(?:ROUTING-)?BGP-\d-ADJCHANGE\s?: neighbor \S+ .{0,80}\bDown\b|%ADJCHANGE: neighbor \S+ .{0,80}\bDown\b|"
         r"BGP_NOTIFICATION|%BGP-\d-NOTIFICATION|bgp_hold_timeout|Hold Timer Expired|hold time expired|"
         r"changed state from Established to \w+|old state Established .{0,60}new state (?:Idle|Active|Connect)|"
         # BIRD (Calico's node-to-node mesh, route servers): a protocol's session to its peer went down
         r"\bbird6?: \S+: State changed to down\b"),
    Rule("net.link_down", "network", "network_partition", 0.75, "device",
         r"%(?:PKT_INFRA-)?LINK-\d-UPDOWN\s?: Interface \S+,? changed state to [Dd]own|"
         r"%LINEPROTO-\d-UPDOWN: Line protocol on Interface \S+ changed state to down|SNMP_TRAP_LINK_DOWN|"
         r"%ETHPORT-\d-IF_DOWN|err-disabled|err-disable state|link-flap error detected|ifOperStatus down"),
    Rule("net.igp_down", "network", "network_partition", 0.75, "device",
         r"%(?:ROUTING-)?OSPF(?:V3)?-\d-ADJCHG\s?: .{0,160}from FULL to (?:DOWN|INIT)|state changed from Full to (?:Down|Init)|"
         r"RPD_OSPF_NBRDOWN|AdjChg: Nbr \S+ .{0,60}Full -> (?:Deleted|Down|Init)|%CLNS-\d-ADJCHANGE: .{0,120}\bDown\b|"
         r"RPD_ISIS_ADJDOWN|IS-IS .{0,40}[Aa]djacency .{0,80}\b(?:Down|down)\b"),
    # a host firewall logging what it drops (an iptables/nftables LOG rule's prefix, ufw): traffic refused by policy
    Rule("net.firewall_drop", "network", "network_policy_block", 0.7, "device",
         r"(?:\[UFW BLOCK\]|[\w-]*(?:drop|block|reject|deny|denied)[\w-]*:?\]?)\s+IN=\S*\s+OUT=\S*\s.{0,200}\bSRC=",
         hint=("ufw block", "drop", "block", "reject", "deny", "denied")),
    # two members of a clustered pair both active (vPC/MLAG/VSS peer link lost), layer-2 loops and MAC flapping
    Rule("net.split_brain", "network", "network_partition", 0.8, "device",
         r"%VPC-\d-(?:PEER_KEEP_ALIVE_RECV_FAIL|VPC_SUSP_ALL_VPC|PEER_LINK_DOWN\w*)|dual[- ]active (?:detected|scenario)|"
         r"split[- ]brain (?:detected|condition)|MLAG .{0,40}(?:peer link|peer-link) .{0,20}down",
         hint=("%vpc-", "dual-active", "dual active", "split-brain", "split brain", "mlag")),
    Rule("net.l2_loop", "network", "network_partition", 0.7, "device",
         r"L2FM_MAC_FLAP|%SW_MATM-\d-MACFLAP_NOTIF|Loops detected in the network|MAC flapping|host \S+ is flapping between port",
         hint=("mac_flap", "macflap", "loops detected", "mac flapping", "is flapping between port")),
    # a line card, module or supervisor failing in a router or switch chassis
    Rule("net.module_fault", "network", "hardware_error", 0.8, "device",
         r"%MODULE-\d-MOD_(?:SOMEPORTS_FAILED|FAIL|DIAG_FAIL)|%PLATFORM-\d-(?:MOD_PWRFAIL|PS_FAIL|FAN_FAIL\w*)|"
         r"CHASSISD_FRU_OFFLINE_NOTICE|FPC \d+ Major Errors|%OIR-\d-(?:REMCARD|PWRFAILURE)|"
         r"%SYSMGR-\d-SERVICE_CRASHED|"
         # a forwarding ASIC's own errors (Catalyst EARL, Nexus), a supervisor's unrecoverable fault, a standby that
         # could not take over: the chassis failing, whatever its counters of dropped packets then show
         r"%[A-Z0-9_]*ASIC[A-Z0-9_]*(?:-SP|-RP)?-[0-4]-\w*ERR\w*|unrecoverable (?:resources? |hardware )?error|"
         r"SWITCHOVER_FAILED|switchover (?:failed|not performed)",
         hint=("%module-", "%platform-", "chassisd_fru_offline", "major errors", "%oir-", "service_crashed", "asic",
               "unrecoverable", "switchover")),
    # an optic whose light is out of range (digital optical monitoring alarms): the port's link flaps, CRC errors and
    # the MAC moves that follow are this hardware's doing, not a loop or a split pair
    Rule("net.optic_degraded", "network", "hardware_error", 0.8, "device",
         # vendors word it differently: Cisco IOS ``Rx power low alarm``, Junos ``Receiver power low warning`` or
         # ``Laser rx power low alarm``, NX-OS ``IF_SFP_ALARM ... Low Rx Power Alarm``, SR OS's DDM ``rx-power low
         # alarm``, D-Link's ``Optical transceiver <port> RX power low alarm threshold exceeded``; a line that says the
         # value came back (``cleared``, ``back to normal``, ``recovered``) is no fault
         r"^(?!.*\b(?:cleared|back to normal|returned to normal|recovered|normal again)\b).*"
         r"(?:\b(?:Rx|Tx|Receiver?|Transmit(?:ter)?)[- _]?(?:optical[- _]?)?power\)? (?:low|high)[- ](?:alarm|warning)|"
         r"\b(?:Low|High) (?:Rx|Tx|Receive|Transmit) (?:Laser |Optical )?Power (?:Alarm|Warning)\b|"
         r"%ETHPORT-\d-IF_SFP_(?:ALARM|WARNING)\b|"
         r"%SFF8472-\d-THRESHOLD_VIOLATION\b|%TRANSCEIVER-\d-\w*(?:FAIL|ERR|ALARM)\w*|"
         r"(?:transceiver|optic(?:al module)?|SFP\+?|QSFP\d*) .{0,40}(?:has failed|failure detected|faulty))",
         hint=("power low", "power high", "sff8472", "%transceiver-", "transceiver", "optic", "sfp", "power) low",
               "power) high", "power alarm", "power warning")),
    # an operator shutting a session or an interface down on purpose: a change, not a failure (evidence only)
    Rule("net.admin_down", "network", "config_change", 0.85, "device", ADMIN_DOWN,
         hint=("admin. shutdown", "user reset", "administratively down", "administrative shutdown",
               "administrative reset"), weak=True),
    # a neighbour leaking routes into the session (more-specifics of our own prefixes, a detected leak or hijack): the
    # neighbour is what changed, and the traffic its routes draw onto its path is lost there (docs/causes.md); named
    # by the description the device prints for the session, else its address. A prefix limit reached (MAXPFX) is not
    # here: it says how many routes came, not whose change sent them (often the leaker's own config change)
    Rule("net.route_leak", "network", "packet_loss", 0.8, "peer",
         r"more[- ]specifics of our (?:aggregates?|prefix(?:es)?|routes?)|\broute (?:leak|hijack) detected",
         culprit_re=NEIGHBOR_NAME, needs_culprit=True,
         hint=("more-specifics of our", "more specifics of our", "route leak detected", "route hijack detected")),
    # a route monitor's alert that another origin announces a more-specific of our covering prefix (a hijack or a
    # leak seen from outside): the traffic it draws is lost on the path that carries it, named by the upstream AS that
    # propagates it, else by the announcing origin (docs/causes.md)
    Rule("net.prefix_hijack", "network", "packet_loss", 0.8, "peer",
         # the monitors' other wordings: "your prefix" / "monitored prefix", a "sub-prefix hijack" (ARTEMIS,
         # bgp.tools-style alerts), BGPmon's fields "Announced by: AS<n>" and "Upstream AS: AS<n>"
         r"\bmore[- ]specific (?:prefix )?(?:announced|announcement|seen|detected)\b.{0,200}\b(?:our|your|monitored) "
         r"(?:covering |own |monitored )?(?:prefix|aggregate)|\bsub-?prefix hijack\b",
         culprit_re=r"(?:\bupstream(?: AS)?:?|\b(?:origin(?: AS)?:?|announced by:?|originated by:?)"
                    r"(?!.{0,80}\bupstream\b))\s+(?P<host>AS\d+)\b",
         needs_culprit=True, hint=("more-specific", "more specific", "sub-prefix hijack", "subprefix hijack")),
    Rule("net.mtu", "network", "packet_loss", 0.6, "self",
         r"\bMessage too long\b|frag(?:mentation)? needed and DF set|needs? fragmentation|\bPacket too big\b|"
         r"ICMP\S* type 3 code 4",
         hint=("message too long", "needed and df set", "fragmentation", "packet too big", "type 3 code 4")),
    # a translating firewall or gateway out of NAT/PAT addresses or translation slots: it refuses new outbound
    # connections (Cisco ASA 202010, IOS NAT, a NAT table at its limit): a limit reached, resource_quota
    Rule("net.nat_exhausted", "network", "resource_quota", 0.8, "device",
         r"(?:PAT|NAT) pool exhausted|NAT (?:translation )?table (?:is )?full|translation table full|"
         r"%(?:IOSXE-\d-PLATFORM|NAT-\d-\w+): .{0,80}(?:max[- ]entries|limit) (?:reached|exceeded)|"
         r"Unable to (?:create|allocate) (?:a )?(?:NAT|PAT|xlate|translation)",
         hint=("pool exhausted", "table full", "table is full", "max-entries", "max entries", "limit reached",
               "limit exceeded", "unable to create", "unable to allocate")),
    Rule("net.crc", "network", "packet_loss", 0.65, "device",
         r"\b[1-9]\d* input errors, [1-9]\d* CRC|\bCRC errors? (?:detected|increasing|on)|\bFCS errors?\b|rx_crc_errors"),
)

RULES: tuple[Rule, ...] = (*CRASH_RULES, *CONNECT_RULES, *SERVICE_RULES, *KERNEL_RULES, *STORAGE_RULES, *NETWORK_RULES)
RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}

# The one cheap pass over lower-cased lines: a line holding none of the rules' required literals
# matches no rule (every rule has such literals: a test checks it).
TRIGGER = trie_regex(frozenset().union(*(r.literals or frozenset() for r in RULES)))

# Which rules a line can match, from one pass: at each place one of the literals starts, the trie reads the longest
# one there, and the shorter ones starting there are its prefixes; a rule can match only a line holding one of its
# literals. Far cheaper than a substring test per literal of every rule (about 270 us a candidate line).
_EVERY_START = re.compile(f"(?=({TRIGGER.pattern}))")
_LITERALS = frozenset().union(*(r.literals or frozenset() for r in RULES))
_WITH_PREFIXES: dict[str, tuple[str, ...]] = {
    word: tuple(word[:n] for n in range(1, len(word) + 1) if word[:n] in _LITERALS) for word in _LITERALS
}
_RULES_OF: dict[str, tuple[int, ...]] = {
    word: tuple(i for i, r in enumerate(RULES) if r.literals is not None and word in r.literals) for word in _LITERALS
}
_EVERY_LINE = frozenset(i for i, r in enumerate(RULES) if r.literals is None)  # no literal to wait for


def rules_for(lower: str) -> list[Rule]:
    """The rules one of whose literals ``lower`` (a lower-cased line) holds, in table order: the only ones that can
    match the line (``Rule.matches`` is then the rule's regex alone)."""
    held = set(_EVERY_LINE)
    for start in _EVERY_START.finditer(lower):
        for word in _WITH_PREFIXES[start.group(1)]:
            held.update(_RULES_OF[word])
    return [RULES[i] for i in sorted(held)]
