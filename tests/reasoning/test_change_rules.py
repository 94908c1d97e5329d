"""What a change is by what it changed, and when it is a suspect (``bot/reasoning/change_rules.py`` and the change
rules of ``bot/reasoning/features.py``): synthetic incidents, one rule each, with the red herrings they must refuse."""

from __future__ import annotations

import pytest

from bot.domain import ChangeEvent
from bot.reasoning.change_rules import WHAT_CHANGED, kind_by_what_changed, upgrades_own_package, what_changed
from bot.reasoning.features import build_candidates
from tests.reasoning.factories import at, context, signal


@pytest.mark.parametrize("row", WHAT_CHANGED, ids=lambda r: r.id)
def test_each_row_reads_its_positive_and_not_its_negative(row) -> None:  # type: ignore[no-untyped-def]
    assert row.regex.search(row.positive), row.positive
    assert not row.regex.search(row.negative), row.negative


@pytest.mark.parametrize(("kind", "text", "expected"), [
    # configuration shipped through a deploy pipeline: named by what changed
    ("bad_deploy", "helm upgrade storefront --version 3.0.0 (chart migration: selector labels renamed)", "config_change"),
    ("bad_deploy", "billing chart 5.0.0: RBAC split into two roles", "config_change"),
    ("bad_deploy", "search-frontend revision 77: values refactor", "config_change"),
    ("bad_deploy", "liveness probe timeout lowered to 1s", "config_change"),
    ("bad_deploy", "migration cutover: ibank switched to the new platform config (routing tables for both sites)",
     "config_change"),
    ("bad_deploy", "api 4.2.0 with its configuration refactored", "bad_deploy"),
    # infrastructure applied for a component (its certificate, its aliases) is its configuration; the feature the
    # apply prepares for is its purpose, not what it changed
    ("bad_deploy", "infra: terraform apply cdn (certificate and aliases for upcoming custom-domains feature)",
     "config_change"),
    ("bad_deploy", "edge: new TLS certificate ahead of the planned launch", "config_change"),
    # a feature shipped is new code
    ("bad_deploy", "web: custom-domains feature rolled out", "bad_deploy"),
    ("bad_deploy", "web: custom-domains feature with its certificate aliases", "bad_deploy"),
    # new code stays a deploy, even with configuration beside it
    ("bad_deploy", "cart-api 5.5.2 rolled out", "bad_deploy"),
    ("bad_deploy", "pricing v3.12.0: cache TTL 2s -> 1s", "bad_deploy"),
    ("bad_deploy", "github/github deploy 7c1e9a2 (notifications batching)", "bad_deploy"),
    ("bad_deploy", "deploy of checkout", "bad_deploy"),
    # nothing of what runs changed
    ("bad_deploy", "coredns pods recreated after node upgrade", None),
    ("bad_deploy", "kubectl rollout restart deployment/web", None),
    ("config_change", "pods restarted to pick up nothing new", None),
    ("bad_deploy", "ops: enqueued one-off job ReindexOrders (all tenants)", None),
    ("bad_deploy", "triggered the backfill for March usage", None),
    # a job shipped with new code is a deploy
    ("bad_deploy", "reports 3.1.0 deployed; ran a backfill", "bad_deploy"),
    # a restart that ships a new version is a deploy
    ("bad_deploy", "web 2.0.1 rolled out, pods restarted", "bad_deploy"),
    # other kinds as stated
    ("config_change", "db pool: MaxIdleConns 2 -> 20", "config_change"),
    ("feature_flag", "flag new_checkout enabled for 10%", "feature_flag"),
])
def test_kind_by_what_changed(kind: str, text: str, expected: str | None) -> None:
    assert kind_by_what_changed(kind, text) == expected


@pytest.mark.parametrize(("text", "service", "expected"), [
    # a host's package upgrade that ships the component's own program is a new version of it
    ("Jun 10 06:03:01 node-eu-14 unattended-upgrade[88112]: Packages that will be upgraded: libssl3 net-agent openssl",
     "net-agent", "bad_deploy"),
    ("Jun  2 04:10:33 web-1 yum[2211]: Updated: haproxy-2.4.22-1.el9.x86_64", "haproxy", "bad_deploy"),
    ("2023-03-08 06:00:12 upgrade systemd:amd64 249.11-0ubuntu3.6 249.11-0ubuntu3.7", "systemd", "bad_deploy"),
    # other packages on its host stay its configuration
    ("Jun 10 06:03:01 node-1 unattended-upgrade[4700]: Packages that will be upgraded: libsystemd0 systemd udev",
     "checkout", "config_change"),
    # a name that only begins like the program's is another package
    ("Jun 10 06:03:01 node-1 unattended-upgrade[4700]: Packages that will be upgraded: net-agent-tools", "net-agent",
     "config_change"),
    # not a package upgrade at all: a release upgraded by its chart is read by what it changed
    ("net-agent settings: mtu 1500 -> 9001", "net-agent", "config_change"),
    ("helm upgrade net-agent ./chart --set mtu=9001", "net-agent", "config_change"),
])
def test_a_package_upgrade_of_the_components_own_program_is_a_deploy(text: str, service: str, expected: str) -> None:
    assert kind_by_what_changed("config_change", text, (), service) == expected
    assert upgrades_own_package(text, service) is (expected == "bad_deploy")


