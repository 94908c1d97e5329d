"""The decisive-line detector over whole logs: short crash logs, healthy logs, dumps, bounds."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

import pytest

from bot.domain import Alert, Incident, IncidentContext
from detectors.logs.culprits import looked_up, peer_of, provider_of, provider_of_host
from detectors.logs.decisive import detect_decisive_signals, detect_service_decisive, redact
from detectors.registry import load_detectors
from tests.detectors.logs.factories import web_service_lines

CRASH_LOG = [
    "2024-03-01T12:00:00.101Z INFO  starting checkout v2.4.1",
    "2024-03-01T12:00:00.220Z INFO  loading configuration from /etc/checkout/config.yaml",
    "2024-03-01T12:00:00.480Z INFO  connecting to postgres://checkout:s3cr3t-pw@db-primary:5432/orders",
    "2024-03-01T12:00:01.502Z ERROR failed to open database: dial tcp 10.0.4.21:5432: connect: connection refused",
    "2024-03-01T12:00:01.503Z FATAL exiting with status 1",
]


def test_five_line_crash_log_gives_one_decisive_signal_on_the_database() -> None:
    signals = detect_service_decisive("checkout", CRASH_LOG)
    assert len(signals) == 1
    sig = signals[0]
    assert (sig.source, sig.detector, sig.service, sig.kind) == ("logs", "logs.decisive", "checkout", "db_down")
    assert sig.attributes["decisive"] is True and sig.attributes["rule"] == "conn.refused"
    assert sig.attributes["culprit"] == "10.0.4.21"
    assert sig.started_at == datetime(2024, 3, 1, 12, 0, 1, 502000, tzinfo=UTC)
    assert "connection refused" in sig.evidence[0].summary
    assert sig.score >= 0.75


def test_dsn_culprit_is_the_host_and_the_password_is_never_kept() -> None:
    lines = ["2024-03-01T12:00:01Z ERROR could not connect: postgres://app:hunter2@db-primary:5432/app: "
             "connection refused"]
    (sig,) = detect_service_decisive("api", lines)
    assert sig.attributes["culprit"] == "db-primary"
    assert sig.kind == "db_down"
    dumped = sig.model_dump_json()
    assert "hunter2" not in dumped
    assert "app:***@db-primary" in sig.evidence[0].summary


def test_redact_masks_url_passwords_and_password_fields() -> None:
    assert redact("amqp://guest:guest@rabbitmq:5672/") == "amqp://guest:***@rabbitmq:5672/"
    assert redact("login password=Tr0ub4dor&3 user=x") == "login password=*** user=x"
    assert redact("jdbc:postgresql://db:5432/app?user=a") == "jdbc:postgresql://db:5432/app?user=a"


def test_peer_extraction_reads_each_place_programs_name_a_peer() -> None:
    assert peer_of("jdbc:postgresql://orders-db.prod:5432/orders").host == "orders-db.prod"  # type: ignore[union-attr]
    assert peer_of("redis://:pw@cache-1:6380/0 refused").host == "cache-1"  # type: ignore[union-attr]
    assert peer_of("amqp://user:pw@rabbitmq.messaging:5672/vhost").port == 5672  # type: ignore[union-attr]
    assert peer_of("Can't connect to MySQL server on 'mysql-primary' (111)").host == "mysql-primary"  # type: ignore[union-attr]
    hadoop = ("java.net.NoRouteToHostException: No Route to Host from node-7/10.0.0.7 to msra-sa-41:9000 failed on "
              "socket timeout exception; For more details see:  http://wiki.apache.org/hadoop/NoRouteToHost")
    assert peer_of(hadoop).host == "msra-sa-41"  # type: ignore[union-attr]  # not the documentation link


def test_the_callers_own_address_in_a_servers_log_is_not_the_peer() -> None:
    # a server logs who connected to it: that side is the caller, not a component that failed to answer
    assert peer_of('[ERROR] agent.server.rpc: failed TLS handshake: from=10.2.7.14:51234 error="x509: certificate '
                   'has expired"') is None
    assert peer_of("SSL_do_handshake() failed while SSL handshaking, client: 203.0.113.9:51234") is None
    # the same caller as a JSON key of a structured server log (MongoDB's slow-query line names its client)
    assert peer_of('{"msg":"Slow query","attr":{"planSummary":"COLLSCAN","remote":"10.77.1.18:51422",'
                   '"durationMillis":18423}}') is None
    # the callee named after the caller is still found
    nginx = ('upstream timed out (110) while reading response header from upstream, client: 203.0.113.9, '
             'server: shop, upstream: "http://10.0.3.7:8080/cart"')
    assert peer_of(nginx).host == "10.0.3.7"  # type: ignore[union-attr]
    assert peer_of("HTTP 503 received from payments:8080").host == "payments"  # type: ignore[union-attr]
    assert peer_of("at 12:00:01 nothing failed") is None
    assert peer_of("version 1.2.3 started") is None
    assert looked_up("getaddrinfo EAI_AGAIN search.internal") == "search.internal"
    assert looked_up('could not translate host name "db-primary" to address: Name or service not known') == "db-primary"
    # the resolver's own words before the name are not the name
    assert looked_up("java.net.UnknownHostException: failed to resolve host [web-2.web.shop.svc.cluster.local]") \
        == "web-2.web.shop.svc.cluster.local"
    assert looked_up("io.netty.resolver.dns.DnsResolveContext: Failed to resolve host 'kafka-0.kafka-headless'") \
        == "kafka-0.kafka-headless"
    assert looked_up("UnknownHostException: failed to resolve host") is None
    assert provider_of("PUT https://assets.s3.eu-west-1.amazonaws.com/x 503 SlowDown") == "s3"


def test_name_resolution_blames_dns_and_reports_the_name() -> None:
    lines = ["Error: getaddrinfo ENOTFOUND payments.internal", "    at GetAddrInfoReqWrap.onlookup [as oncomplete]"]
    (sig,) = detect_service_decisive("web", lines)
    assert (sig.kind, sig.attributes["culprit"], sig.attributes["looked_up"]) == ("dns_failure", "dns",
                                                                                 "payments.internal")


def test_libpq_peer_on_the_following_lines() -> None:
    lines = [
        "psycopg2.OperationalError: could not connect to server: Connection refused",
        '\tIs the server running on host "pg-main" (10.0.0.5) and accepting',
        "\tTCP/IP connections on port 5432?",
    ]
    (sig,) = detect_service_decisive("worker", lines)
    assert (sig.kind, sig.attributes["culprit"]) == ("db_down", "pg-main")


def test_a_missing_environment_variable_read_by_a_traceback_frame() -> None:
    lines = ["Traceback (most recent call last):", '  File "/app/main.py", line 4, in <module>',
             '    port = int(os.environ["PORT"])', '  File "<frozen os>", line 679, in __getitem__', "KeyError: 'PORT'"]
    (sig,) = detect_service_decisive("api", lines)
    assert (sig.kind, sig.attributes["rule"]) == ("config_change", "py.env_key_frame")
    plain_key = ["Traceback (most recent call last):", '  File "/app/cart.py", line 9, in total',
                 "    return prices[item]", "KeyError: 'sku'"]
    assert [s.kind for s in detect_service_decisive("api", plain_key)] == ["crash_loop"]


def test_generic_crash_only_when_nothing_more_specific() -> None:
    plain = ["2024-03-01T12:00:00Z INFO start", "panic: runtime error: index out of range [3] with length 3",
             "", "goroutine 1 [running]:", "main.main()", "\t/app/main.go:12 +0x1d", "exit status 2"]
    kinds = [(s.kind, s.attributes["rule"]) for s in detect_service_decisive("api", plain)]
    assert kinds and all(k == "crash_loop" for k, _ in kinds)
    specific = [*plain[:1], "panic: dial tcp: lookup redis-cache on 10.96.0.10:53: no such host", *plain[2:]]
    kinds = [s.kind for s in detect_service_decisive("api", specific)]
    assert kinds == ["dns_failure"]


def test_generic_crash_lines_far_from_the_end_are_ignored() -> None:
    lines = ["panic: handled and recovered in a request", *web_service_lines(seconds=120)]
    assert detect_service_decisive("api", lines) == []


def test_a_crash_that_recurs_until_the_end_is_dated_by_its_first_line() -> None:
    healthy = [f"2020-12-28T13:{m:02d}:00Z INFO ospf6d adjacency full with ma1-rtr" for m in range(30, 50)]
    crashes = [f"2020-12-28T{13 + (m + 50) // 60}:{(m + 50) % 60:02d}:{s:02d}Z ERROR ospf6d: Received signal 11; aborting"
               for m in range(40) for s in (10, 40)]
    signals = detect_service_decisive("edge-rtr", healthy + crashes)
    assert [s.kind for s in signals] == ["crash_loop"]
    assert signals[0].started_at > datetime(2020, 12, 28, 14, 0, tzinfo=UTC)  # read in the tail
    assert signals[0].attributes["first_seen"] == "2020-12-28T13:50:10+00:00"
    # a crash printed only in the tail has no earlier first line
    tail_only = detect_service_decisive("edge-rtr", healthy + crashes[-3:])
    assert "first_seen" not in tail_only[0].attributes


def test_failover_with_an_unreachable_primary_points_at_the_network_first() -> None:
    lines = [
        "2024-03-01 12:00:00,101 WARNING: Request failed to pg-0: GET http://10.0.1.5:8008/patroni",
        "2024-03-01 12:00:00,102 WARNING: primary pg-0 is unreachable",
        "2024-03-01 12:00:03,455 INFO: promoted self to leader by acquiring session lock",
    ]
    signals = detect_service_decisive("pg-1", lines)
    assert [s.kind for s in signals][:2] == ["network_partition", "db_down"]
    assert signals[0].attributes["culprit"] == "pg-0"


def test_repeated_lines_make_one_signal_with_a_count_and_the_first_time() -> None:
    lines = [f"2024-03-01T12:00:{i:02d}Z ERROR upstream: dial tcp 10.0.0.9:8080: connect: connection refused"
             for i in range(30)]
    (sig,) = detect_service_decisive("gateway", lines)
    assert sig.attributes["count"] == 30 and sig.kind == "dependency_failure"
    assert sig.started_at == datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
    assert len(sig.evidence) == 2


def test_kernel_lines_blame_the_host_in_the_syslog_header() -> None:
    lines = [f"Dec  6 10:00:{i:02d} node-3 kernel: nf_conntrack: nf_conntrack: table full, dropping packet"
             for i in range(5)]
    (sig,) = detect_service_decisive("syslog", lines)
    assert (sig.detector, sig.kind, sig.attributes["culprit"]) == ("logs.kernel", "packet_loss", "node-3")


def test_healthy_log_of_two_thousand_lines_gives_nothing() -> None:
    rng = random.Random(7)
    lines = web_service_lines(seconds=1800)
    extra = ["2024-03-01T12:30:00Z INFO  lock acquired for job nightly-report, leader election won",
             "2024-03-01T12:30:01Z INFO  connection pool ready (min=5 max=50), primary db-primary:5432",
             "2024-03-01T12:30:02Z INFO  resolved 3 endpoints for payments.internal",
             "2024-03-01T12:30:03Z INFO  certificate for api.example.com valid until 2025-06-01",
             "2024-03-01T12:30:04Z DEBUG retry budget 10%, rate limit 100 rps configured",
             "2024-03-01T12:30:05Z INFO  worker exited cleanly with status 0"]
    lines += [rng.choice(extra) for _ in range(2000 - len(lines))]
    assert len(lines) == 2000
    assert detect_service_decisive("web", lines) == []


def test_the_detector_runs_in_the_registry_for_every_context() -> None:
    incident = Incident(title="checkout down", alerts=[Alert(name="CheckoutDown", service="checkout")])
    context = IncidentContext(incident=incident, logs={"checkout": CRASH_LOG})
    detectors = dict(load_detectors())
    signals = detectors["decisive_logs"](context)
    assert [s.kind for s in signals] == ["db_down"]


def test_bad_input_never_raises() -> None:
    logs = {"a": ["\x00\x00", "", "x" * 100_000, "panic: " + "(" * 5000], "b": []}
    signals = detect_decisive_signals(logs)
    assert all(s.service == "a" for s in signals)


def _timed(fn, *args):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def test_two_hundred_thousand_lines_cost_a_bounded_share_of_the_template_detector() -> None:
    from detectors.logs import detect_log_signals

    lines: list[str] = []
    seed = 0
    while len(lines) < 200_000:
        lines.extend(web_service_lines(seconds=3600, seed=seed))
        seed += 1
    lines = lines[:200_000]
    lines[-3] = "2024-03-01T13:00:00Z ERROR dial tcp 10.0.0.5:5432: connect: connection refused"
    # Interleaved, best of three each: one sample on a loaded CI machine swung the ratio from 0.45 to 0.81. The
    # ratio grows with the rule tables' trigger words (480 of them in one trie pattern, searched on every line): on
    # the machine of 2026-12-07 it read 0.76 quiet, at this commit and at the one before its session alike. The
    # bound is the guarantee that matters: the decisive pass costs less than the template miner it runs beside.
    decisive, mining = float("inf"), float("inf")
    for _ in range(3):
        decisive = min(decisive, _timed(detect_service_decisive, "web", lines))
        mining = min(mining, _timed(detect_log_signals, {"web": lines}))
    assert decisive < mining, (decisive, mining)
    assert [s.kind for s in detect_service_decisive("web", lines)] == ["db_down"]


def test_chronic_noise_and_telemetry_sinks_are_not_decisive() -> None:
    from datetime import timedelta

    from tests.detectors.logs.factories import T0, iso

    lines = []
    for i in range(0, 7200, 10):
        t = T0 + timedelta(seconds=i)
        lines.append(f"{iso(t)} INFO GET /api/cart 200 in 12ms")
        if i % 600 == 0:  # from the log's first minute to its last: a sidecar that was never reachable
            lines.append(f"{iso(t)} ERROR cache warm-up: dial tcp 10.0.9.9:11211: connect: connection refused")
        if i % 900 == 0:
            lines.append(f"{iso(t)} ERROR failed to publish metrics to statsd:8125: connection refused")
        if i >= 6600 and i % 60 == 0:  # the incident: starts 10 minutes before the log's end
            lines.append(f"{iso(t)} ERROR dial tcp 10.0.4.21:5432: connect: connection refused")
    alert = T0 + timedelta(seconds=6700)
    signals = detect_service_decisive("cart", lines, alert_time=alert)
    assert [(s.kind, s.attributes.get("culprit")) for s in signals] == [("db_down", "10.0.4.21")]


def test_a_line_that_replaces_the_work_a_log_showed_is_no_chronic_background() -> None:
    from datetime import timedelta

    from tests.detectors.logs.factories import T0, iso

    worked = [f"{iso(T0 + timedelta(seconds=30 * i))} INFO sent email template=delivered" for i in range(8)]
    stopped = [f"{iso(T0 + timedelta(minutes=4))} ERROR consumer channel closed by broker: PRECONDITION_FAILED - "
               "delivery acknowledgement timed out; consumer stopped"]
    stopped += [f"{iso(T0 + timedelta(minutes=4 + m))} WARN no active consumer on queue notifications.email"
                for m in range(5, 65, 5)]
    alert = T0 + timedelta(minutes=53)
    (sig,) = detect_service_decisive("email-consumer", worked + stopped, alert_time=alert)
    assert (sig.kind, sig.attributes["decisive"]) == ("queue_backlog", True)
    # the same warning among the work it goes on doing, from the log's start to its end: background
    mixed = []
    for m in range(0, 65, 5):
        mixed += [f"{iso(T0 + timedelta(minutes=m))} INFO sent email template=delivered",
                  f"{iso(T0 + timedelta(minutes=m, seconds=1))} WARN no active consumer on queue notifications.dlq"]
    assert detect_service_decisive("email-consumer", mixed, alert_time=alert) == []


def test_a_line_first_printed_long_before_the_alert_is_kept_but_not_decisive() -> None:
    from datetime import timedelta

    from tests.detectors.logs.factories import T0, iso

    lines = [f"{iso(T0 + timedelta(minutes=m))} INFO tick" for m in range(0, 120)]
    lines.insert(30, f"{iso(T0 + timedelta(minutes=30))} ERROR dial tcp 10.0.4.21:5432: connect: connection refused")
    (sig,) = detect_service_decisive("cart", lines, alert_time=T0 + timedelta(minutes=115))
    assert sig.attributes["decisive"] is False and sig.attributes["predates_alert"] is True
    assert sig.score < 0.6


def test_a_database_error_quoted_by_a_client_blames_its_database() -> None:
    line = "2024-03-01T12:00:01Z ERROR psycopg2.errors.DeadlockDetected: ERROR:  deadlock detected"
    (client,) = detect_service_decisive("checkout", [line])
    assert (client.kind, client.attributes["culprit_role"]) == ("db_lock_contention", "database")
    (own,) = detect_service_decisive("orders-db", [line])
    assert "culprit_role" not in own.attributes


def test_a_cache_servers_own_connection_ceiling_is_decisive_on_it() -> None:
    line = "Mar  3 21:04:11 sessions-memcache-2 memcached[811]: Too many open connections"
    (own,) = detect_service_decisive("sessions-memcache-2", [line])
    assert (own.kind, own.attributes["decisive"]) == ("db_connection_exhaustion", True)
    assert "culprit_role" not in own.attributes


def test_timeouts_and_resets_are_evidence_not_decisive() -> None:
    line = ('2024/03/01 12:00:03 [error] 31#31: *7 upstream timed out (110: Connection timed out) while reading '
            'response header from upstream, upstream: "http://10.0.7.4:8080/api"')
    (sig,) = detect_service_decisive("edge", [line])
    assert (sig.kind, sig.attributes["culprit"], sig.attributes["decisive"]) == ("dependency_failure", "10.0.7.4", False)
    assert sig.score < 0.5


def test_a_database_named_by_the_client_is_the_culprit() -> None:
    line = ('time=2024-03-01T12:00:01Z level=error msg="call to media-db failed: pq: canceling statement due to '
            'statement timeout"')
    (sig,) = detect_service_decisive("catalog", [line])
    assert (sig.kind, sig.attributes["culprit"], sig.attributes["decisive"]) == ("db_slow_query", "media-db", True)


def test_name_resolution_names_the_resolver_of_the_analysis_when_there_is_one() -> None:
    logs = {"checkout": ["java.net.UnknownHostException: payments: Temporary failure in name resolution"],
            "coredns": ["2024-03-01T12:00:00Z [INFO] plugin/reload: Running configuration SHA512 = 1a2b"]}
    (sig,) = detect_decisive_signals(logs, semantic=False)
    assert (sig.attributes["culprit"], sig.attributes["looked_up"]) == ("coredns", "payments")


def test_a_resolver_named_with_a_prefix_is_still_the_resolver() -> None:
    logs = {"login": ["java.net.UnknownHostException: na44.example.com: Temporary failure in name resolution"],
            "corp-dns": ["May 11 21:08:31 dns-pdx-01 named[2231]: received control channel command 'stop'"]}
    (sig,) = detect_decisive_signals(logs, semantic=False)
    assert sig.attributes["culprit"] == "corp-dns"


def test_a_service_merely_containing_dns_letters_is_no_resolver() -> None:
    logs = {"login": ["java.net.UnknownHostException: na44.example.com: Temporary failure in name resolution"],
            "dnsexporter": ["2024-03-01T12:00:00Z scrape ok"]}
    (sig,) = detect_decisive_signals(logs, semantic=False)
    assert sig.attributes["culprit"] == "dns"


_LOCK_WAITS = [
    "2017-01-24 23:33:40.101 UTC [2211] LOG:  process 2211 still waiting for ShareLock on transaction 981234120 "
    "after 1000.052 ms",
    "2017-01-24 23:33:40.101 UTC [2211] DETAIL:  Process holding the lock: 1987. Wait queue: 2211.",
    "2017-01-24 23:34:02.412 UTC [2290] LOG:  process 2290 still waiting for RowExclusiveLock on relation 16719 of "
    "database 16401 after 1000.310 ms",
    "2017-01-24 23:34:02.412 UTC [2290] DETAIL:  Process holding the lock: 1987. Wait queue: 2211, 2290.",
]


def test_lock_waits_behind_a_slow_statement_are_that_slow_query() -> None:
    holder = ("2017-01-25 00:35:12.001 UTC [1987] LOG:  duration: 3712044.120 ms  statement: DELETE FROM "
              "event_push_actions WHERE room_id = '!r:example.org' AND event_id = '$e:example.org'")
    sigs = detect_service_decisive("chat-pg", [*_LOCK_WAITS, holder])
    kinds = {s.kind for s in sigs if s.attributes.get("rule") == "db.lock_wait"}
    assert kinds == {"db_slow_query"}
    sig = next(s for s in sigs if s.attributes.get("rule") == "db.lock_wait")
    assert sig.attributes["reported_as"] == "db_lock_contention"
    assert "DELETE FROM event_push_actions" in sig.attributes["holder_statement"]


def test_lock_waits_behind_ddl_or_an_unrelated_slow_statement_stay_lock_contention() -> None:
    ddl = ("2017-01-25 00:35:12.001 UTC [1987] LOG:  duration: 912044.120 ms  statement: ALTER TABLE "
           "event_push_actions ADD COLUMN highlight smallint")
    other = ("2017-01-25 00:35:12.001 UTC [3001] LOG:  duration: 41210.120 ms  statement: SELECT count(*) FROM "
             "events")
    for extra in (ddl, other):
        sigs = detect_service_decisive("chat-pg", [*_LOCK_WAITS, extra])
        assert {s.kind for s in sigs if s.attributes.get("rule") == "db.lock_wait"} == {"db_lock_contention"}


def test_a_database_named_for_nothing_that_writes_its_own_server_log_keeps_its_error() -> None:
    lines = ["2024-03-01 12:00:00.101 UTC [61] LOG:  checkpoint starting: time",
             "2024-03-01 12:00:01.118 UTC [4410] ERROR:  deadlock detected",
             "2024-03-01 12:00:01.118 UTC [4410] DETAIL:  Process 4410 waits for ShareLock on transaction 9912"]
    own = [s for s in detect_service_decisive("amber-cobalt", lines) if s.kind == "db_lock_contention"]
    assert own and "culprit_role" not in own[0].attributes and own[0].attributes["decisive"] is True


def test_slow_queries_that_keep_getting_slower_are_no_chronic_background() -> None:
    def slow_log(durations_s: list[int]) -> list[str]:
        lines = []
        for minute in range(0, 120):
            stamp = f"2026-11-27 {1 + minute // 60:02d}:{minute % 60:02d}:00"
            lines.append(f"{stamp}.000 UTC [52] LOG:  checkpoint complete")
            if minute % 30 == 5:
                ms = durations_s[minute // 30] * 1000
                lines.append(f"{stamp}.500 UTC [4881] app@db LOG:  "
                             f"duration: {ms}.117 ms  execute <unnamed>: SELECT * FROM payment_events")
        return lines

    growing = detect_service_decisive("analytics-pg", slow_log([390, 760, 1290, 2440]))
    assert [(s.kind, s.attributes["decisive"]) for s in growing] == [("db_slow_query", True)]
    steady = detect_service_decisive("analytics-pg", slow_log([390, 410, 380, 400]))
    assert not any(s.attributes.get("decisive") for s in steady)  # the same slowness all along: background


def test_generic_crash_lines_at_the_alert_count_however_many_lines_follow() -> None:
    # the process aborts at the alert, is rolled back and runs healthy for long after: the saved log goes on
    crash = ["2026-01-29T21:30:09Z ERROR terminate called after throwing an instance of 'std::out_of_range'",
             "2026-01-29T21:30:10Z INFO exited: worker (terminated by SIGABRT (core dumped); not expected)"]
    after = [f"2026-01-29T{21 + (35 + i // 4) // 60}:{(35 + i // 4) % 60:02d}:{(i * 13) % 60:02d}Z INFO batch applied ops={i}"
             for i in range(120)]
    lines = [*crash, *after]
    alert = datetime(2026, 1, 29, 21, 31, tzinfo=UTC)
    kinds = [s.kind for s in detect_service_decisive("worker", lines, alert_time=alert)]
    assert kinds == ["crash_loop"]
    assert detect_service_decisive("worker", lines) == []  # no alert time: only the tail is read
    far = datetime(2026, 1, 29, 23, 0, tzinfo=UTC)  # an alert long after the crash: an old crash, not this one
    assert detect_service_decisive("worker", lines, alert_time=far) == []


def test_corrected_memory_errors_for_an_hour_do_not_date_a_new_uncorrectable_error() -> None:
    corrected = [f"Jun  6 07:{m:02d}:00 hv-4 kernel: EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#1_DIMM#0"
                 for m in range(0, 50, 5)]
    fatal = ["Jun  6 07:57:00 hv-4 kernel: mce: [Hardware Error]: Machine check events logged",
             "Jun  6 07:58:00 hv-4 kernel: EDAC MC0: 1 UE memory read error on CPU_SrcID#0_Ha#0_Chan#1_DIMM#0"]
    signals = detect_service_decisive("hv-4", [*corrected, *fatal])
    (fatal_sig,) = [s for s in signals if s.attributes["rule"] == "kernel.machine_check"]
    assert fatal_sig.kind == "hardware_error"
    assert fatal_sig.attributes["line_no"] == len(corrected) + 1  # dated by the machine check, not the first CE
    assert fatal_sig.started_at is not None and fatal_sig.started_at.minute == 57


def test_a_failure_that_begins_after_healthy_lines_within_the_half_hour_before_the_alert_is_not_background() -> None:
    from datetime import timedelta

    from tests.detectors.logs.factories import T0, iso

    # a short paste (tail): one answered request, then the same failure through its end; the alert fires 20 minutes
    # after the first failure (a rule's "for: 15m"): dropping it as chronic would need it to be older than that
    lines = [f"{iso(T0)} INFO GET /api/cart 200 in 12ms"]
    lines += [f"{iso(T0 + timedelta(minutes=m))} ERROR dial tcp 10.0.4.21:5432: connect: connection refused"
              for m in (1, 4, 9, 13)]
    signals = detect_service_decisive("cart", lines, alert_time=T0 + timedelta(minutes=21))
    assert [(s.kind, s.attributes.get("decisive")) for s in signals] == [("db_down", True)]
    # the same lines 40 minutes before the alert: a background the whole log shows, dropped
    assert detect_service_decisive("cart", lines, alert_time=T0 + timedelta(minutes=45)) == []


def test_go_read_timeout_blames_the_address_after_the_arrow_not_its_own_socket() -> None:
    peer = peer_of("[ERROR] plugin/errors: 2 auth.internal. A: read udp 10.0.8.16:49159->10.0.0.2:53: i/o timeout")
    assert peer is not None and (peer.host, peer.port) == ("10.0.0.2", 53)
    peer = peer_of("write tcp 10.1.2.3:55012->[fd00::7]:6379: write: broken pipe")
    assert peer is not None and (peer.host, peer.port) == ("fd00::7", 6379)


@pytest.mark.parametrize(
    ("host", "provider"),
    [
        ("cognito-idp.us-east-1.amazonaws.com", "cognito"),
        ("cognito-identity.eu-west-1.amazonaws.com", "cognito"),
        ("abc123.execute-api.eu-west-1.amazonaws.com", "apigateway"),
        ("email.us-east-1.amazonaws.com", "ses"),
        # a managed database's endpoint names the customer's own instance first: that database, not a provider
        ("api-db.c9akciq32.us-east-1.rds.amazonaws.com", None),
        ("dynamodb.us-east-1.amazonaws.com", "dynamodb"),
        ("api.example.com", None),
    ],
)
def test_an_aws_endpoint_is_the_service_it_serves(host: str, provider: str | None) -> None:
    assert provider_of_host(host) == provider


def test_a_kernel_oom_kill_records_the_program_it_killed_from_the_report_that_follows() -> None:
    lines = [
        "Apr 12 09:21:03 cache-1 kernel: redis-server invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE)",
        "Apr 12 09:21:03 cache-1 kernel: Out of memory: Killed process 1187 (redis-server) total-vm:15822312kB",
    ]
    (sig,) = detect_service_decisive("cache-host", lines)
    assert (sig.kind, sig.attributes["killed_program"]) == ("oom_kill", "redis-server")
    (alone,) = detect_service_decisive("cache-host", lines[:1])
    assert "killed_program" not in alone.attributes  # the invoker only asked for memory; no victim named
