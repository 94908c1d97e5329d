"""Service names from alerts (webhook labels) in the queries sent to log sources, and dead sources.

The stand-ins play each vendor's documented HTTP API and read the query the way the vendor's query
language does (LogQL stream selectors with Go string literals, SPL ``search`` terms with quotes and
``OR``, Elasticsearch ``term`` filters, Kubernetes label selectors), so a query that an injected name
rewrote selects what the vendor would select. Sources are built from settings (``build_log_sources``)
and asked through ``fetch_incident_logs``, as the pipeline does.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from config.settings import load_settings
from connectors.logsources.registry import build_log_sources, fetch_incident_logs
from tests.connectors.logsources.standin import Reply, Request, serve

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

ODD_NAMES = [
    "checkout",
    'it\'s "quoted"',
    "back\\slash",
    "new\nline",
    'c:\\"d"\\',
    "tab\there\x01\x7f",
    "a.b",  # as a regex it would match aXb too
    "aXb",
    "pipe | head 1",
]
INJECTIONS = [
    'x"} or {app=~".+',
    'checkout", app=~".+',
    ".+",
    ".*",
    "checkout|a.b",
    "*",
    'x" OR service="*',
    "x OR service=*",
    "checkout | eval x=1",
]


def _settings(tmp_path: Path, **logs: Any) -> Any:
    return load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"},
                         logs={"window_minutes": 30, "after_minutes": 5, **logs})


async def _fetch(settings: Any, services: list[str], **clients: Any) -> tuple[dict[str, list[str]], list[str]]:
    async with httpx.AsyncClient() as http:
        sources = build_log_sources(settings, http=http, **clients)
        return await fetch_incident_logs(sources, services=services, alert_time=T0, settings=settings.logs)


def _line(service: str) -> str:
    return f"ERROR from {service!r}"


# ---- Loki ------------------------------------------------------------------------------------

_GO_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"'}


def _go_string(text: str, i: int) -> tuple[str, int]:
    """A Go-quoted string at text[i] (LogQL's strings): (value, index after it); ValueError when malformed."""
    quote = text[i]
    if quote == "`":
        end = text.index("`", i + 1)
        return text[i + 1:end], end + 1
    if quote != '"':
        raise ValueError(f"expected a string at {i}")
    out: list[str] = []
    j = i + 1
    while True:
        if j >= len(text) or text[j] == "\n":
            raise ValueError("literal not terminated")
        ch = text[j]
        if ch == '"':
            return "".join(out), j + 1
        if ch != "\\":
            out.append(ch)
            j += 1
            continue
        nxt = text[j + 1]
        if nxt in _GO_ESCAPES:
            out.append(_GO_ESCAPES[nxt])
            j += 2
        elif nxt in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[nxt]
            out.append(chr(int(text[j + 2:j + 2 + width], 16)))
            j += 2 + width
        elif nxt in "01234567":
            out.append(chr(int(text[j + 1:j + 4], 8)))
            j += 4
        else:
            raise ValueError(f"unknown escape sequence \\{nxt}")


def logql_matchers(query: str) -> list[tuple[str, str, str]]:
    """The matchers of a LogQL stream selector ``{label op "value", ...}``; nothing may follow it."""
    m = re.match(r"\s*\{", query)
    if not m:
        raise ValueError("a selector starts with {")
    i, out = m.end(), []
    while True:
        m = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*").match(query, i)
        if not m:
            raise ValueError(f"syntax error at {i}")
        value, i = _go_string(query, m.end())
        out.append((m.group(1), m.group(2), value))
        sep = re.compile(r"\s*([,}])").match(query, i)
        if not sep:
            raise ValueError(f"syntax error at {i}")
        i = sep.end()
        if sep.group(1) == "}":
            break
    if query[i:].strip():
        raise ValueError(f"unexpected {query[i:]!r} after the selector")
    return out


def _matches(labels: dict[str, str], matchers: list[tuple[str, str, str]]) -> bool:
    for label, op, value in matchers:
        have = labels.get(label, "")
        if op in ("=", "!="):
            ok = (have == value) == (op == "=")
        else:  # Loki anchors label regexes (RE2; Python's re agrees on the escapes used here)
            ok = (re.fullmatch(value, have, re.S) is not None) == (op == "=~")
        if not ok:
            return False
    return True


def loki_standin(services: list[str]) -> Any:
    """query_range over one stream per service (label app), one line each, 10 minutes before T0."""
    ts = str(int((T0 - timedelta(minutes=10)).timestamp() * 1e9))

    def handle(req: Request) -> Reply:
        assert req.path == "/loki/api/v1/query_range"
        try:
            matchers = logql_matchers(req.query["query"][0])
        except ValueError as e:
            return Reply(400, f"parse error : {e}")
        result = [{"stream": {"app": s, "job": "shop"}, "values": [[ts, _line(s)]]} for s in services
                  if _matches({"app": s, "job": "shop"}, matchers)]
        return Reply(body={"status": "success", "data": {"resultType": "streams", "result": result}})

    return handle


@pytest.mark.parametrize("selector", ["{app={service}}", "{app=~{service}}", "{job=`shop`, app={service}}"])
async def test_loki_reads_exactly_each_odd_service_names_own_lines(tmp_path: Path, selector: str) -> None:
    streams = ODD_NAMES + ["payments"]
    with serve(loki_standin(streams)) as (url, seen):
        logs, notes = await _fetch(_settings(tmp_path, loki_url=url, loki_selector=selector), ODD_NAMES)
    assert notes == []
    assert {s: [line.split(" ", 1)[1] for line in lines] for s, lines in logs.items()} == {
        s: [_line(s)] for s in ODD_NAMES}
    sent = {req.query["query"][0] for req in seen}
    assert len(sent) == len(ODD_NAMES)


async def test_loki_injected_names_read_no_lines(tmp_path: Path) -> None:
    streams = ["checkout", "a.b", "payments", "x"]
    for selector in ("{app={service}}", "{app=~{service}}"):
        with serve(loki_standin(streams)) as (url, seen):
            logs, notes = await _fetch(_settings(tmp_path, loki_url=url, loki_selector=selector), INJECTIONS)
        assert logs == {} and notes == [], (selector, logs, notes)  # queries ran and matched nothing
        assert len(seen) == len(INJECTIONS)
    # what Loki received (services are queried concurrently, so match by content, not arrival order)
    sent = [req.query["query"] for req in seen]
    assert ['{app=~"\\\\.\\\\+"}'] in sent and ['{app=~"\\\\.\\\\*"}'] in sent, sent


def test_loki_selector_as_sent_for_a_newline_and_a_regex_matcher() -> None:
    from connectors.loki.logs import render_selector

    assert render_selector("{app={service}}", 'a"b\nc\\') == '{app="a\\"b\\nc\\\\"}'
    assert render_selector("{app=~{service}} |~ {service}", "a.b") == '{app=~"a\\\\.b"} |~ "a\\\\.b"'
    assert render_selector("{app={service}}", "\x01") == '{app="\\x01"}'


# ---- Splunk ----------------------------------------------------------------------------------

def spl_commands(search: str) -> list[str]:
    """The commands of an SPL search: split at pipes outside double quotes (backslash escapes inside)."""
    out, current, quoted, i = [], [], False, 0
    while i < len(search):
        ch = search[i]
        if ch == "\\" and i + 1 < len(search):
            current.append(search[i:i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        if ch == "|" and not quoted:
            out.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    if quoted:
        raise ValueError("unbalanced quotes")
    out.append("".join(current).strip())
    return out


def spl_terms(command: str) -> list[list[tuple[str, str]]]:
    """``search`` terms as OR-groups of (field, value) pairs, the groups AND-ed (values unquoted)."""
    tokens = re.findall(r'([A-Za-z_.]+)=("(?:[^"\\]|\\.)*"|[^\s"]+)|(\bOR\b)|(\S+)', command.removeprefix("search"),
                        re.S)
    groups: list[list[tuple[str, str]]] = []
    join = False
    for field, value, or_word, bare in tokens:
        if or_word:
            join = True
            continue
        if bare:
            raise ValueError(f"a bare term {bare!r} (the stand-in only reads field=value)")
        if value.startswith('"'):
            value = re.sub(r'\\([\\"|])', r"\1", value[1:-1])
        if join and groups:
            groups[-1].append((field, value))
        else:
            groups.append([(field, value)])
        join = False
    return groups


def _spl_value_matches(pattern: str, value: str) -> bool:
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))  # * is a wildcard; case-insensitive
    return re.fullmatch(regex, value, re.S | re.I) is not None


def splunk_standin(services: list[str]) -> Any:
    """search/jobs/export over one event per service (fields index, service); only `search` and `head`."""

    def handle(req: Request) -> Reply:
        assert req.method == "POST" and req.path == "/services/search/jobs/export"
        form = {k: v[0] for k, v in req.form().items()}
        try:
            commands = spl_commands(form["search"])
            if not commands[0].startswith("search ") or any(not c.startswith("head ") for c in commands[1:]):
                return Reply(400, f"unexpected commands {commands!r}")
            groups = spl_terms(commands[0])
        except ValueError as e:
            return Reply(400, str(e))
        rows = []
        for s in services:
            event = {"index": "main", "service": s}
            if all(any(_spl_value_matches(v, event.get(f, "")) for f, v in group) for group in groups):
                rows.append({"preview": False, "result": {"_raw": _line(s), "_time": "2024-05-01T11:50:00.000+00:00"}})
        return Reply(body="".join(json.dumps(r) + "\n" for r in rows))

    return handle


async def test_splunk_reads_exactly_each_odd_service_names_own_events(tmp_path: Path) -> None:
    with serve(splunk_standin(ODD_NAMES + ["payments"])) as (url, seen):
        logs, notes = await _fetch(_settings(tmp_path, splunk_url=url), ODD_NAMES)
    assert notes == []
    assert {s: [line.split(" ", 1)[1] for line in lines] for s, lines in logs.items()} == {
        s: [_line(s)] for s in ODD_NAMES}
    searches = sorted(r.form()["search"][0] for r in seen)
    assert 'search index=* service="pipe | head 1" | head 200000' in searches
    assert 'search index=* service="c:\\\\\\"d\\"\\\\" | head 200000' in searches


async def test_splunk_injected_names_read_no_events_and_a_wildcard_is_a_note(tmp_path: Path) -> None:
    with serve(splunk_standin(["checkout", "x", "payments"])) as (url, seen):
        logs, notes = await _fetch(_settings(tmp_path, splunk_url=url), INJECTIONS)
    assert logs == {}
    wildcard = [s for s in INJECTIONS if "*" in s]
    assert len(seen) == len(INJECTIONS) - len(wildcard)  # names holding * are never sent
    assert all("head 200000" in r.form()["search"][0] for r in seen)
    assert notes == ["splunk: logs of " + ", ".join(map(repr, wildcard)) + ": the service name holds '*', a wildcard "
                     "in Splunk search that cannot be escaped; not queried (logs.splunk_search)"]


# ---- Elasticsearch ---------------------------------------------------------------------------

def es_standin(services: list[str]) -> Any:
    def handle(req: Request) -> Reply:
        assert req.path == "/logs-*/_search"
        body = req.json()
        filters = body["query"]["bool"]["filter"]
        assert "query_string" not in json.dumps(body)
        wanted = filters[0]["term"]["service.name"]
        hits = [{"_index": "logs-a", "_id": s, "_source": {"@timestamp": "2024-05-01T11:50:00Z",
                                                           "service": {"name": s}, "message": _line(s)},
                 "sort": ["2024-05-01T11:50:00Z", n]} for n, s in enumerate(services) if s == wanted]
        return Reply(body={"took": 1, "timed_out": False, "hits": {"hits": hits}},
                     headers={"X-Elastic-Product": "Elasticsearch"})

    return handle


async def test_elasticsearch_term_filter_holds_the_exact_name(tmp_path: Path) -> None:
    names = ODD_NAMES + INJECTIONS
    with serve(es_standin(ODD_NAMES)) as (url, seen):
        logs, notes = await _fetch(_settings(tmp_path, elasticsearch_url=url), names)
    assert notes == []
    assert {s: [json.loads(line)["msg"] for line in lines] for s, lines in logs.items()} == {
        s: [_line(s)] for s in ODD_NAMES}
    assert sorted(r.json()["query"]["bool"]["filter"][0]["term"]["service.name"] for r in seen) == sorted(names)


# ---- Kubernetes ------------------------------------------------------------------------------

def _k8s_api(url: str) -> Any:
    from kubernetes import client

    cfg = client.Configuration()
    cfg.host = url
    return client.CoreV1Api(client.ApiClient(cfg))


def k8s_standin(req: Request) -> Reply:
    if req.path == "/api/v1/namespaces/default/pods":
        return Reply(body={"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": []})
    return Reply(404, {"kind": "Status", "status": "Failure", "code": 404})


INVALID_LABEL_VALUES = ["a,b", "checkout,app!=x", "x in (a,b)", "a b", "-a", "a-", "a" * 64, "a=b", "a\nb", "é",
                        "checkout)"]


async def test_kubernetes_only_valid_label_values_reach_the_selector(tmp_path: Path) -> None:
    valid = ["checkout", "checkout-v2.1_a", "a", "a" * 63]
    with serve(k8s_standin) as (url, seen):
        logs, notes = await _fetch(_settings(tmp_path, kubernetes_enabled=False), valid + INVALID_LABEL_VALUES,
                                   kubernetes_api=_k8s_api(url))
    assert logs == {}
    assert sorted(r.query["labelSelector"][0] for r in seen) == sorted(f"app={v}" for v in valid)
    (note,) = notes  # one note for the source, naming every refused service
    assert note.startswith("kubernetes: logs of " + ", ".join(repr(v[:80]) for v in INVALID_LABEL_VALUES) + ": ")
    assert "not a valid Kubernetes label value" in note and "logs.kubernetes_selector" in note


async def test_kubernetes_invalid_name_makes_no_api_call(tmp_path: Path) -> None:
    with serve(k8s_standin) as (url, seen):
        logs, notes = await _fetch(_settings(tmp_path), ["a,b"], kubernetes_api=_k8s_api(url))
    assert seen == [] and logs == {}
    assert notes == ["kubernetes: logs of 'a,b': the service name is not a valid Kubernetes label value (at most 63 "
                     "characters, [A-Za-z0-9] at both ends, [-_.A-Za-z0-9] between); pods not listed "
                     "(logs.kubernetes_selector)"]


# ---- files -----------------------------------------------------------------------------------

async def test_files_read_only_the_services_own_file(tmp_path: Path) -> None:
    logs_dir = tmp_path / "logs"
    logs_dir.mkdir()
    (tmp_path / "secret.log").write_text("2024-05-01T11:50:00Z secret outside log_dir\n")
    (logs_dir / "checkout.log").write_text("2024-05-01T11:50:00Z checkout line\n")
    odd = 'it\'s "quoted"\nnew line\\'
    (logs_dir / f"{odd}.log").write_text("2024-05-01T11:50:00Z odd line\n")
    logs, notes = await _fetch(_settings(tmp_path, log_dir=str(logs_dir)),
                               ["checkout", odd, "../secret", "x/../checkout", "..", "missing"])
    assert logs == {"checkout": ["2024-05-01T11:50:00Z checkout line"], odd: ["2024-05-01T11:50:00Z odd line"]}
    (note,) = notes
    assert note.startswith("files: logs of '../secret', 'x/../checkout', '..': ") and "not a plain file name" in note


# ---- dead sources ----------------------------------------------------------------------------

@contextmanager
def counting_listener(mode: str) -> Iterator[tuple[str, list[int]]]:
    """A port that refuses (closed), or accepts and closes each connection ('drop'); counts accepts."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    accepted = [0]
    if mode == "closed":
        sock.close()
        yield f"http://127.0.0.1:{port}", accepted
        return
    sock.listen(16)
    stop = threading.Event()

    def run() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            accepted[0] += 1
            conn.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", accepted
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


SERVICES = ["checkout", "orders-db", "frontend"]


@pytest.mark.parametrize("source", ["loki", "splunk", "elasticsearch"])
@pytest.mark.parametrize("mode", ["closed", "drop"])
async def test_a_dead_source_is_one_note_and_one_connection(tmp_path: Path, source: str, mode: str) -> None:
    with counting_listener(mode) as (url, accepted):
        settings = _settings(tmp_path, **{f"{source}_url": url.replace("http://", "http://user:pw@")})
        logs, notes = await _fetch(settings, SERVICES)
    assert logs == {}
    (note,) = notes
    assert note.startswith(f"{source}: ") and f"check logs.{source}_url" in note
    assert note.endswith("; 2 more services not queried") and "pw" not in note
    assert accepted[0] == (1 if mode == "drop" else 0)  # one connection, not one per service


@pytest.mark.parametrize("status", [401, 503])
@pytest.mark.parametrize("source", ["loki", "splunk", "elasticsearch"])
async def test_a_refusing_or_unavailable_source_gets_one_request(tmp_path: Path, source: str, status: int) -> None:
    def handle(req: Request) -> Reply:
        return Reply(status, {"error": "unavailable"}, headers={"X-Elastic-Product": "Elasticsearch"})

    with serve(handle) as (url, seen):
        logs, notes = await _fetch(_settings(tmp_path, **{f"{source}_url": url}), SERVICES)
    assert logs == {} and len(seen) == 1
    (note,) = notes
    assert f"HTTP {status}" in note and f"logs.{source}_url" in note and note.endswith("2 more services not queried")


async def test_kubernetes_unreachable_is_one_note(tmp_path: Path) -> None:
    with counting_listener("closed") as (url, _):
        logs, notes = await _fetch(_settings(tmp_path), SERVICES, kubernetes_api=_k8s_api(url))
    assert logs == {}
    (note,) = notes
    assert note.startswith("kubernetes: Kubernetes API is unreachable") and note.endswith("2 more services not queried")


async def test_a_query_error_is_one_note_per_error_and_other_services_still_read(tmp_path: Path) -> None:
    def handle(req: Request) -> Reply:
        matchers = logql_matchers(req.query["query"][0])
        if matchers[0][2] != "checkout":
            return Reply(500, "too many outstanding requests")
        return loki_standin(["checkout"])(req)

    with serve(handle) as (url, seen):
        logs, notes = await _fetch(_settings(tmp_path, loki_url=url), SERVICES)
    assert list(logs) == ["checkout"] and len(seen) == 3
    assert notes == ["loki: logs of 'orders-db', 'frontend': Loki query_range failed with HTTP 500: too many "
                     "outstanding requests (check logs.loki_selector)"]


async def test_a_name_that_is_not_utf8_is_a_note_and_no_query(tmp_path: Path) -> None:
    with serve(loki_standin(["checkout"])) as (url, seen):
        logs, notes = await _fetch(_settings(tmp_path, loki_url=url), ["checkout", "bad\ud800"])
    assert list(logs) == ["checkout"] and len(seen) == 1
    assert notes == ["logs of 'bad\\ud800': not queried, the service name is not valid UTF-8"]


def test_quoted_or_doubled_placeholders_are_configuration_errors(tmp_path: Path) -> None:
    from bot.domain.errors import ConfigError

    for logs in ({"loki_selector": '{{app="{service}"}}'}, {"loki_selector": '{app="{service}"}'},
                 {"loki_selector": '{app=~".*{service}"}'}, {"splunk_search": 'search service="{service}"'},
                 {"kubernetes_selector": "app={service}-canary"}):
        with pytest.raises(ConfigError, match=next(iter(logs))):
            _settings(tmp_path, **logs)
