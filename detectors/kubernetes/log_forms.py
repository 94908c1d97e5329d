"""Cut log text pasted without its ``kubectl logs`` lines where the line format changes, and say whose each piece is.

Responders paste the logs of several containers (and a one-line ``Error from server ...``) one after another
without the commands that named them. Each program writes its own line format, so a change of format that lasts
(two lines in a row of the new format, or the text's last line) is where one paste ends and the next begins.
Lines of no format (a stack trace's ``at ...``, a blank line, a wrapped message) stay with the piece they follow.

Whose a piece is comes from what it says (``owner``): a database's own log format is the one database workload's
the other outputs name; an API server's error (``Error from server``) is about the one Service it says it called;
lines that name their pod, container or app in a field (``pod=x``, ``"app":"x"``) are
that one workload's; else nobody's (the caller decides, as for any log that names no pod).
"""

from __future__ import annotations

import re

# (form, line pattern), first match wins: the most specific formats first. A form in DATABASE_FORMS is a
# database server's own log prefix.
FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("kubectl-error", re.compile(r"^(?:Error from server\b|error: )")),
    # PostgreSQL's log_line_prefix '%m [%p] ' (and '%t [%p]', with optional user@db): a severity after the pid
    ("postgres", re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? [A-Z]{2,5} \[\d+\](?:\s+\S+)?\s+"
                            r"(?:LOG|ERROR|FATAL|PANIC|WARNING|NOTICE|INFO|DETAIL|HINT|STATEMENT|CONTEXT|DEBUG\d?):")),
    # MySQL 8: 2024-05-01T10:00:00.123456Z 12 [Warning] [MY-010055] ...
    ("mysql", re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z \d+ \[(?:Note|Warning|ERROR|System)\]")),
    # Redis: 1:M 01 May 2024 10:00:00.123 * ...
    ("redis", re.compile(r"^\d+:[MCSX] \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}")),
    ("klog", re.compile(r"^[IWEF]\d{4} \d{2}:\d{2}:\d{2}")),
    ("json", re.compile(r"^\s*\{\s*\"")),
    ("logfmt", re.compile(r"^(?=.*\b(?:level|lvl|ts|time|msg)=)(?:[\w.-]+=(?:\"[^\"]*\"|\S*)\s*){2,}")),
    ("stamped", re.compile(r"^(?:\[?\d{4}[-/]\d{2}[-/]\d{2}[T ]\d|\[?\d{2}:\d{2}:\d{2}|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2})")),
    # configuration (YAML, properties) printed by a get/exec: a lower-case key, a colon, a short value or none
    ("config", re.compile(r"^\s*[a-z][\w-]*:(?:\s+[^\s:][^:]{0,80})?\s*$")),
)
# database log form -> the words a workload running that server is named with (``orders-pg``, ``cart-mysql``);
# ``db`` names a database of any engine
DATABASE_FORMS: dict[str, tuple[str, ...]] = {
    "postgres": ("pg", "postgres", "postgresql", "psql", "db"),
    "mysql": ("mysql", "mariadb", "db"),
    "redis": ("redis",),
}
_NAMED = re.compile(r"""\b(?:pod|pod_name|podName|container|container_name|app|application|service|service_name)"""
                    r"""["']?\s*[=:]\s*["']?(?P<name>[a-z0-9][a-z0-9.-]*[a-z0-9])""")
# an in-cluster Service's host (``https://x-webhook.ns.svc:443/...``): what an API server's error says it called
_SERVICE_HOST = re.compile(r"\b(?P<name>[a-z0-9][a-z0-9-]*)\.[a-z0-9][a-z0-9-]*\.svc\b")
_ONE_LINE = frozenset({"kubectl-error"})  # forms one line long: they cut, and are cut, at once


def form_of(line: str) -> str:
    """The format a line is in ("" when it is in none: a continuation, a blank line)."""
    if not line.strip() or len(line) > 4000:
        return ""
    for form, pattern in FORMS:
        if pattern.match(line):
            return form
    return ""


def split_forms(lines: list[str]) -> list[tuple[str, list[str]]]:
    """(form, lines) pieces of log text, cut where the format changes and the new one lasts; one piece when it
    never does. A piece's form is the format of its first formatted line."""
    forms = [form_of(line) for line in lines]
    marked = [i for i, f in enumerate(forms) if f]
    pieces: list[tuple[str, list[str]]] = []
    current, start = "", 0
    for k, i in enumerate(marked):
        form = forms[i]
        if not current:
            current = form
            continue
        if form == current:
            continue
        following = forms[marked[k + 1]] if k + 1 < len(marked) else None
        lasts = following is None or following == form or form in _ONE_LINE or current in _ONE_LINE
        if lasts:
            pieces.append((current, lines[start:i]))
            current, start = form, i
    pieces.append((current, lines[start:]))
    return [(f, body) for f, body in pieces if any(line.strip() for line in body)]


def runs_database(workload: str, form: str) -> bool:
    """Whether a workload's name says it runs the database server whose log ``form`` is."""
    words = re.split(r"[-_.\d]+", workload.lower())
    return any(word in DATABASE_FORMS.get(form, ()) for word in words)


def owner(form: str, lines: list[str], workloads: list[str], pod_workload: dict[str, str],
          others: tuple[str, ...] | list[str] = ()) -> str:
    """The workload a piece of log text without its command is from ("" when its content does not say):
    a database's log format -> the one workload among ``workloads`` (those the kubectl outputs show), else among
    ``others`` (the incident's services), named for that database; a kubectl ``Error from server`` -> the one
    known workload whose in-cluster Service host it names (the API server called it and says how that failed);
    lines naming their pod, container or app in a field -> that one workload (a known pod's, or a listed
    workload's name)."""
    if form in DATABASE_FORMS:
        for names in (workloads, others):
            databases = sorted({w for w in names if runs_database(w, form)})
            if len(databases) == 1:
                return databases[0]
            if databases:
                break  # several: which one is unsaid
    if form == "kubectl-error":  # the API server's account of a call it made: about the one Service it names
        called = {m.group("name") for line in lines for m in _SERVICE_HOST.finditer(line)}
        called &= {*workloads, *others}
        return called.pop() if len(called) == 1 else ""
    named: set[str] = set()
    for line in lines[:500]:
        for match in _NAMED.finditer(line):
            name = match.group("name")
            if name in pod_workload:
                named.add(pod_workload[name])
            elif name in workloads:
                named.add(name)
    return named.pop() if len(named) == 1 else ""
