"""What a component is, read from its own log lines rather than from its name.

A name says what a component is only when whoever named it said so (``orders-db``, ``backbone-rtr``); the lines a
component writes say it whatever it is called. A database server writes in its server's own format (PostgreSQL's
``[pid] LOG:  ...``, MySQL's ``[InnoDB]``/``[MY-010931]``, Redis's ``1:M 19 May 2026 ... *``, mongod's structured
``"c":"STORAGE"``); a router or switch writes device syslog (``%BGP-5-ADJCHANGE``, ``%LINK-3-UPDOWN``, ``rpd[..]:
BGP_...``); a name server writes in its daemon's form (BIND's ``named[..]: zone x/IN: ...`` and ``client ...#port: query:``,
CoreDNS's ``[INFO] plugin/...`` and its query log, unbound, PowerDNS, dnsmasq, Knot, NSD). A client quoting its database's error (``pq: sorry, too many clients already``) is not written in the
server's format, so it is no database by these lines.

A role is given when enough of the stream's newest lines are of that form (``MIN_SHARE`` of them, at least
``MIN_LINES``), so a stray quoted line does not make a component what it is not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

DATABASE = "database"
NETWORK = "network"
DNS = "dns"

# each role's forms, one pattern per program family: a line is of the role's form when any of them matches it
_FORMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (DATABASE, (
        # PostgreSQL (log_line_prefix with the pid, two spaces after the severity)
        r"\[\d+\][^\n]{0,60}?\b(?:LOG|FATAL|PANIC|ERROR|WARNING|HINT|DETAIL|STATEMENT|CONTEXT|NOTICE):  \S",
        # MySQL / MariaDB error log (8.0's [MY-nnnnnn] [InnoDB]; 5.x's "<time> <thread id> [Warning] ...") and the
        # slow query log's own header lines
        r"\[(?:InnoDB|MY-\d{6}|Server|Repl)\]",
        r"\bmysqld(?:\[\d+\])?:",
        r"\[(?:Note|Warning|ERROR)\] (?:InnoDB|mysqld|Plugin|Slave|Replica)",
        r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?Z? +\d+ \[(?:Note|Warning|ERROR|System)\] ",
        r"^# (?:Query_time: [\d.]+ +Lock_time:|User@Host: )",
        # Redis (pid:role day month year time level-char)
        r"^\s*\d+:[CMSX] \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}\.\d+ [.*#-] ",
        # mongod structured log
        r"\"s\"\s*:\s*\"[FEWID]\d?\"\s*,\s*\"c\"\s*:\s*\"[A-Z_]+\"\s*,\s*\"id\"\s*:\s*\d+",
    )),
    (NETWORK, (
        # Cisco/Arista-style facility-severity-mnemonic (IOS XR's facility-subfacility-severity-mnemonic, a space
        # before its colon), Junos daemons' mnemonics, FRR/Quagga bgpd
        r"%[A-Z][A-Z0-9_]*(?:-[A-Z][A-Z0-9_]*)?-\d-[A-Z0-9_]+ ?:",
        r"\brpd\[\d+\]: (?:BGP|RPD)_",
        r"\b(?:bgpd|ospfd|zebra)(?:\[\d+\])?: ",
        r"\bBGP(?:_\w+)?:? (?:neighbor|peer) \S+ (?:Down|Up|state)",
        r"\b(?:SNMP_TRAP_LINK_DOWN|LINK_DOWN|LACP)\b",
    )),
    (DNS, (
        # name server daemons as syslog programs (BIND's named, unbound's ``[pid:thread]``, PowerDNS, dnsmasq, Knot, NSD)
        r"\b(?:named|unbound|pdns_server|pdns_recursor|pdns|dnsmasq|knotd|nsd)\[\d+(?::\d+)?\](?::| (?:info|notice|warning|error|debug):)",
        # BIND's own categories without syslog: a zone's messages, a client's query
        r"\bzone [\w.-]+/IN(?:/[\w-]+)?: ",
        r"\bclient (?:@0x[0-9a-f]+ )?[\d.:a-f]+#\d+(?: \([^)]*\))?: (?:query|view)",
        # CoreDNS: a plugin's messages and its query log ("A IN example.org. udp 29 false 512" NOERROR ...)
        r"\[(?:INFO|ERROR|WARNING|DEBUG)\] plugin/[\w-]+:",
        r"\"(?:A|AAAA|SRV|PTR|MX|TXT|CNAME|NS|SOA|HTTPS) IN \S+ (?:udp|tcp) \d+",
    )),
)
MAX_CHARS = 1000  # of a line read


class _Form:
    """One line form, searched fast. ``re`` skips ahead to where a pattern's literal start occurs, but a pattern that
    begins with a word boundary (``\\b``) it tries at every position of every line: such a pattern is searched for
    without its boundary, and each place found is confirmed with the whole pattern. That finds a match exactly when
    the whole pattern does (every place the rest matches is tried, in order), at a small part of the cost."""

    __slots__ = ("whole", "start")

    def __init__(self, pattern: str) -> None:
        self.whole = re.compile(pattern)
        self.start = re.compile(pattern[2:]) if pattern.startswith(r"\b") else None

    def found_in(self, line: str) -> bool:
        if self.start is None:
            return self.whole.search(line, 0, MAX_CHARS) is not None
        hit = self.start.search(line, 0, MAX_CHARS)
        while hit is not None:
            if self.whole.match(line, hit.start(), MAX_CHARS):
                return True
            hit = self.start.search(line, hit.start() + 1, MAX_CHARS)
        return False


_SERVER_LINES: tuple[tuple[str, tuple[_Form, ...]], ...] = tuple(
    (role, tuple(_Form(p) for p in patterns)) for role, patterns in _FORMS
)
MIN_SHARE = 0.3
MIN_LINES = 2
SAMPLE = 400  # newest non-blank lines read


def role_of_lines(lines: Sequence[str]) -> str | None:
    """The role whose own log form makes up enough of ``lines`` (``DATABASE``, ``NETWORK``, ``DNS``), else None."""
    sample = [line for line in lines[-SAMPLE * 2:] if line.strip()][-SAMPLE:]
    if not sample:
        return None
    need = max(MIN_LINES, MIN_SHARE * len(sample))
    for role, forms in _SERVER_LINES:
        hits, unread = 0, len(sample)
        for line in sample:  # counted until the count is reached, or can no longer be
            if hits + unread < need:
                break
            unread -= 1
            if any(form.found_in(line) for form in forms):
                hits += 1
                if hits >= need:
                    return role
    return None


def roles_from_logs(logs: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Service -> role, for each service whose own lines say what it is."""
    out: dict[str, str] = {}
    for service, lines in logs.items():
        role = role_of_lines(lines) if service else None
        if role:
            out[service] = role
    return out
