"""``syslog_origin``: the host and program of a syslog header, in each clock the syslog formats read."""

import pytest

from detectors.logs.formats import syslog_origin


@pytest.mark.parametrize(("line", "origin"), [
    ("Mar 14 13:30:02 auth1 authsvc[4711]: listening on :8443", ("auth1", "authsvc")),
    ("<34>Mar  4 13:30:02 db-2 mysqld: ready for connections", ("db-2", "mysqld")),
    ("2024-03-14T13:30:02.120+00:00 edge-1 haproxy[88]: backend up", ("edge-1", "haproxy")),
    ("<165>1 2024-03-14T13:30:02Z node-7 kubelet 812 - - PLEG is not healthy", ("node-7", "kubelet")),
    ("2024-03-14 13:30:02,120 ERROR [main] pool exhausted", None),
    ('{"host": "auth1", "msg": "x"}', None),
])
def test_syslog_origin_reads_host_and_program(line: str, origin: tuple[str, str] | None) -> None:
    assert syslog_origin(line) == origin
