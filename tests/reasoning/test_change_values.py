"""Changes credited by what the evidence shows of them (``bot/reasoning/change_values.py``, ``change_rules.py`` and
the change rules of ``bot/reasoning/features.py``): a failing line that quotes the value a change set, a release's
version reported by the program, a storage change under its callers' slow writes, a release whose own traffic rises
right after it. Synthetic incidents, one rule each, with the red herrings they must refuse."""

from __future__ import annotations

import pytest

from bot.domain import ChangeEvent
from bot.reasoning.change_rules import chart_version, kind_by_what_changed, reports_version
from bot.reasoning.change_values import NEW_VALUE_FORMS, new_values, quoted_new_value, quotes, specific_value
from bot.reasoning.features import build_candidates
from tests.reasoning.factories import at, context, signal


@pytest.mark.parametrize("row", NEW_VALUE_FORMS, ids=lambda r: r.id)
def test_each_value_form_reads_its_positive_and_not_its_negative(row) -> None:  # type: ignore[no-untyped-def]
    assert row.regex.search(row.positive), row.positive
    assert not row.regex.search(row.negative), row.negative


@pytest.mark.parametrize(("value", "expected"), [
    ("5433", "5433"),
    ("pg-2.db.internal.", "pg-2.db.internal"),
    ("redis://cache-2:6379", "redis://cache-2:6379"),
    ("true", None),  # a bare word names nothing a line could be traced to
    ("enabled", None),
    ("strict", None),
    ("30", None),  # too short to tell apart from any count
])
def test_specific_value(value: str, expected: str | None) -> None:
    assert specific_value(value) == expected


def test_new_values_keep_old_and_new() -> None:
    assert new_values("helm upgrade api: values env.DB_PORT 5432 -> 5433 (copied)") == [("5432", "5433")]
    assert new_values("kubectl edit cm x: DB_HOST pg.database.svc -> pg.databse.svc; rollout restart") == [
        ("pg.database.svc", "pg.databse.svc")]
    assert new_values("enabled use_streaming_backend=true for all agents") == []
    assert new_values("") == []


def test_a_line_quotes_a_value_only_whole() -> None:
    assert quotes("connect ECONNREFUSED 10.100.12.30:5433", "5433")
    assert not quotes("connect ECONNREFUSED 10.100.12.30:54331", "5433")
    assert not quotes("query took 15433 ms", "5433")
    assert quotes("getaddrinfo ENOTFOUND pg.databse.svc.", "pg.databse.svc")


def test_a_line_quoting_both_the_old_and_the_new_value_is_no_proof() -> None:
    text = new_values("DB_PORT 5432 -> 5433")
    assert quoted_new_value(text, "refused on :5433") == "5433"
    assert quoted_new_value(text, "tried :5432 then :5433, both refused") is None
    assert quoted_new_value(text, "refused on :5432") is None


def _cands(ctx, signals):  # type: ignore[no-untyped-def]
    return {(c.service, c.kind): c for c in build_candidates(context=ctx, signals=signals, similar=[], runbooks=[])}


def _event(service: str, kind: str, minute: float, text: str) -> ChangeEvent:
    return ChangeEvent(ts=at(minute), kind=kind, service=service, text=text)


LEDGER = {"web": ["ledger-api"], "ledger-api": ["ledger-pg"], "reports": ["ledger-pg"], "ledger-pg": []}


def _refused(line: str, minute: float | None, **attributes: object):  # type: ignore[no-untyped-def]
    # ledger-api's own line blaming its database (moved to the database, reporter kept)
    sig = signal("logs", "ledger-pg", "dependency_failure", 0.75, minute or 0,
                 attributes={"decisive": True, "line": line, "reporter": "ledger-api", "rule": "conn.refused",
                             **attributes})
    return sig if minute is not None else sig.model_copy(update={"started_at": None})


PORT_CHANGE = "helm upgrade ledger-api: values env.DB_PORT 5432 -> 5433"


