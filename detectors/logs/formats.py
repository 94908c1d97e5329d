"""Log line formats: each turns one raw line into a ``ParsedLine`` (or None when it is not its format).

Built in: JSON lines, logfmt, syslog RFC 5424 and RFC 3164, klog/glog, Apache/nginx access logs, Apache
and nginx error logs, a generic "timestamp level logger message" layout, and ``HeaderFormat`` for a
user's header regex or loghub notation (``'<Date> <Time> <Level> <Component>: <Content>'``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from operator import getitem, itemgetter, methodcaller
from typing import Any, Protocol

from bot.domain.errors import InputError
from detectors.logs.timestamps import parse_timestamp

MAX_LINE_CHARS = 8192

LEVELS = {
    "trace": "debug", "debug": "debug", "dbg": "debug", "d": "debug", "fine": "debug", "finer": "debug",
    "info": "info", "information": "info", "informational": "info", "notice": "info", "i": "info", "inf": "info",
    "warn": "warning", "warning": "warning", "w": "warning", "wrn": "warning",
    "error": "error", "err": "error", "e": "error", "severe": "error", "eror": "error",
    "fatal": "critical", "critical": "critical", "crit": "critical", "f": "critical", "panic": "critical",
    "alert": "critical", "emerg": "critical", "emergency": "critical", "failure": "error", "severe_error": "error",
}


def normalise_level(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip().strip("[]:").lower()
    if not text:
        return None
    if text.isdigit():  # syslog severities / bunyan numeric levels
        n = int(text)
        if n >= 10:
            return "critical" if n >= 60 else "error" if n >= 50 else "warning" if n >= 40 else "info" if n >= 30 else "debug"
        return ("critical", "critical", "critical", "error", "warning", "info", "info", "debug")[min(n, 7)]
    return LEVELS.get(text)


@dataclass(slots=True)
class ParsedLine:
    message: str
    ts: datetime | None = None
    level: str | None = None
    service: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


class LineFormat(Protocol):
    name: str

    def parse(self, line: str) -> ParsedLine | None: ...


def _first(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in data and data[key] not in (None, ""):
            return data[key]
        if "." in key:
            node: Any = data
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if node not in (None, ""):
                return node
    return None


_MSG_KEYS = ("msg", "message", "log", "@message", "text", "event", "short_message", "body")
_TS_KEYS = ("ts", "time", "timestamp", "@timestamp", "t", "datetime", "date", "eventTime")
_LEVEL_KEYS = ("level", "lvl", "severity", "log.level", "loglevel", "levelname", "severity_text", "status")
_SERVICE_KEYS = ("service", "service.name", "app", "application", "component", "kubernetes.container_name")


# a full date and time (ISO 8601), the value of a line's time field under a name no table knows (Heroku's ``at=``)
_DATE_TIME_VALUE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}")
_TIME_FIELD_LEAD = 1  # the time field leads the line


def _time_key(data: dict[str, Any]) -> str | None:
    """When no field has a known time name (``_TS_KEYS``): the key of one of the line's first fields whose value is a
    full date and time (``at=2019-05-11T19:30:00Z``); else None."""
    if _first(data, _TS_KEYS) is not None:
        return None
    for key in list(data)[:_TIME_FIELD_LEAD]:
        value = data[key]
        if isinstance(value, str) and _DATE_TIME_VALUE.match(value):
            return key
    return None


def _from_mapping(data: dict[str, Any]) -> ParsedLine:
    ts_key = _time_key(data)
    msg = _first(data, _MSG_KEYS)
    if msg is None:
        msg = " ".join(f"{k}={v}" for k, v in data.items()
                       if k not in _TS_KEYS and k != ts_key and k not in _LEVEL_KEYS)
    ts_raw = data[ts_key] if ts_key is not None else _first(data, _TS_KEYS)
    ts = parse_timestamp(str(ts_raw)) if ts_raw is not None else None
    service = _first(data, _SERVICE_KEYS)
    # stack traces in JSON logs: append them to the message so the template sees the exception
    extra = _first(data, ("stack_trace", "stacktrace", "exc_info", "exception", "error.stack_trace", "error"))
    message = str(msg)
    if isinstance(extra, str) and extra and extra not in message:
        message = f"{message} | {extra}"
    return ParsedLine(
        message=message, ts=ts, level=normalise_level(_first(data, _LEVEL_KEYS)),
        service=str(service) if service is not None and not isinstance(service, dict) else None, fields=data,
    )


class JsonFormat:
    name = "json"

    def parse(self, line: str) -> ParsedLine | None:
        s = line.strip()
        if not s.startswith("{"):
            return None
        try:
            data = json.loads(s)
        except ValueError:
            return None
        return _from_mapping(data) if isinstance(data, dict) else None


_LOGFMT_PAIR = re.compile(r'([\w.\-/@]+)=("(?:[^"\\]|\\.)*"|\S*)')


class LogfmtFormat:
    name = "logfmt"

    def parse(self, line: str) -> ParsedLine | None:
        if "=" not in line[:80]:
            return None
        pairs = _LOGFMT_PAIR.findall(line)
        if len(pairs) < 2 or not re.match(r"\s*[\w.\-/@]+=", line):
            return None
        data = {k: (v[1:-1].replace('\\"', '"') if v.startswith('"') and len(v) > 1 else v) for k, v in pairs}
        return _from_mapping(data)


_RFC5424 = re.compile(
    r"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[[^\]]*\])+)\s?(.*)$"
)
_RFC3164 = re.compile(
    r"^(?:<(\d{1,3})>)?([A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2})\s+(\S+)\s+([^\s:\[]+)(?:\[(\d+)\])?:\s?(.*)$"
)
# the same header with other clocks: rsyslog's high-precision ISO stamp (RFC3339) and the year-first stamp of
# Cisco NX-OS and other network gear ("2020 Sep 13 20:25:18 rtr1 %MODULE-2-...: ...")
_SYSLOG_OTHER_TS = re.compile(
    r"^(?:<(\d{1,3})>)?(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})|"
    r"\d{4} [A-Z][a-z]{2}\s+\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d+)?)\s+([A-Za-z][\w.\-]*)\s+([^\s:\[]+)(?:\[(\d+)\])?:\s?(.*)$"
)


def syslog_origin(line: str) -> tuple[str, str] | None:
    """``(host, program)`` of a syslog header (RFC 3164, RFC 5424, or the other clocks above), without reading its
    time; None for any other line."""
    m = _RFC3164.match(line) or _SYSLOG_OTHER_TS.match(line) or _RFC5424.match(line)
    return (m.group(3), m.group(4)) if m else None


_YEAR_FIRST = re.compile(r"^(\d{4}) (.+)$")


class Syslog5424Format:
    name = "syslog5424"

    def parse(self, line: str) -> ParsedLine | None:
        m = _RFC5424.match(line)
        if not m:
            return None
        pri, ts, host, app, procid, msgid, _sd, msg = m.groups()
        level = normalise_level(str(int(pri) % 8))
        return ParsedLine(message=msg, ts=parse_timestamp(ts), level=_level_from_text(msg, level),
                          service=None if app == "-" else app,
                          fields={"host": host, "procid": procid, "msgid": msgid})


class Syslog3164Format:
    name = "syslog3164"

    def parse(self, line: str) -> ParsedLine | None:
        m = _RFC3164.match(line) or _SYSLOG_OTHER_TS.match(line)
        if not m:
            return None
        pri, ts, host, tag, pid, msg = m.groups()
        year_first = _YEAR_FIRST.match(ts)
        if year_first:  # "2020 Sep 13 20:25:18" -> "Sep 13 20:25:18 2020", a form the timestamp parser reads
            ts = f"{year_first.group(2)} {year_first.group(1)}"
        level = normalise_level(str(int(pri) % 8)) if pri else None
        return ParsedLine(message=msg, ts=parse_timestamp(ts), level=_level_from_text(msg, level), service=tag,
                          fields={"host": host, "pid": pid})


_KLOG_RE = re.compile(r"^([IWEF])(\d{4} \d{2}:\d{2}:\d{2}\.\d{6})\s+(\d+)\s+([^\]]+)\]\s?(.*)$")


class KlogFormat:
    name = "klog"

    def parse(self, line: str) -> ParsedLine | None:
        m = _KLOG_RE.match(line)
        if not m:
            return None
        sev, ts, thread, source, msg = m.groups()
        return ParsedLine(message=msg, ts=parse_timestamp(ts), level=normalise_level(sev),
                          fields={"thread": thread, "source": source})


_ACCESS_RE = re.compile(
    r'^(\S+) \S+ (\S+) \[([^\]]+)\] "(\S+)(?: (\S+))?(?: [^"]*)?" (\d{3}) (\S+)(?: "([^"]*)" "([^"]*)")?(.*)$'
)


class AccessLogFormat:
    name = "access"

    def parse(self, line: str) -> ParsedLine | None:
        m = _ACCESS_RE.match(line)
        if not m:
            return None
        client, user, ts, method, path, status, size, referer, agent, _rest = m.groups()
        code = int(status)
        level = "error" if code >= 500 else "warning" if code >= 400 else "info"
        route = (path or "").split("?", 1)[0]
        return ParsedLine(message=f"{method} {route} {status}", ts=parse_timestamp(ts), level=level,
                          fields={"client": client, "status": code, "size": size, "path": path,
                                  "agent": agent, "user": user})


_APACHE_ERR = re.compile(r"^\[([^\]]+)\]\s+\[(?:([\w\-]+):)?(\w+)\](?:\s+\[pid [^\]]*\])?(?:\s+\[client [^\]]*\])?\s?(.*)$")
_NGINX_ERR = re.compile(r"^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[(\w+)\] (\d+)#\d+: (?:\*\d+ )?(.*)$")


class ApacheErrorFormat:
    name = "apache_error"

    def parse(self, line: str) -> ParsedLine | None:
        m = _APACHE_ERR.match(line)
        if not m:
            return None
        ts, module, level, msg = m.groups()
        parsed_ts = parse_timestamp(ts)
        if parsed_ts is None:
            return None
        return ParsedLine(message=msg, ts=parsed_ts, level=normalise_level(level), service=None,
                          fields={"module": module} if module else {})


class NginxErrorFormat:
    name = "nginx_error"

    def parse(self, line: str) -> ParsedLine | None:
        m = _NGINX_ERR.match(line)
        if not m:
            return None
        ts, level, pid, msg = m.groups()
        return ParsedLine(message=msg, ts=parse_timestamp(ts), level=normalise_level(level), fields={"pid": pid})


_GENERIC = re.compile(
    r"^\[?(\d{4}[-/]\d{2}[-/]\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)\]?"
    r"(?:\s*[-|]?\s*)"
    r"(?:\[?(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|SEVERE|PANIC)\]?\s*[-|:]?\s*)?"
    r"(?:\d+\s+)?"
    r"(?:\[([^\]]{1,80})\]\s*)?"
    r"(?:(?:\[?(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|SEVERE|PANIC)\]?)\s*[-|:]?\s*)?"
    r"(?:([\w$.\-]{1,120}):?\s+-\s+)?"
    r"(?:(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|SEVERE|PANIC)\s+-\s+)?"
    r"(.*)$",
    re.IGNORECASE,
)


class GenericFormat:
    """``<ISO timestamp> [LEVEL] [thread] [logger -] message`` and the Python logging default."""

    name = "generic"

    def parse(self, line: str) -> ParsedLine | None:
        m = _GENERIC.match(line)
        if not m:
            return None
        ts, lvl1, thread, lvl2, logger, lvl3, msg = m.groups()
        level = normalise_level(lvl1 or lvl2 or lvl3)
        fields: dict[str, Any] = {}
        if thread:
            fields["thread"] = thread
        if logger:
            fields["logger"] = logger
        return ParsedLine(message=msg, ts=parse_timestamp(ts), level=_level_from_text(msg, level), fields=fields)


_LEVELED = re.compile(
    r"^((?:(?=\S*\d)\S++\s+){1,4}?)(?:-\s+)?\[?(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|FATAL|CRITICAL|SEVERE)\]?"
    r"\s+(?:-\s+)?(?:\[([^\]]{1,200})\]\s+(?:-\s+)?)?(?:([\w$.\-]{1,150}):\s+)?(.*)$"
)


class LeveledFormat:
    """Classic Java/Hadoop-style lines: timestamp-ish tokens, a LEVEL word, [thread], logger:, message.

    ``081109 203615 148 INFO dfs.DataNode: ...``, ``17/06/09 20:10:40 INFO spark.SecurityManager: ...``.
    """

    name = "leveled"

    def parse(self, line: str) -> ParsedLine | None:
        m = _LEVELED.match(line)
        if not m:
            return None
        prefix, level, thread, logger, msg = m.groups()
        tokens = prefix.split()
        ts = parse_timestamp(" ".join(tokens[:2])) or parse_timestamp(tokens[0]) if tokens else None
        fields: dict[str, Any] = {}
        if thread:
            fields["thread"] = thread
        if logger:
            fields["logger"] = logger
        return ParsedLine(message=msg, ts=ts, level=normalise_level(level), fields=fields)


class PlainFormat:
    """Anything: the whole line is the message."""

    name = "plain"

    def parse(self, line: str) -> ParsedLine | None:
        return ParsedLine(message=line.strip(), level=_level_from_text(line, None))


_END = methodcaller("end")
_FIELD = re.compile(r"<([A-Za-z_]\w*)>")


def _first_literal(text: str) -> str | None:
    """The character a header literal starts with, when it is a plain one (else None)."""
    if not text:
        return None
    if text[0] == "\\" and len(text) > 1 and not text[1].isalnum():
        return text[1]
    if text[0] == " " or (not text[0].isalnum() and text[0] not in ".^$*+?{}[]\\|()"):
        return text[0]
    return None


def _blank_split_plan(spec: str) -> tuple[int, str] | None:
    """For a loghub header made only of blank-separated fields (``<A> <B> <C>: <Content>``): the number
    of fields before the message and the literal the last one ends with, so ``str.split`` can cut it."""
    if "(?P<" in spec:
        return None
    parts = _FIELD.split(spec)
    if len(parts) < 3 or parts[0] != "" or parts[-2] != "Content" or parts[-1] != "":
        return None
    literals = parts[2:-2:2]
    if any(lit.strip(" ") for lit in literals[:-1]) or not literals[-1].endswith(" "):
        return None
    suffix = literals[-1].rstrip(" ")
    if " " in suffix or any(ch in suffix for ch in "\\[]()?*+{}|^$."):
        return None
    return (len(parts) - 3) // 2, suffix


def header_regex(spec: str, *, fast: bool = False) -> re.Pattern[str]:
    """A compiled regex from a header spec: a regex with named groups, or loghub notation.

    ``fast`` reads a field that ends at a plain literal ``c`` as ``[^c]*`` instead of ``.*?``: the same
    split whenever it matches, without backtracking; callers fall back to the exact regex otherwise.
    """
    if "(?P<" in spec:
        try:
            return re.compile(spec)
        except re.error as e:
            raise InputError(f"header regex {spec!r} does not compile: {e}") from e
    parts = _FIELD.split(spec)
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(re.sub(r" +", r"\\s+", part))
        elif part == "Content":
            out.append(f"(?P<{part}>.*)")
        else:
            after = parts[i + 1] if i + 1 < len(parts) else ""
            stop = _first_literal(after) if fast else None
            if stop == " ":
                out.append(f"(?P<{part}>\\S*)")
            elif stop is not None:
                out.append(f"(?P<{part}>[^{re.escape(stop)}\\n]*)")
            else:
                out.append(f"(?P<{part}>.*?)")
    if "Content" not in parts[1::2]:
        raise InputError(f"header spec {spec!r} has no <Content> field: name the message part <Content>")
    try:
        return re.compile("^" + "".join(out) + "$")
    except re.error as e:
        raise InputError(f"header spec {spec!r} is not valid: {e}") from e


class HeaderFormat:
    """A user-configured header: ``Content`` (or ``message``) is the message, the rest become fields."""

    name = "header"

    def __init__(self, spec: str, *, parse_times: bool = True) -> None:
        self.spec = spec
        self.regex = header_regex(spec)
        self.fast_regex = header_regex(spec, fast=True)
        self.parse_times = parse_times
        # the header alone (when the message is the last field): the message is then line[end:]
        pattern = self.fast_regex.pattern
        self._head = (re.compile(re.sub(r"\(\?P<\w+>", "(?:", pattern[: -len("(?P<Content>.*)$")]))
                      if pattern.endswith("(?P<Content>.*)$") else None)
        self._split = _blank_split_plan(spec)
        self._content = "Content" if "(?P<Content>" in self.regex.pattern else (
            "message" if "(?P<message>" in self.regex.pattern else "msg")

    def content(self, line: str) -> str | None:
        """Only the message part (the fast path of template mining), or None when the header does not fit."""
        m = self.fast_regex.match(line) or self.regex.match(line)
        return m.group(self._content) if m else None

    def contents(self, lines: list[str]) -> list[str]:
        """The message part of each line (the whole line where the header does not fit), in one C-level pass."""
        if self._split is not None and lines:
            k, suffix = self._split
            parts = list(map(methodcaller("split", None, k), lines))
            if min(map(len, parts)) == k + 1 and (
                    not suffix or all(map(methodcaller("endswith", suffix), map(itemgetter(k - 1), parts)))):
                return list(map(itemgetter(k), parts))
        if self._head is not None:
            heads = list(map(self._head.match, lines))
            if None not in heads:
                starts = map(slice, map(_END, heads), repeat(None))
                return list(map(getitem, lines, starts))
        matches = list(map(self.fast_regex.match, lines))
        if None in matches:
            exact = self.regex.match
            out = []
            for m, line in zip(matches, lines, strict=True):
                m = m or exact(line)
                out.append(m.group(self._content) if m else line)
            return out
        return list(map(methodcaller("group", self._content), matches))

    @staticmethod
    def _time(groups: dict[str, str]) -> datetime | None:
        if "Date" in groups and "Time" in groups:
            ts = parse_timestamp(f"{groups['Date']} {groups['Time']}")
            if ts is not None:
                return ts
        for key in ("Timestamp", "timestamp", "ts", "time", "Time", "Date"):
            if key in groups:
                ts = parse_timestamp(groups[key])
                if ts is not None:
                    return ts
        return None

    def parse(self, line: str) -> ParsedLine | None:
        m = self.fast_regex.match(line) or self.regex.match(line)
        if not m:
            return None
        groups = {k: v for k, v in m.groupdict().items() if v is not None}
        msg = groups.pop("Content", None) or groups.pop("message", None) or groups.pop("msg", "")
        level = None
        for key in ("Level", "level", "Severity", "severity"):
            if key in groups:
                level = normalise_level(groups[key])
                break
        ts = self._time(groups) if self.parse_times else None
        service = groups.get("service") or groups.get("Service")
        return ParsedLine(message=msg, ts=ts, level=_level_from_text(msg, level), service=service, fields=groups)


_ERRORISH = re.compile(
    r"\b(?:error|exception|fatal|panic|fail(?:ed|ure|s)?|refused|denied|timed? ?out|unreachable|"
    r"traceback|critical|killed|oom|cannot|unable|expired|exhausted|abort(?:ed)?)\b",
    re.IGNORECASE,
)
_WARNISH = re.compile(r"\b(?:warn(?:ing)?|retry(?:ing)?|slow|deprecated|degraded)\b", re.IGNORECASE)


def _level_from_text(message: str, level: str | None) -> str | None:
    """Keep a stated level; guess one from the words only when none was stated."""
    if level is not None:
        return level
    head = message[:500]
    if _ERRORISH.search(head):
        return "error"
    if _WARNISH.search(head):
        return "warning"
    return None


BUILTIN_FORMATS: tuple[LineFormat, ...] = (
    JsonFormat(), Syslog5424Format(), KlogFormat(), AccessLogFormat(), NginxErrorFormat(), ApacheErrorFormat(),
    Syslog3164Format(), GenericFormat(), LeveledFormat(), LogfmtFormat(),
)
FORMATS_BY_NAME: dict[str, LineFormat] = {f.name: f for f in (*BUILTIN_FORMATS, PlainFormat())}


def format_named(name: str) -> LineFormat:
    try:
        return FORMATS_BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(FORMATS_BY_NAME))
        raise InputError(f"unknown log format {name!r}; use one of: {known} (or --header SPEC)") from None
