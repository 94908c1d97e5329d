"""Property-based fuzzing of every endpoint and every vendor payload parser (Hypothesis).

Two targets, one property each:

- the vendor parsers (``connectors.alerts.parse_alerts`` for every registered source): any JSON value, or a
  vendor-shaped payload whose fields are replaced by hostile values, gives alerts or a ``PayloadError``,
  never another exception;
- the HTTP API, served for real by uvicorn on a free port (so a hang is a timeout on a socket): every route
  of the app (the OpenAPI schema's and the others: pages, Slack, Teams), with hostile path, query and body
  values, answers below 500 within ``HANG_S``; ``/healthz`` is asked between requests and must answer.

``run(budget)`` is what ``python -m bench.resilience`` and ``tests/fuzz`` call; the budget is the number of
examples per target (fixed, so the run time stays bounded).
"""

from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.domain import PayloadError
from connectors.alerts import alert_sources, parse_alerts

HANG_S = 10.0

_EDGE_NUMBERS = [0, -1, 1e20, 1e28, 1e300, -1e300, 10**30, 2**63, -(2**63) - 1, 1e-320, 0.5]
_EDGE_TEXT = ["", " ", "0001-01-01", "9999-12-31", "1e28", "NaN", "-1", "\u0000", "\u2028", "\r\n", "<!here>",
              "javascript:alert(1)", "../../etc/passwd", "%00", "ä" * 300, "x" * 3000, "{}", "[]", "null",
              "2026-01-01T00:00:00Z", "99999-01-01T00:00:00Z", "' OR 1=1 --", "${jndi:ldap://x}"]

scalars = st.one_of(st.none(), st.booleans(), st.sampled_from(_EDGE_NUMBERS), st.integers(),
                    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(_EDGE_TEXT),
                    st.text(max_size=40))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)), max_leaves=25)

# vendor skeletons: a valid payload whose leaves the fuzzer replaces
_SKELETONS: dict[str, Any] = {
    "alertmanager": {"version": "4", "groupKey": "g", "receiver": "r", "status": "firing",
                     "commonLabels": {"alertname": "A"}, "alerts": [
                         {"status": "firing", "labels": {"alertname": "A", "service": "api"},
                          "annotations": {"summary": "s"}, "startsAt": "2026-01-01T00:00:00Z",
                          "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://p", "fingerprint": "f"}]},
    "grafana": {"version": "1", "orgId": 1, "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "A"}, "annotations": {}, "startsAt": "2026-01-01T00:00:00Z",
         "panelURL": "http://g", "fingerprint": "f", "values": {"B": 1}}]},
    "pagerduty": {"event": {"id": "E", "event_type": "incident.triggered", "resource_type": "incident",
                            "occurred_at": "2026-01-01T00:00:00Z", "data": {
                                "id": "P", "type": "incident", "title": "t", "status": "triggered",
                                "service": {"summary": "api"}, "teams": [{"summary": "x"}],
                                "created_at": "2026-01-01T00:00:00Z"}}},
    "opsgenie": {"action": "Create", "alert": {"alertId": "a", "message": "m", "tags": ["service:api"],
                                               "details": {"k": "v"}, "createdAt": 1767225600000}},
    "datadog": {"alert_id": "1", "alert_title": "[Triggered] t", "alert_status": "Alert",
                "alert_transition": "Triggered", "alert_scope": "service:api", "date": 1767225600000},
    "generic": {"name": "Down", "service": "api", "starts_at": "2026-01-01T00:00:00Z", "labels": {"a": "b"}},
}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy: Any = json.loads(json.dumps(value))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return copy


@st.composite
def vendor_payloads(draw: st.DrawFn, source: str) -> Any:
    skeleton = _SKELETONS.get(source, _SKELETONS["generic"])
    payload = skeleton
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(payload)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        payload = _replace(payload, path, draw(json_values))
    return payload


