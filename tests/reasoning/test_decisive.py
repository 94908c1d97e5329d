"""Decisive findings: moved to the component they blame, and ranked above what they contradict."""

from __future__ import annotations

import pytest

from bot.domain import ChangeEvent, Evidence, EvidenceType, Signal
from bot.reasoning import rank
from bot.reasoning.decisive import (
    daemon_owner,
    identity_kind,
    is_decisive,
    load_explains_own_saturation,
    name_affinity,
    resolve_culprit,
    retarget,
    support,
    with_explanations,
)
from detectors.changes import detect_change_signals

from .factories import at, context, signal

KNOWN = ["checkout", "orders-db", "payments", "coredns", "rabbitmq", "mongodb", "webhooks", "rabmq"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("orders-db", "orders-db"),
        ("orders-db:5432", "orders-db"),
        ("postgres://app@orders-db.prod.svc.cluster.local:5432/orders", "orders-db"),
        ("orders-db-primary.internal", "orders-db"),
        ("Payments", "payments"),
        ("10.0.3.17:6379", "10.0.3.17"),
        ("api.stripe.com", "api.stripe.com"),
        ("rabbit-2", "rabbitmq"),  # a numbered node of a fleet known by its product's full name
        ("mongo-1.internal", "mongodb"),
        ("web-3", "web-3"),  # webhooks is no product name of web's
        ("rabbit2", "rabbit2"),  # a number without its hyphen: not read as a fleet's member here
        ("rab-2", "rab-2"),  # too short a stem to name a product
        ("registry.example.com", "registry.example.com"),
        ("ledger.payments.svc.cluster.local:8443", "ledger"),
        ("ip-10-0-3-17", "ip-10-0-3-17"),
    ],
)
def test_resolve_culprit(name: str, expected: str) -> None:
    assert resolve_culprit(name, KNOWN) == expected


def test_an_autonomous_system_is_the_one_known_network_named_with_its_number() -> None:
    assert resolve_culprit("AS3491", ["www-front", "as3491-pccw", "transit-a"]) == "as3491-pccw"
    assert resolve_culprit("AS3491", ["www-front", "as34910-other"]) == "as3491"  # a longer number is another AS
    assert resolve_culprit("AS3491", ["as3491-pccw", "pccw-as3491-eu"]) == "as3491"  # two: the evidence must choose


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sa-east-1", "aws-sa-east-1"),  # the region a provider's status notice names: the component that holds it
        ("SA-EAST-1", "aws-sa-east-1"),
        ("sa-east-1a", "aws-sa-east-1"),  # a zone of that region
        ("us-east-1", "aws-us-east-1"),
        ("eu-west-1", "eu-west-1"),  # a region no component holds stays as named
        ("ip-10-4-7-21", "ip-10-4-7-21.eu-central-1.compute.internal"),  # a host by its short name, known by its full
        ("ip-10-4-7-21.ec2.internal", "ip-10-4-7-21.eu-central-1.compute.internal"),  # an address-named host
        ("web-1.ec2.internal", "web-1.ec2.internal"),  # any other host under another domain is another host
        ("orders-db-1", "orders-db"),  # a numbered member is no region
    ],
)
def test_a_region_or_a_short_host_name_is_the_known_component_that_holds_it(name: str, expected: str) -> None:
    known = ["runner-sa", "aws-sa-east-1", "aws-us-east-1", "ip-10-4-7-21.eu-central-1.compute.internal", "orders-db",
             "web-1.eu-central-1.compute.internal"]
    assert resolve_culprit(name, known) == expected


def test_two_components_holding_a_region_leave_the_choice_to_the_evidence() -> None:
    assert resolve_culprit("sa-east-1", ["aws-sa-east-1", "gcp-sa-east-1"]) == "sa-east-1"


def _decisive(service: str, kind: str, score: float, culprit: str | None = None, minute: float = 9) -> Signal:
    attributes: dict[str, object] = {"decisive": True, "rule": "test"}
    if culprit:
        attributes["culprit"] = culprit
    return Signal(source="logs", detector="logs.decisive", service=service, kind=kind, title=f"{kind} seen on {service}",
                  score=score, started_at=at(minute), attributes=attributes,
                  evidence=[Evidence(id=f"log:{service}:{kind}", type=EvidenceType.LOG,
                                     summary=f"dial tcp {culprit}: connect: connection refused", service=service)])


def test_a_status_notice_naming_a_region_moves_only_to_a_component_known_by_it() -> None:
    notice = _decisive("aws-health", "dependency_failure", 0.75, "sa-east-1")
    notice = notice.model_copy(update={"attributes": {**notice.attributes, "named_part": True}})
    moved = {s.service: s for s in retarget([notice], ["aws-health", "runner-sa", "aws-sa-east-1"])}
    assert moved["aws-sa-east-1"].kind == "dependency_failure" and is_decisive(moved["aws-sa-east-1"])
    kept = retarget([notice], ["aws-health", "runner-sa"])
    assert [(s.service, s.kind) for s in kept] == [("aws-health", "dependency_failure")]
    assert "culprit" not in kept[0].attributes and is_decisive(kept[0])


def test_a_finding_that_blames_another_component_moves_there_and_the_reporter_keeps_a_symptom() -> None:
    moved = retarget([_decisive("checkout", "db_down", 0.9, "orders-db:5432")], KNOWN)
    by_service = {s.service: s for s in moved}
    assert by_service["orders-db"].kind == "db_down"
    assert by_service["orders-db"].attributes["reporter"] == "checkout"
    assert by_service["checkout"].kind == "error_rate_increase"
    assert by_service["checkout"].attributes["decisive"] is False
    assert support(moved) == {("orders-db", "db_down"): 0.9}


def test_non_decisive_or_culprit_free_signals_are_left_alone() -> None:
    plain = signal("logs", "checkout", "db_down", 0.9, 9, attributes={"culprit": "orders-db"})
    own = _decisive("checkout", "oom_kill", 0.95)
    assert retarget([plain, own], KNOWN) == [plain, own]


def test_the_blamed_dependency_is_first_even_against_a_deploy_of_the_alerted_service_minutes_before() -> None:
    ctx = context(events=[ChangeEvent(ts=at(5), kind="deploy", service="checkout", text="v2.3.1 rolled out")])
    signals = [
        _decisive("checkout", "db_down", 0.9, "orders-db.prod.svc.cluster.local:5432"),
        signal("metrics", "checkout", "error_rate_increase", 0.9, 8),
        signal("changes", "checkout", "deploy", 0.9, 5),
    ]
    result = rank(context=ctx, signals=signals, similar=[], runbooks=[])
    top = result.hypotheses[0]
    assert (top.service, top.kind) == ("orders-db", "db_down")
    assert any("connection refused" in e.summary for e in top.evidence)
    deploy = next(h for h in result.hypotheses if h.kind == "bad_deploy")
    assert deploy.confidence < top.confidence


def test_an_unknown_provider_named_by_the_finding_becomes_a_candidate() -> None:
    signals = [_decisive("checkout", "rate_limited", 0.85, "api.stripe.com:443"),
               signal("logs", "checkout", "exception_surge", 0.7, 9)]
    result = rank(context=context(), signals=signals, similar=[], runbooks=[])
    assert (result.hypotheses[0].service, result.hypotheses[0].kind) == ("api.stripe.com", "rate_limited")


def test_a_bare_address_stands_for_the_one_dependency_whose_name_fits_the_fault() -> None:
    moved = retarget([_decisive("orders-api", "db_down", 0.9, "10.16.9.204:5432")], ["orders-api", "orders-db", "redis"],
                     {"orders-api": ["orders-db", "payments"]})
    assert {s.service for s in moved} == {"orders-db", "orders-api"}
    unknown = retarget([_decisive("orders-api", "db_down", 0.9, "10.16.9.204:5432")], ["orders-api", "web"], {})
    assert "10.16.9.204" in {s.service for s in unknown}  # nothing fits: the address stays


def test_a_leak_the_metrics_show_explains_the_oom_kill() -> None:
    signals = [_decisive("xmpp", "oom_kill", 0.95), signal("metrics", "xmpp", "memory_leak", 0.8, 2)]
    result = rank(context=context(service="xmpp"), signals=signals, similar=[], runbooks=[])
    assert (result.hypotheses[0].service, result.hypotheses[0].kind) == ("xmpp", "memory_leak")
    assert result.hypotheses[1].kind == "oom_kill"


def test_a_datastore_s_memory_growing_with_what_it_stores_does_not_explain_its_oom_kill() -> None:
    # a cache's used memory climbs with its data set; the kernel's kill (a snapshot's fork over the host's memory) is
    # the cause, not a leak
    signals = [_decisive("redis-cache", "oom_kill", 0.9), signal("metrics", "redis-cache", "memory_leak", 0.89, 2)]
    assert with_explanations(support(signals), signals)[("redis-cache", "oom_kill")] == 0.9
    assert ("redis-cache", "memory_leak") not in with_explanations(support(signals), signals)
    result = rank(context=context(service="redis-cache"), signals=signals, similar=[], runbooks=[])
    assert (result.hypotheses[0].service, result.hypotheses[0].kind) == ("redis-cache", "oom_kill")


