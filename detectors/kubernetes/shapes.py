"""Cut pasted kubectl output where one output ends and the next begins, from the shape of the text alone.

A responder often pastes ``kubectl describe pod`` + ``kubectl get events`` + ``kubectl logs`` into one file
without the ``$ kubectl ...`` lines that introduced them. Each output has a recognisable start, and most a
recognisable body, so the text is cut:

- at a start whose shape differs from the current part's: a describe block (``Name:`` at the left margin
  followed by another describe field), an events table header (``LAST SEEN  TYPE  REASON  OBJECT  MESSAGE``,
  ``NAMESPACE  LAST SEEN ...``, or after a blank line its rows alone when a filter left the header out), a
  ``kubectl get``/``top`` table header (``NAME  READY  STATUS ...``), a rollout
  history (``deployment.apps/x`` over ``REVISION  CHANGE-CAUSE``), a ``-o yaml`` object (``apiVersion:`` at the
  left margin; a second one without ``---`` starts a new object too) or a ``-o json`` object (a lone ``{`` whose
  next lines name ``"apiVersion"``/``"kind"``/``"items"``);
- where a part's body ends: a describe after its ``Events:`` section (always the last) at the next line at the
  left margin, or earlier at a line that starts like a log line (a timestamp, a level, a JSON log object); a
  table at a line that is not one of its rows (after a blank line, or a log-like line out of the header's
  columns, or a line without column gaps); a YAML object at a left-margin line that is no YAML; a JSON object
  after its closing brace.

What follows a body's end without another start is text (container logs). Same-shape starts do not cut
(``kubectl get pods,svc`` prints several tables; ``kubectl describe pods`` several blocks), so one output stays one
part. The shape of each part is returned with it, so the caller knows what each part is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from detectors.kubernetes.events_table import OBJECT_ROW, is_events_header
from detectors.kubernetes.tables import is_table_header

DESCRIBE, EVENTS, TABLE, ROLLOUT, STATUS, YAML, JSON, TEXT = ("describe", "events", "table", "rollout", "status", "yaml",
                                                              "json", "text")

_ROLLOUT_HEADER = re.compile(r"^REVISION\s+CHANGE-CAUSE\s*$")
_ROLLOUT_OBJECT = re.compile(r"^(?:deployment|daemonset|statefulset)[\w.]*/[\w.-]+\s*$", re.I)
_DESCRIBE_NAME = re.compile(r"^Name:\s+\S")
_DESCRIBE_FIELD = re.compile(r"^[A-Z][\w ()./-]*?:(?:\s|$)")
_DESCRIBE_EVENTS = re.compile(r"^\s*Type\s+Reason\s+Age\s+From\s+Message\s*$")  # a describe's Events table
# kubectl rollout status: its progress lines, its success line and its give-up line
_ROLLOUT_STATUS = re.compile(r"^(?:Waiting for (?:deployment|daemon set|statefulset|partitioned roll out)\b"
                             r"|(?:deployment|daemon set|statefulset|partitioned roll out) \"[\w.-]+\" successfully rolled"
                             r"|error: (?:deployment|daemonset|statefulset)s?(?:\.apps)?[ /]\"?[\w.-]+\"? exceeded)")
_YAML_START = re.compile(r"^apiVersion:\s*\S")
_YAML_LINE = re.compile(r"""^(?:[\w.\-/"']+\s*:(?:\s|$)|-(?:\s|$)|---|\.\.\.|#)""")
_JSON_KEY = re.compile(r'^\s+"(?:apiVersion|kind|items|metadata)"\s*:')
# how log lines start: an ISO/RFC 3339 or slashed date, a bracketed time, klog (I0312 10:00:00), syslog
# (Mar 12 10:00:00), a JSON log object, logfmt, a bare level, an access log's client address
_LOG_START = re.compile(
    r"^(?:\d{4}[-/]\d{2}[-/]\d{2}[T ]\d|\[\d{4}-\d{2}|\[?\d{2}:\d{2}:\d{2}|[IWEF]\d{4} \d{2}:\d{2}"
    r"|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}|\{\s*\"|(?:level|ts|time|t|msg)=|(?:INFO|WARN|WARNING|ERROR|DEBUG|FATAL"
    r"|TRACE|CRITICAL)\b|\d{1,3}(?:\.\d{1,3}){3} - )"
)
_LOOKAHEAD = 4  # lines a start may look ahead to confirm itself


@dataclass
class Part:
    shape: str
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def split_shapes(text: str) -> list[tuple[str, str]]:
    """(shape, text) parts of ``text`` in order; blank-only parts are dropped."""
    lines = text.split("\n")
    parts: list[Part] = [Part("", [])]
    state = _State()
    for i, line in enumerate(lines):
        current = parts[-1]
        start = start_shape(lines, i)
        if start and _cuts(current, start, line, state):
            parts.append(Part(start, [line]))
            state = _State()
        elif start != current.shape and current.shape not in ("", TEXT) and _ends(current, line, state):
            parts.append(Part(start or TEXT, [line]))
            state = _State()
        else:
            if not current.shape and line.strip():
                current.shape = start or TEXT
            current.lines.append(line)
        state.see(parts[-1], line)
    return [(p.shape, p.text) for p in parts if any(line.strip() for line in p.lines)]


def start_shape(lines: list[str], i: int) -> str:
    """The output that begins at line ``i`` ("" when none does)."""
    line = lines[i].rstrip()
    if not line or line[0].isspace():
        return ""
    ahead = [nxt for nxt in lines[i + 1:i + 1 + _LOOKAHEAD] if nxt.strip()]
    if _DESCRIBE_NAME.match(line) and ahead and _DESCRIBE_FIELD.match(ahead[0]):
        return DESCRIBE
    if _nameless_deployment(lines, i):
        return DESCRIBE
    if is_events_header(line) or (line.startswith("Events:") and ahead and _DESCRIBE_EVENTS.match(ahead[0])):
        return EVENTS  # a get-events table, or a describe's Events section pasted alone
    if _bare_event_rows(lines, i, ahead):
        return EVENTS  # a get-events table whose header a filter (``| grep``) left out
    if _ROLLOUT_STATUS.match(line):
        return STATUS
    if is_table_header(line):
        return TABLE
    if _ROLLOUT_HEADER.match(line) or (_ROLLOUT_OBJECT.match(line) and ahead
                                       and _ROLLOUT_HEADER.match(ahead[0].rstrip())):
        return ROLLOUT
    if _YAML_START.match(line) or _container_status(lines, i):
        return YAML
    if line == "{" and any(_JSON_KEY.match(nxt) for nxt in ahead):
        return JSON
    return ""


_PADDED_FIELD = re.compile(r"^[A-Z][\w ()./-]*?:(?:\s{2,}\S|\s*$)")  # kubectl aligns a describe's values
_DEPLOYMENT_FIELD = re.compile(r"^(?:NewReplicaSet|OldReplicaSets):\s{2,}(?:<none>|[a-z0-9][a-z0-9.-]*\s+\(\d+/\d+ "
                               r"replicas created\))")
_FRAGMENT_REACH = 40


def _nameless_deployment(lines: list[str], i: int) -> bool:
    """A ``kubectl describe deployment`` whose ``Name:`` line a filter cut (``| sed -n '/^Replicas/,$p'``) begins
    at line ``i``: a first aligned field after a line that is none, with the describe's own ``NewReplicaSet:`` or
    ``OldReplicaSets:`` field among the fields and indented lines that follow."""
    if not _PADDED_FIELD.match(lines[i]) or _DESCRIBE_NAME.match(lines[i]):
        return False
    if i > 0 and lines[i - 1].strip() and (lines[i - 1][0].isspace() or _PADDED_FIELD.match(lines[i - 1])):
        return False
    for line in lines[i:i + _FRAGMENT_REACH]:
        if _DEPLOYMENT_FIELD.match(line):
            return True
        if not line.strip() or not (line[0].isspace() or _PADDED_FIELD.match(line)):
            return False
    return False


_STATUS_KEY = re.compile(r"^(?P<key>containerID|image|imageID|lastState|name|ready|restartCount|started|state):")


def _container_status(lines: list[str], i: int) -> bool:
    """One container's status printed as YAML by a filter (``-o yaml | yq '.status.containerStatuses[0]'``) begins
    at line ``i``, after a blank line or the text's start: its keys at the left margin, ``restartCount`` and a
    ``state`` or ``lastState`` among them."""
    if (i > 0 and lines[i - 1].strip()) or not _STATUS_KEY.match(lines[i]):
        return False
    keys = set()
    for line in lines[i:i + 30]:
        if not line.strip() or not (line[0].isspace() or _YAML_LINE.match(line)):
            break
        key = _STATUS_KEY.match(line)
        if key:
            keys.add(key.group("key"))
    return "restartCount" in keys and bool(keys & {"state", "lastState"})


def _bare_event_rows(lines: list[str], i: int, ahead: list[str]) -> bool:
    """Event rows without their header (``NAMESPACE  LAST SEEN  TYPE  REASON  OBJECT  MESSAGE`` filtered away):
    a row naming its type, reason and ``kind/name`` object at the left margin, after a blank line (or at the
    text's start), whose next line, if any, is a row too."""
    if i > 0 and lines[i - 1].strip():
        return False
    if not OBJECT_ROW.match(lines[i]) or (ahead and not OBJECT_ROW.match(ahead[0])):
        return False
    return not _LOG_START.match(lines[i])


def _cuts(current: Part, start: str, line: str, state: _State) -> bool:
    if not any(line.strip() for line in current.lines):
        return False  # nothing before: the part simply begins here
    if current.shape == DESCRIBE and start == EVENTS and line.startswith("Events:") and not state.events_seen:
        return False  # the describe's own Events section
    if start != current.shape:
        return not (current.shape == ROLLOUT and start == ROLLOUT)
    if start == YAML and not _YAML_START.match(line):
        return False  # a key of a container status inside a YAML object
    if start == YAML:  # a second object pasted without a ``---`` between them
        before = next((line for line in reversed(current.lines) if line.strip()), "")
        return before.strip() != "---"
    return start == JSON


@dataclass
class _State:
    """What a part's body has shown so far (to tell where it ends)."""

    blank: bool = False  # the previous line was blank
    events_seen: bool = False  # a describe reached its Events section (its last)
    header: str = ""  # the table's latest header line
    closed: bool = False  # a JSON object's closing brace was seen

    def see(self, part: Part, line: str) -> None:
        if part.shape == DESCRIBE and line.startswith(("Events:", "Name:")):
            self.events_seen = line.startswith("Events:")  # a next block's Name: starts its fields again
        if part.shape in (TABLE, EVENTS, ROLLOUT) and (is_table_header(line) or is_events_header(line)
                                                      or _DESCRIBE_EVENTS.match(line)
                                                      or _ROLLOUT_HEADER.match(line.rstrip())):
            self.header = line
        if part.shape == JSON and line.rstrip() in ("}", "]"):
            self.closed = True
        self.blank = not line.strip()


def _ends(part: Part, line: str, state: _State) -> bool:
    """Whether ``line`` can no longer belong to ``part``'s output."""
    if not line.strip():
        return False
    at_margin = not line[0].isspace()
    if part.shape == DESCRIBE:
        if at_margin and state.events_seen and not _DESCRIBE_NAME.match(line):
            return True
        return at_margin and bool(_LOG_START.match(line))
    if part.shape in (TABLE, EVENTS):
        return not _is_row(line, state)
    if part.shape == STATUS:
        return not _ROLLOUT_STATUS.match(line)
    if part.shape == ROLLOUT:
        return state.blank and at_margin
    if part.shape == YAML:
        return at_margin and not _YAML_LINE.match(line)
    if part.shape == JSON:
        return state.closed
    return False


def _is_row(line: str, state: _State) -> bool:
    if state.blank:
        return False  # kubectl prints no blank line inside a table (a new header after one starts a new start)
    if state.header[:1].isspace() and not line[0].isspace():
        return False  # a describe's Events rows are indented like their header
    aligned = _aligned(line, state.header)
    if _LOG_START.match(line) and not aligned:
        return False
    columns = len(re.findall(r"\S+(?: \S+)*", state.header))
    return columns <= 1 or aligned or bool(re.search(r"\S\s{2,}\S", line))


def _aligned(line: str, header: str) -> bool:
    """Every header column that the line reaches starts a cell of the line (one miss allowed)."""
    starts = [m.start() for m in re.finditer(r"\S+(?: \S+)*", header)][1:]
    misses = sum(1 for s in starts if s < len(line) and not (line[s - 1] == " " and line[s] != " "))
    return bool(starts) and misses <= 1
