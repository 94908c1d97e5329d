"""Decisive log lines: lines that explain a failure by themselves, no baseline needed.

A crashing container prints a few lines and dies; template mining and surge tests need many events, so
its one decisive line (a refused connection to ``db:5432``, a name that does not resolve, an expired
certificate, a shell syntax error in the entrypoint) would give no signal. This detector reads each
service's raw lines against the rule tables of ``decisive_rules.py`` (crash output, connections, name
resolution, TLS, databases, provider throttling, kernel and network-device messages), reads thread and
goroutine dumps (``dumps.py``), and, when an embedder is available, matches the remaining error lines by
meaning (``semantic.py``).

Cost is bounded: only the newest ``MAX_SCAN_LINES`` lines, a cheap lower-case word pass (``TRIGGER``)
before any rule, at most ``MAX_CANDIDATES`` candidate lines (newest first), and rules that only name a
crash (``generic``) read in the last ``TAIL_LINES`` lines only, or, when the alert's time is known, also where they were
printed within ``ALERT_SPAN`` of it: a log saved after the incident goes on past its crashes (a rollback, the fleet
healthy again), and how many lines follow them says how verbose the service is, not whether they matter.

Signals follow the decisive-finding seam (``PREAMBLE``): source ``logs``, detector ``logs.decisive`` /
``logs.kernel`` / ``logs.network`` / ``logs.dump`` (``logs.semantic`` for meaning matches, which are not
decisive), the line's own timestamp, the line quoted, and ``attributes`` with ``decisive``, ``rule``,
``culprit`` (the component the line blames, host only), ``line`` and ``count``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.models import Evidence, EvidenceType, Signal, SignalSource, aware
from bot.domain.roles import role_of_lines
from detectors.logs.culprits import DATABASE_PORTS, looked_up, peer_of, provider_of, provider_of_host
from detectors.logs.decisive_rules import (
    REQUESTED_DOWN,
    REQUESTED_DOWN_LINES,
    RULES_BY_ID,
    TRIGGER,
    Rule,
    rules_for,
)
from detectors.logs.dumps import dump_signals
from detectors.logs.formats import BUILTIN_FORMATS, LineFormat, ParsedLine
from detectors.logs.parsing import clean, detect_format
from detectors.logs.semantic import MAX_LINES, SemanticMatch, current_matcher, is_errorish, semantic_text

log = logging.getLogger(__name__)

MAX_SCAN_LINES = 200_000
MAX_CANDIDATES = 5_000
TAIL_LINES = 50
ALERT_SPAN = timedelta(minutes=10)  # generic crash lines this close to the alert count wherever they are in the log
MAX_SIGNALS_PER_SERVICE = 8
MAX_LINE_CHARS = 2_000
FORMAT_SAMPLE = 50  # lines the stream's format is detected from (timestamps of the few lines that matter)
SEMANTIC_SCAN_LINES = 2_000  # meaning matching reads the newest lines only
SEMANTIC_TAIL_LINES = 20
SEMANTIC_PER_SERVICE = 16
_LOCAL = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1", "::"})
_DB_SCHEMES = re.compile(r"\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|cassandra)://|"
                         r"jdbc:(?:postgresql|mysql|mariadb|oracle|sqlserver)", re.IGNORECASE)
_CONTINUATION = re.compile(r"^\s+\S|^Is the server running")
_SECRET_URL = re.compile(r"(://[^:/@\s'\"]+:)[^@\s'\"]+@")
_SECRET_FIELD = re.compile(r"(\b(?:password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|\S+)",
                           re.IGNORECASE)


def redact(line: str) -> str:
    """The line with URL passwords and ``password=...`` values masked (the rest kept as the user wrote it)."""
    return _SECRET_FIELD.sub(r"\1***", _SECRET_URL.sub(r"\1***@", line))


@dataclass(slots=True)
class Finding:
    """One rule firing on one line."""

    rule: Rule
    kind: str
    score: float
    index: int
    line: str
    culprit: str | None = None
    attributes: dict[str, object] = field(default_factory=dict)


def _peer_near(lines: Sequence[str], index: int) -> tuple[str, int | None] | None:
    """The peer named in the line, or in the indented lines right after it (libpq's ``Is the server running...``)."""
    peer = peer_of(lines[index][:MAX_LINE_CHARS])
    if peer is None:
        for nxt in lines[index + 1 : index + 3]:
            if not _CONTINUATION.match(nxt):
                break
            peer = peer_of(nxt[:MAX_LINE_CHARS])
            if peer is not None:
                break
    return (peer.host, peer.port) if peer is not None else None


CONTEXT_LINES = 4
# A line printed from the log's start to its end, long before the alert, is not what changed: chronic noise
# (a metrics sink that was never reachable) is dropped. Needs timestamps and a log of some length.
OLD_LEAD = timedelta(minutes=30)  # first printed this long before the alert: older than the incident
OLD_FACTOR = 0.6
CHRONIC_MIN_COUNT = 3
CHRONIC_MIN_SPAN = timedelta(minutes=10)
CHRONIC_LEAD = OLD_LEAD  # dropping a line as background needs no less age than setting it aside as older


_REQUESTED_DOWN = re.compile(REQUESTED_DOWN, re.IGNORECASE)
_RECEIVED = re.compile(r"\breceived\b", re.IGNORECASE)  # the neighbour's notice: its doing, not our operator's


def _requested_before(lines: Sequence[str], index: int) -> bool:
    """Whether one of the few lines above says an operator took the session or interface down on purpose."""
    above = lines[max(0, index - REQUESTED_DOWN_LINES) : index]
    return any(_REQUESTED_DOWN.search(x[:MAX_LINE_CHARS]) and not _RECEIVED.search(x[:MAX_LINE_CHARS]) for x in above)


# the process the kernel's OOM killer chose (``Out of memory: Killed process 1187 (redis-server)``), in the line or in
# the report that follows ``... invoked oom-killer`` (the invoker only asked for memory; the victim is named later)
_KILLED = re.compile(r"Killed process \d+ \(([^)\s]+)\)")
KILLED_LOOKAHEAD = 40


def _killed_program(lines: Sequence[str], index: int) -> str | None:
    for line in lines[index : index + KILLED_LOOKAHEAD]:
        m = _KILLED.search(line[:MAX_LINE_CHARS])
        if m:
            return m.group(1)
    return None


def _culprit(rule: Rule, lines: Sequence[str], index: int, device: str | None) -> Finding | None:
    line = lines[index][:MAX_LINE_CHARS]
    if rule.context_re is not None:
        above = lines[max(0, index - CONTEXT_LINES) : index]
        if not any(re.search(rule.context_re, x[:MAX_LINE_CHARS]) for x in above):
            return None
    if rule.family == "network" and rule.kind == "network_partition" and _requested_before(lines, index):
        rule = RULES_BY_ID["net.admin_down"]  # the session went down because an operator asked it to
    found = Finding(rule=rule, kind=rule.kind, score=rule.score, index=index, line=line)
    if rule.blame == "peer":
        host, port = None, None
        if rule.culprit_regex is not None:
            m = rule.culprit_regex.search(line)
            named = m and (m.groupdict().get("host") or m.groupdict().get("addr"))
            host = named.lower() if named else None
        if host is None:
            near = _peer_near(lines, index)
            if near is not None:
                host, port = near
        if host in _LOCAL:
            host = None
        provider = provider_of_host(host) if host is not None else None
        if provider is not None:  # an endpoint under a provider's shared domain: the provider is the culprit
            found.attributes["host"] = host
            host = provider
        if host is None and rule.needs_culprit:
            return None
        if host is None:  # it blames a peer it does not name: weaker
            found.score = round(rule.score - 0.15, 4)
        found.culprit = host
        if port is not None:
            found.attributes["port"] = port
        database = DATABASE_PORTS.get(port) if port is not None else None
        if rule.db_port and host is not None and (database or _DB_SCHEMES.search(line)):
            found.kind, found.score = "db_down", max(rule.score, 0.8)
            found.attributes["database"] = database or "database"
    elif rule.blame == "lookup":
        found.culprit = "dns"
        name = looked_up(line)
        if name is not None:
            found.attributes["looked_up"] = name
    elif rule.blame == "provider":
        found.culprit = provider_of(line)
        if found.culprit in _LOCAL:
            found.culprit = None
        if found.culprit is None and rule.needs_culprit:
            return None
    elif rule.blame == "device":
        found.culprit = device
    elif rule.blame == "self" and rule.culprit_regex is not None:
        # a part of what the line is about that it names (a provider's region in its status notice): blamed only
        # when the incident knows a component by that name (``decisive.retarget``), else the line stays its log's
        m = rule.culprit_regex.search(line)
        if m is not None and m.groupdict().get("host"):
            found.culprit = m.group("host").lower()
            found.attributes["named_part"] = True
    if rule.id == "kernel.oom":
        killed = _killed_program(lines, index)
        if killed is not None:
            found.attributes["killed_program"] = killed
    elif rule.role is not None:  # a database's error quoted by a client: the database it names, if any
        near = _peer_near(lines, index)
        if near is not None and near[0] not in _LOCAL:
            found.culprit = near[0]
    return found


def match_line(line: str, *, in_tail: bool = True) -> list[Rule]:
    """Every rule the line matches (generic crash rules only when ``in_tail``), best score first."""
    text = line[:MAX_LINE_CHARS]
    lower = text.lower()
    if not TRIGGER.search(lower):
        return []
    hits = [r for r in rules_for(lower) if (in_tail or not r.generic) and r.regex.search(text)]
    return sorted(hits, key=lambda r: -r.score)


def classify_line(line: str) -> Finding | None:
    """The best decisive reading of one line alone (culprit included), or None."""
    headers: _Headers | None = None
    best: Finding | None = None
    for rule in match_line(line):
        device = None
        if rule.blame == "device":
            headers = headers or _Headers([line])
            device = headers.host(0)
        found = _culprit(rule, [line], 0, device)
        if found is not None and (best is None or found.score > best.score):
            best = found
    return best


class _Headers:
    """Timestamps and syslog hosts of a stream's lines, parsed on demand for the few lines that matter."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = lines
        self.fmt: LineFormat = detect_format(lines[:FORMAT_SAMPLE])
        self._cache: dict[int, ParsedLine | None] = {}

    def parsed(self, index: int) -> ParsedLine | None:
        if index in self._cache:
            return self._cache[index]
        text = clean(self.lines[index])
        result: ParsedLine | None = None
        for fmt in (self.fmt, *BUILTIN_FORMATS):
            try:
                result = fmt.parse(text)
            except Exception:  # noqa: BLE001 - a format must never break detection
                result = None
            if result is not None and (result.ts is not None or fmt is not self.fmt):
                break
        self._cache[index] = result
        return result

    def timestamp(self, index: int) -> datetime | None:
        """The line's time, else the time of the nearest line above it (a stack trace's header)."""
        for i in range(index, max(-1, index - 30), -1):
            parsed = self.parsed(i)
            if parsed is not None and parsed.ts is not None:
                return parsed.ts
        return None

    def host(self, index: int) -> str | None:
        parsed = self.parsed(index)
        host = parsed.fields.get("host") if parsed is not None else None
        return str(host).lower() if host and host != "-" else None


def candidate_indexes(lines: Sequence[str], *, limit: int = MAX_CANDIDATES) -> list[int]:
    """Indexes of lines the cheap word pass keeps, newest first, at most ``limit``; the tail always."""
    out: list[int] = []
    search = TRIGGER.search
    for i in range(len(lines) - 1, -1, -1):
        if search(lines[i][:MAX_LINE_CHARS].lower()):
            out.append(i)
            if len(out) >= limit:
                break
    return out


def findings_of(service: str, lines: Sequence[str], *,
                alert_time: datetime | None = None) -> tuple[list[Finding], _Headers]:
    """Every rule finding of one service's lines (the best rule per line). Rules that only name a crash
    (``generic``) read the last ``TAIL_LINES`` lines, and lines printed within ``ALERT_SPAN`` of ``alert_time``."""
    headers = _Headers(lines)
    tail_from = len(lines) - TAIL_LINES
    found: list[Finding] = []
    for index in candidate_indexes(lines):
        text = lines[index][:MAX_LINE_CHARS]
        lower = text.lower()
        near: bool | None = None  # whether the line was printed near the alert (parsed only when it matters)
        for rule in rules_for(lower):
            if rule.generic and index < tail_from:
                if near is None:
                    near = _near_alert(headers, index, alert_time)
                if not near:
                    continue
            if not rule.regex.search(text):
                continue
            device = headers.host(index) if rule.blame == "device" else None
            finding = _culprit(rule, lines, index, device)
            if finding is not None:
                if finding.culprit == service.lower():
                    finding.culprit = None
                found.append(finding)
    return _best_per_line(found), headers


def _near_alert(headers: _Headers, index: int, alert_time: datetime | None) -> bool:
    """Whether the line was printed within ``ALERT_SPAN`` of the alert (False when either time is unknown)."""
    if alert_time is None:
        return False
    when = headers.timestamp(index)
    if when is None:
        return False
    return abs(aware(when) - aware(alert_time)) <= ALERT_SPAN  # a naive time is read as UTC


def _best_per_line(found: list[Finding]) -> list[Finding]:
    best: dict[int, Finding] = {}
    for f in found:
        current = best.get(f.index)
        if current is None or f.score > current.score:
            best[f.index] = f
    return sorted(best.values(), key=lambda f: f.index)


@dataclass(slots=True)
class _Group:
    first: Finding
    last: Finding
    count: int = 1


# Rows grouped on their own even beside rows of the same kind and culprit: a running count of something the component
# copes with (corrected memory errors) that may go on for days, so its first line says nothing of when a failure of
# the same kind (an uncorrectable error, a machine check) began.
OWN_GROUP_RULES = frozenset({"kernel.ecc_corrected"})


def _group(findings: list[Finding]) -> list[_Group]:
    groups: dict[tuple[str, str, str | None, str | None], _Group] = {}
    for f in findings:
        key = (f.rule.family, f.kind, f.culprit, f.rule.id if f.rule.id in OWN_GROUP_RULES else None)
        g = groups.get(key)
        if g is None:
            groups[key] = _Group(first=f, last=f)
        else:
            g.last = f
            g.count += 1
            if f.score > g.first.score:
                g.first.score = f.score
    kept = list(groups.values())
    if any(not g.first.rule.generic for g in kept):  # a specific cause beats "it crashed"
        kept = [g for g in kept if not g.first.rule.generic]
    _failover_over_network(kept)
    return kept


def _failover_over_network(groups: list[_Group]) -> None:
    """A failover whose primary was unreachable over the network points at the network first."""
    failover = any(g.first.rule.id == "db.failover" for g in groups)
    if not failover:
        return
    for g in groups:
        if g.first.rule.id == "db.primary_unreachable":
            g.first.score = max(g.first.score, 0.78)
            g.first.attributes["explains"] = "db.failover"


_ROLE_NAMES = {"database": re.compile(r"db|sql|postgres|pg|mongo|redis|memcache|maria|cassandra|oracle|cockroach|patroni",
                                      re.IGNORECASE)}


def _looks_like(service: str, role: str) -> bool:
    """Whether a service's name says it is such a component (``orders-db`` is a database); its own lines may
    say so too (``bot.domain.roles``: a database writing its server's log format)."""
    regex = _ROLE_NAMES.get(role)
    return bool(regex and regex.search(service))


def _first_time(headers: _Headers, indexes: range) -> datetime | None:
    for i in indexes:
        parsed = headers.parsed(i)
        if parsed is not None and parsed.ts is not None:
            return parsed.ts
    return None


_DURATION_MS = re.compile(r"\bduration: (?P<ms>\d+(?:\.\d+)?) ms|# Query_time: (?P<s>\d+(?:\.\d+)?)|"
                          r"\"durationMillis\":\s*(?P<mongo>\d+)")
WORSENING = 3.0  # the last line's duration against the first's: a trend, not the same slowness all along


def _duration_ms(line: str) -> float | None:
    found = _DURATION_MS.search(line)
    if found is None:
        return None
    if found.group("s") is not None:
        return float(found.group("s")) * 1000
    return float(found.group("ms") or found.group("mongo"))


def _worsening(group: _Group) -> bool:
    """Whether a group's lines report durations that grew (each slow query slower than the one before): a
    database getting slower through the window, which is no steady background however long it has lasted."""
    first, last = _duration_ms(group.first.line), _duration_ms(group.last.line)
    return first is not None and last is not None and first > 0 and last >= WORSENING * first


# A line that, once printed, is nearly all the log prints (a consumer's ``consumer stopped`` then ``no active consumer on
# queue ...`` every few minutes, where it had logged its work before) marks when the component stopped doing its job:
# a change of state, however early in the log it came, never background noise.
TAKEN_OVER_AFTER = 3  # lines of other work before it
TAKEN_OVER_SHARE = 0.8  # of the lines from its first on


def _took_over(group: _Group, n: int) -> bool:
    first = group.first.index
    return first >= TAKEN_OVER_AFTER and group.count >= TAKEN_OVER_SHARE * (n - first)


def _chronic(group: _Group, headers: _Headers, alert_time: datetime | None) -> bool:
    """Whether a group's line was printed from the log's start to its end, well before the alert, the same
    all along (a duration that keeps growing is not: ``_worsening``)."""
    n = len(headers.lines)
    if group.count < CHRONIC_MIN_COUNT or n < 2 or _worsening(group) or _took_over(group, n):
        return False
    start = _first_time(headers, range(0, min(n, 20)))
    end = _first_time(headers, range(n - 1, max(-1, n - 21), -1))
    first, last = headers.timestamp(group.first.index), headers.timestamp(group.last.index)
    if start is None or end is None or first is None or last is None or end - start < CHRONIC_MIN_SPAN:
        return False
    span = end - start
    early = first - start <= span * 0.2
    still = end - last <= span * 0.3
    before_alert = alert_time is None or first <= alert_time - CHRONIC_LEAD
    return early and still and before_alert


# Failing to ship metrics, traces or logs (statsd, an OpenTelemetry collector, a log forwarder) is the
# observability plumbing complaining, never what users felt: such lines are not decisive.
_TELEMETRY_LINE = re.compile(r"(?:publish|send|export|flush|push|report|emit|ship|forward)(?:ing|ed)? (?:the )?"
                             r"(?:metrics|traces|spans|telemetry|stats|logs?)\b", re.IGNORECASE)
_TELEMETRY_HOST = re.compile(r"^(?:statsd|otel|opentelemetry|jaeger|zipkin|datadog-agent|dd-agent|fluentd|fluent-bit|"
                             r"logstash|vector|pushgateway|telegraf|collector)\b")
TELEMETRY_PORTS = frozenset({8125, 4317, 4318, 6831, 6832, 14250, 14268, 9411, 24224, 8126})


def _telemetry(finding: Finding) -> bool:
    if finding.kind not in ("dependency_failure", "db_down", "network_partition", "dns_failure"):
        return False
    port = finding.attributes.get("port")
    host = finding.culprit or str(finding.attributes.get("looked_up") or "")
    return bool(_TELEMETRY_LINE.search(finding.line) or (host and _TELEMETRY_HOST.match(host))
                or (isinstance(port, int) and port in TELEMETRY_PORTS))


def _aged(signal: Signal, headers: _Headers, alert_time: datetime | None) -> Signal:
    """A line first printed long before the alert (and inside the log's window) predates the incident:
    it stays as evidence, scored lower and no longer decisive."""
    if alert_time is None or signal.started_at is None or signal.detector == "logs.dump":
        return signal
    start = _first_time(headers, range(0, min(len(headers.lines), 20)))
    if signal.started_at > alert_time - OLD_LEAD or start is None or start > signal.started_at - timedelta(minutes=5):
        return signal
    signal.score = round(signal.score * OLD_FACTOR, 4)
    signal.attributes["decisive"] = False
    signal.attributes["predates_alert"] = True
    return signal


def _signal(service: str, group: _Group, headers: _Headers) -> Signal:
    first = group.first
    rule = first.rule
    started = headers.timestamp(first.index)
    quoted = redact(first.line.strip())
    evidence = [Evidence(id=f"log:{service}:{first.index + 1}", type=EvidenceType.LOG, summary=quoted[:300],
                         service=service, ts=started, weight=first.score,
                         detail=f"rule {rule.id}; {group.count} matching line(s)")]
    if group.count > 1:
        last = group.last
        evidence.append(Evidence(id=f"log:{service}:{last.index + 1}", type=EvidenceType.LOG,
                                 summary=redact(last.line.strip())[:300], service=service,
                                 ts=headers.timestamp(last.index), weight=first.score))
    attributes: dict[str, object] = {"decisive": True, "rule": rule.id, "blame": rule.blame, "line": quoted[:500],
                                     "count": group.count, "line_no": first.index + 1, **first.attributes}
    if rule.generic:
        # a crash read in the log's last lines that the same log printed again and again before: the crashes began
        # with the first such line (``first_seen``), which may be long before the tail (a daemon crashing since
        # its update)
        seen = _first_match(rule, headers.lines, first.index)
        if seen is not None and (when := headers.timestamp(seen)) is not None:
            attributes["first_seen"] = when.isoformat()
    score_factor = 1.0
    if first.culprit:
        attributes["culprit"] = first.culprit
        if rule.blame == "device":
            attributes["culprit_device"] = True  # a host from the syslog header, not a name the message gives
    elif rule.role is not None and not _looks_like(service, rule.role) and role_of_lines(headers.lines) != rule.role:
        # a client's log quoting its database's error without naming it: it blames another component,
        # so it is no decisive finding on this service
        attributes["culprit_role"] = rule.role
        attributes["decisive"] = False
        score_factor = 0.7
    if rule.weak:  # a symptom of trouble elsewhere: evidence for the reasoning, never decisive by itself
        attributes["decisive"] = False
        score_factor = min(score_factor, 0.75)
    blamed = f" (blames {first.culprit})" if first.culprit else ""
    score = min(0.97, first.score + (0.03 if group.count >= 3 else 0.0)) * score_factor
    return Signal(source=SignalSource.LOGS, detector=f"logs.{rule.family}", service=service, kind=first.kind,
                  title=f"{service}: {quoted[:140]}{blamed}", score=round(score, 4), started_at=started,
                  evidence=evidence, attributes=attributes)


def _first_match(rule: Rule, lines: Sequence[str], before: int) -> int | None:
    """The first of ``lines`` above ``before`` that ``rule`` matches, or None."""
    for index in range(before):
        text = lines[index][:MAX_LINE_CHARS]
        if rule.literals and not any(lit in text.lower() for lit in rule.literals):
            continue
        if rule.regex.search(text):
            return index
    return None


@dataclass(slots=True)
class _Candidate:
    """An error line no rule read, kept for meaning matching."""

    service: str
    index: int
    text: str
    lines: Sequence[str]
    headers: _Headers
    count: int = 1
    in_tail: bool = False


def _semantic_candidates(service: str, lines: Sequence[str], headers: _Headers, findings: list[Finding]) -> list[_Candidate]:
    """Error-ish lines of the newest ``SEMANTIC_SCAN_LINES`` no rule matched, one per masked template, newest first."""
    matched = {f.index for f in findings}
    seen_templates = {semantic_text(f.line) for f in findings}
    by_template: dict[str, _Candidate] = {}
    first = max(0, len(lines) - SEMANTIC_SCAN_LINES)
    tail_from = len(lines) - SEMANTIC_TAIL_LINES
    for index in range(len(lines) - 1, first - 1, -1):
        raw = lines[index]
        if index in matched or not raw.strip() or raw[:1].isspace() or not is_errorish(raw):
            continue
        parsed = headers.parsed(index)
        text = semantic_text(parsed.message if parsed is not None else raw)
        if not text or text in seen_templates:
            continue
        known = by_template.get(text)
        if known is not None:
            known.count += 1
            continue
        if len(by_template) >= SEMANTIC_PER_SERVICE:
            continue
        by_template[text] = _Candidate(service, index, text, lines, headers, in_tail=index >= tail_from)
    return list(by_template.values())


_SEMANTIC_BLAME = {"dns_failure": "lookup", "db_down": "peer", "dependency_failure": "peer",
                   "certificate_expired": "peer", "network_partition": "peer", "rate_limited": "provider"}


def _semantic_signal(candidate: _Candidate, kind: str, score: float, similarity: float, margin: float) -> Signal:
    line = candidate.lines[candidate.index][:MAX_LINE_CHARS]
    blame = _SEMANTIC_BLAME.get(kind, "self")
    probe = Rule(f"semantic:{kind}", "semantic", kind, score, blame, r"$^")
    found = _culprit(probe, candidate.lines, candidate.index, None) or Finding(probe, kind, score, candidate.index, line)
    service = candidate.service
    started = candidate.headers.timestamp(candidate.index)
    quoted = redact(line.strip())
    attributes: dict[str, object] = {"decisive": False, "semantic": True, "rule": probe.id, "line": quoted[:500],
                                     "count": candidate.count, "line_no": candidate.index + 1,
                                     "similarity": similarity, "margin": margin}
    attributes.update({k: v for k, v in found.attributes.items() if k != "database"})
    if found.culprit and found.culprit != service.lower():
        attributes["culprit"] = found.culprit
    evidence = [Evidence(id=f"log:{service}:{candidate.index + 1}", type=EvidenceType.LOG, summary=quoted[:300],
                         service=service, ts=started, weight=score,
                         detail=f"reads as {kind} by meaning (similarity {similarity:.2f}, margin {margin:.2f})")]
    return Signal(source=SignalSource.LOGS, detector="logs.semantic", service=service, kind=kind,
                  title=f"{service}: {quoted[:140]} (reads as {kind})", score=score, started_at=started,
                  evidence=evidence, attributes=attributes)


def _semantic_signals(candidates: list[_Candidate], ruled: set[tuple[str, str]]) -> list[Signal]:
    """Meaning matches of the best ``MAX_LINES`` candidates (tail lines first, then the newest)."""
    if not candidates:
        return []
    chosen = sorted(candidates, key=lambda c: (not c.in_tail, -c.index))[:MAX_LINES]
    matcher = current_matcher()  # loads the model on first need only
    if matcher is None:
        return []
    best: dict[tuple[str, str], tuple[_Candidate, SemanticMatch, int]] = {}
    for candidate, match in zip(chosen, matcher.best([c.text for c in chosen]), strict=True):
        if match is None or (candidate.service, match.kind) in ruled:
            continue
        key = (candidate.service, match.kind)
        known = best.get(key)
        lines = candidate.count + (known[2] if known else 0)
        if known is None or match.similarity > known[1].similarity:
            best[key] = (candidate, match, lines)
        else:
            best[key] = (known[0], known[1], lines)
    out = []
    for candidate, match, lines in best.values():  # one signal per service and kind, on its nearest line
        candidate.count = lines
        out.append(_semantic_signal(candidate, match.kind, match.score, match.similarity, match.margin))
    return out


# PostgreSQL's log_lock_waits names the session that holds the lock; a slow-statement line names its session by the
# log prefix's process id (``[%p]``); DDL holding a lock is a migration's lock queue, not a slow query
_LOCK_HOLDER = re.compile(r"Process holding the lock: (\d+)")
_PREFIX_PID = re.compile(r"\[(\d+)\]")
_SLOW_STATEMENT = re.compile(r"\bduration: [1-9]\d{4,}(?:\.\d+)? ms\s+(?:statement|execute[^:]*): (?P<sql>.*)", re.IGNORECASE)
_DDL = re.compile(r"^\s*(?:ALTER|CREATE|DROP|REINDEX|VACUUM|CLUSTER|LOCK|TRUNCATE|REFRESH|COMMENT|GRANT|REVOKE)\b",
                  re.IGNORECASE)


def _slow_holder(lines: Sequence[str]) -> str | None:
    """The first slow statement (10 s or more, not DDL) whose session is one a lock-wait line names as the holder."""
    holders = {m.group(1) for line in lines if "holding the lock" in line and (m := _LOCK_HOLDER.search(line))}
    if not holders:
        return None
    for line in lines:
        m = _SLOW_STATEMENT.search(line) if "duration: " in line else None
        if m is None or _DDL.match(m.group("sql")):
            continue
        pid = _PREFIX_PID.search(line, 0, m.start())
        if pid is not None and pid.group(1) in holders:
            return line
    return None


def _lock_waits_behind_slow_statement(signals: list[Signal], lines: Sequence[str]) -> list[Signal]:
    """Sessions queued behind a lock whose holder is a statement the database logs as slow are that statement's:
    it holds the lock for as long as it runs, so the slow query is the mechanism (``db_slow_query``) and the lock
    waits its consequence (docs/causes.md, database messages)."""
    if not any(s.attributes.get("rule") == "db.lock_wait" for s in signals):
        return signals
    holder = _slow_holder(lines)
    if holder is None:
        return signals
    quoted = redact(holder.strip())[:300]
    out: list[Signal] = []
    for sig in signals:
        if sig.attributes.get("rule") == "db.lock_wait":
            sig = sig.model_copy(update={
                "kind": "db_slow_query",
                "title": f"{sig.service}: lock waits behind a slow statement: {quoted[:120]}",
                "evidence": [*sig.evidence, Evidence(id=f"{sig.evidence[0].id}:holder" if sig.evidence else "holder",
                                                      type=EvidenceType.LOG, summary=quoted, service=sig.service,
                                                      weight=float(sig.score))],
                "attributes": {**sig.attributes, "reported_as": "db_lock_contention", "holder_statement": quoted},
            })
        out.append(sig)
    return out


def _service_pass(service: str, lines: Sequence[str], *, semantic: bool,
                  alert_time: datetime | None = None) -> tuple[list[Signal], list[_Candidate]]:
    lines = lines[-MAX_SCAN_LINES:] if len(lines) > MAX_SCAN_LINES else lines
    findings, headers = findings_of(service, lines, alert_time=alert_time)
    groups = [g for g in _group(findings) if not _chronic(g, headers, alert_time) and not _telemetry(g.first)]
    out = [_aged(_signal(service, g, headers), headers, alert_time) for g in groups]
    out = _lock_waits_behind_slow_statement(out, lines)
    out.extend(dump_signals(service, lines, timestamp=headers.timestamp))
    out.sort(key=lambda s: s.score, reverse=True)
    candidates = _semantic_candidates(service, lines, headers, findings) if semantic else []
    return out[:MAX_SIGNALS_PER_SERVICE], candidates


# a resolver's name, as a whole word of the service name (``coredns``, ``dns-resolver``, ``corp-dns``, ``sfdc-dns``)
_RESOLVER = re.compile(r"(?:^|[-_.])(?:core-?dns|kube-dns|dnsmasq|unbound|named|bind9?|node-local-dns|nodelocaldns|"
                       r"dns-resolver|resolver|dns)(?:[-_.]|$)", re.IGNORECASE)


def _name_the_resolver(signals: list[Signal], services: list[str]) -> None:
    """Name resolution blames the resolver: the one service of this analysis that is a resolver, when there is one."""
    resolvers = [s for s in services if _RESOLVER.search(s)]
    if len(resolvers) != 1:
        return
    for sig in signals:
        if sig.attributes.get("culprit") == "dns" and sig.service != resolvers[0]:
            sig.attributes["culprit"] = resolvers[0]
            sig.attributes["resolver"] = resolvers[0]
        elif sig.attributes.get("culprit") == "dns":
            del sig.attributes["culprit"]


def detect_service_decisive(service: str, lines: Sequence[str], *, alert_time: datetime | None = None) -> list[Signal]:
    """Decisive signals of one service's raw lines (rules and dumps only), best first."""
    return _service_pass(service, lines, semantic=False, alert_time=alert_time)[0]


def detect_decisive_signals(logs: dict[str, list[str]], *, alert_time: datetime | None = None,
                            semantic: bool = True) -> list[Signal]:
    """Decisive signals of every service's logs (rules, dumps), then meaning matches of the error lines no
    rule read (when an embedder is configured, ``semantic.use_encoder``), best first. Never raises on bad
    input lines."""
    out: list[Signal] = []
    candidates: list[_Candidate] = []
    for service, lines in (logs or {}).items():
        try:
            found, pending = _service_pass(str(service), list(lines or []), semantic=semantic, alert_time=alert_time)
        except Exception:  # one bad stream must not hide the others
            log.exception("decisive log detection failed for a service", extra={"service": service})
            continue
        out.extend(found)
        candidates.extend(pending)
    _name_the_resolver(out, [str(s) for s in (logs or {})])
    if candidates:
        ruled = {(s.service or "", s.kind or "") for s in out}
        try:
            out.extend(_semantic_signals(candidates, ruled))
        except Exception:  # noqa: BLE001 - meaning matching is extra to the rules: never lose their signals
            log.exception("semantic log matching failed")
    out.sort(key=lambda s: s.score, reverse=True)
    return out
