"""One row per decisive rule: a line as the program prints it -> rule, kind, culprit."""

from __future__ import annotations

import pytest

from detectors.logs.decisive import classify_line
from detectors.logs.decisive_rules import RULES

# (rule id, line, kind, culprit)
ROWS: list[tuple[str, str, str, str | None]] = [
    ("java.oom.native_thread", 'Exception in thread "pool-3-thread-812" java.lang.OutOfMemoryError: unable to create '
     "native thread: possibly out of memory or process/resource limits reached", "thread_pool_exhaustion", None),
    ("java.oom.native_thread", "runtime: failed to create new OS thread (have 10252 already; errno=11)",
     "thread_pool_exhaustion", None),
    ("java.oom.native_thread", "[warning][os,thread] Failed to start thread - pthread_create failed (EAGAIN) for "
     "attributes: stacksize: 1024k", "thread_pool_exhaustion", None),
    ("java.oom.heap", 'Exception in thread "http-nio-8080-exec-4" java.lang.OutOfMemoryError: Java heap space',
     "oom_kill", None),
    ("java.oom.gc_overhead", "java.lang.OutOfMemoryError: GC overhead limit exceeded", "memory_leak", None),
    ("java.oom.metaspace", "Caused by: java.lang.OutOfMemoryError: Metaspace", "memory_leak", None),
    ("java.oom.direct", "io.netty.util.internal.OutOfDirectMemoryError wrapped: java.lang.OutOfMemoryError: "
     "Direct buffer memory", "memory_leak", None),
    ("java.linkage", "Caused by: java.lang.NoSuchMethodError: 'void com.fasterxml.jackson.core.JsonParser."
     "nextToken()'", "bad_deploy", None),
    ("java.linkage", "Error: Could not find or load main class com.example.billing.Main", "bad_deploy", None),
    ("java.main_exception", 'Exception in thread "main" java.lang.IllegalStateException: queue name is empty',
     "crash_loop", None),
    ("spring.failed_start", "APPLICATION FAILED TO START", "crash_loop", None),
    ("go.deadlock", "fatal error: all goroutines are asleep - deadlock!", "deadlock", None),
    ("go.oom", "fatal error: runtime: out of memory", "oom_kill", None),
    ("go.concurrent_map", "fatal error: concurrent map writes", "crash_loop", None),
    ("go.panic", "panic: runtime error: invalid memory address or nil pointer dereference", "crash_loop", None),
    ("py.env_key", "KeyError: 'DATABASE_URL'", "config_change", None),
    ("py.env_key", "Error: environment variable STRIPE_API_KEY is not set", "config_change", None),
    ("py.module", "ModuleNotFoundError: No module named 'orjson'", "bad_deploy", None),
    ("py.module", "Error: Cannot find module '/app/dist/server.js'", "bad_deploy", None),
    ("py.traceback", "Traceback (most recent call last):", "crash_loop", None),
    ("node.eaddrinuse", "Error: listen EADDRINUSE: address already in use :::3000", "config_change", None),
    ("node.heap_oom", "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
     "oom_kill", None),
    ("node.unhandled", "[UnhandledPromiseRejection: This error originated either by throwing inside of an async "
     "function without a catch block]", "crash_loop", None),
    ("sh.syntax", "/entrypoint.sh: line 12: syntax error near unexpected token `fi'", "bad_deploy", None),
    ("sh.syntax", '/docker-entrypoint.sh: 7: Syntax error: "(" unexpected', "bad_deploy", None),
    ("sh.exec_format", "exec /usr/local/bin/server: exec format error", "bad_deploy", None),
    ("sh.not_found", "/bin/sh: 1: gunicorn: not found", "bad_deploy", None),
    ("sh.not_found", 'exec: "/app/start": executable file not found in $PATH', "bad_deploy", None),
    ("sh.unbound", "/entrypoint.sh: line 5: DB_HOST: unbound variable", "config_change", None),
    ("sh.unbound", "/docker-entrypoint.sh: 9: DATABASE_URL: parameter null or not set", "config_change", None),
    ("sh.permission", "exec /entrypoint.sh: permission denied", "bad_deploy", None),
    ("cli.unknown_flag", "flag provided but not defined: -extra-volume-tags", "bad_deploy", None),
    ("cli.unknown_flag", 'Error: unknown flag: --metrics-bind', "bad_deploy", None),
    ("cli.unknown_flag", "worker.py: error: unrecognized arguments: --queues=high", "bad_deploy", None),
    ("cli.unknown_flag", "Unrecognized option: --add-opens=java.base/java.lang=ALL-UNNAMED", "bad_deploy", None),
    ("rust.panic", "thread 'main' panicked at src/main.rs:41:10:", "crash_loop", None),
    ("native.segv", "Segmentation fault (core dumped)", "crash_loop", None),
    ("exit.137", "worker process exited with code 137", "oom_kill", None),
    ("exit.nonzero", "npm ERR! command failed with exit code 1", "crash_loop", None),
    ("db.mysql_unreachable", "ERROR 2003 (HY000): Can't connect to MySQL server on 'mysql-0.mysql' (110)",
     "db_down", "mysql-0.mysql"),
    ("db.not_accepting", 'psycopg2.OperationalError: FATAL:  the database system is shutting down', "db_down", None),
    ("db.mongo_selection", "MongoServerSelectionError: Server selection timed out after 30000 ms", "db_down", None),
    ("db.redis_down", "Could not connect to Redis at redis-master:6379: Connection refused", "db_down",
     "redis-master"),
    ("conn.refused", "failed to connect: dial tcp 10.0.0.5:6379: connect: connection refused", "db_down", "10.0.0.5"),
    ("conn.refused", "Error: connect ECONNREFUSED 10.0.0.5:5432", "db_down", "10.0.0.5"),
    ("conn.health_check", '{"level": "warning", "msg": "dependency check failed", "dependency": "geo", "error": '
     "\"ReadTimeout: HTTPSConnectionPool(host='api.geo-vendor.io', port=443): Read timed out. (read timeout=2)\"}",
     "dependency_failure", "api.geo-vendor.io"),
    ("conn.refused", "Caused by: org.postgresql.util.PSQLException: Connection to db-primary:5432 refused. Check that "
     "the hostname and port are correct and that the postmaster is accepting TCP/IP connections.", "db_down",
     "db-primary"),
    ("conn.refused", "requests.exceptions.ConnectionError: HTTPConnectionPool(host='payments', port=8080): Max retries "
     "exceeded with url: /charge (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at "
     "0x7f2b>: Failed to establish a new connection: [Errno 111] Connection refused'))", "dependency_failure",
     "payments"),
    ("conn.refused", "curl: (7) Failed to connect to inventory.svc port 8080 after 2 ms: Connection refused",
     "dependency_failure", "inventory.svc"),
    ("conn.refused", '2024/03/01 12:00:03 [error] 31#31: *7 connect() failed (111: Connection refused) while '
     'connecting to upstream, client: 10.0.0.1, server: _, request: "GET / HTTP/1.1", upstream: '
     '"http://10.0.0.12:8080/", host: "shop.example.com"', "dependency_failure", "10.0.0.12"),
    ("conn.unreachable", "dial tcp 10.2.0.9:9092: connect: no route to host", "network_partition", "10.2.0.9"),
    ("conn.timeout", "Get \"http://catalog:8080/items\": dial tcp 10.0.3.4:8080: i/o timeout", "dependency_failure",
     "catalog"),
    # Go prints its own socket first: the peer that reset is the address after the arrow
    ("conn.reset", "read tcp 10.0.0.3:51234->10.0.0.9:443: read: connection reset by peer", "dependency_failure",
     "10.0.0.9"),
    ("kafka.broker", "[Producer clientId=producer-1] Connection to node -1 (kafka-0.kafka/10.0.0.9:9092) could not "
     "be established. Broker may not be available.", "dependency_failure", "kafka-0.kafka"),
    ("nginx.no_live_upstreams", '2024/03/01 12:00:03 [error] 31#31: *9 no live upstreams while connecting to '
     'upstream, client: 10.0.0.1, request: "GET / HTTP/1.1", upstream: "http://backend/", host: "a.example.com"',
     "dependency_failure", "backend"),
    ("haproxy.server_down", "Server be_app/app2 is DOWN, reason: Layer4 connection problem, info: \"Connection "
     "refused\", check duration: 0ms. 1 active and 0 backup servers left.", "dependency_failure", "app2"),
    ("envoy.upstream", "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
     "dependency_failure", None),
    ("envoy.no_healthy_upstream", '[2026-12-07T09:06:12.118Z] "GET /cart/v1/items HTTP/1.1" 503 UH '
     'no_healthy_upstream - "-" 0 19 0 - "10.42.1.40" "storefront/3.8" "8e0c4b2a" "cart.shop.svc.cluster.local:8080" '
     '"-" outbound|8080|stable|cart.shop.svc.cluster.local - 10.96.44.12:8080 10.42.2.31:40188 - -',
     "dependency_failure", "cart.shop.svc.cluster.local"),
    ("http.5xx_from", "requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: "
     "https://ledger.internal/api/post", "dependency_failure", "ledger.internal"),
    ("dns.nxdomain", "dial tcp: lookup payments.internal on 10.96.0.10:53: no such host", "dns_failure", "dns"),
    ("dns.nxdomain", "getaddrinfo ENOTFOUND payments.internal", "dns_failure", "dns"),
    ("dns.nxdomain", "curl: (6) Could not resolve host: api.stripe.com", "dns_failure", "dns"),
    ("dns.nxdomain", "java.net.UnknownHostException: orders-db.prod.internal", "dns_failure", "dns"),
    ("dns.temporary", "socket.gaierror: [Errno -3] Temporary failure in name resolution", "dns_failure", "dns"),
    ("dns.temporary", "dial tcp: lookup auth.svc.cluster.local on 10.96.0.10:53: server misbehaving", "dns_failure",
     "dns"),
    ("tls.expired", 'Get "https://api.partner.com/v2/rates": x509: certificate has expired or is not yet valid: '
     "current time 2024-03-01T12:00:00Z is after 2024-02-29T23:59:59Z", "certificate_expired", "api.partner.com"),
    ("tls.expired", "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
     "certificate has expired (_ssl.c:1006)", "certificate_expired", None),
    ("tls.expired", '{"reason": "signature verification failed", "error": "SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE"}',
     "certificate_expired", None),
    ("tls.remote_expired", "http: TLS handshake error from 10.0.0.3:51234: remote error: tls: expired certificate",
     "certificate_expired", None),
    ("tls.remote_rejected", "http: TLS handshake error from 10.244.50.7:41822: remote error: tls: bad certificate",
     "certificate_expired", None),
    ("tls.untrusted", 'Post "https://vault.internal:8200/v1/auth": x509: certificate signed by unknown authority',
     "certificate_expired", "vault.internal"),
    ("tls.name_mismatch", 'Get "https://10.0.0.8:8443/health": x509: certificate is valid for api.internal, not '
     "10.0.0.8", "certificate_expired", "10.0.0.8"),
    ("tls.name_mismatch", "Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: "
     "Host: app.example.com. is not in the cert's altnames: DNS:api.example.com", "certificate_expired", None),
    ("tls.name_mismatch", "synthetic run failed url=https://app.example.com/ error=net::ERR_CERT_COMMON_NAME_INVALID",
     "certificate_expired", "app.example.com"),
    ("db.too_many_clients", "FATAL:  sorry, too many clients already", "db_connection_exhaustion", None),
    ("db.too_many_clients", "Mar  3 21:04:11 cache-1 memcached[811]: Too many open connections", "db_connection_exhaustion",
     None),
    ("db.too_many_clients", "FATAL:  remaining connection slots are reserved for non-replication superuser "
     "connections", "db_connection_exhaustion", None),
    ("db.pool_exhausted", "java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, "
     "request timed out after 30000ms.", "db_connection_exhaustion", None),
    ("db.pool_exhausted", "ERROR http GET /topics 500 30001ms: db: timed out waiting for a pooled connection "
     "(200/200 in use)", "db_connection_exhaustion", None),
    ("db.pool_exhausted", '{"level":"error","msg":"healthcheck failed","err":"timeout acquiring client from pool after '
     '5000ms"}', "db_connection_exhaustion", None),
    ("db.lock", "ERROR:  deadlock detected", "db_lock_contention", None),
    ("db.lock", "ERROR 1213 (40001): Deadlock found when trying to get lock; try restarting transaction",
     "db_lock_contention", None),
    ("db.statement_timeout", "ERROR:  canceling statement due to statement timeout", "db_slow_query", None),
    ("db.slow_log", "2026-11-27 01:06:40.551 UTC [48811] app@analytics LOG:  duration: 389022.117 ms  execute "
     "<unnamed>: SELECT id FROM payment_events WHERE created_at >= $1", "db_slow_query", None),
    ("db.slow_log", "# Query_time: 84.120331  Lock_time: 0.000102 Rows_sent: 1  Rows_examined: 48211907",
     "db_slow_query", None),
    ("db.table_full", "sqlalchemy.exc.OperationalError: (MySQLdb.OperationalError) (1114, \"The table 'bookmarks' is "
     "full\")", "disk_full", None),
    ("db.replication_lag", "FATAL:  could not receive data from WAL stream: ERROR:  requested WAL segment "
     "000000010000000A000000C3 has already been removed", "db_replication_lag", None),
    ("db.primary_unreachable", "2024-03-01 12:00:00,101 WARNING: primary pg-0 is unreachable", "network_partition",
     "pg-0"),
    ("db.primary_unreachable", "FATAL:  could not connect to the primary server: connection to server at "
     '"10.0.1.5", port 5432 failed: No route to host', "network_partition", "10.0.1.5"),
    ("db.failover", "1:X 01 Mar 2024 12:00:00.000 # +switch-master mymaster 10.0.0.5 6379 10.0.0.6 6379",
     "db_down", "10.0.0.5"),
    ("db.failover", "2024-03-01 12:00:03,455 INFO: promoted self to leader by acquiring session lock", "db_down",
     None),
    ("db.failover", "Failover from primary node cache-0001-001 to replica node cache-0001-002 completed", "db_down",
     None),
    ("db.readonly_replica", "redis.exceptions.ReadOnlyError: READONLY You can't write against a read only replica.",
     "db_down", None),
    ("db.coordination_store_down", "2015-10-23 19:49:10,101 [myid:2] - ERROR [main:QuorumPeer@955] - Unable to load "
     "database on disk java.io.IOException: CRC check failed", "db_down", None),
    ("db.coordination_store_down", "2016-08-18 19:13:02,114 [myid:1] - WARN  [QuorumPeer[myid=1]:Learner@273] - "
     "Exception when following the leader java.io.IOException: Unreasonable length = 5291032", "db_down", None),
    ("db.coordination_store_down", "WARN  [NIOWorkerThread-3:NIOServerCnxn@373] - Exception causing close of session "
     "0x0: Len error 5291032", "db_down", None),
    ("db.coordination_store_down", "INFO  [QuorumPeer[myid=2](plain=0.0.0.0:2181)(secure=disabled):"
     "FastLeaderElection@979] - Notification time out: 60000", "db_down", None),
    ("db.readonly_replica", "org.postgresql.util.PSQLException: ERROR: cannot execute UPDATE in a read-only transaction",
     "db_down", None),
    ("db.readonly_replica", "ERROR 1290 (HY000): The MySQL server is running with the --read-only option so it cannot "
     "execute this statement", "db_down", None),
    ("db.cache_server_failed", "PHP Warning:  Memcached::get(): SERVER HAS FAILED AND IS DISABLED UNTIL TIMED RETRY "
     "(cache-3:11211)", "db_down", "cache-3"),
    ("db.cache_server_failed", "pylibmc.Error: error 35 from memcached_get: SERVER IS MARKED DEAD", "db_down",
     None),
    ("queue.consumer_stopped", "consumer channel closed by broker: PRECONDITION_FAILED - delivery acknowledgement "
     "timed out; consumer stopped", "queue_backlog", None),
    ("queue.consumer_stopped", "WARN no active consumer on queue orders.created, reconnect disabled", "queue_backlog",
     None),
    ("queue.consumer_stopped", "Consumer cancelled by broker: queue 'emails' was deleted", "queue_backlog", None),
    ("db.auth_failed", 'FATAL:  password authentication failed for user "orders"', "config_change", None),
    ("pool.threads", "java.util.concurrent.RejectedExecutionException: Task java.util.concurrent.FutureTask@5a1c "
     "rejected from java.util.concurrent.ThreadPoolExecutor@3e2f[Running, pool size = 200, active threads = 200, "
     "queued tasks = 1000, completed tasks = 88]", "thread_pool_exhaustion", None),
    ("pool.threads", "WARNING: [pool www] server reached pm.max_children setting (50), consider raising it",
     "thread_pool_exhaustion", None),
    ("disk.no_space", "OSError: [Errno 28] No space left on device: '/var/lib/app/cache/tmp123'", "disk_full", None),
    ("provider.s3_slowdown", "botocore.exceptions.ClientError: An error occurred (SlowDown) when calling the "
     "PutObject operation (reached max retries: 4): Please reduce your request rate.", "rate_limited", "s3"),
    ("provider.aws_throttle", "An error occurred (ProvisionedThroughputExceededException) when calling the PutItem "
     "operation: The level of configured provisioned throughput for the table was exceeded.", "rate_limited",
     "dynamodb"),
    ("provider.server_error", "2025-10-20T08:02:02.097Z error: POST /api/auth/session 500 - InternalErrorException: An "
     "internal error occurred. (Service: CognitoIdentityProvider, Status Code: 500, Request ID: 7a1f) at "
     "https://cognito-idp.us-east-1.amazonaws.com/", "dependency_failure", "cognito"),
    ("provider.server_error", "An error occurred (ServiceUnavailable) when calling the GetItem operation on "
     "https://dynamodb.us-east-1.amazonaws.com/: Service Unavailable", "dependency_failure", "dynamodb"),
    ("provider.gcp_quota", 'googleapiclient.errors.HttpError: <HttpError 429 "Quota exceeded for quota metric '
     "'Read requests' and limit 'Read requests per minute'\">", "rate_limited", None),
    ("provider.azure_busy", "Azure.RequestFailedException: Operations per second is over the account limit. "
     "Status: 503 (The server is busy.) ErrorCode: ServerBusy", "rate_limited", "azure-storage"),
    ("http.429", "requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: "
     "https://api.github.com/repos/acme/app/pulls", "rate_limited", "api.github.com"),
    ("app.clock", "java.lang.IllegalStateException: Clock moved backwards. Refusing to generate id for 5 "
     "milliseconds", "exception_surge", None),
    ("kernel.conntrack_full", "Dec  6 10:00:01 node-3 kernel: [812345.678] nf_conntrack: nf_conntrack: table full, "
     "dropping packet", "packet_loss", "node-3"),
    ("kernel.netdev_watchdog", "Dec  6 10:00:01 node-4 kernel: NETDEV WATCHDOG: eth0 (ixgbe): transmit queue 3 "
     "timed out", "network_partition", "node-4"),
    ("kernel.link_down", "Dec  6 10:00:01 node-4 kernel: ixgbe 0000:03:00.0 eth0: NIC Link is Down",
     "network_partition", "node-4"),
    ("kernel.tx_completion_late", "Dec  6 10:00:01 ip-10-0-7-12 kernel: ena 0000:00:06.0 ens6: Found a Tx that "
     "wasn't completed on time, qid 5, index 311. 2960000 usecs have passed since last napi execution",
     "network_latency", "ip-10-0-7-12"),
    ("kernel.disk_error", "Dec  6 10:00:01 db-host-2 kernel: blk_update_request: I/O error, dev sda, sector "
     "183740416 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 0", "hardware_error", "db-host-2"),
    ("kernel.disk_error", "Dec  6 10:00:01 db-host-2 kernel: EXT4-fs error (device sda1): ext4_find_entry:1455: "
     "inode #2: comm ls: reading directory lblock 0", "hardware_error", "db-host-2"),
    ("kernel.nvme_lost", "Mar  2 07:53:02 hv-12 kernel: [  61.2] nvme nvme3: Device not ready; aborting initialisation, "
     "CSTS=0x0", "hardware_error", "hv-12"),
    ("kernel.nvme_lost", "Mar  2 07:53:02 hv-12 kernel: [  61.3] nvme nvme4: Removing after probe failure status: -19",
     "hardware_error", "hv-12"),
    ("kernel.nvme_lost", "Mar  2 07:53:20 hv-12 zpool[1422]: cannot import 'tank': one or more devices is currently "
     "unavailable", "hardware_error", "hv-12"),
    ("kernel.machine_check", "Dec  6 10:00:01 node-7 kernel: mce: [Hardware Error]: Machine check events logged",
     "hardware_error", "node-7"),
    ("kernel.machine_check", "Dec  6 10:00:01 node-7 kernel: EDAC MC0: 1 UE memory read error on "
     "CPU_SrcID#0_Ha#0_Chan#1_DIMM#0", "hardware_error", "node-7"),
    ("kernel.oom", "Dec  6 10:00:01 node-2 kernel: Out of memory: Killed process 21034 (java) total-vm:8123456kB, "
     "anon-rss:4012345kB, file-rss:0kB, shmem-rss:0kB", "oom_kill", None),
    ("kernel.oom", "Memory cgroup out of memory: Killed process 4242 (python3) total-vm:2000000kB", "oom_kill", None),
    ("provider.sending_paused", "send failed: 422 ErrorCode 406: Message stream outbound is paused. Sending has been paused "
     "for this account due to unusually high sending volume.", "rate_limited", None),
    ("provider.sending_paused", "SMTPDataError(554, b'5.7.1 Service unavailable; account suspended: bounce rate exceeds "
     "policy')", "rate_limited", None),
    ("kernel.memory_starved", "Feb 13 17:15:02 lb-2 kernel: haproxy: page allocation failure. order:1, mode:0x20",
     "memory_leak", "lb-2"),
    ("kernel.memory_starved", "Feb 13 17:15:03 lb-2 kernel: TCP: out of memory -- consider tuning tcp_mem",
     "memory_leak", "lb-2"),
    ("kernel.hung_task", "Dec  6 10:00:01 node-5 kernel: INFO: task jbd2/sda1-8:412 blocked for more than 120 "
     "seconds.", "disk_io_latency", "node-5"),
    ("kernel.soft_lockup", "Dec  6 10:00:01 node-5 kernel: watchdog: BUG: soft lockup - CPU#3 stuck for 22s! "
     "[java:2211]", "node_failure", "node-5"),
    ("kernel.hard_lockup", "Dec  6 10:00:01 node-5 kernel: Watchdog detected hard LOCKUP on cpu 5", "node_failure",
     "node-5"),
    ("kernel.panic", "Kernel panic - not syncing: Fatal exception in interrupt", "node_failure", None),
    ("kernel.panic", "Mar 14 14:50:00 hv-3 savecore: [ID 570001 auth.error] reboot after panic: BAD TRAP: type=e (#pf "
     "Page fault) rp=ffffff01e8c4f6d0 addr=38 occurred in module \"genunix\" due to a NULL pointer dereference",
     "node_failure", "hv-3"),
    ("kernel.panic", "panic[cpu3]/thread=ffffff43a1c2e7a0: BAD TRAP: type=e (#pf Page fault)", "node_failure", None),
    ("kernel.ecc_corrected", "Dec  6 10:00:01 node-7 kernel: EDAC MC0: 1 CE memory read error on "
     "CPU_SrcID#0_Ha#0_Chan#1_DIMM#0", "hardware_error", "node-7"),
    ("facility.power_lost", "Mar  3 04:10:11 dc2-bms ems[88]: node r14-u07 powered down due to over-temperature "
     "(inlet 47C)", "node_failure", None),
    ("facility.power_lost", "thermal thermal_zone0: Critical temperature reached (105 C), shutting down", "node_failure",
     None),
    ("facility.power_lost", "Mar  3 04:10:11 dc2-bms ems[88]: rack B-07 PDU-2 input power lost", "node_failure", None),
    ("facility.power_lost", "SEL 1a | 03/03/2026 | 04:10:11 | Power Supply #0x51 | Power Supply AC lost | Asserted",
     "node_failure", None),
    ("facility.power_lost", "2016-08-08T06:38:00Z ALARM transformer T3 tripped; utility feed to data hall lost",
     "node_failure", None),
    ("facility.power_lost", "2016-08-08T06:39:00Z ALARM 312 IT loads show no input on secondary feed", "node_failure",
     None),
    ("facility.power_lost", "2016-08-08T06:39:00Z ALARM hosts unreachable after power event: 312", "node_failure", None),
    ("kernel.syn_flood", "TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.  Check SNMP "
     "counters.", "ddos", None),
    ("kernel.clocksource", "clocksource: timekeeping watchdog on CPU1: Marking clocksource 'tsc' as unstable because "
     "the skew is too large:", "exception_surge", None),
    ("net.bgp_down", "2021-08-19 13:55:32.412 [INFO][61] bird: Mesh_10_12_4_37: State changed to down",
     "network_partition", None),
    ("net.bgp_down", "Dec  6 10:00:01 core-rtr-1 1234: *Dec  6 10:00:01.123: %BGP-5-ADJCHANGE: neighbor 10.1.1.2 "
     "Down BGP Notification sent", "network_partition", "core-rtr-1"),
    ("net.bgp_down", "Jun 21 14:03:12 edge-mx1 rpd[2902]: RPD_BGP_NEIGHBOR_STATE_CHANGED: BGP peer 10.1.1.1 "
     "(External AS 65001) changed state from Established to Idle (event HoldTime) (instance master)",
     "network_partition", "edge-mx1"),
    ("net.bgp_down", "Dec 14 12:08:59 leaf-3 Bgp: %BGP-5-ADJCHANGE: peer 192.0.2.2 (VRF default AS 65002) old state "
     "Established event HoldTimerExpired new state Idle", "network_partition", "leaf-3"),
    ("net.bgp_down", "Dec  6 10:00:01 spine-1 bgpd[812]: %NOTIFICATION: sent to neighbor 10.0.0.2 4/0 (Hold Timer "
     "Expired) 0 bytes", "network_partition", "spine-1"),
    ("net.link_down", "Dec  6 10:00:01 access-sw-2 812: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state "
     "to down", "network_partition", "access-sw-2"),
    ("net.link_down", "Dec  6 10:00:01 access-sw-2 813: %LINEPROTO-5-UPDOWN: Line protocol on Interface "
     "GigabitEthernet0/1, changed state to down", "network_partition", "access-sw-2"),
    ("net.igp_down", "Dec  6 10:00:01 core-rtr-2 77: %OSPF-5-ADJCHG: Process 1, Nbr 10.0.0.2 on GigabitEthernet0/2 "
     "from FULL to DOWN, Neighbor Down: Dead timer expired", "network_partition", "core-rtr-2"),
    ("net.igp_down", "Dec  6 10:00:01 core-rtr-3 ospfd[601]: AdjChg: Nbr 10.0.0.6(10.0.0.6) on eth1: Full -> Deleted "
     "(InactivityTimer)", "network_partition", "core-rtr-3"),
    ("net.bgp_down", "Oct  4 15:39:25 bb1-ash6 RP/0/RSP0/CPU0:Oct  4 15:39:25.265 UTC: bgpd[1052]: "
     "%ROUTING-BGP-5-ADJCHANGE : neighbor 10.255.0.18 Down - Interface flap (VRF: default) (AS: 32934)",
     "network_partition", "bb1-ash6"),
    ("net.link_down", "Oct  4 15:39:20 bb1-ash6 RP/0/RSP0/CPU0:Oct  4 15:39:20.001 UTC: ifmgr[215]: "
     "%PKT_INFRA-LINK-3-UPDOWN : Interface HundredGigE0/1/0/7, changed state to Down", "network_partition", "bb1-ash6"),
    ("net.firewall_drop", "Aug 25 21:36:00 lb-5 kernel: [3990000.741212] iptables-dropped: IN=bond0 OUT= "
     "MAC=00:25:90:74:00:01 SRC=198.51.2.110 DST=198.252.206.16 LEN=60 PROTO=TCP SPT=18735 DPT=80 SYN",
     "network_policy_block", "lb-5"),
    ("net.firewall_drop", "Dec  6 10:00:01 web-2 kernel: [UFW BLOCK] IN=eth0 OUT= MAC=aa:bb SRC=10.0.0.9 DST=10.0.0.2 "
     "LEN=60 PROTO=TCP SPT=40000 DPT=5432", "network_policy_block", "web-2"),
    ("net.crc", "Dec  6 10:00:01 access-sw-2 814: GigabitEthernet0/3: 1834 input errors, 1790 CRC, 0 frame",
     "packet_loss", "access-sw-2"),
    ("net.nat_exhausted", "Nov 11 14:02:11 gw-7 %ASA-3-202010: PAT pool exhausted. Unable to create TCP connection "
     "from inside:10.4.1.20/51234 to outside:198.51.100.7/443", "resource_quota", "gw-7"),
    ("net.nat_exhausted", "Mar  3 09:12:40 edge-nat-2 %ASA-3-202010: NAT pool exhausted. Unable to create UDP "
     "connection from inside:10.9.0.5/5353 to outside:192.0.2.8/53", "resource_quota", "edge-nat-2"),
    # storage, database, clock and device rows added with the second postmortem batch
    ("kernel.disk_error", "Jan 29 10:25:02 hv03 kernel: [812345.678901] blk_update_request: I/O error, dev dm-3, "
     "sector 123456 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 0", "hardware_error", "hv03"),
    ("kernel.multipath", "Jan 29 10:23:40 hv03 kernel: device-mapper: multipath: 253:3: Failing path 8:160.",
     "hardware_error", None),
    ("time.unsynchronised", "Jan 15 18:10:00 ip-10-20-3-41 chronyd[812]: Can't synchronise: no selectable sources",
     "exception_surge", "ip-10-20-3-41"),
    ("storage.failed", "2019-05-20 01:20:41 Error Disk 11 The driver detected a controller error on "
     "\\Device\\Harddisk2\\DR2.", "hardware_error", None),
    ("storage.failed", "2020-01-29 10:23:02 array01 node1 Error 1627: Fibre Channel port 2 path A has failed "
     "(loss of sync)", "hardware_error", None),
    ("storage.failed", "2019-05-20 01:22:31.31 spid84 The operating system returned error 1117(The request could not "
     "be performed because of an I/O device error.) to SQL Server during a read at offset 0x00001b4a2a0000 in file "
     "'D:\\Data\\app.mdf'.", "hardware_error", None),
    ("storage.degraded", "2016-10-20 08:10:20 array01 Node 0: Write cache disabled on node pair 2/3 (mirror partner "
     "down); servicing writes in write-through mode", "disk_io_latency", None),
    ("storage.degraded", "2019-05-20 01:21:10.44 spid9s SQL Server has encountered 37 occurrence(s) of I/O requests "
     "taking longer than 15 seconds to complete on file [D:\\Data\\app.mdf] in database id 5.", "disk_io_latency", None),
    ("storage.device_latency", "2016-10-20T08:52:20.757Z esx-04 vmkernel: cpu7:33579)WARNING: ScsiDeviceIO: 1276: "
     "Device naa.600 performance has deteriorated. I/O latency increased from average value of 1154 microseconds to "
     "1182231 microseconds.", "disk_io_latency", None),
    ("db.lock_wait", "2023-09-05 09:46:30.012 UTC [18211] LOG:  process 18211 still waiting for AccessExclusiveLock "
     "on relation 17422 of database 16401 after 1000.087 ms", "db_lock_contention", None),
    ("db.lock_wait", "| 884213 | site12 | localhost | site12 | Query | 41 | Waiting for query cache lock | INSERT "
     "INTO wp_options (option_name) VALUES ('x') |", "db_lock_contention", None),
    ("db.wraparound", 'ERROR:  database is not accepting commands to avoid wraparound data loss in database "app"',
     "db_down", None),
    ("db.wraparound", 'WARNING:  database "app" must be vacuumed within 10985967 transactions', "db_down", None),
    ("db.table_full", "OperationalError: (1114, \"The table 'bookmarks' is full\")", "disk_full", None),
    ("db.innodb_semaphore", "InnoDB: Error: semaphore wait has lasted > 600 seconds", "deadlock", None),
    ("db.replica_stopped", "2019-03-01T10:00:00.123Z 12 [ERROR] Slave SQL for channel '': Could not execute "
     "Write_rows event on table app.users; Duplicate entry '42' for key 'PRIMARY', Error_code: 1062",
     "db_replication_lag", None),
    ("db.replica_stopped", "2019-03-01T10:00:00.123Z 9 [ERROR] Error reading packet from server: Got fatal error "
     "1236 from master when reading data from binary log", "db_replication_lag", None),
    ("db.slow_log", "2022-07-21 09:40:11.201 UTC [45120] LOG:  duration: 31457.221 ms  execute <unnamed>: SELECT "
     "id FROM orders WHERE status = $1 ORDER BY created_at DESC LIMIT 101", "db_slow_query", None),
    ("disk.watermark", "[2024-02-01T10:58:00,120][WARN ][o.e.c.r.a.DiskThresholdMonitor] [es-1] flood stage disk "
     "watermark [95%] exceeded on [kz3N1][es-4][/usr/share/elasticsearch/data/nodes/0] free: 1.1gb[1.1%], all "
     "indices on this node will be marked read-only", "disk_full", None),
    ("disk.readonly_block", "bulk upsert failed: cluster_block_exception: index [users] blocked by: "
     "[FORBIDDEN/12/index read-only / allow delete (api)];", "disk_full", None),
    ("db.quorum_unavailable", "ERROR indexer write failed: me.prettyprint.hector.api.exceptions.HUnavailableException"
     ": : May not be enough replicas present to handle consistency level.", "db_down", None),
    ("db.quorum_unavailable", "com.datastax.driver.core.exceptions.UnavailableException: Not enough replicas "
     "available for query at consistency QUORUM (2 required but only 1 alive)", "db_down", None),
    ("db.quorum_unavailable", "Cannot achieve consistency level LOCAL_QUORUM", "db_down", None),
    ("disk.pool_full", "Sep 08 12:34:00 san-ctrl-a emc-unity: CRITICAL pool xcode: used 100%, writes to thin LUNs "
     "failing (out of space)", "disk_full", None),
    ("disk.pool_full", "lvm[812]: WARNING: Thin pool vg0-pool0-tpool data is now 100.00% full.", "disk_full", None),
    ("disk.pool_full", "kernel: device-mapper: thin: 253:4: switching pool to out-of-data-space (queue IO) mode; "
     "dmeventd[711]: Thin pool vg0-pool0-tpool out of data space", "disk_full", None),
    ("disk.pool_full", "[filer-2:wafl.vol.full:notice]: Insufficient space on volume vol_builds@vserver:1a2b to "
     "perform operation.", "disk_full", None),
    ("provider.status_disruption", "NOTICE provider-status: Akamai Prolexic Routed 3.0: we are investigating a service "
     "disruption affecting customer traffic", "dependency_failure", None),
    ("provider.status_disruption", "status.example-cloud.com Identified - The issue causing elevated error rates for "
     "object storage in us-east-1 has been identified", "dependency_failure", None),
    ("provider.status_disruption", "2021-09-01 14:36:00,386 WARN  [aws-health] AWS Health: [Investigating] Increased "
     "API error rates and connectivity issues in the SA-EAST-1 Region", "dependency_failure", "sa-east-1"),
    ("provider.status_disruption", "AWS Health: [Investigating] Increased connectivity issues for EC2 instances",
     "dependency_failure", None),
    ("limits.open_files", '2019/11/11 03:46:10 [crit] 812#812: accept4() failed (24: Too many open files)',
     "resource_quota", None),
    ("limits.open_files", "java.io.IOException: Too many open files at sun.nio.ch.ServerSocketChannelImpl.accept0"
     "(Native Method)", "resource_quota", None),
    # a host out of local ports for the connections it opens (twenty-second postmortem batch): Go's dial whose
    # source-port bind fails, nginx's and Go's EADDRNOTAVAIL on connect, Java's wording of it, HAProxy's
    ("limits.local_ports", '{"level":"error","msg":"cache get failed: dial tcp 127.32.0.1:0->127.0.0.1:11211: bind: '
     'address already in use"}', "resource_quota", None),
    ("limits.local_ports", "2024/09/12 00:04:31 [error] 2231#0: *88121 connect() to 10.0.1.21:8080 failed (99: Cannot "
     'assign requested address) while connecting to upstream, client: 10.9.8.7, server: archive.example', "resource_quota",
     None),
    ("limits.local_ports", "dial tcp 10.0.0.1:5432: connect: cannot assign requested address", "resource_quota", None),
    ("limits.local_ports", "java.net.NoRouteToHostException: Cannot assign requested address (Address not available)",
     "resource_quota", None),
    ("limits.local_ports", "haproxy[3569]: Connect() failed for backend socket: no free ports", "resource_quota", None),
    ("db.too_many_clients", "Feb 21 14:13:00 vps-1 pgbouncer[16185]: C-0x9a392275: app/app@10.4.121.78:4785 pooler "
     "error: no more connections allowed (max_client_conn)", "db_connection_exhaustion", None),
    ("tls.expired", "System.Net.WebException: The underlying connection was closed ---> System.Security."
     "Authentication.AuthenticationException: RemoteCertificateChainErrors: NotTimeValid (https://files.example.net)",
     "certificate_expired", "files.example.net"),
    ("tls.remote_expired", "2021/09/29 19:30:01 [info] 812#0: *77 SSL_do_handshake() failed (SSL: error:14094415:SSL "
     "routines:ssl3_read_bytes:sslv3 alert certificate expired:SSL alert number 45) while SSL handshaking, client: "
     "203.0.113.7, server: 0.0.0.0:443", "certificate_expired", None),
    ("tls.untrusted", "System.Security.Authentication.AuthenticationException: The remote certificate is invalid "
     "according to the validation procedure.", "certificate_expired", None),
    ("app.clock", 'ts=2026-01-15T19:10:00Z level=warn msg="token rejected" error="token is not valid yet"',
     "exception_surge", None),
    ("net.split_brain", "2015 Mar 30 11:51:48 core2 %VPC-2-PEER_KEEP_ALIVE_RECV_FAIL: In domain 10, VPC peer "
     "keep-alive receive has failed", "network_partition", "core2"),
    ("net.l2_loop", "2015 Mar 30 11:53:00 core1 %L2FM-2-L2FM_MAC_FLAP_DISABLE_LEARN_N3K: Loops detected in the "
     "network among ports Po1 and Po12 vlan 120 - Disabling dynamic learning notifications", "network_partition",
     "core1"),
    ("net.module_fault", "2020 Sep 13 20:25:18 rtr1 %MODULE-2-MOD_SOMEPORTS_FAILED: Module 3 (Serial number: "
     "JAF1734ABKC) reported failure on ports Ethernet3/1-48 (Ethernet) due to fatal error", "hardware_error", "rtr1"),
    # a forwarding ASIC's errors, a supervisor's unrecoverable fault, a standby that could not take over
    ("net.module_fault", "Oct 10 09:35:02 slo-core-a 448120: %EARL_L2_ASIC-SP-4-DBUS_HDR_ERR: EARL L2 ASIC #0: Dbus Hdr. "
     "Error occurred. Ctrl1 0xB0811C3D", "hardware_error", "slo-core-a"),
    ("net.module_fault", "Oct 10 09:35:00 slo-core-a 448101: %C6KERRDETECT-2-FIFOCRITLEVEL: System detected an "
     "unrecoverable resources error on the active supervisor", "hardware_error", "slo-core-a"),
    ("net.module_fault", "Oct 10 09:37:00 slo-core-b 448133: %PFREDUNDANCY-SP-5-SWITCHOVER_FAILED: peer supervisor not in "
     "standby hot state", "hardware_error", "slo-core-b"),
    # an optic out of range: the port's flaps and the MAC moves that follow are this hardware's doing
    ("net.optic_degraded", "Apr  7 09:16:00 dist-sw1 512044: %SFF8472-3-THRESHOLD_VIOLATION: Te1/0/24: Rx power low "
     "alarm; Operating value: -18.4 dBm, Threshold value: -14.0 dBm", "hardware_error", "dist-sw1"),
    ("net.optic_degraded", "Apr  7 09:16:00 mx1 chassisd[2114]: xe-0/0/3: Receiver power low warning (-16.9 dBm)",
     "hardware_error", "mx1"),
    # the same optic as other vendors print it
    ("net.optic_degraded", "2026 Mar  4 02:10:11 leaf-07 %ETHPORT-3-IF_SFP_ALARM: Interface Ethernet1/49, Low Rx Power "
     "Alarm", "hardware_error", "leaf-07"),
    ("net.optic_degraded", "Mar  4 02:10:11 pe-2 chassis[311]: Port 1/1/3 SFF DDM (rx-power) low alarm set", "hardware_error",
     "pe-2"),
    ("net.optic_degraded", "Mar  4 02:10:11 acc-sw4 ddm[88]: Optical transceiver 1/0/25 RX power low alarm threshold exceeded.",
     "hardware_error", "acc-sw4"),
    ("net.admin_down", "Oct 25 14:27:12 edge-1 40989: Oct 25 14:27:12.010 PDT: %BGP-5-ADJCHANGE: neighbor 4.53.144.9 "
     "Down Admin. shutdown", "config_change", "edge-1"),
    ("net.admin_down", "Dec  6 10:00:01 spine-1 bgpd[812]: %NOTIFICATION: sent to neighbor 10.0.0.2 6/2 "
     "(Administrative Shutdown) 0 bytes", "config_change", "spine-1"),
    # a neighbour leaking routes: the neighbour, by the description the device prints, else by its address
    ("net.route_leak", "Jun  9 21:40:01 r1 bgp: route leak detected: neighbor 192.0.2.1 announced 812 more-specifics of "
     "our prefixes", "packet_loss", "192.0.2.1"),
    ("net.route_leak", "Jun  9 21:40:01 dal10-bcr1 bgp: %BGP-5-MSGDUMP: neighbor 203.0.113.9 (ext-transit AS64500) "
     "41822 UPDATEs in 60s, 5120 more-specifics of our aggregates", "packet_loss", "ext-transit"),
    ("systemd.unit_failed", "May 11 21:08:31 dns-pdx-01 systemd[1]: named.service: Failed with result 'timeout'.",
     "crash_loop", None),
    ("migration.failed_state", "Caused by: org.flywaydb.core.api.exception.FlywayValidateException: Validate failed: "
     "Migrations have failed validation", "bad_deploy", None),
    ("migration.failed_state", "Detected failed migration to version 42 (add invoice currency).", "bad_deploy", None),
    ("migration.failed_state", "2026/12/22 10:31:08 error: Dirty database version 17. Fix and force version.",
     "bad_deploy", None),
    # a client's driver told its query names a column or table the schema lacks: its code and schema out of sync
    ("sql.schema_mismatch", "ActiveRecord::StatementInvalid: PG::UndefinedColumn: ERROR:  column transfers.schedule_id "
     "does not exist", "bad_deploy", None),
    ("sql.schema_mismatch", 'psycopg2.errors.UndefinedTable: relation "invoice_lines" does not exist', "bad_deploy", None),
    ("sql.schema_mismatch", "java.sql.SQLSyntaxErrorException: Unknown column 'o.currency' in 'field list'",
     "bad_deploy", None),
    ("sql.schema_mismatch", "sqlite3.OperationalError: no such column: users.locale", "bad_deploy", None),
    ("config.invalid", "May 11 21:08:31 dns-pdx-01 named[2231]: loading configuration: failure", "config_change", None),
    ("config.invalid", '2024/03/01 12:00:03 [emerg] 1#1: unknown directive "proxy_bufer" in /etc/nginx/conf.d/app.conf:12',
     "config_change", None),
    ("provider.capacity_quota", "An error occurred (VcpuLimitExceeded) when calling the RunInstances operation: You "
     "have requested more vCPU capacity than your current vCPU limit of 512 allows", "resource_quota", "ec2"),
    ("kernel.netdev_watchdog", "Dec  6 10:00:01 node-4 kernel: ixgbe 0000:03:00.0 eth0: Detected Tx Unit Hang",
     "network_partition", "node-4"),
    ("kernel.link_down", "Dec  6 10:00:01 node-4 kernel: bond0: now running without any active interface!",
     "network_partition", "node-4"),
    ("kernel.oops", "Dec  6 10:00:01 node-6 kernel: BUG: unable to handle kernel NULL pointer dereference at "
     "0000000000000008", "node_failure", "node-6"),
    ("storage.failed", "Dec  6 10:00:01 db-3 kernel: md/raid1:md0: Disk failure on sdb1, disabling device.",
     "hardware_error", None),
    ("storage.failed", "Dec  6 10:00:01 db-3 smartd[812]: Device: /dev/sdb [SAT], FAILED SMART self-check. BACK UP "
     "DATA NOW!", "hardware_error", None),
    ("storage.nfs_unresponsive", "Mar 30 11:53:00 kvm4 kernel: nfs: server nfs01 not responding, still trying",
     "disk_io_latency", "nfs01"),
    ("net.mtu", "ping: sendmsg: Message too long", "packet_loss", None),
    ("tls.untrusted", "ERROR System.Net.WebException: Could not establish trust relationship for the SSL/TLS secure "
     "channel (https://acme.blob.core.windows.net/packages/a.nupkg)", "certificate_expired", "azure-storage"),
    ("conn.refused", "dial tcp: connect to https://my-bucket.s3.us-east-1.amazonaws.com:443: connection refused",
     "dependency_failure", "s3"),
    ("net.link_down", "Dec  6 10:00:01 access-sw-2 %PM-4-ERR_DISABLE: link-flap error detected on Gi0/1, putting "
     "Gi0/1 in err-disable state", "network_partition", "access-sw-2"),
    # a Go resolver whose query to the resolver at :53 timed out (the UDP addresses make the gap long)
    ("dns.temporary", '{"err": "dial tcp: lookup kafka-3.int.example on 169.254.169.253:53: read udp '
     '10.0.5.123:45678->169.254.169.253:53: i/o timeout"}', "dns_failure", "dns"),
    # replica sets with no primary to write to
    ("db.no_primary", '{"s": "I", "c": "ELECTION", "msg": "Not starting an election, since we are not electable", '
     '"attr": {"reason": "Not standing for election because I cannot see a majority"}}', "db_down", None),
    ("db.no_primary", "Election timeout elapsed, no primary in replica set charges-rs12", "db_down", None),
    ("db.cluster_down", "3311:M 24 Apr 2018 14:53:16.101 # Cluster state changed: fail", "db_down", None),
    ("db.cluster_down", "3312:S 24 Apr 2018 14:53:30.201 # Currently unable to failover: Waiting for votes, but "
     "majority still not reached.", "db_down", None),
    ("db.cluster_down", "redis.exceptions.ClusterDownError: CLUSTERDOWN The cluster is down", "db_down", None),
    ("db.no_primary", "Mongo::Error::OperationFailure: not master (10107) on charges-rs12", "db_down", None),
    ("db.no_primary", "MongoWriteConcernError: NotWritablePrimary", "db_down", None),
    ("db.no_primary", "2211:X 20 Nov 2025 16:04:12.004 # -failover-abort-no-good-slave master mymaster 10.10.1.5 6379",
     "db_down", None),
    # a route monitor's hijack alert: named by the upstream AS that carries the more-specific, else by its origin
    ("net.prefix_hijack", "ALERT more-specific announced: 198.51.100.0/24 origin AS64511 upstream AS64500 (TransitCo) "
     "-- our covering prefix 198.51.100.0/22 origin AS64496", "packet_loss", "as64500"),
    ("net.prefix_hijack", "WARN more specific prefix detected: 198.51.100.0/24 origin AS64511, our covering prefix "
     "198.51.100.0/22", "packet_loss", "as64511"),
    # a registration lapsed or held, as whois/RDAP and registrars print it
    ("dns.delegation_changed", "whois shop.example: Domain Status: redemptionPeriod https://icann.org/epp#"
     "redemptionPeriod", "dns_failure", None),
    ("dns.delegation_changed", "rdap shop.example status=[pendingDelete] events=[expiration 2026-11-30]", "dns_failure",
     None),
    ("dns.delegation_changed", "Domain Status: inactive", "dns_failure", None),
    ("dns.delegation_changed", "ALERT domain shop.example was suspended by the registrar (abuse report)", "dns_failure",
     None),
    # the same alert in BGPmon's fields and as a sub-prefix hijack
    ("net.prefix_hijack", "Possible Prefix Hijack (Code: 11): more specific prefix detected 203.0.113.0/24 of your "
     "prefix 203.0.112.0/22, Announced by: AS64511 (Example-Net) Upstream AS: AS64500 (TransitCo)", "packet_loss",
     "as64500"),
    ("net.prefix_hijack", "alert type=sub-prefix hijack prefix=203.0.113.0/24 monitored=203.0.112.0/22 "
     "origin AS64511", "packet_loss", "as64511"),
    # a domain's delegation moved away at its registrar or registry, or held out of the zone
    ("dns.delegation_changed", "CHANGED shop.example NS ns1.good-dns.net,ns2.good-dns.net -> ns1.other.com,ns2.other.com",
     "dns_failure", None),
    ("dns.delegation_changed", 'check shop.example NS=ns1.other.com,ns2.other.com registrar="X" MISMATCH expected '
     "ns1.good-dns.net", "dns_failure", None),
    ("dns.delegation_changed", "domain shop.example: status changed ok -> serverHold", "dns_failure", None),
    ("dns.delegation_changed", "nameservers for shop.example were set to ns1.parking.example, ns2.parking.example",
     "dns_failure", None),
]