def test_a_failure_quoting_the_value_a_change_set_is_the_change_s() -> None:
    ctx = context(service="ledger-api", topology=LEDGER, events=[_event("ledger-api", "config", 0, PORT_CHANGE)])
    for minute in (4, None):  # a line without a time of its own too: the new value dates it after the change
        cands = _cands(ctx, [_refused("error: connect ECONNREFUSED 10.100.12.30:5433", minute)])
        change = cands[("ledger-api", "config_change")].features["decisive_score"]
        assert change == 0.75, minute
        assert cands[("ledger-pg", "dependency_failure")].features["decisive_score"] < change
        # the database is no origin in dependency order by a line its caller's change explains
        assert cands[("ledger-pg", "dependency_failure")].features["dependency_origin"] == 0.0


def test_a_failure_that_quotes_no_new_value_keeps_the_dependency() -> None:
    ctx = context(service="ledger-api", topology=LEDGER, events=[_event("ledger-api", "config", 0, PORT_CHANGE)])
    cands = _cands(ctx, [_refused("error: connect ECONNREFUSED 10.100.12.30:5432", 4)])
    assert cands[("ledger-pg", "dependency_failure")].features["decisive_score"] == 0.75
    assert cands[("ledger-api", "config_change")].features["decisive_score"] < 0.75


def test_a_dependency_failing_by_its_own_evidence_keeps_it_whatever_the_line_quotes() -> None:
    ctx = context(service="ledger-api", topology=LEDGER, events=[_event("ledger-api", "config", 0, PORT_CHANGE)])
    own = signal("logs", "ledger-pg", "db_down", 0.8, 3, attributes={"decisive": True, "line": "FATAL: shutting down"})
    cands = _cands(ctx, [_refused("error: connect ECONNREFUSED 10.100.12.30:5433", 4), own])
    assert cands[("ledger-pg", "dependency_failure")].features["decisive_score"] == 0.75
    assert cands[("ledger-api", "config_change")].features["decisive_score"] < 0.75


def test_a_line_printed_before_the_change_is_not_its() -> None:
    ctx = context(service="ledger-api", topology=LEDGER, events=[_event("ledger-api", "config", 5, PORT_CHANGE)])
    cands = _cands(ctx, [_refused("error: connect ECONNREFUSED 10.100.12.30:5433", 1)])
    assert cands[("ledger-pg", "dependency_failure")].features["decisive_score"] == 0.75


def test_a_limit_the_change_set_is_not_credited_by_its_value() -> None:
    # an OOM kill at the new memory limit stays the limit's kind (docs/causes.md): no wrong address here
    ctx = context(service="ledger-api", topology=LEDGER,
                  events=[_event("ledger-api", "config", 0, "ledger-api resources.limits.memory 512Mi -> 256Mi")])
    oom = signal("logs", "ledger-api", "oom_kill", 0.8, 4,
                 attributes={"decisive": True, "line": "OOMKilled: memory limit 256Mi reached"})
    cands = _cands(ctx, [oom])
    assert cands[("ledger-api", "oom_kill")].features["decisive_score"] == 0.8


@pytest.mark.parametrize(("text", "lines", "expected"), [
    # the program reports the version the chart release installed: it shipped code
    ("helm upgrade inv billing/inv --version 3.4.0 --no-hooks", ["Starting InvoiceApplication v3.4.0"], "bad_deploy"),
    ("inv chart 3.4.0: probes", ["inv 3.4.0 booting"], "bad_deploy"),
    # the program reports another version: the chart changed only settings
    ("helm upgrade inv billing/inv --version 3.4.0 --no-hooks", ["Starting InvoiceApplication v2.9.1"], "config_change"),
    ("helm upgrade inv billing/inv --version 3.4.0 --no-hooks", ["Starting InvoiceApplication v13.4.0"], "config_change"),
    ("helm upgrade inv billing/inv --version 3.4.0 --no-hooks", [], "config_change"),
])
def test_a_chart_release_whose_version_the_program_reports_is_a_deploy(text: str, lines: list[str],
                                                                       expected: str) -> None:
    assert kind_by_what_changed("bad_deploy", text, lines) == expected


def test_chart_version_and_reported_version() -> None:
    assert chart_version("helm upgrade x repo/x --version 3.4.0 --no-hooks") == "3.4.0"
    assert chart_version("x 3.4.0 rolled out") is None
    assert reports_version("Starting X v3.4.0", "3.4.0")
    assert not reports_version("Starting X v3.4.0.1", "3.4.0")