def test_what_changed_of_empty_text_is_nothing() -> None:
    assert what_changed("") == set()
    assert kind_by_what_changed("bad_deploy", "") == "bad_deploy"


def _event(service: str, kind: str, minute: float, text: str) -> ChangeEvent:
    return ChangeEvent(ts=at(minute), kind=kind, service=service, text=text)


def _cands(ctx, signals):  # type: ignore[no-untyped-def]
    return {(c.service, c.kind): c for c in build_candidates(context=ctx, signals=signals, similar=[], runbooks=[])}


def _fresh_errors(service: str, minute: float):  # type: ignore[no-untyped-def]
    # a new error template on the service (``log.new_template``), no cause named
    return signal("logs", service, "error_rate_increase", 0.85, minute).model_copy(update={"detector": "log.new_template"})


def _decisive(service: str, kind: str, score: float, minute: float):  # type: ignore[no-untyped-def]
    return signal("logs", service, kind, score, minute, attributes={"decisive": True, "line": f"{kind} line"})


SHOP = {"shop": ["edge", "db"], "edge": ["transit"], "transit": [], "db": []}


def test_a_deploy_that_changed_only_configuration_is_a_config_change_candidate() -> None:
    ctx = context(service="shop", topology=SHOP,
                  events=[_event("shop", "deploy", 0, "shop chart 4.0.0: service selector labels renamed")])
    cands = _cands(ctx, [_fresh_errors("shop", 5)])
    assert cands[("shop", "config_change")].features["decisive_score"] > 0.5
    deploy = cands.get(("shop", "bad_deploy"))  # errors alone may still suggest one, without the change
    assert deploy is None or ("change" not in deploy.origins and deploy.features["decisive_score"] == 0.0)


def test_pods_recreated_are_no_change_and_no_suspect() -> None:
    ctx = context(service="shop", topology=SHOP, events=[_event("shop", "deploy", 0, "shop pods recreated after node upgrade")])
    cands = _cands(ctx, [_fresh_errors("shop", 5)])
    assert not any("change" in c.origins or c.features["decisive_score"] > 0 for (_s, kind), c in cands.items()
                   if kind in ("bad_deploy", "config_change"))


def test_errors_right_after_a_deploy_of_the_same_service_make_the_deploy_the_suspect() -> None:
    ctx = context(service="shop", topology=SHOP, events=[_event("shop", "deploy", 0, "shop 2.1.0 rolled out")])
    cands = _cands(ctx, [_fresh_errors("shop", 5)])
    assert cands[("shop", "bad_deploy")].features["decisive_score"] > 0.5


def test_red_herring_deploy_when_a_dependency_s_path_failed_before_the_errors() -> None:
    # the shop's timeouts began when the transit path two hops down started losing packets: not the deploy's
    ctx = context(service="shop", topology=SHOP, events=[_event("shop", "deploy", 0, "shop 2.1.0 rolled out")])
    signals = [_fresh_errors("shop", 14), signal("metrics", "transit", "packet_loss", 0.95, 13.9)]
    cands = _cands(ctx, signals)
    assert cands[("shop", "bad_deploy")].features["decisive_score"] == 0.0


def test_a_dependency_failing_only_long_after_the_errors_does_not_clear_the_deploy() -> None:
    ctx = context(service="shop", topology=SHOP, events=[_event("shop", "deploy", 0, "shop 2.1.0 rolled out")])
    signals = [_fresh_errors("shop", 5), signal("metrics", "transit", "packet_loss", 0.95, 20)]
    assert _cands(ctx, signals)[("shop", "bad_deploy")].features["decisive_score"] > 0.5


def test_a_dependency_loaded_after_the_deploy_does_not_clear_it() -> None:
    # a deploy can load what it calls (its queries, its CPU): the database's saturation is no alibi
    ctx = context(service="shop", topology=SHOP, events=[_event("shop", "deploy", 0, "shop 2.1.0 rolled out")])
    signals = [_fresh_errors("shop", 5), signal("metrics", "db", "cpu_saturation", 0.9, 3)]
    assert _cands(ctx, signals)[("shop", "bad_deploy")].features["decisive_score"] > 0.5