@dataclass
class Tally:
    inputs: int = 0
    server_errors: int = 0
    hangs: int = 0
    unexpected: int = 0  # parser exceptions other than PayloadError
    health_failures: int = 0
    failures: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        if len(self.failures) < 20 or (what.startswith("hang") and len(self.failures) < 40):
            self.failures.append(what[:300])

    def as_dict(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "5xx": self.server_errors, "hangs": self.hangs,
                "parser_crashes": self.unexpected, "healthz_failures": self.health_failures}


def _hypothesis(budget: int) -> Any:
    return settings(max_examples=budget, deadline=None, database=None, derandomize=True,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck))


def fuzz_parsers(tally: Tally, budget: int) -> None:
    for name in sorted(alert_sources()):
        _fuzz_parser(tally, name, budget)


def _fuzz_parser(tally: Tally, source: str, budget: int) -> None:
    @_hypothesis(budget)
    @given(payload=st.one_of(vendor_payloads(source), json_values))
    def one(payload: Any) -> None:
        tally.inputs += 1
        try:
            parse_alerts(payload, source=source)
        except PayloadError:
            pass
        except Exception as e:  # noqa: BLE001 - the property: nothing but PayloadError escapes
            tally.unexpected += 1
            tally.note(f"parser {source}: {e.__class__.__name__}: {e} for {str(payload)[:120]}")

    one()


# ---- the HTTP API ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    method: str
    path: str
    query: tuple[str, ...]


def _route_views(app: Any) -> Iterator[Any]:
    """Objects with ``path``, ``methods`` and ``dependant``: plain routes, and the routes of included routers
    (FastAPI >= 0.165 keeps those behind ``effective_candidates()``)."""
    for route in app.routes:
        if hasattr(route, "effective_candidates"):
            yield from route.effective_candidates()
        elif hasattr(route, "dependant"):
            yield route


def routes_of(app: Any) -> list[Route]:
    """Every HTTP route of the app with the query parameter names it declares (schema or not)."""
    found: list[Route] = []
    for route in _route_views(app):
        dependant = route.dependant
        names = tuple(p.alias or p.name for p in dependant.query_params)
        names += tuple(p.alias or p.name for d in dependant.dependencies for p in d.query_params)
        for method in sorted(route.methods or ()):
            if method not in {"HEAD", "OPTIONS"}:
                found.append(Route(method, route.path, names))
    return found


_REPORT_KEYS = ("since", "until", "days", "service", "category", "severity", "offset", "limit", "q", "status",
                "bucket", "bins", "format", "group_by", "horizon_hours", "token", "next")
query_values = st.one_of(st.sampled_from(_EDGE_TEXT), st.sampled_from([str(n) for n in _EDGE_NUMBERS]),
                         st.text(max_size=30))