@pytest.mark.parametrize(
    ("service", "effect", "cause"),
    [
        ("payments", "thread_pool_exhaustion", "deadlock"),  # liveness timeouts; its own log: blocked on a mutex
        ("node-4", "node_failure", "network_partition"),  # NodeNotReady; its own kernel: NIC link down
        ("orders-pg", "db_down", "resource_quota"),  # recovery mode; its own log: Too many open files in system
        ("wrk-9", "node_failure", "oom_kill"),  # NotReady; its kernel's global OOM killer killed the kubelet
    ],
)
def test_a_cause_the_services_own_logs_name_explains_the_decisive_effect(service: str, effect: str,
                                                                         cause: str) -> None:
    signals = [_decisive(service, effect, 0.85), signal("logs", service, cause, 0.6, 2)]
    result = rank(context=context(service=service), signals=signals, similar=[], runbooks=[])
    assert (result.hypotheses[0].service, result.hypotheses[0].kind) == (service, cause)
    assert result.hypotheses[1].kind == effect
    alone = rank(context=context(service=service), signals=signals[:1], similar=[], runbooks=[])
    assert alone.hypotheses[0].kind == effect  # without the cause in its own evidence, the finding stands


def test_a_name_that_no_longer_resolves_because_its_pods_are_gone_blames_the_pods_not_the_resolver() -> None:
    lookup = _decisive("catalog", "dns_failure", 0.85, "dns")
    lookup.attributes["looked_up"] = "mongo-1.mongo.catalog.svc"
    attach = _decisive("mongo", "disk_io_latency", 0.65)
    moved = retarget([lookup, attach], ["catalog", "mongo"])
    assert support(moved) == {("mongo", "disk_io_latency"): 0.65}
    assert any(s.service == "mongo" and s.kind == "error_rate_increase" for s in moved)


def test_a_database_whose_pods_crash_loop_is_down() -> None:
    moved = retarget([_decisive("mysql-primary", "crash_loop", 0.55)], ["mysql-primary", "blog-api"])
    assert support(moved) == {("mysql-primary", "crash_loop"): 0.55, ("mysql-primary", "db_down"): 0.55}
    helpers = retarget([_decisive("blog-api", "db_down", 0.8, "10.43.18.77:3306")],
                       ["blog-api", "mysql-primary", "mysql-backup"])
    assert ("mysql-primary", "db_down") in support(helpers)  # the backup job is a helper, not the database


def test_a_finding_that_starts_long_after_the_alert_weighs_less_than_one_that_was_there_first() -> None:
    from bot.reasoning.decisive import demote_late, mark_late

    early = _decisive("distributor", "exception_surge", 0.7, minute=9)
    late = _decisive("distributor", "rate_limited", 0.88, minute=45)  # the alert fired at minute 10
    misread = _decisive("edge-lb", "ddos", 0.78, minute=60 * 24 * 365)  # a syslog time read in another year
    marked = mark_late([early, late, misread], at(10))
    assert demote_late(support(marked), marked) == {
        ("distributor", "exception_surge"): 0.7, ("distributor", "rate_limited"): round(0.88 * 0.6, 4),
        ("edge-lb", "ddos"): 0.78}
    alone = mark_late([late], at(10))  # nothing was there before it: not demoted
    assert demote_late(support(alone), alone) == {("distributor", "rate_limited"): 0.88}


def test_a_deploy_followed_by_new_errors_on_its_own_service_fits_and_leads() -> None:
    ctx = context(service="distributor", events=[ChangeEvent(ts=at(0), kind="deploy", service="distributor",
                                                             text="distributor 1.842.0 with a schema migration")])
    fresh = signal("logs", "distributor", "error_rate_increase", 0.85, 1)
    fresh.detector = "log.new_template"
    throttled = _decisive("distributor", "rate_limited", 0.88, minute=40)
    result = rank(context=ctx, signals=[fresh, throttled, signal("changes", "distributor", "deploy", 0.9, 0)],
                  similar=[], runbooks=[])
    top = result.hypotheses[0]
    assert (top.service, top.kind) == ("distributor", "bad_deploy")
    assert any(e.id.startswith("fit:") for e in top.evidence)


def test_a_change_that_fits_stays_a_suspect_when_a_stray_warning_came_before_it() -> None:
    ctx = context(service="users", events=[ChangeEvent(ts=at(0), kind="config", service="users",
                                                       text="ConfigMap users-config updated: orders-db.url changed")])
    stray = signal("logs", "users", "log_anomaly", 0.22, -8)  # one new warning, minutes before the change
    fresh = signal("logs", "users", "error_rate_increase", 0.9, 2)
    fresh.detector = "log.new_template"
    result = rank(context=ctx, signals=[stray, fresh, signal("changes", "users", "config", 0.8, 0)],
                  similar=[], runbooks=[])
    assert (result.hypotheses[0].service, result.hypotheses[0].kind) == ("users", "config_change")


def test_a_flag_followed_by_new_errors_stays_the_answer_when_the_metrics_name_its_service_the_origin() -> None:
    # the metric ranking's origin verdict says the callers' errors began here, not how this service fails
    ctx = context(service="catalog", topology={"web": ["catalog"], "cart": ["catalog"], "catalog": []},
                  events=[ChangeEvent(ts=at(0), kind="feature_flag", service="catalog",
                                      text="flag new-pricing-engine enabled for 100% of traffic in catalog")])
    fresh = signal("logs", "catalog", "exception_surge", 1.0, 4)
    fresh.detector = "log.new_template"
    origin = Signal(source="metrics", detector="metric.origin", service="catalog", kind="dependency_failure",
                    metric="error_rate", title="catalog: error_rate accounts for the errors of its callers (cart, web)",
                    score=1.0, started_at=at(4))
    result = rank(context=ctx, signals=[fresh, origin, signal("metrics", "catalog", "error_rate_increase", 0.99, 4),
                                        signal("changes", "catalog", "feature_flag", 0.72, 0)],
                  similar=[], runbooks=[])
    assert (result.hypotheses[0].service, result.hypotheses[0].kind) == ("catalog", "feature_flag")


def _delegation(service: str) -> Signal:
    sig = _decisive(service, "dns_failure", 0.85)
    sig.attributes["rule"] = "dns.delegation_changed"
    return sig


def test_a_domain_s_delegation_moved_is_the_registrar_s_whoever_saw_it() -> None:
    topology = {"prober": ["www", "registrar"], "www": ["registrar", "cdn"], "registrar": [], "cdn": []}
    names = ["prober", "www", "registrar", "cdn", "domain-watch"]
    # a prober with the registrar among its dependencies, a monitor the topology does not place, the registrar itself
    for reporter in ("prober", "domain-watch", "registrar"):
        moved = retarget([_delegation(reporter)], names, topology)
        assert set(support(moved)) == {("registrar", "dns_failure")}, reporter
    # two components that could hold it: the evidence must choose
    both = {**topology, "dns-provider": []}
    moved = retarget([_delegation("domain-watch")], [*names, "dns-provider"], both)
    assert set(support(moved)) == {("domain-watch", "dns_failure")}


@pytest.mark.parametrize("registrar", ["godaddy", "gandi-api", "markmonitor", "network-solutions", "namecheap"])
def test_a_registrar_named_after_its_company_holds_the_delegation(registrar: str) -> None:
    topology = {"prober": ["www", registrar], "www": [registrar, "cdn"], registrar: [], "cdn": []}
    moved = retarget([_delegation("prober")], ["prober", "www", registrar, "cdn"], topology)
    assert set(support(moved)) == {(registrar, "dns_failure")}


def test_a_failed_lookup_with_no_known_resolver_blames_the_cluster_dns_or_the_names_owner() -> None:
    inside = _decisive("cartservice", "dns_failure", 0.85, "dns")
    inside.attributes["looked_up"] = "redis-cart.shop.svc.cluster.local"
    outside = _decisive("crates-api", "dns_failure", 0.85, "dns")
    outside.attributes["looked_up"] = "static.crates.io"
    moved = retarget([inside, outside], ["cartservice", "crates-api"])
    assert set(support(moved)) == {("coredns", "dns_failure"), ("static.crates.io", "dns_failure")}


def test_a_lookup_the_resolver_left_unanswered_blames_the_callers_resolver_not_the_names_owner() -> None:
    line = ("dial tcp: lookup kafka-3.int.example on 169.254.169.253:53: read udp 10.0.5.1:45678->"
            "169.254.169.253:53: i/o timeout")
    timed_out = _decisive("shepherd", "dns_failure", 0.85, "dns")
    timed_out.attributes.update({"looked_up": "kafka-3.int.example", "line": line})
    topology = {"shepherd": ["kafka", "route53"]}
    moved = retarget([timed_out], ["shepherd", "kafka", "route53"], topology)
    assert {(s.service, s.kind) for s in moved if s.attributes.get("decisive")} == {("route53", "dns_failure")}
    # a name that does not exist (NXDOMAIN) is still its owner's: the resolver answered
    missing = _decisive("shepherd", "dns_failure", 0.85, "dns")
    missing.attributes.update({"looked_up": "kafka-3.int.example", "line": "lookup kafka-3.int.example: no such host"})
    moved = retarget([missing], ["shepherd", "kafka", "route53"], topology)
    assert {(s.service, s.kind) for s in moved if s.attributes.get("decisive")} == {("kafka", "dns_failure")}