def test_a_crash_loop_right_after_a_deploy_is_the_deploy_s() -> None:
    ctx = context(service="shop", topology=SHOP, events=[_event("shop", "deploy", 0, "shop 2.1.0 rolled out")])
    cands = _cands(ctx, [_decisive("shop", "crash_loop", 0.8, 4)])
    assert cands[("shop", "bad_deploy")].features["decisive_score"] == 0.8
    assert cands[("shop", "crash_loop")].features["decisive_score"] < 0.8


def test_a_crash_loop_whose_own_log_names_its_mechanism_keeps_the_mechanism() -> None:
    # the component's own log says how it fails (a forwarding loop): the recent deploy is not the answer
    ctx = context(service="dns", topology={"dns": []}, events=[_event("dns", "deploy", 0, "dns 1.11.1 rolled out")])
    cands = _cands(ctx, [_decisive("dns", "crash_loop", 0.8, 4), _decisive("dns", "dns_failure", 0.85, 4)])
    assert cands[("dns", "dns_failure")].features["decisive_score"] == 0.85
    assert cands.get(("dns", "bad_deploy")) is None or cands[("dns", "bad_deploy")].features["decisive_score"] == 0.0


def test_a_backlog_of_its_own_after_a_change_and_its_errors_keeps_the_change_decisive() -> None:
    # the service's own queue backing up says that it falls behind, not why: the change before its errors is why
    ctx = context(service="mw", topology={"gw": ["mw"], "mw": []},
                  events=[_event("mw", "config", 0, "mw switched to the new routing config")])
    fresh = signal("logs", "mw", "error_rate_increase", 0.85, 2)
    fresh.detector = "log.error_share"
    backlog = signal("metrics", "mw", "queue_backlog", 0.6, 5)
    cands = _cands(ctx, [fresh, backlog])
    assert cands[("mw", "config_change")].features["decisive_score"] > 0.0


def test_a_deploy_of_another_service_takes_no_credit() -> None:
    ctx = context(service="shop", topology=SHOP, events=[_event("edge", "deploy", 0, "edge 3.0.0 rolled out")])
    cands = _cands(ctx, [_decisive("shop", "crash_loop", 0.8, 4)])
    assert cands[("edge", "bad_deploy")].features["decisive_score"] == 0.0
    assert cands[("shop", "crash_loop")].features["decisive_score"] == 0.8


def test_a_deploy_after_the_failure_began_takes_no_credit() -> None:
    ctx = context(service="shop", topology=SHOP, events=[_event("shop", "deploy", 6, "shop 2.1.1 rolled out")])
    cands = _cands(ctx, [_decisive("shop", "crash_loop", 0.8, 4)])
    assert cands[("shop", "crash_loop")].features["decisive_score"] == 0.8
    assert cands.get(("shop", "bad_deploy")) is None or cands[("shop", "bad_deploy")].features["decisive_score"] == 0.0


FLEET = {"api": ["storage"], "storage": []}


def _member_link_down(host: str, minute: float):  # type: ignore[no-untyped-def]
    # a kernel line in the storage fleet's own log about one of its hosts, which the incident knows by no name
    return signal("logs", host, "network_partition", 0.73, minute,
                  attributes={"decisive": True, "line": f"{host} kernel: bond0: link status definitely down",
                              "reporter": "storage", "culprit": host, "culprit_device": True})


def test_a_fleet_s_change_takes_its_members_lost_links_right_after_it() -> None:
    ctx = context(service="api", topology=FLEET,
                  events=[_event("storage", "config", 0, "chef: storage net tuning rolled to all regions")])
    cands = _cands(ctx, [_member_link_down("st-node-14", 6)])
    assert cands[("storage", "config_change")].features["decisive_score"] == 0.73
    assert cands[("st-node-14", "network_partition")].features["decisive_score"] < 0.73


def test_members_failing_before_the_change_or_reported_by_another_log_are_not_its() -> None:
    before = context(service="api", topology=FLEET, events=[_event("storage", "config", 10, "storage net tuning")])
    cands = _cands(before, [_member_link_down("st-node-14", 6)])
    assert cands[("st-node-14", "network_partition")].features["decisive_score"] == 0.73
    assert cands[("storage", "config_change")].features["decisive_score"] == 0.0
    other = context(service="api", topology=FLEET, events=[_event("api", "config", 0, "api timeouts 5s -> 2s")])
    cands = _cands(other, [_member_link_down("st-node-14", 6)])
    assert cands[("st-node-14", "network_partition")].features["decisive_score"] == 0.73
    assert cands[("api", "config_change")].features["decisive_score"] == 0.0


