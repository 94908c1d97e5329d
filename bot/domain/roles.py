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

_SERVER_LINES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (DATABASE, re.compile(
        # PostgreSQL (log_line_prefix with the pid, two spaces after the severity)
        r"\[\d+\][^\n]{0,60}?\b(?:LOG|FATAL|PANIC|ERROR|WARNING|HINT|DETAIL|STATEMENT|CONTEXT|NOTICE):  \S"
        # MySQL / MariaDB error log (8.0's [MY-nnnnnn] [InnoDB]; 5.x's "<time> <thread id> [Warning] ...") and the
        # slow query log's own header lines
        r"|\[(?:InnoDB|MY-\d{6}|Server|Repl)\]|\bmysqld(?:\[\d+\])?:|\[(?:Note|Warning|ERROR)\] (?:InnoDB|mysqld|Plugin|Slave|Replica)"
        r"|^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?Z? +\d+ \[(?:Note|Warning|ERROR|System)\] "
        r"|^# (?:Query_time: [\d.]+ +Lock_time:|User@Host: )"
        # Redis (pid:role day month year time level-char)
        r"|^\s*\d+:[CMSX] \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}\.\d+ [.*#-] "
        # mongod structured log
        r"|\"s\"\s*:\s*\"[FEWID]\d?\"\s*,\s*\"c\"\s*:\s*\"[A-Z_]+\"\s*,\s*\"id\"\s*:\s*\d+"
    )),
    (NETWORK, re.compile(
        # Cisco/Arista-style facility-severity-mnemonic (IOS XR's facility-subfacility-severity-mnemonic, a space
        # before its colon), Junos daemons' mnemonics, FRR/Quagga bgpd
        r"%[A-Z][A-Z0-9_]*(?:-[A-Z][A-Z0-9_]*)?-\d-[A-Z0-9_]+ ?:|\brpd\[\d+\]: (?:BGP|RPD)_|\b(?:bgpd|ospfd|zebra)(?:\[\d+\])?: "
        r"|\bBGP(?:_\w+)?:? (?:neighbor|peer) \S+ (?:Down|Up|state)|\b(?:SNMP_TRAP_LINK_DOWN|LINK_DOWN|LACP)\b"
    )),
    (DNS, re.compile(
        # name server daemons as syslog programs (BIND's named, unbound's ``[pid:thread]``, PowerDNS, dnsmasq, Knot, NSD)
        r"\b(?:named|unbound|pdns_server|pdns_recursor|pdns|dnsmasq|knotd|nsd)\[\d+(?::\d+)?\](?::| (?:info|notice|warning|error|debug):)"
        # BIND's own categories without syslog: a zone's messages, a client's query
        r"|\bzone [\w.-]+/IN(?:/[\w-]+)?: |\bclient (?:@0x[0-9a-f]+ )?[\d.:a-f]+#\d+(?: \([^)]*\))?: (?:query|view)"
        # CoreDNS: a plugin's messages and its query log ("A IN example.org. udp 29 false 512" NOERROR ...)
        r"|\[(?:INFO|ERROR|WARNING|DEBUG)\] plugin/[\w-]+:|\"(?:A|AAAA|SRV|PTR|MX|TXT|CNAME|NS|SOA|HTTPS) IN \S+ (?:udp|tcp) \d+"
    )),
)
MIN_SHARE = 0.3
MIN_LINES = 2
SAMPLE = 400  # newest non-blank lines read


def role_of_lines(lines: Sequence[str]) -> str | None:
    """The role whose own log form makes up enough of ``lines`` (``DATABASE``, ``NETWORK``, ``DNS``), else None."""
    sample = [line for line in lines[-SAMPLE * 2:] if line.strip()][-SAMPLE:]
    if not sample:
        return None
    for role, form in _SERVER_LINES:
        hits = sum(1 for line in sample if form.search(line[:1000]))
        if hits >= MIN_LINES and hits >= MIN_SHARE * len(sample):
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