def test_a_lookup_answered_servfail_blames_the_callers_one_name_server_not_the_names_owner() -> None:
    # Go's "server misbehaving" (SERVFAIL) for a public name: the resolving path gave no answer; the caller relies on
    # one DNS provider, which is what failed to answer
    line = "peer sync failed: lookup node2.infra.example on 127.0.0.53:53: server misbehaving"
    servfail = _decisive("node-1", "dns_failure", 0.85, "dns")
    servfail.attributes.update({"looked_up": "node2.infra.example", "line": line})
    topology = {"node-1": ["ledger", "edge-dns"]}
    moved = retarget([servfail], ["node-1", "ledger", "edge-dns"], topology)
    assert {(s.service, s.kind) for s in moved if s.attributes.get("decisive")} == {("edge-dns", "dns_failure")}
    # with no name server among the caller's dependencies the name's owner stays the answer
    moved = retarget([servfail], ["node-1", "ledger"], {"node-1": ["ledger"]})
    assert {(s.service, s.kind) for s in moved if s.attributes.get("decisive")} == {("node2.infra.example",
                                                                                       "dns_failure")}


def test_resolver_names_say_they_serve_dns() -> None:
    for name in ("route53", "route-53", "resolver-2", "unbound", "nameserver-1", "named", "edge-dns"):
        assert name_affinity(name, "dns_failure") == 1.0, name
    assert name_affinity("unnamed-worker", "dns_failure") != 1.0


def test_a_cache_server_is_a_datastore_by_its_name() -> None:
    assert name_affinity("sessions-memcache", "db_connection_exhaustion") == 1.0
    assert name_affinity("memcached-2", "ddos") == 0.0


def test_a_providers_reply_without_a_named_culprit_moves_to_the_callers_one_dependency() -> None:
    topology = {"operator": ["filestore"], "checkout": ["orders-db", "payments", "shipping"]}
    throttled = retarget([_decisive("operator", "rate_limited", 0.83)], ["operator", "filestore"], topology)
    assert {(s.service, s.kind) for s in throttled if s.attributes.get("decisive")} == {("filestore", "rate_limited")}
    # two candidates: the evidence must choose, nothing moves
    two = retarget([_decisive("checkout", "dependency_failure", 0.8)], [*KNOWN, "shipping"], topology)
    assert [(s.service, s.kind) for s in two] == [("checkout", "dependency_failure")]
    # a slow query moves only to a dependency whose name is a database's
    slow = retarget([_decisive("checkout", "db_slow_query", 0.6)], KNOWN, topology)
    assert {(s.service, s.kind) for s in slow if s.attributes.get("decisive")} == {("orders-db", "db_slow_query")}
    # a database logging its own slow queries keeps them
    own = retarget([_decisive("orders-db", "db_slow_query", 0.6)], KNOWN, {"orders-db": ["backup-db"]})
    assert [(s.service, s.kind) for s in own] == [("orders-db", "db_slow_query")]


def test_a_lookup_of_the_reporters_own_failing_pods_is_a_symptom_not_dns() -> None:
    lookup = _decisive("mongo", "dns_failure", 0.85, "dns")
    lookup.attributes["looked_up"] = "mongo-1.mongo.catalog.svc"
    volume = _decisive("mongo", "disk_io_latency", 0.75)
    moved = retarget([lookup, volume], ["mongo", "catalog-api"])
    assert {(s.service, s.kind) for s in moved if s.attributes.get("decisive")} == {("mongo", "disk_io_latency")}
    assert ("mongo", "error_rate_increase") in {(s.service, s.kind) for s in moved}


def test_a_numbered_host_is_its_fleet_and_a_device_of_a_network_fleet_stays_with_its_log() -> None:
    assert resolve_culprit("ny-lb05", ["ny-lb", "web"]) == "ny-lb"
    assert resolve_culprit("ny-web01", ["ny-lb", "web"]) == "web"
    assert resolve_culprit("auth.teams.internal:443", ["teams-auth", "chat-mt"]) == "teams-auth"
    assert resolve_culprit("web-3.prod.example.com", ["ny-lb", "web"]) == "web"
    # a provider's endpoint: the customer's name first, the provider's (the known component) after it
    assert resolve_culprit("acme-prod.mq-vendor.net:5671", ["mq-vendor", "intake"]) == "mq-vendor"
    assert resolve_culprit("shop.cache-co.example.net", ["cache-co", "cache-co-2"]) == "cache-co"
    assert resolve_culprit("ledger.payments.svc.cluster.local", ["payments"]) == "ledger"
    router = _decisive("backbone-rtr", "network_partition", 0.8, "bb1-ash6.fbnet")
    router.attributes["culprit_device"] = True
    moved = retarget([router], ["backbone-rtr", "www"])
    assert [(s.service, s.kind) for s in moved] == [("backbone-rtr", "network_partition")]
    node = _decisive("kubelet", "node_failure", 0.8, "ip-10-0-3-17")
    node.attributes["culprit_device"] = True
    assert {s.service for s in retarget([node], ["kubelet"]) if s.attributes.get("decisive")} == {"ip-10-0-3-17"}


def test_a_database_error_quoted_by_its_client_is_the_one_database_it_uses() -> None:
    quoted = Signal(source="logs", detector="logs.decisive", service="api", kind="disk_full", title="table is full",
                    score=0.525, started_at=at(9),
                    attributes={"decisive": False, "rule": "db.table_full", "culprit_role": "database"})
    moved = retarget([quoted], ["api", "api-mysql", "parser"], {"api": ["api-mysql", "parser"]})
    assert {(s.service, s.kind) for s in moved if s.attributes.get("decisive")} == {("api-mysql", "disk_full")}
    # two databases: nobody can tell which one, nothing is decided
    left = retarget([quoted], ["api", "a-db", "b-db"], {"api": ["a-db", "b-db"]})
    assert not any(s.attributes.get("decisive") for s in left)


def test_a_callers_generic_failure_takes_the_components_own_mechanism() -> None:
    from bot.reasoning.decisive import identity_kind

    down = _decisive("haproxy", "dependency_failure", 0.7, "ny-web01")
    cpu = signal("metrics", "web", "cpu_saturation", 0.88, 8)
    moved = retarget([down, cpu], ["haproxy", "web"])
    decided = [s for s in moved if s.attributes.get("decisive")]
    assert [(s.service, s.kind, s.score) for s in decided] == [("web", "cpu_saturation", 0.7)]
    assert decided[0].attributes["reported_as"] == "dependency_failure"
    # with nothing strong of its own, the component keeps "it failed"
    weak = retarget([down, signal("metrics", "web", "cpu_saturation", 0.5, 8)], ["haproxy", "web"])
    assert [(s.service, s.kind) for s in weak if s.attributes.get("decisive")] == [("web", "dependency_failure")]
    # a symptom's meaning on a component whose name gives its role
    assert identity_kind("strand-3par", "latency_increase") == "disk_io_latency"
    assert identity_kind("orders-db", "latency_increase") == "db_slow_query"
    assert identity_kind("core-rtr-2", "traffic_drop") == "network_partition"
    assert identity_kind("checkout", "latency_increase") is None


def test_a_community_rule_name_says_what_the_alert_is_about() -> None:
    from bot.reasoning.features import _words_of_name
    from bot.reasoning.keywords import kinds_in_text

    assert _words_of_name("HostOutOfDiskSpace") == "Host Out Of Disk Space"
    assert "disk_full" in kinds_in_text(_words_of_name("HostOutOfDiskSpace"))
    assert "disk_full" not in kinds_in_text("HostOutOfDiskSpace")  # why the words are needed
    assert _words_of_name("HTTPErrorsHigh") == "HTTP Errors High"
    assert "oom_kill" in kinds_in_text(_words_of_name("HostMemoryUnderMemoryPressure"))


def test_a_bare_address_stands_for_the_one_dependency_failing_on_its_own_evidence() -> None:
    refused = _decisive("cart", "dependency_failure", 0.8, "10.0.4.12:6379")
    store_down = _decisive("session-store", "crash_loop", 0.9)
    moved = retarget([refused, store_down], ["cart", "session-store", "catalog"],
                     {"cart": ["session-store", "catalog"]})
    reported = [s for s in moved if s.attributes.get("reporter") == "cart"]
    assert [(s.service, s.kind) for s in reported] == [("session-store", "crash_loop")]  # its own mechanism
    alone = retarget([refused], ["cart", "session-store", "catalog"], {"cart": ["session-store", "catalog"]})
    assert {s.service for s in alone if s.attributes.get("decisive")} == {"10.0.4.12"}


