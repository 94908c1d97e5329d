"""Which machines a component runs on, read from the syslog headers of its own log."""

from __future__ import annotations

from detectors.logs.machines import machines_from_logs, machines_of_lines

AUTHSVC = [f"Mar 14 13:3{i}:02 auth1 authsvc[{4000 + i}]: INFO issued session token for client relay" for i in range(5)]
API = [f"May 15 17:10:0{i} api-{1 + i % 2} api[{100 + i}]: INFO POST /email 200 17ms" for i in range(6)]
RFC5424 = [f"2026-03-14T13:30:0{i}.120+00:00 cache-7 redis-proxy[88]: ready" for i in range(3)]
# an aggregated syslog of many programs says nothing about which component a host is
AGGREGATE = [f"Mar 14 13:30:0{i} host{i % 3} {prog}[{i}]: message" for i, prog in
             enumerate(["cron", "sshd", "postfix/smtpd", "kernel", "systemd", "nginx"])]
# no syslog header: no machine
PLAIN = ["2018-05-15T17:10:15.435935Z 45 [Note] InnoDB: page_cleaner: 1000ms intended loop took 178ms"] * 5


def test_hosts_of_one_programs_log_are_its_machines() -> None:
    assert machines_of_lines(AUTHSVC) == {"auth1"}
    assert machines_of_lines(API) == {"api-1", "api-2"}
    assert machines_of_lines(RFC5424) == {"cache-7"}


def test_an_aggregated_syslog_or_a_log_without_headers_names_no_machine() -> None:
    assert machines_of_lines(AGGREGATE) == set()
    assert machines_of_lines(PLAIN) == set()
    assert machines_of_lines([]) == set()


def test_a_host_seen_in_two_components_logs_names_neither() -> None:
    shared = [line.replace("api-2", "auth1") for line in API]
    assert machines_from_logs({"authsvc": AUTHSVC, "api": shared}) == {"api-1": "api"}
    assert machines_from_logs({"authsvc": AUTHSVC, "mysql": PLAIN}) == {"auth1": "authsvc"}
