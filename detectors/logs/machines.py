"""Which machines a component runs on, read from the syslog headers of its own log.

A syslog line carries the name of the machine that wrote it (``Mar 14 13:30:02 auth1 authsvc[4711]: ...``). When a
component's log is one program's log, the hosts in its headers are that component's machines, so another
component's line that names such a host (``cannot connect to authsvc at auth1:8443``) names that component, not a
machine of its own.

A log counts when one program writes at least ``PROGRAM_SHARE`` of its sampled header lines (an aggregated syslog
of many programs says nothing about which component a host is); a host counts when it heads at least ``MIN_LINES``
of them; a host seen in the logs of two components is left out (it names neither).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence

from detectors.logs.formats import syslog_origin

# words that stand where a host would in other formats (a level, a logger): never a machine
_NOT_HOSTS = frozenset({"info", "warn", "warning", "error", "err", "debug", "trace", "fatal", "critical", "notice",
                        "main", "localhost", "-"})
PROGRAM_SHARE = 0.5
MIN_LINES = 2
SAMPLE = 400  # newest non-blank lines read


def _sampled_origins(lines: Sequence[str]) -> Iterator[tuple[str, str] | None]:
    """(host, program), lower-case, of each of the newest ``SAMPLE`` non-blank lines; None for a line with no syslog
    header."""
    for line in [line for line in lines[-SAMPLE * 2:] if line.strip()][-SAMPLE:]:
        origin = syslog_origin(line[:300])
        yield None if origin is None else (origin[0].lower(), origin[1].lower())


def machines_of_lines(lines: Sequence[str]) -> set[str]:
    """The hosts (lower-case) in the syslog headers of one program's log, else an empty set."""
    hosts: Counter[str] = Counter()
    programs: Counter[str] = Counter()
    for origin in _sampled_origins(lines):
        if origin is None or origin[0] in _NOT_HOSTS:
            continue
        hosts[origin[0]] += 1
        programs[origin[1]] += 1
    if not programs or programs.most_common(1)[0][1] < PROGRAM_SHARE * sum(programs.values()):
        return set()
    return {host for host, n in hosts.items() if n >= MIN_LINES}


def machines_from_logs(logs: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Host (lower-case) -> the one service whose own log shows it as that service's machine."""
    seen: dict[str, set[str]] = {}
    for service, lines in logs.items():
        if not service:
            continue
        for host in machines_of_lines(lines):
            seen.setdefault(host, set()).add(service)
    return {host: next(iter(services)) for host, services in seen.items() if len(services) == 1}


def header_hosts(lines: Sequence[str]) -> set[str]:
    """Every host (lower-case) heading a syslog line of the log, whatever the program; empty when any sampled line
    is no syslog line (a log that mixes formats says nothing about whose machines these are)."""
    hosts: set[str] = set()
    for origin in _sampled_origins(lines):
        if origin is None:
            return set()
        if origin[0] not in _NOT_HOSTS:
            hosts.add(origin[0])
    return hosts