def test_a_bare_address_a_caller_with_one_dependency_failed_to_reach_is_that_dependency() -> None:
    refused = _decisive("ingress", "dependency_failure", 0.8, "10.60.2.14:3000")
    moved = retarget([refused], ["ingress", "checkout-web", "cdn"], {"ingress": ["checkout-web"]})
    assert {s.service for s in moved if s.attributes.get("decisive")} == {"checkout-web"}
    # a database's own fault is not any dependency's: with no dependency that fits, the address stays
    down = retarget([_decisive("ingress", "db_down", 0.8, "10.60.2.14:5432")], ["ingress", "checkout-web"],
                    {"ingress": ["checkout-web"]})
    assert {s.service for s in down if s.attributes.get("decisive")} == {"10.60.2.14"}


def test_an_exhausted_connection_pool_stays_with_the_caller_that_owns_it() -> None:
    pool = _decisive("checkout", "db_connection_exhaustion", 0.8)
    moved = retarget([pool], KNOWN, {"checkout": ["orders-db"]})
    assert [(s.service, s.kind) for s in moved] == [("checkout", "db_connection_exhaustion")]


def test_a_finding_that_names_its_effects_elsewhere_takes_their_support() -> None:
    exhausted = _decisive("ledger-db", "db_connection_exhaustion", 0.88)
    pile_up = _decisive("ledger-reconcile", "config_change", 0.85)
    pile_up.attributes["explains"] = ["db_connection_exhaustion", "resource_quota"]
    result = rank(context=context(service="payments-api"), signals=[exhausted, pile_up], similar=[], runbooks=[])
    top = result.hypotheses[0]
    assert (top.service, top.kind) == ("ledger-reconcile", "config_change")
    plain = _decisive("ledger-reconcile", "config_change", 0.85)  # the same finding without the link
    alone = rank(context=context(service="payments-api"), signals=[exhausted, plain], similar=[], runbooks=[])
    assert (alone.hypotheses[0].service, alone.hypotheses[0].kind) == ("ledger-db", "db_connection_exhaustion")


def test_a_path_metric_via_a_known_component_is_that_components() -> None:
    from bot.reasoning.decisive import path_metrics

    loss = signal("metrics", "edge-rtr", "packet_loss", 0.9, 9, metric="loss_percent_via_transit_a")
    delay = signal("metrics", "edge-rtr", "network_latency", 0.8, 9, metric="rtt_ms.via.level3")
    own = signal("metrics", "edge-rtr", "packet_loss", 0.8, 9, metric="loss_percent")
    unknown = signal("metrics", "edge-rtr", "packet_loss", 0.8, 9, metric="loss_percent_via_cogent")
    cpu = signal("metrics", "edge-rtr", "cpu_saturation", 0.8, 9, metric="cpu_via_transit_a")
    moved = path_metrics([loss, delay, own, unknown, cpu], ["edge-rtr", "transit-a", "level3"])
    assert [(s.service, s.kind) for s in moved] == [
        ("transit-a", "packet_loss"), ("level3", "network_latency"), ("edge-rtr", "packet_loss"),
        ("edge-rtr", "packet_loss"), ("edge-rtr", "cpu_saturation")]
    assert moved[0].attributes["measured_on"] == "edge-rtr"


def test_a_config_push_followed_by_its_dns_servers_failing_to_answer_is_the_cause() -> None:
    topology = {"login": ["corp-dns"], "corp-dns": []}
    ctx = context(service="login", topology=topology, events=[
        ChangeEvent(ts=at(0), kind="config", service="corp-dns", text="DNS configuration pushed to all servers")])
    # the callers' lookups fail (moved to the DNS servers), and a daemon on them will not restart
    lookup = _decisive("login", "dns_failure", 0.88, "dns", minute=2)
    lookup.attributes["looked_up"] = "corp-dns"
    restart = _decisive("corp-dns", "crash_loop", 0.53, minute=1)
    result = rank(context=ctx, signals=[lookup, restart, signal("changes", "corp-dns", "config", 0.8, 0)],
                  similar=[], runbooks=[])
    top = result.hypotheses[0]
    assert (top.service, top.kind) == ("corp-dns", "config_change")
    assert any(e.id.startswith("fit:corp-dns") for e in top.evidence)


def test_a_rollout_that_shipped_a_recorded_change_is_not_a_second_change() -> None:
    ctx = context(service="web", topology={"ingress": ["web"], "web": []}, events=[
        ChangeEvent(ts=at(0), kind="config", service="web", text="web chart: lifecycle hooks removed")])
    rollout = Signal(source="changes", detector="k8s.rollout", service="web", kind="deploy", score=0.9,
                     title="rollout of web revision 42 at 12:00 UTC: new ReplicaSet web-5f9d8c7b4 scaled up",
                     started_at=at(0.3), attributes={"kind": "deploy", "decisive": False, "rule": "rollout"})
    refused = _decisive("ingress", "dependency_failure", 0.75, "web", minute=1)
    result = rank(context=ctx, signals=[refused, rollout, signal("changes", "web", "config", 0.8, 0)], similar=[],
                  runbooks=[])
    found = {(h.service, h.kind) for h in result.hypotheses}
    assert ("web", "config_change") in found and ("web", "bad_deploy") not in found
    # a rollout no change record explains is a deploy of its own
    bare = rank(context=context(service="web", topology={"ingress": ["web"], "web": []}), signals=[refused, rollout],
                similar=[], runbooks=[])
    assert ("web", "bad_deploy") in {(h.service, h.kind) for h in bare.hypotheses}


def test_a_dns_servers_own_named_mechanism_after_a_change_keeps_the_answer() -> None:
    ctx = context(service="cart-api", topology={"cart-api": ["coredns"], "coredns": []}, events=[
        ChangeEvent(ts=at(0), kind="deploy", service="coredns", text="coredns pods recreated")])
    loop = _decisive("coredns", "dns_failure", 0.85, minute=2)  # its own log: a forwarding loop
    result = rank(context=ctx, signals=[loop, signal("changes", "coredns", "deploy", 0.8, 0)], similar=[], runbooks=[])
    assert (result.hypotheses[0].service, result.hypotheses[0].kind) == ("coredns", "dns_failure")


def test_a_failed_answer_naming_no_host_is_the_probers_one_dns_dependency() -> None:
    servfail = _decisive("synth-dns", "dns_failure", 0.88)  # a prober's "rcode=SERVFAIL": no looked-up name, no culprit
    servfail.attributes["line"] = "qname=api.shop.example ns=ns2.p34.dynect.net rcode=SERVFAIL rtt_ms=5000"
    names = ["synth-dns", "dyn", "shop", "payments"]
    moved = retarget([servfail], names, {"synth-dns": ["dyn"], "shop": ["dyn", "payments"]})
    assert {(s.service, s.kind) for s in moved if s.attributes.get("decisive")} == {("dyn", "dns_failure")}
    # two dependencies that could be it: the evidence must choose, nothing moves
    stays = retarget([servfail], names, {"synth-dns": ["dyn", "ultradns"]})
    assert [(s.service, s.kind) for s in stays] == [("synth-dns", "dns_failure")]


# An exhausted pool is the client's view of a slow or locked database (docs/causes.md): one row per mechanism.
@pytest.mark.parametrize(
    ("reporter", "mechanism_on", "mechanism"),
    [
        ("checkout", "orders-db", "db_lock_contention"),  # the client's pool ran dry; the database logs lock waits
        ("checkout", "orders-db", "db_slow_query"),  # the client's pool ran dry; the database logs slow queries
        ("orders-db", "orders-db", "db_lock_contention"),  # the database's own "Too many connections" behind a lock
    ],
)
def test_an_exhausted_pool_becomes_the_database_mechanism_that_explains_it(
        reporter: str, mechanism_on: str, mechanism: str) -> None:
    topology = {"checkout": ["orders-db"], "orders-db": []}
    pool = _decisive(reporter, "db_connection_exhaustion", 0.83)
    own = _decisive(mechanism_on, mechanism, 0.6)
    best = support(retarget([pool, own], KNOWN, topology))
    assert max(best, key=lambda key: best[key]) == ("orders-db", mechanism)
    assert (reporter, "db_connection_exhaustion") not in best


def test_an_exhausted_pool_with_no_database_mechanism_stays_the_callers() -> None:
    topology = {"checkout": ["orders-db"], "orders-db": []}
    pool = _decisive("checkout", "db_connection_exhaustion", 0.83)
    unrelated = _decisive("payments", "db_lock_contention", 0.9)  # not checkout's database
    best = support(retarget([pool, unrelated], KNOWN, topology))
    assert ("checkout", "db_connection_exhaustion") in best


def test_packet_loss_on_an_edge_under_attack_is_the_attack() -> None:
    loss = _decisive("checkout", "packet_loss", 0.88)  # nf_conntrack: table full on the edge
    flood = _decisive("checkout", "ddos", 0.6)  # the same edge's log names a SYN flood
    best = support(retarget([loss, flood], KNOWN, {}))
    assert max(best, key=lambda key: best[key]) == ("checkout", "ddos")
    assert ("checkout", "packet_loss") not in best


