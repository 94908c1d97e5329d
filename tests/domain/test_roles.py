"""What a component is, read from its own log lines."""

from __future__ import annotations

import pytest

from bot.domain.roles import DATABASE, DNS, NETWORK, role_of_lines, roles_from_logs

POSTGRES = ["2026-04-06 02:29:03.214 GMT [1] LOG:  starting PostgreSQL 16.2 on x86_64-pc-linux-gnu",
            "2026-04-06 02:29:03.231 GMT [87] LOG:  database system was interrupted while in recovery",
            "2026-04-06 02:29:04.118 GMT [87] PANIC:  invalid lp"]
MYSQL = ["2026-10-14T02:18:22.118211Z 1 [Note] [MY-013827] [InnoDB] Starting crash recovery.",
         "2026-10-14T02:18:23.002114Z 1 [ERROR] [MY-011906] [InnoDB] Database page corruption on disk"]
MYSQL5 = ["2013-11-18 19:19:07 22478 [Warning] Too many connections (max_connections=4000)",
          "# Query_time: 22842.318  Lock_time: 22842.318 Rows_sent: 0  Rows_examined: 1",
          "SELECT * FROM summoner_restrictions WHERE summoner_id = 1"]
REDIS = ["1:C 19 May 2026 13:19:12.004 # Redis version=7.2.4, bits=64, commit=00000000, modified=0, pid=1",
         "1:M 19 May 2026 13:19:12.006 * Ready to accept connections tcp"]
MONGO = ['{"t":{"$date":"2026-11-17T23:10:02.118Z"},"s":"I","c":"STORAGE","id":22430,"ctx":"Checkpointer"}',
         '{"t": {"$date": "2019-07-10T16:35:02.973Z"}, "s": "I", "c": "ELECTION", "id": 4615652, "ctx": "x"}']
ROUTER = ["Mar 12 10:00:01 bb1-ash6 bgpd[2211]: %BGP-5-ADJCHANGE: neighbor 10.0.0.1 Down BGP Notification sent",
          "Mar 12 10:00:02 bb1-ash6 kernel: %LINK-3-UPDOWN: Interface et-0/0/1, changed state to down"]
# IOS XR: facility-subfacility-severity-mnemonic, a space before the colon
ROUTER_XR = ["Jul 08 08:52:19 rr2.core 14093: %ROUTING-BGP-5-ADJCHANGE : neighbor 10.1.9.1 Down - Hold timer expired",
             "Jul 08 08:52:40 rr2.core 14101: %PKT_INFRA-LINK-3-UPDOWN : Interface HundredGigE0/0/0/1, changed state to Down"]
BIND = ["Jun 02 04:10:11 ns-a1 named[880]: zone example.org/IN: loaded serial 2026060201",
        "Jun 02 04:10:15 ns-a1 named[880]: client @0x7f3a1c 192.0.2.9#51234 (www.example.org): query: www.example.org IN A",
        "Jun 02 04:11:02 ns-a1 named[880]: zone example.org/IN: NS 'ns2.example.org.example.org' has no address records"]
BIND_FILE = ["02-Jun-2026 04:10:11.204 general: info: zone example.org/IN: loaded serial 2026060201",
             "02-Jun-2026 04:10:15.530 queries: info: client @0x7f3a1c 192.0.2.9#51234 (a.example.org): query: a.example.org IN A"]
COREDNS = ['[INFO] 10.244.1.7:48211 - 29311 "A IN orders.shop.svc.cluster.local. udp 52 false 512" NOERROR qr,aa,rd 120 0.0002s',
           "[ERROR] plugin/errors: 2 upstream.example. A: read udp 10.244.0.3:51002->10.0.0.2:53: i/o timeout",
           "[INFO] plugin/reload: Running configuration SHA512 = 1b2c"]
UNBOUND = ["Jun 02 04:12:00 res-3 unbound[611:0] info: resolving example.net. A IN",
           "Jun 02 04:12:01 res-3 unbound[611:0] error: SERVFAIL <example.net. A IN>: all servers for this domain failed"]
# a client failing to resolve quotes the resolver; it is no name server by these lines
RESOLVING_CLIENT = ["2026-06-02T04:12:00Z ERROR dial tcp: lookup orders on 10.96.0.10:53: no such host",
                    "2026-06-02T04:12:03Z ERROR probe resolve www.example.org A: SERVFAIL from 10.0.0.53",
                    "2026-06-02T04:12:07Z ERROR probe resolve www.example.net A: SERVFAIL from 10.0.0.53"]