# Lines that look like a rule's but must not fire it: (rule id that must stay silent, line).
NEAR_MISSES: list[tuple[str, str]] = [
    # a snapshot that loaded, or one election notification, is no store that cannot serve
    ("db.coordination_store_down", "INFO  [main:FileTxnSnapLog@372] - Snapshot loaded in 412 ms, highest zxid is "
     "0x7000a3f21"),
    ("db.coordination_store_down", "INFO  [WorkerReceiver[myid=2]:FastLeaderElection@679] - Notification: 2 "
     "(message format version), 3 (n.leader), 0x700000000 (n.zxid)"),
    # a consumer that started, or a queue that has consumers again, is no stopped consumer
    ("queue.consumer_stopped", "consumer started on queue orders.created (prefetch 50)"),
    ("queue.consumer_stopped", "queue orders.created: 4 active consumers"),
    # the caller's own mistake (a 4xx) is no failure of the provider's; a server error naming no provider is too weak
    ("provider.server_error", "An error occurred (ValidationException) when calling the PutItem operation: One or more "
     "parameter values were invalid"),
    ("provider.server_error", "An error occurred (InternalError) when calling the Run operation"),
    # the same access log's answered requests, and a proxy's 503 with another flag (the upstream answered 503)
    ("envoy.no_healthy_upstream", '[2026-12-07T09:05:41.902Z] "GET /cart HTTP/1.1" 200 - via_upstream - "-" 0 812 14 '
     '13 "10.42.1.40" "sf/3.8" "5d1f" "cart:8080" "10.42.5.77:8080" outbound|8080|stable|cart.shop.svc.cluster.local'),
    ("envoy.no_healthy_upstream", '[2026-12-07T09:05:41.902Z] "GET /cart HTTP/1.1" 503 - via_upstream - "-" 0 95 14 '
     '13 "10.42.1.40" "sf/3.8" "5d1f" "cart:8080" "10.42.5.77:8080" outbound|8080|stable|cart.shop.svc.cluster.local'),
    # a check that failed naming no peer, or a peer that was only slow to answer a request (no check)
    ("conn.health_check", "readiness check failed: 3 of 5 workers busy"),
    ("conn.health_check", "ReadTimeout: HTTPSConnectionPool(host='api.geo-vendor.io', port=443): Read timed out."),
    ("facility.power_lost", "Mar  3 04:10:11 dc2-bms ems[88]: UPS-2 on battery, output normal, load 41%"),
    ("facility.power_lost", "Mar  3 04:10:11 dc2-bms ems[88]: PDU-2 input voltage 231 V OK"),
    ("facility.power_lost", "host r14-u07 powered off by operator for maintenance"),
    ("facility.power_lost", "2016-08-08T06:00:00Z INFO PCM-2 status normal, utility A 478V"),
    ("facility.power_lost", "2016-08-08T06:00:00Z INFO mains supply restored to data hall"),
    ("cli.unknown_flag", "feature flag provided by LaunchDarkly is not defined for this user"),
    ("cli.unknown_flag", "ignoring unknown flag value in config: colour=blue"),
    ("kernel.multipath", "Jan 29 10:23:40 hv03 multipathd[1021]: mpatha: remaining active paths: 2"),
    ("time.unsynchronised", "Jan 15 18:10:00 ip-10-20-3-41 chronyd[812]: Selected source 169.254.169.123"),
    ("storage.failed", "GET /healthz health check failed for path /healthz on node 3"),
    ("storage.failed", "maintenance: node3 will be taken offline at 02:00"),
    ("storage.degraded", "array01 Node 0: cache mode write-back, battery charged"),
    ("storage.device_latency", "vmkernel: ScsiDeviceIO: Device naa.600 performance has improved. I/O latency reduced"),
    ("db.lock_wait", "2023-09-05 09:46:31.012 UTC [18211] LOG:  process 18211 acquired AccessExclusiveLock on relation "
     "17422 of database 16401 after 1400.087 ms"),
    ("db.wraparound", 'LOG:  automatic vacuum to prevent wraparound of table "app.public.orders": index scans: 0'),
    ("db.table_full", "Checking table 'bookmarks': status OK"),
    ("db.innodb_semaphore", "InnoDB: Buffer pool(s) load completed at 190520  1:20:31"),
    ("db.replica_stopped", "Slave SQL thread for channel '' initialized, starting replication in log "
     "'mysql-bin.000123' at position 4"),
    ("db.slow_log", "2022-07-21 09:40:11.201 UTC [45120] LOG:  duration: 12.345 ms  statement: SELECT 1"),
    ("disk.watermark", "[WARN ][o.e.c.r.a.DiskThresholdMonitor] [es-1] low disk watermark [85%] no longer exceeded on "
     "[es-4]"),
    ("limits.open_files", "raised open files limit (ulimit -n) to 65536"),
    # a server told to listen on an address the host does not have is its configuration, not a port shortage
    ("limits.local_ports", "2024/09/12 00:01:02 [emerg] 1#1: bind() to 10.0.0.5:80 failed (99: Cannot assign requested "
     "address)"),
    # a server whose own port another process holds stays node.eaddrinuse (config_change)
    ("limits.local_ports", "listen tcp :8080: bind: address already in use"),
    ("node.eaddrinuse", "dial tcp 127.32.0.1:0->127.0.0.1:11211: bind: address already in use"),
    ("disk.pool_full", "emc-unity: WARNING pool xcode: used 97%, oversubscription 162%"),
    ("db.quorum_unavailable", "INFO StorageService.java: replicas available for keyspace metrics: 3 of 3"),
    ("disk.pool_full", "lvm[812]: Monitoring thin pool vg0-pool0-tpool: data is now 71.20% full."),
    ("provider.status_disruption", "NOTICE provider-status: Resolved - this incident has been resolved"),
    ("provider.status_disruption", "INFO we are investigating slow builds reported by one customer"),
    ("provider.status_disruption", "WARN investigating connectivity issues with the payments peer, retrying"),
    ("tls.remote_expired", "SSL_do_handshake() failed (SSL: error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert "
     "unknown ca:SSL alert number 48) while SSL handshaking"),
    ("app.clock", 'ts=2026-01-15T19:10:00Z level=info msg="token accepted" valid=true'),
    ("net.split_brain", "2015 Mar 30 11:55:00 core2 %VPC-6-PEER_KEEP_ALIVE_RECV_SUCCESS: In domain 10, VPC peer "
     "keep-alive receive is successful"),
    ("net.l2_loop", "2015 Mar 30 11:55:00 core1 %STP-6-PORT_STATE: Port-channel12 VLAN0120 moved to forwarding"),
    ("net.module_fault", "2020 Sep 13 20:40:00 rtr1 %MODULE-5-MOD_OK: Module 3 is online (Serial number: JAF1734ABKC)"),
    ("net.module_fault", "Oct 10 09:40:00 slo-core-b 448190: %PFREDUNDANCY-SP-5-SWITCHOVER: switchover completed, "
     "standby supervisor is now active"),
    ("net.module_fault", "Oct 10 09:40:00 slo-core-a 448191: %EARL_L2_ASIC-SP-6-INFO: EARL L2 ASIC #0 initialised"),
    ("net.optic_degraded", "Apr  7 09:30:00 dist-sw1 512090: %SFF8472-5-THRESHOLD_VIOLATION_CLEARED: Te1/0/24: Rx "
     "power low alarm cleared"),

    ("net.optic_degraded", "Mar  4 02:40:11 acc-sw4 Optical transceiver 1/0/25 RX power low alarm threshold exceeding "
     "back to normal."),
    ("net.admin_down", "Oct 25 14:27:12 edge-1 40990: %LINK-3-UPDOWN: Interface GigabitEthernet0/2, changed state to "
     "down"),
    # a Cease the neighbour sent us is the neighbour's doing, not our operator's change
    ("net.admin_down", "Dec  6 10:00:01 spine-1 bgpd[812]: %BGP-3-NOTIFICATION: received from neighbor 10.0.0.2 6/2 "
     "(Administrative Shutdown) 0 bytes"),
    # a prefix limit reached says how many routes came, not whose change sent them (the leaker's own config change)
    ("net.route_leak", "Jul 08 08:52:14 dr01.yyz 2301: %BGP-4-MAXPFX: outbound advertisement count 91000 to core "
     "exceeds expected 5000"),
    ("net.route_leak", "Jun  9 21:40:01 r1 1234: %BGP-3-MAXPFXEXCEED: No. of prefix received from 192.0.2.1 (afi 0): "
     "101 exceed limit 100"),
    ("net.route_leak", "Jun  9 21:40:01 r1 bgp: %BGP-5-UPDATE: 120 prefixes received from 192.0.2.1, 0 more specific"),
    ("systemd.unit_failed", "May 11 21:10:00 dns-pdx-01 systemd[1]: named.service: Deactivated successfully."),
    ("config.invalid", "May 11 21:10:00 dns-pdx-01 named[2231]: loading configuration from '/etc/named.conf'"),
    ("provider.capacity_quota", "quota check ok: 120 of 512 vCPUs in use"),
    ("kernel.oops", "Dec  6 10:00:01 node-6 kernel: BUG: soft lockup - CPU#3 stuck for 22s! [java:2211]"),
    ("storage.failed", "Dec  6 10:00:01 db-3 smartd[812]: Device: /dev/sdb [SAT], SMART overall-health self-assessment "
     "test result: PASSED"),
    ("storage.nfs_unresponsive", "Mar 30 12:20:00 kvm4 kernel: nfs: server nfs01 OK"),
    ("net.mtu", "Jun  1 10:00:00 edge-1 zebra[1122]: interface ens1f0 MTU 1500 mismatch ignored"),
    ("kernel.netdev_watchdog", "Dec  6 10:00:01 node-4 kernel: ixgbe 0000:03:00.0 eth0: NIC Link is Up 10 Gbps"),
    ("kernel.tx_completion_late", "Dec  6 10:00:01 ip-10-0-7-12 kernel: ena 0000:00:06.0: ENA device version: 0.10"),
    ("db.no_primary", '{"s": "I", "c": "REPL", "msg": "Transition to PRIMARY complete; database writes are now permitted"}'),
    ("db.no_primary", "replica set charges-rs12: primary is charges-db-b, 4 members healthy"),
    ("db.cluster_down", "3311:M 24 Apr 2018 14:59:02.412 # Cluster state changed: ok"),
    ("net.bgp_down", "2021-08-19 13:58:02.101 [INFO][61] bird: Mesh_10_12_4_37: State changed to up"),
    ("kernel.nvme_lost", "Mar  2 07:52:01 hv-12 kernel: [   1.1] nvme nvme3: pci function 0000:c1:00.0"),
    ("kernel.nvme_lost", "Mar  2 06:10:11 hv-12 kernel: [8812.4] nvme nvme3: I/O 412 QID 7 timeout, aborting"),
    ("kernel.nvme_lost", "Mar  2 07:53:20 hv-12 zpool[1422]: pool 'tank' imported"),
    ("kernel.machine_check", "Dec  6 10:00:01 node-7 kernel: EDAC MC0: 1 CE memory read error on "
     "CPU_SrcID#0_Ha#0_Chan#1_DIMM#0"),
    ("kernel.panic", '{"level": "error", "msg": "recovered from panic in handler /api/v1/feed"}'),
    ("kernel.panic", "2026-03-14 14:50:00 api-3 app[22]: panic: runtime error: index out of range [3] with length 3"),
    ("py.env_key", "KeyError: 'redis_cluster_v2'"),
    ("migration.failed_state", "INFO  Successfully validated 42 migrations (execution time 00:00.031s)"),
    # the database's own log of a client's bad query names no client; a column merely named is no error
    ("sql.schema_mismatch", "2024-03-26 15:58:30.000 UTC [29251] ERROR:  column transfers.schedule_id does not exist at "
     "character 211"),
    ("sql.schema_mismatch", "INFO added column 'currency' in 'field list' of the export"),
    ("py.env_key", "    store = SESSION_STORES[flags.variant('session_store', user)]  # KeyError: 'session_v2'"),
    # a more-specific that is no announcement of ours being taken (our own deaggregation, a routine count)
    ("net.prefix_hijack", "INFO announcing more-specific 198.51.100.0/24 for traffic engineering via AS64500"),
    # a transfer lock is no hold, a resolver's configured nameservers are no delegation
    ("dns.delegation_changed", "check shop.example NS=ns1.good-dns.net status=clientTransferProhibited ok"),
    ("dns.delegation_changed", "systemd-resolved: using nameservers 10.0.0.2 10.0.0.3"),
    ("dns.delegation_changed", "Domain Status: clientDeleteProhibited https://icann.org/epp#clientDeleteProhibited"),
    ("dns.delegation_changed", "user account jdoe suspended by the admin"),
    # a session set read-only on purpose, a tuning note, a read-only replica serving reads: no write refused
    ("db.readonly_replica", "LOG:  statement: SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"),
    ("kernel.memory_starved", "sysctl: net.ipv4.tcp_mem = 188760 251683 377520"),
    # an account suspended by an administrator, a stream the operator paused on purpose with no refusal
    ("provider.sending_paused", "user account jdoe suspended by the admin for 3 days"),
    ("provider.sending_paused", "scheduled maintenance: newsletter campaign paused by operator"),
]