def test_packet_loss_without_an_attack_stays_packet_loss() -> None:
    loss = _decisive("checkout", "packet_loss", 0.88)
    elsewhere = _decisive("payments", "ddos", 0.6)
    best = support(retarget([loss, elsewhere], KNOWN, {}))
    assert ("checkout", "packet_loss") in best


@pytest.mark.parametrize(
    ("member", "topology", "expected"),
    [
        ("kafka-3", {"events-api": ["kafka"], "kafka": []}, "kafka"),  # a broker host's journal -> the cluster
        ("web12", {"lb": ["web"], "web": []}, "web"),
        ("web-3", {"lb": ["web", "web-3"], "web": [], "web-3": []}, "web-3"),  # the topology knows the member itself
        ("ip-10-20-3-41", {"gw": ["ip-10-20-3"]}, "ip-10-20-3-41"),  # no fleet: stays the host
    ],
)
def test_a_numbered_member_is_named_by_its_fleet(member: str, topology: dict[str, list[str]], expected: str) -> None:
    best = support(retarget([_decisive(member, "hardware_error", 0.8)], [member, *topology], topology))
    assert (expected, "hardware_error") in best


@pytest.mark.parametrize("reported", ["network_partition", "db_connection_exhaustion", "dependency_failure"])
def test_a_failure_to_reach_what_runs_on_machines_that_went_away_is_their_node_failure(reported: str) -> None:
    # checkout -> orders-db -> dc-1: dc-1's count of live hosts collapsed; checkout cannot reach orders-db
    topology = {"checkout": ["orders-db"], "orders-db": ["dc-1"], "dc-1": []}
    reach = _decisive("orders-db", reported, 0.63)
    gone = Signal(source="metrics", detector="metric.changepoint", service="dc-1", kind="node_failure",
                  title="dc-1: hosts_up fell from 12 to 0", score=0.9, started_at=at(8))
    best = support(retarget([reach, gone], [*KNOWN, "dc-1"], topology))
    assert max(best, key=lambda key: best[key]) == ("dc-1", "node_failure")


def test_a_node_whose_own_kernel_says_its_link_went_down_is_partitioned_not_failed() -> None:
    # both decisive on the node itself: NodeNotReady (node_failure) and the kernel's NIC link down (network_partition)
    topology = {"checkout": ["orders-db"], "orders-db": ["node-4"], "node-4": []}
    not_ready = _decisive("node-4", "node_failure", 0.85, minute=2)
    link_down = _decisive("node-4", "network_partition", 0.7, minute=3)
    moved = retarget([not_ready, link_down], [*KNOWN, "node-4"], topology)
    best = with_explanations(support(moved), moved)
    assert max(best, key=lambda key: best[key]) == ("node-4", "network_partition")


def test_machines_gone_elsewhere_do_not_take_a_partition() -> None:
    topology = {"checkout": ["orders-db"], "orders-db": [], "dc-2": []}
    reach = _decisive("orders-db", "network_partition", 0.63)
    gone = Signal(source="metrics", detector="metric.changepoint", service="dc-2", kind="node_failure",
                  title="dc-2: hosts_up fell", score=0.9, started_at=at(8))
    best = support(retarget([reach, gone], [*KNOWN, "dc-2"], topology))
    assert ("orders-db", "network_partition") in best


def _moved(signals: list[Signal], topology: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {(str(s.service), str(s.kind)) for s in retarget(signals, KNOWN, topology)}


def test_a_traffic_rise_on_a_caller_is_the_trigger_of_a_limit_its_dependency_reached() -> None:
    topology = {"checkout": ["payments"], "payments": ["orders-db"], "orders-db": []}
    rise = signal("metrics", "checkout", "traffic_spike", 0.88, 8)
    for limit_kind, on in (("cpu_saturation", "orders-db"), ("resource_quota", "payments")):
        limit = signal("metrics", on, limit_kind, 0.76, 9)
        moved = _moved([rise, limit], topology)
        assert ("checkout", "traffic_spike") not in moved
        assert (on, limit_kind) in moved


def test_a_traffic_rise_stays_when_no_dependency_reached_a_limit_under_it() -> None:
    topology = {"checkout": ["payments"], "payments": [], "coredns": []}
    rise = signal("metrics", "checkout", "traffic_spike", 0.88, 8)
    own = signal("metrics", "checkout", "cpu_saturation", 0.8, 9)  # the caller's own CPU: the rise is its story
    earlier = signal("metrics", "payments", "cpu_saturation", 0.8, 1)  # saturated long before the rise
    weak = signal("metrics", "payments", "resource_quota", 0.3, 9)
    unrelated = signal("metrics", "coredns", "cpu_saturation", 0.9, 9)  # not below checkout
    for other in (own, earlier, weak, unrelated):
        assert ("checkout", "traffic_spike") in _moved([rise, other], topology)


def test_a_consumer_backlog_is_the_limit_its_dependency_reached_first() -> None:
    topology = {"indexer": ["events-db", "broker"], "events-db": [], "broker": []}
    backlog = signal("logs", "indexer", "queue_backlog", 0.76, 12)
    saturated = signal("metrics", "events-db", "cpu_saturation", 0.81, 10)  # the sink saturated two minutes before
    moved = _moved([backlog, saturated], topology)
    assert ("indexer", "queue_backlog") not in moved
    assert ("events-db", "cpu_saturation") in moved


def test_a_consumer_backlog_stays_when_no_dependency_reached_a_limit_before_it() -> None:
    topology = {"indexer": ["events-db"], "events-db": [], "coredns": []}
    backlog = signal("logs", "indexer", "queue_backlog", 0.76, 40)
    later = signal("metrics", "events-db", "cpu_saturation", 0.8, 50)  # after the backlog: a consequence at most
    chronic = signal("metrics", "events-db", "cpu_saturation", 0.8, 1)  # saturated long before: its usual state
    weak = signal("metrics", "events-db", "cpu_saturation", 0.3, 39)
    unrelated = signal("metrics", "coredns", "cpu_saturation", 0.9, 39)  # not below the consumer
    for other in (later, chronic, weak, unrelated):
        assert ("indexer", "queue_backlog") in _moved([backlog, other], topology)


def _syn_flood(minute: float) -> Signal:
    sig = _decisive("cache-proxy", "ddos", 0.78, minute=minute)
    sig.attributes["rule"] = "kernel.syn_flood"
    return sig


def test_syn_cookies_on_a_host_whose_cpu_saturated_first_are_the_slow_listener_not_an_attack() -> None:
    topology = {"cache-proxy": []}
    busy = signal("metrics", "cache-proxy", "cpu_saturation", 0.9, 5)
    assert _moved([_syn_flood(9), busy], topology) >= {("cache-proxy", "cpu_saturation")}
    assert ("cache-proxy", "ddos") not in _moved([_syn_flood(9), busy], topology)
    # the flood came first (or with the CPU): an attack that then loaded the host
    assert ("cache-proxy", "ddos") in _moved([_syn_flood(5), signal("metrics", "cache-proxy", "cpu_saturation", 0.9, 5)],
                                             topology)
    assert ("cache-proxy", "ddos") in _moved([_syn_flood(9)], topology)


def _preemption(minute: float, rule: str) -> Signal:
    sig = _decisive("checkout", "resource_quota", 0.8 if rule == "schedule.insufficient" else 0.5, minute=minute)
    sig.attributes["rule"] = rule
    return sig


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kubectl apply priorityclasses.yaml: checkout Deployment priorityClassName: high", "config_change"),
        ("checkout Deployment: memory request 2Gi -> 4Gi", "resource_quota"),  # no priority: the limit stays
    ],
)
def test_preemption_right_after_a_pod_priority_change_is_the_change(text: str, expected: str) -> None:
    event = ChangeEvent(ts=at(0), kind="config", service="checkout", text=text)
    ctx = context(service="checkout", topology={"checkout": []}, events=[event])
    signals = [_preemption(2, "schedule.preempted"), _preemption(5, "schedule.insufficient"),
               *detect_change_signals([event], alert_time=at(10))]
    top = rank(context=ctx, signals=signals, similar=[], runbooks=[]).hypotheses[0]
    assert (top.service, top.kind) == ("checkout", expected)


def _aged_line(minute: float) -> Signal:
    sig = _decisive("checkout", "network_partition", 0.44, minute=minute)  # scored down by the log detector
    sig.attributes.update({"decisive": False, "predates_alert": True})
    return sig


def test_a_line_set_aside_as_old_is_decisive_again_when_the_incident_starts_right_after_it() -> None:
    line = _aged_line(1)
    later = signal("metrics", "payments", "latency_increase", 0.8, 4)  # the incident's first measured change
    (revived, _) = retarget([line, later], KNOWN, {})[:2]
    assert revived.attributes["decisive"] is True and revived.score > line.score
    assert support([revived]) == {("checkout", "network_partition"): revived.score}