STORE = {"api": ["etcd"], "etcd": ["block-storage"], "volumes": ["block-storage"], "block-storage": []}


def test_a_storage_change_takes_its_callers_slow_writes() -> None:
    ctx = context(service="api", topology=STORE,
                  events=[_event("block-storage", "config", 0, "chef: storage net tuning rolled to all regions")])
    shift = signal("metrics", "block-storage", "traffic_drop", 0.6, 5)
    fsync = signal("metrics", "etcd", "latency_increase", 0.8, 7)
    slow = signal("logs", "etcd", "disk_io_latency", 0.75, 0,
                  attributes={"decisive": True, "line": "wal: sync duration of 92.96s"}).model_copy(
                      update={"started_at": None})  # read from an excerpt: dated by etcd's failure onset
    cands = _cands(ctx, [shift, fsync, slow])
    assert cands[("block-storage", "config_change")].features["decisive_score"] == 0.75
    assert cands[("etcd", "disk_io_latency")].features["decisive_score"] < 0.75
    # slow writes that began before the storage's change are their own
    early = _cands(ctx, [shift, signal("metrics", "etcd", "latency_increase", 0.8, -3), slow])
    assert early[("etcd", "disk_io_latency")].features["decisive_score"] == 0.75


TASKS = {"upload": ["api", "broker"], "web": ["api"], "api": ["broker"], "worker": ["broker"], "broker": []}


def _rise(service: str, minute: float):  # type: ignore[no-untyped-def]
    return signal("metrics", service, "traffic_spike", 0.5, minute)


def test_a_release_whose_own_traffic_rises_right_after_it_is_the_suspect() -> None:
    ctx = context(service="upload", topology=TASKS, events=[_event("api", "deploy", 0, "api 2.4.0: new webhook handler")])
    signals = [_rise("api", 4), signal("metrics", "broker", "queue_backlog", 1.0, 0),
               signal("logs", "upload", "error_rate_increase", 0.85, 20)]
    cands = _cands(ctx, signals)
    assert cands[("api", "bad_deploy")].features["decisive_score"] > 0.5
    # the broker it floods is no origin in dependency order
    assert all(c.features["dependency_origin"] == 0.0 for (svc, _k), c in cands.items() if svc == "broker")


def test_a_rise_its_callers_sent_first_or_long_after_the_release_is_not_the_release_s() -> None:
    release = [_event("api", "deploy", 0, "api 2.4.0: new webhook handler")]
    callers_first = _cands(context(service="upload", topology=TASKS, events=release), [_rise("web", 3), _rise("api", 4)])
    assert callers_first[("api", "bad_deploy")].features["decisive_score"] == 0.0
    late = _cands(context(service="upload", topology=TASKS, events=release), [_rise("api", 25)])
    assert late.get(("api", "bad_deploy")) is None or late[("api", "bad_deploy")].features["decisive_score"] == 0.0
    failing_before = _cands(context(service="upload", topology=TASKS, events=release),
                            [signal("logs", "worker", "error_rate_increase", 0.85, -5), _rise("api", 4)])
    assert failing_before[("api", "bad_deploy")].features["decisive_score"] == 0.0


def test_a_log_template_that_fell_is_no_onset_before_the_release() -> None:
    """The release's own log template that fell (the usual work it logs, drowned by reconnects) carries the time its
    comparison window began, minutes before the release: no sign the component changed before it."""
    release = [_event("api", "deploy", 0, "api 2.4.0: new webhook handler")]
    fell = signal("logs", "api", "traffic_drop", 0.63, -3)
    fell.detector = "log.rate_drop"
    cands = _cands(context(service="upload", topology=TASKS, events=release), [fell, _rise("api", 1)])
    assert cands[("api", "bad_deploy")].features["decisive_score"] > 0.5
    # an anomaly of its own that did begin before the release still holds the rule back
    before = _cands(context(service="upload", topology=TASKS, events=release),
                    [signal("logs", "api", "log_anomaly", 0.63, -3), _rise("api", 1)])
    assert before[("api", "bad_deploy")].features["decisive_score"] == 0.0


def _no_credit(cands, key) -> bool:  # type: ignore[no-untyped-def]
    return key not in cands or cands[key].features["decisive_score"] == 0.0