@pytest.mark.parametrize(("rule_id", "line", "kind", "culprit"), ROWS, ids=[f"{r[0]}-{i}" for i, r in enumerate(ROWS)])
def test_rule_row(rule_id: str, line: str, kind: str, culprit: str | None) -> None:
    found = classify_line(line)
    assert found is not None, line
    assert (found.rule.id, found.kind, found.culprit) == (rule_id, kind, culprit)


@pytest.mark.parametrize(("rule_id", "line"), NEAR_MISSES, ids=[f"{r[0]}-{i}" for i, r in enumerate(NEAR_MISSES)])
def test_near_miss_does_not_fire_the_rule(rule_id: str, line: str) -> None:
    found = classify_line(line)
    assert found is None or found.rule.id != rule_id, (found.rule.id if found else None, line)


def test_admin_shutdown_is_evidence_of_a_change_not_a_partition() -> None:
    from detectors.logs.decisive import detect_service_decisive

    lines = ["Oct 25 14:27:12 edge-1 40989: %BGP-5-ADJCHANGE: neighbor 4.53.144.9 Down Admin. shutdown"]
    signals = detect_service_decisive("edge-1", lines)
    assert [(s.kind, s.attributes.get("decisive")) for s in signals] == [("config_change", False)]


def test_a_session_down_right_after_an_operator_asked_for_it_is_a_change_not_a_partition() -> None:
    from detectors.logs.decisive import detect_service_decisive

    requested = ["2016-10-25 14:08:10.200 <INFO> bird: bgp_transit_a: Shutdown requested (operator: maintenance)",
                 "2016-10-25 14:08:12.201 <INFO> bird: bgp_transit_a: State changed to down"]
    signals = detect_service_decisive("edge", requested)
    assert [(s.kind, s.attributes.get("decisive")) for s in signals] == [("config_change", False)]
    failed = ["2016-10-25 14:08:10.200 <INFO> bird: bgp_transit_a: Received: Hold timer expired",
              "2016-10-25 14:08:12.201 <INFO> bird: bgp_transit_a: State changed to down"]
    kinds = {(s.kind, s.attributes.get("decisive")) for s in detect_service_decisive("edge", failed)}
    assert kinds == {("network_partition", True)}