@pytest.mark.parametrize("metric_minute", [-10.0, 30.0])  # the incident was under way before it / began much later
def test_a_line_set_aside_as_old_stays_aside_when_the_incident_did_not_start_with_it(metric_minute: float) -> None:
    line = _aged_line(1)
    other = signal("metrics", "payments", "latency_increase", 0.8, metric_minute)
    assert support(retarget([line, other], KNOWN, {})) == {}


def test_a_line_set_aside_as_old_is_decisive_again_when_its_own_components_metric_stepped_with_it() -> None:
    # a mail server's "Too many open files" an hour before a probe's alert; its own error count jumped that minute,
    # a change point scored low for its age
    line = _aged_line(1)
    own = signal("metrics", "checkout", "error_rate_increase", 0.21, 1)
    revived = retarget([line, own], KNOWN, {})[0]
    assert revived.attributes["decisive"] is True and revived.attributes["incident_start"] is True
    assert support([revived]) == {("checkout", "network_partition"): revived.score}


@pytest.mark.parametrize(("service", "minute"), [("payments", 1.0), ("checkout", 8.0), ("checkout", -6.0)])
def test_a_low_metric_step_revives_no_line_of_another_component_or_another_minute(service: str, minute: float) -> None:
    line = _aged_line(1)
    other = signal("metrics", service, "error_rate_increase", 0.21, minute)
    assert support(retarget([line, other], KNOWN, {})) == {}


def test_an_expired_certificate_a_client_reports_without_naming_a_peer_is_its_one_dependencys() -> None:
    topology = {"checkout": ["payments"], "payments": []}
    expired = _decisive("checkout", "certificate_expired", 0.9)  # "x509: certificate has expired", no host named
    assert support(retarget([expired], KNOWN, topology)) == {("payments", "certificate_expired"): 0.9}


def test_a_fault_relayed_by_a_verifier_moves_down_to_where_it_lives() -> None:
    # health checks report what the verifier reports, which fails on the signing service's expired issuer
    topology = {"health": ["verify"], "verify": ["signing"], "signing": []}
    seen_by_health = _decisive("health", "certificate_expired", 0.78)
    seen_by_verify = _decisive("verify", "certificate_expired", 0.78)
    best = support(retarget([seen_by_health, seen_by_verify], ["health", "verify", "signing"], topology))
    assert best == {("signing", "certificate_expired"): 0.78}


def test_an_expired_certificate_whose_subject_names_the_reporter_stays_its_own() -> None:
    topology = {"sgsn-mme": ["hss"], "hss": []}
    own = _decisive("sgsn-mme", "certificate_expired", 0.78)
    own.attributes["line"] = ("certificate check failed for software module 'ctrl' (CN=SGSN-MME SW 1.29, "
                              "notAfter=2018-12-06 04:39:00 UTC): certificate has expired")
    assert support(retarget([own], ["sgsn-mme", "hss"], topology)) == {("sgsn-mme", "certificate_expired"): 0.78}


def test_an_expired_certificate_of_a_module_quoted_with_the_reporters_name_stays_its_own() -> None:
    # the subject's CN is a product string that says nothing of the host's name; the module checked is quoted
    topology = {"opal-flint": ["lumen"], "lumen": []}
    own = _decisive("opal-flint", "certificate_expired", 0.78)
    own.attributes["line"] = ("opal-flint-1 SECURITY: certificate check failed for software module 'opal-flint-ctrl' "
                              "(CN=PRODUCT SW 1.29, notAfter=2018-12-06 04:39:00 UTC): certificate has expired")
    assert support(retarget([own], ["opal-flint", "lumen"], topology)) == {("opal-flint", "certificate_expired"): 0.78}
    # a quoted name that is the reporter's dependency's (``'web-api'`` in web's log) is that dependency's
    topology = {"web": ["web-api"], "web-api": []}
    peer = _decisive("web", "certificate_expired", 0.78)
    peer.attributes["line"] = "TLS handshake with 'web-api' failed: x509: certificate has expired"
    assert support(retarget([peer], ["web", "web-api"], topology)) == {("web-api", "certificate_expired"): 0.78}


def test_a_component_named_for_nothing_is_what_its_own_lines_say() -> None:
    roles = {"amber-cobalt": "database", "ember-flint": "network"}
    assert name_affinity("amber-cobalt", "db_down") == 0.5
    assert name_affinity("amber-cobalt", "db_down", roles) == 1.0
    assert name_affinity("amber-cobalt", "dns_failure", roles) == 0.5  # what runs there; its host may still fail
    assert name_affinity("orders-db", "dns_failure", {"orders-db": "network"}) == 0.0  # the name speaks first
    # a bare address on a database port: the dependency whose lines are a database server's stands for it
    refused = _decisive("maple-wren", "db_down", 0.9, "10.16.2.168:5432")
    assert "10.16.2.168" in {s.service for s in retarget([refused], ["maple-wren", "amber-cobalt"])}
    moved = retarget([refused], ["maple-wren", "amber-cobalt"], None, roles)
    assert {s.service for s in moved if s.attributes.get("decisive")} == {"amber-cobalt"}
    # two services named as databases: the one whose own lines are a database server's
    two = retarget([_decisive("blog", "db_down", 0.9, "10.43.18.77:3306")], ["blog", "mysql-zinnia", "mysql-alder"],
                   None, {"mysql-zinnia": "database"})
    assert {s.service for s in two if s.attributes.get("decisive")} == {"mysql-zinnia"}
    # a device host in the log of a component whose lines are device syslog: that component's
    router = _decisive("ember-flint", "network_partition", 0.8, "hazel1-willow6.fbnet")
    router.attributes["culprit_device"] = True
    assert [s.service for s in retarget([router], ["ember-flint", "www"], None, roles)] == ["ember-flint"]
    assert "hazel1-willow6.fbnet" in {s.service for s in retarget([router], ["ember-flint", "www"])}


def test_a_component_whose_lines_are_a_name_servers_is_where_resolution_fails() -> None:
    roles = {"rowan": "dns"}
    assert name_affinity("rowan", "dns_failure") == 0.5
    assert name_affinity("rowan", "dns_failure", roles) == 1.0
    assert identity_kind("rowan", "error_rate_increase", roles) == "dns_failure"
    assert identity_kind("rowan", "error_rate_increase") is None


def test_an_unanswered_lookup_blames_the_one_dependency_every_caller_shares_when_no_name_says_resolver() -> None:
    line = ("dial tcp: lookup kafka-3.int.example on 169.254.169.253:53: read udp 10.0.5.1:45678->"
            "169.254.169.253:53: i/o timeout")
    timed_out = _decisive("shepherd", "dns_failure", 0.85, "dns")
    timed_out.attributes.update({"looked_up": "kafka-3.int.example", "line": line})
    topology = {"shepherd": ["kafka", "yarrow"], "ui": ["mysql", "yarrow"], "retriever": ["kafka", "yarrow"]}
    moved = retarget([timed_out], ["shepherd", "ui", "retriever", "kafka", "mysql", "yarrow"], topology)
    assert {(s.service, s.kind) for s in moved if s.attributes.get("decisive")} == {("yarrow", "dns_failure")}
    # one caller: sharing says nothing; a name that does not exist (answered) stays its owner's
    alone = retarget([timed_out], ["shepherd", "kafka", "yarrow"], {"shepherd": ["kafka", "yarrow"]})
    assert ("yarrow", "dns_failure") not in {(s.service, s.kind) for s in alone if s.attributes.get("decisive")}
    missing = _decisive("shepherd", "dns_failure", 0.85, "dns")
    missing.attributes.update({"looked_up": "kafka-3.int.example", "line": "lookup kafka-3.int.example: no such host"})
    moved = retarget([missing], ["shepherd", "ui", "retriever", "kafka", "mysql", "yarrow"], topology)
    assert {(s.service, s.kind) for s in moved if s.attributes.get("decisive")} == {("kafka", "dns_failure")}


def test_a_host_named_after_the_service_whose_log_it_writes_in_is_a_member_of_it() -> None:
    conntrack = _decisive("flint-delta", "packet_loss", 0.88, "delta1")
    conntrack.attributes["culprit_device"] = True
    assert [s.service for s in retarget([conntrack], ["flint-delta", "birch-pg"])] == ["flint-delta"]
    node = _decisive("kubelet", "node_failure", 0.8, "ip-10-0-3-17")
    node.attributes["culprit_device"] = True  # a host named for nothing of the log's service stays itself
    assert "ip-10-0-3-17" in {s.service for s in retarget([node], ["kubelet"])}


@pytest.mark.parametrize(("service", "host", "expected"), [
    ("git-server", "git", "git-server"),  # the log's service is named for its host and what runs there
    ("mail-relay", "mail.example.net", "mail-relay"),
    ("gitlab", "git", "git"),  # a name that merely begins with the host's letters is not named for it
    ("web-server", "db", "db"),
])
def test_a_device_host_the_log_s_service_is_named_for_is_that_service(service: str, host: str, expected: str) -> None:
    disk = _decisive(service, "hardware_error", 0.8, host)
    disk.attributes["culprit_device"] = True
    assert expected in {s.service for s in retarget([disk], [service, "mirror"]) if s.attributes.get("decisive")}