def test_a_known_component_named_in_the_changed_component_s_log_is_not_its_member() -> None:
    # "api" is a component of its own (in the topology): its failure is not the storage fleet's by the log alone
    ctx = context(service="api", topology=FLEET, events=[_event("storage", "config", 0, "storage net tuning")])
    sig = _member_link_down("api", 6)
    cands = _cands(ctx, [sig])
    assert cands[("storage", "config_change")].features["decisive_score"] == 0.0


def _tls(service: str, rule: str, minute: float, **attributes: object):  # type: ignore[no-untyped-def]
    return signal("logs", service, "certificate_expired", 0.6, minute,
                  attributes={"decisive": True, "rule": rule, "line": f"{rule} line", **attributes})


def test_a_certificate_refused_for_its_issuer_or_name_right_after_a_change_is_the_change_s() -> None:
    for rule in ("tls.untrusted", "tls.name_mismatch"):
        ctx = context(service="shop", topology=SHOP,
                      events=[_event("edge", "config", 0, "kubectl apply -f edge/ingress.yaml (tls secret renamed)")])
        cands = _cands(ctx, [_tls("edge", rule, 3, reporter="shop")])
        assert cands[("edge", "config_change")].features["decisive_score"] == 0.6, rule
        assert cands[("edge", "certificate_expired")].features["decisive_score"] < 0.6, rule


def test_a_certificate_its_caller_refuses_for_its_name_right_after_a_change_of_what_it_calls_is_the_change_s() -> None:
    """The caller's own log reports the name refusal (a synthetic browser's ``ERR_CERT_COMMON_NAME_INVALID`` on its
    own public name): the component it calls, changed minutes before, presents the certificate."""
    ctx = context(service="shop", topology=SHOP,
                  events=[_event("edge", "config", 0, "edge: certificate and aliases updated")])
    cands = _cands(ctx, [_tls("shop", "tls.name_mismatch", 2, culprit="shop.example.com")])
    assert cands[("edge", "config_change")].features["decisive_score"] == 0.6
    assert cands[("shop", "certificate_expired")].features["decisive_score"] < 0.6
    # a refusal naming another known component, a refusal long after, a caller changed itself: not the change's
    for sig, events in (
            (_tls("shop", "tls.name_mismatch", 2, culprit="db"), []),
            (_tls("shop", "tls.name_mismatch", 45, culprit="shop.example.com"), []),
            (_tls("shop", "tls.name_mismatch", 2, culprit="shop.example.com"),
             [_event("shop", "deploy", 1, "shop 4.1.0 (trust store)")])):
        ctx = context(service="shop", topology=SHOP,
                      events=[_event("edge", "config", 0, "edge: certificate and aliases updated"), *events])
        cands = _cands(ctx, [sig])
        assert cands.get(("edge", "config_change")) is None or \
            cands[("edge", "config_change")].features["decisive_score"] == 0.0, sig.started_at


def test_an_expired_certificate_after_a_change_stays_expired() -> None:
    ctx = context(service="shop", topology=SHOP,
                  events=[_event("edge", "config", 0, "kubectl apply -f edge/ingress.yaml (tls secret renamed)")])
    cands = _cands(ctx, [_tls("edge", "tls.expired", 3, reporter="shop")])
    assert cands[("edge", "certificate_expired")].features["decisive_score"] == 0.6
    assert cands[("edge", "config_change")].features["decisive_score"] == 0.0


def test_a_refused_certificate_long_after_a_change_stays_a_certificate_fault() -> None:
    ctx = context(service="shop", topology=SHOP, events=[_event("edge", "config", 0, "edge timeouts 5s -> 2s")])
    cands = _cands(ctx, [_tls("edge", "tls.untrusted", 45, reporter="shop")])
    assert cands[("edge", "certificate_expired")].features["decisive_score"] == 0.6


def test_a_change_of_what_the_expired_component_calls_is_not_the_cause_of_its_expiry() -> None:
    """The edge presents a certificate its callers refuse as expired minutes after a deploy of the transit behind
    it: a date expired it, no release of what it calls. A refusal for its issuer is not dated and stays the rule's."""
    ctx = context(service="shop", topology=SHOP, events=[_event("transit", "deploy", 0, "transit 7.12.0 (templates)")])
    cands = _cands(ctx, [_tls("edge", "tls.expired", 13, reporter="shop")])
    assert cands[("edge", "certificate_expired")].features["decisive_score"] == 0.6
    assert cands.get(("transit", "bad_deploy")) is None or cands[("transit", "bad_deploy")].features["decisive_score"] == 0.0