@st.composite
def requests_for(draw: st.DrawFn, route: Route) -> tuple[str, str, dict[str, str], bytes, dict[str, str]]:
    path = route.path
    for name in [seg[1:-1] for seg in route.path.split("/") if seg.startswith("{")]:
        value = draw(st.one_of(st.sampled_from(["inc-1", "alertmanager", "generic", "pagerduty", "x"]),
                               st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1,
                                       max_size=20)))
        path = path.replace("{" + name + "}", quote(value, safe="") or "x")
    keys = draw(st.lists(st.sampled_from(route.query + _REPORT_KEYS), max_size=4, unique=True))
    query = {k: draw(query_values) for k in keys}
    kind = draw(st.sampled_from(["json", "vendor", "raw", "deep", "form"]))
    headers = {"content-type": "application/json"}
    if kind == "json":
        body = json.dumps(draw(json_values)).encode()
    elif kind == "vendor":
        source = path.rsplit("/", 1)[-1] if "/alerts/" in path else draw(st.sampled_from(sorted(_SKELETONS)))
        body = json.dumps(draw(vendor_payloads(source))).encode()
    elif kind == "deep":
        depth = draw(st.sampled_from([65, 1000, 20000]))
        body = b"[" * depth + b"]" * depth
    elif kind == "form":
        body = b"token=x&text=" + draw(st.sampled_from(_EDGE_TEXT)).encode("utf-8", "replace")
        headers = {"content-type": "application/x-www-form-urlencoded"}
    else:
        body = draw(st.binary(max_size=200)) + draw(st.sampled_from([b"", b"NaN", b"Infinity", b"1e999"]))
    extra = draw(st.sampled_from([{}, {"Authorization": "Bearer abc.def.ghi"}, {"X-Slack-Request-Timestamp": "abc",
                                  "X-Slack-Signature": "v0=1"}, {"Authorization": "Basic Og=="}]))
    return route.method, path, query, body, {**headers, **extra}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served_app(data_dir: Path) -> Iterator[tuple[str, Any]]:
    """The whole app (Slack and Teams on, PagerDuty signatures off so bodies are parsed) under uvicorn."""
    import uvicorn

    from bot.api.app import create_app
    from bot.pipeline.wiring import build_pipeline
    from config.settings import load_settings

    cfg = load_settings(data_dir=data_dir, retrieval={"backend": "memory"},
                        slack={"enabled": True, "bot_token": "xoxb-fuzz", "signing_secret": "fuzz-secret",
                               "api_url": "http://127.0.0.1:9/api/"},
                        teams={"enabled": True, "app_id": "00000000-0000-0000-0000-00000000f022",
                               "app_password": "pw", "auth_timeout_s": 3})
    app = create_app(cfg, pipeline=build_pipeline(cfg, with_retriever=False))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fuzzed app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def fuzz_http(tally: Tally, budget: int, *, data_dir: Path | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp, served_app(data_dir or Path(tmp) / "data") as (base, app):
        with httpx.Client(base_url=base, timeout=HANG_S) as client:
            for route in routes_of(app):
                _fuzz_route(client, route, tally, budget)


def _fuzz_route(client: httpx.Client, route: Route, tally: Tally, budget: int) -> None:
    @_hypothesis(budget)
    @given(request=requests_for(route))
    def one(request: tuple[str, str, dict[str, str], bytes, dict[str, str]]) -> None:
        method, path, query, body, headers = request
        tally.inputs += 1
        try:
            answer = _send(client, method, path, query, body, headers)
            if answer.status_code >= 500 and answer.status_code != 503:
                tally.server_errors += 1
                tally.note(f"{answer.status_code} {method} {path} body={body[:160]!r} query={str(query)[:80]}")
        except httpx.TimeoutException:
            tally.hangs += 1
            tally.note(f"hang {method} {path} body={body[:160]!r} headers={headers} query={str(query)[:80]}")
        except httpx.TransportError as e:
            tally.server_errors += 1  # the server dropped the request twice: as bad as a 500
            tally.note(f"dropped ({e.__class__.__name__}) {method} {path} {query} {body[:80]!r}")
        if tally.inputs % 25 == 0:
            _health(client, tally)

    one()
    _health(client, tally)


def _send(client: httpx.Client, method: str, path: str, query: dict[str, str], body: bytes,
          headers: dict[str, str]) -> httpx.Response:
    """One request; a connection the server closed after the previous answer (keep-alive expiry, a 413 that
    left a body unread) is retried once on a fresh connection."""
    for attempt in (1, 2):
        try:
            return client.request(method, path, params=query, content=body if method != "GET" else None,
                                  headers=headers)
        except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError, httpx.ConnectError):
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _health(client: httpx.Client, tally: Tally) -> None:
    try:
        ok = client.get("/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        ok = False
    if not ok:
        tally.health_failures += 1
        tally.note("healthz did not answer")


def run(*, parser_budget: int = 300, http_budget: int = 60) -> Tally:
    tally = Tally()
    fuzz_parsers(tally, parser_budget)
    fuzz_http(tally, http_budget)
    return tally