def _kernel(service: str, host: str, minute: float, rule: str = "kernel.soft_lockup") -> Signal:
    sig = _decisive(service, "node_failure", 0.63, host, minute)
    sig.attributes.update({"culprit_device": True, "rule": rule})
    return sig


def test_several_numbered_members_of_one_fleet_failing_alike_in_a_service_log_are_that_service() -> None:
    three = [_kernel("tally", f"tly-box-{n}", 9 + n) for n in (1, 2, 5)]
    moved = retarget(three, ["tally", "gateway"])
    assert {s.service for s in moved if s.attributes.get("decisive")} == {"tally"}
    # one member alone is one machine: it stays itself, as do hosts named for their address
    alone = retarget([_kernel("tally", "tly-box-4", 9)], ["tally", "gateway"])
    assert {s.service for s in alone if s.attributes.get("decisive")} == {"tly-box-4"}
    nodes = retarget([_kernel("kubelet", "ip-10-0-3-17", 9), _kernel("kubelet", "ip-10-0-3-18", 9)], ["kubelet"])
    assert {s.service for s in nodes if s.attributes.get("decisive")} == {"ip-10-0-3-17", "ip-10-0-3-18"}


def _alert(service: str, text: str) -> Signal:
    return Signal(source="alert", detector="alert", service=service, kind=None, title=text, score=0.5, started_at=at(6))


@pytest.mark.parametrize("effect", ["crash_loop", "db_down"])
def test_a_full_volume_an_alert_names_is_why_its_service_crash_loops(effect: str) -> None:
    # a volume-filling alert on orders-db, whose pod then exits with a bare "Error, exit code 1" and backs off
    signals = [_alert("orders-db", "KubePersistentVolumeFillingUp Disk used ratio of orders-db is 0.9702"),
               _decisive("orders-db", effect, 0.55)]
    best = with_explanations(support(signals), signals)
    assert max(best, key=lambda key: best[key]) == ("orders-db", "disk_full")
    assert best[("orders-db", effect)] < best[("orders-db", "disk_full")]


def test_a_name_server_oom_killed_is_why_its_lookups_fail() -> None:
    # the cluster DNS OOMKilled (its own event), its callers' lookups timing out: the kill, not "DNS failed"
    signals = [_decisive("coredns", "dns_failure", 0.8), _decisive("coredns", "oom_kill", 0.45)]
    best = with_explanations(support(signals), signals)
    assert max(best, key=lambda key: best[key]) == ("coredns", "oom_kill")
    assert best[("coredns", "dns_failure")] < best[("coredns", "oom_kill")]
    # a kill on another component explains nothing here
    other = [_decisive("coredns", "dns_failure", 0.8), _decisive("cart-api", "oom_kill", 0.45)]
    best = with_explanations(support(other), other)
    assert max(best, key=lambda key: best[key]) == ("coredns", "dns_failure")


def test_an_alert_on_another_service_explains_nothing_here() -> None:
    signals = [_alert("payments", "KubePersistentVolumeFillingUp Disk used ratio of payments is 0.97"),
               _decisive("orders-db", "crash_loop", 0.55)]
    best = with_explanations(support(signals), signals)
    assert best == {("orders-db", "crash_loop"): 0.55}


def test_a_numbered_host_is_the_one_known_name_that_ends_with_its_fleet() -> None:
    # HAProxy's "Server rgw/backend-3 is DOWN" when the incident knows the backends as objstore-backend
    assert resolve_culprit("backend-3", ["objstore-proxy", "objstore-backend"]) == "objstore-backend"
    assert resolve_culprit("cache2", ["web", "session-cache"]) == "session-cache"
    # two names end that way: the evidence must choose, nothing moves; an unnumbered host is no fleet member
    assert resolve_culprit("backend-3", ["eu-backend", "us-backend"]) == "backend-3"
    assert resolve_culprit("backend", ["objstore-backend"]) == "backend"
    # too short a stem to say anything
    assert resolve_culprit("s-1", ["objstore-s"]) == "s-1"


def test_a_line_set_aside_as_old_is_decisive_again_when_a_component_went_silent_right_before_it() -> None:
    # a load balancer marks a backend down a minute after that backend's log went quiet: the silence is the
    # incident's first measured change (detectors/logs/silence.py), so the old line is where the incident began
    line = _aged_line(2)
    quiet = Signal(source="logs", detector="log.silence", service="payments", kind="node_failure", score=0.75,
                   title="payments: stopped logging", started_at=at(1))
    revived = retarget([line, quiet], KNOWN, {})[0]
    assert revived.attributes["decisive"] is True and revived.attributes["incident_start"] is True
    weak = quiet.model_copy(update={"score": 0.2})  # too weak a change to say when the incident began
    assert retarget([line, weak], KNOWN, {})[0].attributes["decisive"] is False


def _refusal(service: str, text: str, minute: float = 9, **attributes: object) -> Signal:
    return Signal(source="logs", detector="log.new_template", service=service, kind="rate_limited",
                  title=f"{service}: new log template: {text}", score=0.85, started_at=at(minute),
                  attributes=dict(attributes),
                  evidence=[Evidence(id=f"log:{service}:refusal", type=EvidenceType.LOG, summary=text, service=service)])


@pytest.mark.parametrize(
    ("refusal", "limit", "expected"),
    [
        # its own line says it refuses, its CPU at the ceiling first: the CPU is the fault
        (_refusal("sandbox", "request refused for tenant <*>; responding 429"), ("cpu_saturation", 5), "cpu_saturation"),
        (_refusal("sandbox", "overloaded, shedding load (queue 512)"), ("thread_pool_exhaustion", 8), "thread_pool_exhaustion"),
        # a caller's quote of its 429 moved to it (``reporter``): the same
        (_refusal("sandbox", "upstream said 429 Too Many Requests", reporter="gateway"), ("cpu_saturation", 5),
         "cpu_saturation"),
        # the limit began well after the refusals: the refusals are not its symptom
        (_refusal("sandbox", "responding 429 to client <*>"), ("cpu_saturation", 20), "rate_limited"),
        # a refusal that names a quota or a plan is a policy limit, whatever the CPU does
        (_refusal("sandbox", "monthly quota exceeded for tenant <*>; responding 429"), ("cpu_saturation", 5),
         "rate_limited"),
        # the component received a 429 (its own line does not say it refuses): a provider's throttling
        (_refusal("sandbox", "got 429 Too Many Requests from api.payments.example"), ("cpu_saturation", 5),
         "rate_limited"),
    ],
)
def test_a_component_refusing_at_its_own_ceiling_is_that_limit_not_rate_limited(
        refusal: Signal, limit: tuple[str, float], expected: str) -> None:
    busy = signal("metrics", "sandbox", limit[0], 0.9, limit[1])
    moved = retarget([refusal, busy], ["sandbox", "gateway"], {"gateway": ["sandbox"], "sandbox": []})
    kinds = [s.kind for s in moved if s.title == refusal.title]
    assert kinds == [expected]


def test_a_refusal_on_another_component_than_the_busy_one_stays_rate_limited() -> None:
    moved = retarget([_refusal("sandbox", "responding 429"), signal("metrics", "gateway", "cpu_saturation", 0.9, 5)],
                     ["sandbox", "gateway"], {})
    assert [s.kind for s in moved if s.service == "sandbox"] == ["rate_limited"]


def test_failed_lookups_go_past_a_resolver_whose_own_lines_blame_its_upstream() -> None:
    lookup = _decisive("payments", "dns_failure", 0.85, "coredns")
    lookup.attributes["looked_up"] = "api.stripe.com"
    upstream = _decisive("corp-dns", "dns_failure", 0.7)
    upstream.attributes["seen_on"] = "coredns"
    names = ["payments", "coredns", "corp-dns"]
    moved = retarget([lookup, upstream], names, {"payments": ["coredns"], "coredns": ["corp-dns"]})
    assert {s.service for s in moved if s.attributes.get("decisive")} == {"corp-dns"}
    # without the resolver's own finding the lookups stay with the resolver
    alone = retarget([lookup], names, {"payments": ["coredns"], "coredns": ["corp-dns"]})
    assert {s.service for s in alone if s.attributes.get("decisive")} == {"coredns"}


def _peer_partition(reporter: str, peer: str) -> Signal:
    sig = _decisive(reporter, "network_partition", 0.8, peer)
    return sig.model_copy(update={"attributes": {**sig.attributes, "blame": "peer"}})


def test_a_callers_lost_path_to_a_peer_whose_own_log_shows_it_crashed_is_that_machines_failure() -> None:
    topology = {"checkout": ["payments"], "payments": []}
    lost = _peer_partition("checkout", "payments")  # "connect: no route to host" to the peer
    crashed = _decisive("payments", "node_failure", 0.85)  # the peer's own kernel panic
    best = support(retarget([lost, crashed], KNOWN, topology))
    assert max(best, key=lambda key: best[key]) == ("payments", "node_failure")
    assert ("payments", "network_partition") not in best