SHOP_CACHE = {"cache": ["web"], "web": ["auth", "db"], "auth": [], "db": []}


def test_a_change_whose_component_shifts_then_whose_dependencies_fail_is_the_suspect() -> None:
    # a caching rule widened: the cache's own log shifts, then the auth service it reaches through the web fails
    ctx = context(service="web", topology=SHOP_CACHE,
                  events=[_event("cache", "config", 0, "caching rules v2: rule for dynamic pages widened")])
    attack = signal("metrics", "cache", "traffic_spike", 0.66, -60)  # a load it carried for an hour without failing
    shift = signal("logs", "cache", "log_anomaly", 0.63, 1)
    errors = signal("logs", "auth", "error_rate_increase", 0.85, 2)
    cands = _cands(ctx, [attack, shift, errors])
    assert cands[("cache", "config_change")].features["decisive_score"] > 0.5
    # the dependency failing before the cache shifted: the cache may be reacting to it
    late_shift = _cands(ctx, [attack, signal("logs", "cache", "log_anomaly", 0.63, 3), errors])
    assert _no_credit(late_shift, ("cache", "config_change"))
    # a mechanism of the cache's own begun with the change keeps the answer
    own = _cands(ctx, [signal("metrics", "cache", "cpu_saturation", 0.9, 1), shift, errors])
    assert _no_credit(own, ("cache", "config_change"))
    # a dependency with a finding of its own fails by it
    found = _cands(ctx, [attack, shift, errors, signal("logs", "auth", "db_down", 0.8, 2,
                                                         attributes={"decisive": True, "line": "FATAL"})])
    assert _no_credit(found, ("cache", "config_change"))


TRACKER = {"shipment-tracker": ["tracking-redis", "coredns"], "tracking-redis": [], "coredns": []}


def _lookup_failed(minute: float):  # type: ignore[no-untyped-def]
    # the tracker's failed lookup of its redis, blamed on the name looked up (reporter kept)
    return signal("logs", "tracking-redis", "dns_failure", 0.7, minute,
                  attributes={"decisive": True, "line": "redis connection error: getaddrinfo ENOTFOUND tracking-redis",
                              "reporter": "shipment-tracker", "rule": "dns.nxdomain"})


@pytest.mark.parametrize(("text", "credited"), [
    ("shipment-tracker manifest: dnsPolicy: Default, dnsConfig.options ndots 2", True),
    ("syslog-forwarder chart 0.9.0: hostNetwork: true", True),
    ("shipment-tracker manifest: replicas 2 -> 3", False),
])
def test_lookups_failing_after_a_change_of_the_callers_own_resolver_settings_are_the_change_s(
        text: str, credited: bool) -> None:
    ctx = context(service="shipment-tracker", topology=TRACKER, events=[_event("shipment-tracker", "config", 0, text)])
    cands = _cands(ctx, [_lookup_failed(6)])
    change = cands[("shipment-tracker", "config_change")].features["decisive_score"]
    lookup = cands[("tracking-redis", "dns_failure")].features["decisive_score"]
    assert (change > lookup) is credited, (change, lookup)


def test_lookups_that_failed_before_the_resolver_change_are_not_its() -> None:
    ctx = context(service="shipment-tracker", topology=TRACKER,
                  events=[_event("shipment-tracker", "config", 10, "dnsPolicy: Default")])
    cands = _cands(ctx, [_lookup_failed(2)])
    assert cands[("tracking-redis", "dns_failure")].features["decisive_score"] == 0.7


def _fill(service: str, minute: float, score: float = 0.88):  # type: ignore[no-untyped-def]
    return signal("metrics", service, "memory_leak", score, minute, attributes={"shape": "ramp"})


RUNS = {"app": ["redis"], "worker": ["redis"], "redis": []}