def test_every_rule_has_a_row() -> None:
    covered = {row[0] for row in ROWS} | {"py.env_key_frame"}  # needs the lines above: test_decisive_detector
    assert [r.id for r in RULES if r.id not in covered] == []


def test_rule_ids_are_unique_and_kinds_are_vocabulary() -> None:
    from bot.domain import ALL_KINDS

    assert len({r.id for r in RULES}) == len(RULES)
    assert {r.kind for r in RULES} <= set(ALL_KINDS)
    assert all(0.0 < r.score <= 0.97 for r in RULES)


@pytest.mark.parametrize("line", [
    "2026-11-27 01:06:40.551 UTC [48811] app@analytics LOG:  duration: 812.117 ms  statement: SELECT 1",
    "# Query_time: 2.120331  Lock_time: 0.000102 Rows_sent: 1  Rows_examined: 4821",
    "INFO cache warmed: the table of contents is full of entries",
    "Dec  6 10:00:01 web-2 kernel: [TRACE-ACCEPT] IN=eth0 OUT= MAC=aa:bb SRC=10.0.0.9 DST=10.0.0.2 PROTO=TCP DPT=443",
    "INFO dropped 3 stale sessions from the cache",
])
def test_ordinary_lines_are_not_decisive(line: str) -> None:
    found = classify_line(line)
    assert found is None or found.rule.id not in {"db.slow_log", "db.table_full", "net.firewall_drop"}, line