def test_a_callers_lost_path_to_a_peer_with_no_crash_of_its_own_stays_a_partition() -> None:
    topology = {"checkout": ["payments"], "payments": []}
    lost = _peer_partition("checkout", "payments")
    unrelated = _decisive("orders-db", "node_failure", 0.85)
    best = support(retarget([lost, unrelated], KNOWN, topology))
    assert ("payments", "network_partition") in best


def test_a_partition_a_node_reports_of_itself_is_not_explained_by_its_own_failure() -> None:
    own = _decisive("payments", "network_partition", 0.8)  # its own NIC link down (blame: device)
    own = own.model_copy(update={"attributes": {**own.attributes, "blame": "device"}})
    crashed = _decisive("payments", "node_failure", 0.85)
    best = support(retarget([own, crashed], KNOWN, {"payments": []}))
    assert ("payments", "network_partition") in best


@pytest.mark.parametrize(
    ("reporter", "topology", "expected"),
    [
        # a host by its short name when the topology knows it fully qualified (the one such name)
        ("ip-10-4-7-21", {"kafka": ["ip-10-4-7-21.eu-central-1.compute.internal"]},
         "ip-10-4-7-21.eu-central-1.compute.internal"),
        ("ip-10-4-7-21", {"kafka": ["ip-10-4-7-21.a.internal", "ip-10-4-7-21.b.internal"]}, "ip-10-4-7-21"),
        # a part of a release (its chart's role suffix) by the release, when the topology knows only the release
        ("kyverno-admission-controller", {"kube-apiserver": ["kyverno"], "kyverno": []}, "kyverno"),
        ("argocd-repo-server", {"argocd": []}, "argocd"),
        ("kyverno-admission-controller", {"kyverno": [], "kyverno-admission-controller": []},
         "kyverno-admission-controller"),
        # a suffix that is no chart role stays: orders-db is not orders
        ("orders-db", {"orders": []}, "orders-db"),
    ],
)
def test_a_component_the_topology_knows_by_another_name_is_named_its_way(
        reporter: str, topology: dict[str, list[str]], expected: str) -> None:
    best = support(retarget([_decisive(reporter, "hardware_error", 0.8)], [reporter, *topology], topology))
    assert (expected, "hardware_error") in best


def _lookup(reporter: str, name: str, rule: str) -> Signal:
    sig = _decisive(reporter, "dns_failure", 0.85, "dns")
    sig.attributes.update({"looked_up": name, "rule": rule})
    return sig


def test_a_cluster_name_answered_as_missing_is_its_workload_s_a_timed_out_one_the_cluster_dns() -> None:
    topology = {"statement-api": ["ledger-api", "coredns"], "ledger-api": [], "coredns": []}
    names = ["statement-api", "ledger-api", "coredns"]
    gone = _lookup("statement-api", "ledger-api.finance.svc.cluster.local", "dns.nxdomain")
    assert ("ledger-api", "dns_failure") in support(retarget([gone], names, topology))
    unanswered = _lookup("statement-api", "ledger-api.finance.svc.cluster.local", "dns.temporary")
    assert ("coredns", "dns_failure") in support(retarget([unanswered], names, topology))
    # a name the incident does not know (a typo) stays with the cluster's DNS
    typo = _lookup("statement-api", "ledgr-api.finance.svc.cluster.local", "dns.nxdomain")
    assert ("coredns", "dns_failure") in support(retarget([typo], names, topology))


@pytest.mark.parametrize(
    ("program", "known", "expected"),
    [
        ("redis-server", ["api", "redis-cache", "postgres"], "redis-cache"),
        ("redis-server", ["api", "redis", "redis-cache"], "redis"),  # the product's own name first
        ("redis-server", ["api", "orders-redis", "sessions-redis"], None),  # two servers of it: the evidence must say
        ("mysqld", ["web", "mysql"], "mysql"),
        ("mongod", ["api", "mongodb"], "mongodb"),
        ("ceph-osd", ["radosgw", "ceph"], "ceph"),
        ("postgres", ["api", "postgres-main"], "postgres-main"),
        ("java", ["api", "java-api"], None),  # a program that runs anything names no component
        ("kubelet", ["node-1", "kubelet-proxy"], None),
    ],
)
def test_a_killed_server_program_is_its_component(program: str, known: list[str], expected: str | None) -> None:
    assert daemon_owner(program, known) == expected


def test_a_host_oom_kill_of_a_known_server_program_is_that_components_oom_kill() -> None:
    kill = _decisive("cache-host", "oom_kill", 0.9)
    kill.attributes["killed_program"] = "redis-server"
    best = support(retarget([kill], ["api", "redis-cache", "cache-host"], {"api": ["redis-cache"]}))
    assert ("redis-cache", "oom_kill") in best and ("cache-host", "oom_kill") not in best
    other = _decisive("cache-host", "oom_kill", 0.9)
    other.attributes["killed_program"] = "java"
    assert ("cache-host", "oom_kill") in support(retarget([other], ["api", "redis-cache", "cache-host"]))


@pytest.mark.parametrize(("traffic_minute", "traffic_score", "traffic_service", "expected"), [
    (5, 0.86, "game", "traffic_spike"),  # the requests rose, then the CPU: the surge's story
    (8.5, 0.86, "game", "traffic_spike"),  # together, within a minute
    (12, 0.86, "game", "cpu_saturation"),  # the CPU was busy before the requests rose
    (5, 0.5, "game", "cpu_saturation"),  # a weak rise explains nothing
    (5, 0.86, "login", "cpu_saturation"),  # another service's traffic
])
def test_a_service_s_cpu_saturated_by_its_own_traffic_rise_is_that_rise(
        traffic_minute: float, traffic_score: float, traffic_service: str, expected: str) -> None:
    cpu = signal("metrics", "game", "cpu_saturation", 0.9, 9)
    rise = signal("metrics", traffic_service, "traffic_spike", traffic_score, traffic_minute)
    out = load_explains_own_saturation([cpu, rise])
    assert out[0].kind == expected and out[1] == rise


def test_a_workload_told_its_own_members_names_do_not_exist_is_its_own_spec_not_the_dns() -> None:
    # a StatefulSet's peers looked up through its headless Service: the DNS answered NXDOMAIN, the names exist only
    # while the Service fits the set (serviceName, publishNotReadyAddresses)
    own = _decisive("cockroachdb", "dns_failure", 0.85, "dns")
    own.attributes.update({"rule": "dns.nxdomain", "looked_up": "cockroachdb-0.cockroachdb.db.svc.cluster.local"})
    moved = retarget([own], ["cockroachdb", "coredns"])
    assert set(support(moved)) == {("cockroachdb", "config_change")}
    # another workload's member, or a lookup that timed out, stays a lookup failure
    other = _decisive("ledger-api", "dns_failure", 0.85, "dns")
    other.attributes.update({"rule": "dns.nxdomain", "looked_up": "cockroachdb-0.cockroachdb.db.svc.cluster.local"})
    timed_out = _decisive("cockroachdb", "dns_failure", 0.85, "dns")
    timed_out.attributes.update({"rule": "dns.temporary",
                                 "looked_up": "cockroachdb-0.cockroachdb.db.svc.cluster.local"})
    assert ("cockroachdb", "config_change") not in set(support(retarget([other], ["ledger-api", "cockroachdb"])))
    assert ("cockroachdb", "config_change") not in set(support(retarget([timed_out], ["cockroachdb", "coredns"])))
    # a member that is not running (its volume cannot attach) has no name either: that failure is why
    stuck = _decisive("mongo", "disk_io_latency", 0.8)
    member = _decisive("mongo", "dns_failure", 0.85, "dns")
    member.attributes.update({"rule": "dns.nxdomain", "looked_up": "mongo-1.mongo.catalog.svc"})
    assert ("mongo", "config_change") not in set(support(retarget([stuck, member], ["mongo", "coredns"])))


def test_a_nodes_own_kernel_report_explains_its_not_ready() -> None:
    # the kernel says the node's CPUs or tasks are stuck (KernelDeadlock, a soft lockup): that is why it is NotReady
    signals = [_decisive("node-7", "node_failure", 0.85), _decisive("node-7", "hardware_error", 0.7)]
    explained = with_explanations(support(signals), signals)
    assert explained[("node-7", "hardware_error")] == 0.85
    assert explained[("node-7", "node_failure")] < 0.85


def test_a_finding_that_names_its_effects_takes_their_support() -> None:
    # a device plugin serving no devices explains the GPU pods' lack of room elsewhere (``attributes["explains"]``)
    plugin = _decisive("nvidia-device-plugin", "bad_deploy", 0.8)
    plugin = plugin.model_copy(update={"attributes": {**plugin.attributes, "explains": ["resource_quota"]}})
    signals = [_decisive("video-inference", "resource_quota", 0.9), plugin]
    explained = with_explanations(support(signals), signals)
    assert explained[("nvidia-device-plugin", "bad_deploy")] == 0.9
    assert explained[("video-inference", "resource_quota")] < 0.8