def test_a_release_after_which_what_it_calls_starts_to_fill_is_the_suspect() -> None:
    """The worker's release subscribes to every job event; within minutes the Redis it calls starts a steady climb
    of memory that ends in refused writes: the release holds that memory there."""
    release = [_event("worker", "deploy", 0, "worker 0.50.3: subscribe to queue events")]
    errors = signal("logs", "worker", "error_rate_increase", 0.85, 58)
    cands = _cands(context(service="app", topology=RUNS, events=release), [_fill("redis", 1), errors])
    assert cands[("worker", "bad_deploy")].features["decisive_score"] > 0.5
    # a climb begun long after the release, or a release of the dependency itself beside it: no such credit
    late = _cands(context(service="app", topology=RUNS, events=release), [_fill("redis", 12), errors])
    assert _no_credit(late, ("worker", "bad_deploy"))
    both = release + [_event("redis", "config", 2, "redis maxmemory-policy noeviction")]
    own = _cands(context(service="app", topology=RUNS, events=both), [_fill("redis", 3), errors])
    assert _no_credit(own, ("worker", "bad_deploy"))


def test_a_release_s_fresh_errors_are_no_sign_of_it_when_a_dependency_was_failing_before_it() -> None:
    """The app's release comes 45 minutes into a fill of the Redis it calls; its fresh errors after it are what the
    fill does to it, not the release's doing. Without the earlier fill the release explains them."""
    release = [_event("app", "deploy", 45, "app 0.50.4: gallery copy")]
    fresh = signal("logs", "app", "error_rate_increase", 0.85, 60)
    fresh.detector = "log.new_template"
    earlier = _cands(context(service="app", topology=RUNS, events=release), [_fill("redis", 1), fresh])
    assert _no_credit(earlier, ("app", "bad_deploy"))
    alone = _cands(context(service="app", topology=RUNS, events=release), [fresh])
    assert alone[("app", "bad_deploy")].features["decisive_score"] > 0.5


LIMITER = {"checkout": ["rate-limiter", "payments"], "rate-limiter": ["redis"], "payments": [], "redis": []}


def _unreached(minute: float):  # type: ignore[no-untyped-def]
    # the caller's timeouts dialing the limiter's Service address (a line that names no component)
    return signal("logs", "checkout", "dependency_failure", 0.47, minute,
                  attributes={"line": 'rate check failed: dial tcp 10.100.88.12:8081: i/o timeout'})


@pytest.mark.parametrize(("text", "credited"), [
    ("Service shop/rate-limiter: spec.internalTrafficPolicy Cluster -> Local", True),
    ("ConfigMap kube-system/calico-config: veth_mtu \"0\" -> \"1500\"", True),
    ("rate-limiter: replicas 3 -> 4", False),  # not a change of how it is reached
    # the same changes as other tools and CNIs print them
    ("terraform: kubernetes_service.rate_limiter external_traffic_policy \"Cluster\" => \"Local\"", True),
    ("Service shop/rate-limiter: trafficDistribution set to PreferClose", True),
    ("annotate service rate-limiter service.kubernetes.io/topology-mode=Auto", True),
    ("Installation default: calicoNetwork vethMTU 1440 -> 8981", True),
    ("DaemonSet calico-node env FELIX_VXLANMTU=8950", True),
    ("aws-node env AWS_VPC_ENI_MTU 9001 -> 1500", True),
    ("cilium-config: mtu 1450 -> 9000", True),
    ("kube-flannel-cfg: FLANNEL_MTU=8951", True),
    ("rate-limiter: image smtub/limiter:2.1", False),  # an MTU only as letters inside a word
])
def test_callers_that_cannot_reach_a_component_after_a_change_of_how_it_is_reached_are_the_change_s(
        text: str, credited: bool) -> None:
    # the caller's own coincident canary does not explain that it cannot reach the limiter
    events = [_event("rate-limiter", "config", 0, text), _event("checkout", "deploy", 8, "checkout canary 10% 9.3.0")]
    cands = _cands(context(service="checkout", topology=LIMITER, events=events), [_unreached(11)])
    change = cands.get(("rate-limiter", "config_change"))
    assert (change is not None and change.features["decisive_score"] > 0.0) is credited


def test_callers_that_could_not_reach_it_before_the_change_are_not_the_change_s() -> None:
    events = [_event("rate-limiter", "config", 10, "internalTrafficPolicy: Local")]
    cands = _cands(context(service="checkout", topology=LIMITER, events=events), [_unreached(2)])
    assert _no_credit(cands, ("rate-limiter", "config_change"))