def _holding_a_literal(lower: str) -> list[str]:
    """The rules whose literals the line holds, one substring test per literal (what ``rules_for`` must give)."""
    return [r.id for r in RULES if r.literals is None or any(word in lower for word in r.literals)]


def test_the_one_pass_finds_every_rule_whose_literal_a_line_holds() -> None:
    from detectors.logs.decisive_rules import rules_for

    literals = sorted({w for r in RULES for w in (r.literals or ())})
    for word in literals:  # alone, inside other text, and right after a shorter literal it begins with
        for lower in (word, f"x{word}y", f"{word[: len(word) // 2]}{word}", f"{word} {word[:-1]}"):
            assert [r.id for r in rules_for(lower)] == _holding_a_literal(lower), lower
    for _, line, *_ in [*ROWS, *NEAR_MISSES]:
        lower = line[:2000].lower()
        assert [r.id for r in rules_for(lower)] == _holding_a_literal(lower), line
    assert rules_for("2026-05-27t15:31:02z info handled request in 12 ms") == []


def test_a_port_another_process_holds_is_as_decisive_as_a_schedulers_refusal() -> None:
    # the program says why it could not serve at all (a sidecar or another process on its port): no weaker than the
    # Kubernetes rows that name a cause by themselves (FailedScheduling's Insufficient memory, 0.8)
    found = classify_line('{"level":"fatal","msg":"http server failed","error":"listen tcp :8080: bind: address '
                          'already in use"}')
    assert found is not None and (found.rule.id, found.kind) == ("node.eaddrinuse", "config_change")
    assert found.rule.score >= 0.8