CLIENT = ["2026-03-18T12:49:58.114Z ERROR [payments-api] pq: sorry, too many clients already (SQLSTATE 53300)",
          "2026-03-18T12:50:03.771Z ERROR [payments-api] pq: sorry, too many clients already (SQLSTATE 53300)",
          "2026-03-18T12:54:02.090Z WARN  [payments-api] circuit breaker 'ledger-db' OPEN after 50 failures"]


@pytest.mark.parametrize(("lines", "role"), [(POSTGRES, DATABASE), (MYSQL, DATABASE), (MYSQL5, DATABASE), (REDIS, DATABASE),
                                             (MONGO, DATABASE), (ROUTER, NETWORK), (ROUTER_XR, NETWORK),
                                             (BIND, DNS), (BIND_FILE, DNS), (COREDNS, DNS), (UNBOUND, DNS),
                                             (RESOLVING_CLIENT, None), (CLIENT, None)])
def test_a_components_own_log_form_says_what_it_is(lines: list[str], role: str | None) -> None:
    assert role_of_lines(lines) == role


def test_a_stray_quoted_line_makes_no_role() -> None:
    app = [f"2026-04-06T02:30:{i:02d}Z INFO handled request {i}" for i in range(40)]
    assert role_of_lines([*app, POSTGRES[0]]) is None  # one line in 41: not enough
    assert role_of_lines([]) is None


def test_roles_from_logs_names_only_services_whose_lines_say_it() -> None:
    assert roles_from_logs({"amber-cobalt": POSTGRES, "api": CLIENT, "": POSTGRES}) == {"amber-cobalt": DATABASE}


# the forms are searched piecewise (roles._Form): the same lines must be found as by one search of each whole pattern
_GLUED = ["xmysqld: started", "_mysqld[12]: x", "émysqld: x", "2rpd[7]: BGP_x", "abgpd: x", "ozone a.org/IN: x",
          "aclient 10.0.0.1#53: query: x", "xBGP neighbor 10.0.0.1 Down", "LACPx", "SNMP_TRAP_LINK_DOWNx", "xnamed[3]: x",
          "pdns_serverx[1]: x"]
_BOUNDED = ["mysqld: started", "a mysqld[12]: x", "xmysqld: x then mysqld: y", "(rpd[7]: BGP_x", "-bgpd: x",
            "ozone a.org/IN: x zone a.org/IN: y", "client 10.0.0.1#53: query: x", "BGP neighbor 10.0.0.1 Down", "x LACP",
            "SNMP_TRAP_LINK_DOWN", "<30>named[3]: x", "pdns_server[1]: x", "a" * 990 + " LACP", "a" * 996 + " LACP"]


@pytest.mark.parametrize("line", [*_GLUED, *_BOUNDED, *POSTGRES, *MYSQL, *MYSQL5, *REDIS, *MONGO, *ROUTER, *ROUTER_XR,
                                  *BIND, *BIND_FILE, *COREDNS, *UNBOUND, *RESOLVING_CLIENT, *CLIENT])
def test_a_form_finds_a_line_exactly_when_its_whole_pattern_does(line: str) -> None:
    import re

    from bot.domain.roles import _FORMS, _SERVER_LINES, MAX_CHARS

    for (_, patterns), (_, forms) in zip(_FORMS, _SERVER_LINES, strict=True):
        whole = re.compile("|".join(patterns))
        assert any(f.found_in(line) for f in forms) == bool(whole.search(line[:MAX_CHARS])), line


def test_a_word_boundary_is_read_at_every_place_the_word_occurs() -> None:
    from bot.domain.roles import _SERVER_LINES

    network = dict(_SERVER_LINES)[NETWORK]
    assert not any(f.found_in("xLACP yLACP") for f in network)
    assert any(f.found_in("xLACP yLACP LACP") for f in network)  # the third place is bounded
    assert not any(f.found_in("a" * 996 + " LACP") for f in network)  # past the characters read


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 11, 40, 400])
def test_a_role_needs_its_share_of_lines_exactly(n: int) -> None:
    need = max(2, -(-3 * n // 10))  # MIN_LINES, and MIN_SHARE of the lines rounded up
    app = [f"2026-04-06T02:30:{i % 60:02d}Z INFO handled request {i}" for i in range(n)]
    for hits in range(max(0, need - 2), min(n, need + 1) + 1):
        for at_start in (True, False):  # the count is stopped early once reached, or once it can no longer be
            lines = [POSTGRES[0]] * hits + app[: n - hits] if at_start else app[: n - hits] + [POSTGRES[0]] * hits
            assert role_of_lines(lines) == (DATABASE if hits >= need else None), (n, hits, at_start)
