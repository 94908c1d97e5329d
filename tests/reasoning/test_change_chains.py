"""Changes whose failure shows elsewhere: callers that can no longer reach the changed component, and callers whose
own failure follows a change of what they call (``bot/reasoning/features.py``)."""

from __future__ import annotations

from bot.domain import ChangeEvent
from bot.reasoning.features import build_candidates
from tests.reasoning.factories import at, context, signal


def _decisive(service: str, kind: str, score: float, minute: float, **attributes: object):  # type: ignore[no-untyped-def]
    return signal("logs", service, kind, score, minute,
                  attributes={"decisive": True, "line": f"{kind} line", **attributes})


def _change(service: str, kind: str, minute: float) -> ChangeEvent:
    return ChangeEvent(ts=at(minute), kind=kind, service=service, text=f"{kind} of {service}")


def _cands(ctx, signals):  # type: ignore[no-untyped-def]
    return {(c.service, c.kind): c for c in build_candidates(context=ctx, signals=signals, similar=[], runbooks=[])}


NODES = {"intake": ["kafka", "node"], "cilium": ["node"], "kafka": ["node"], "node": []}


def test_callers_that_cannot_reach_a_component_right_after_its_change_blame_the_change() -> None:
    ctx = context(service="intake", topology=NODES, events=[_change("node", "config", 0)])
    # the CNI agent's "no route to host" lines name the node (syslog host): moved to the node, reporter kept
    signals = [_decisive("cilium", "network_partition", 0.6, 3, culprit="node", culprit_device=True)]
    cands = _cands(ctx, signals)
    change = cands[("node", "config_change")].features["decisive_score"]
    assert change == 0.6
    assert cands[("node", "network_partition")].features["decisive_score"] < change


BALANCED = {"edge-proxy": ["store-backend"], "store-backend": []}


def test_a_balancer_marking_a_component_down_right_after_its_change_blames_the_change() -> None:
    # HAProxy's "Server store/store-backend is DOWN, reason: Layer4 timeout" six seconds after a config change of it
    ctx = context(service="edge-proxy", topology=BALANCED, events=[_change("store-backend", "config", 0)])
    signals = [_decisive("edge-proxy", "dependency_failure", 0.7, 1, culprit="store-backend", rule="haproxy.server_down")]
    cands = _cands(ctx, signals)
    change = cands[("store-backend", "config_change")].features["decisive_score"]
    assert change == 0.7
    assert cands[("store-backend", "dependency_failure")].features["decisive_score"] < change
    # no change of it: the callers' finding stays the component's dependency failure
    plain = _cands(context(service="edge-proxy", topology=BALANCED, events=[]), signals)
    assert plain[("store-backend", "dependency_failure")].features["decisive_score"] == 0.7
    assert ("store-backend", "config_change") not in plain


def test_without_the_change_the_unreachable_component_keeps_the_callers_finding() -> None:
    ctx = context(service="intake", topology=NODES, events=[])
    signals = [_decisive("cilium", "network_partition", 0.6, 3, culprit="node", culprit_device=True)]
    cands = _cands(ctx, signals)
    assert cands[("node", "network_partition")].features["decisive_score"] == 0.6
    assert ("node", "config_change") not in cands


def test_a_component_whose_own_log_names_its_mechanism_keeps_it_after_a_change() -> None:
    ctx = context(service="intake", topology=NODES, events=[_change("node", "config", 0)])
    signals = [_decisive("cilium", "network_partition", 0.6, 3, culprit="node", culprit_device=True),
               _decisive("node", "disk_full", 0.8, 2)]
    cands = _cands(ctx, signals)
    assert cands.get(("node", "config_change")) is None \
        or cands[("node", "config_change")].features["decisive_score"] == 0.0


ROUTERS = {"wireless": ["core"], "core": ["dist"], "dist": ["peering"]}


def _shift(service: str, minute: float):  # type: ignore[no-untyped-def]
    return signal("metrics", service, "saturation", 0.9, minute)


def test_a_change_whose_component_shifts_then_whose_callers_fail_is_the_cause() -> None:
    ctx = context(service="wireless", topology=ROUTERS, events=[_change("dist", "config", 0)])
    signals = [_shift("dist", 1), _decisive("core", "network_partition", 0.83, 4)]
    cands = _cands(ctx, signals)
    change = cands[("dist", "config_change")]
    assert change.features["decisive_score"] == 0.83
    assert cands[("core", "network_partition")].features["decisive_score"] < 0.83
    assert any("which calls it" in e.summary for e in change.evidence.values())


def test_no_chain_when_the_changed_component_shows_nothing_or_the_caller_failed_first() -> None:
    quiet = context(service="wireless", topology=ROUTERS, events=[_change("dist", "config", 0)])
    cands = _cands(quiet, [_decisive("core", "network_partition", 0.83, 4)])
    assert cands[("core", "network_partition")].features["decisive_score"] == 0.83
    assert cands[("dist", "config_change")].features["decisive_score"] == 0.0
    before = context(service="wireless", topology=ROUTERS, events=[_change("dist", "config", 0)])
    cands = _cands(before, [_shift("dist", 1), _decisive("core", "network_partition", 0.83, -5),
                            _decisive("core", "network_partition", 0.83, 4)])
    assert cands[("core", "network_partition")].features["decisive_score"] == 0.83


def test_no_chain_when_the_caller_has_a_change_of_its_own() -> None:
    ctx = context(service="wireless", topology=ROUTERS,
                  events=[_change("dist", "config", 0), _change("core", "deploy", 2)])
    cands = _cands(ctx, [_shift("dist", 1), _decisive("core", "network_partition", 0.83, 4)])
    assert cands[("dist", "config_change")].features["decisive_score"] == 0.0


def test_a_caller_s_failure_no_change_of_what_it_calls_can_cause_stays_its_own() -> None:
    ctx = context(service="wireless", topology=ROUTERS, events=[_change("dist", "deploy", 0)])
    cands = _cands(ctx, [_shift("dist", 1), _decisive("core", "disk_full", 0.83, 4)])
    assert cands[("core", "disk_full")].features["decisive_score"] == 0.83
    assert cands[("dist", "bad_deploy")].features["decisive_score"] == 0.0


def test_callers_that_report_a_failed_dependency_after_its_deploy_keep_dependency_failure() -> None:
    # docs/causes.md: an admission webhook that times out is dependency_failure on its service, deploy or not
    ctx = context(service="orders", topology={"orders": ["istiod"]}, events=[_change("istiod", "deploy", 0)])
    signals = [_decisive("orders", "dependency_failure", 0.75, 3, culprit="istiod")]
    cands = _cands(ctx, signals)
    assert cands[("istiod", "dependency_failure")].features["decisive_score"] == 0.75


LIMITER = {"api": ["limiter-store", "blobstore"], "limiter-store": [], "blobstore": []}


def test_a_limit_the_component_applies_itself_right_after_its_deploy_is_the_deploy() -> None:
    from bot.reasoning.features import self_throttling

    # the api's own 429 count jumps two minutes after its release; nothing names a provider, no more requests came
    own_429 = signal("metrics", "api", "rate_limited", 1.0, 2)
    ctx = context(service="api", topology=LIMITER, events=[_change("api", "deploy", 0)])
    cands = _cands(ctx, [own_429])
    assert self_throttling([own_429])
    assert cands[("api", "bad_deploy")].features["decisive_score"] == 1.0
    # a provider named in the throttling reply is that provider's limit, not a limit of the api's own
    named = _decisive("api", "rate_limited", 0.8, 2, culprit="blobstore")
    assert not self_throttling([own_429, named])
    # and a rise in the requests received makes the 429s the answer to more demand, not to a new rule
    assert not self_throttling([own_429, signal("metrics", "api", "traffic_spike", 0.9, 1)])
    # without the deploy the throttling stays what it is
    plain = _cands(context(service="api", topology=LIMITER, events=[]), [own_429])
    assert ("api", "bad_deploy") not in plain


MESH = {"storefront": ["cart"], "cart": []}


def test_a_sidecar_with_no_healthy_upstream_right_after_the_destination_s_change_blames_the_change() -> None:
    # Envoy's "503 UH no_healthy_upstream" on outbound|8080|stable|cart... a minute after cart's subset changed
    signals = [_decisive("storefront", "dependency_failure", 0.65, 1, culprit="cart", rule="envoy.no_healthy_upstream")]
    cands = _cands(context(service="storefront", topology=MESH, events=[_change("cart", "config", 0)]), signals)
    assert cands[("cart", "config_change")].features["decisive_score"] == 0.65
    assert cands[("cart", "dependency_failure")].features["decisive_score"] < 0.65
    plain = _cands(context(service="storefront", topology=MESH, events=[]), signals)
    assert plain[("cart", "dependency_failure")].features["decisive_score"] == 0.65


def test_callers_told_a_component_s_name_does_not_exist_right_after_its_change_blame_the_change() -> None:
    # the Service was pruned by a sync: "getaddrinfo ENOTFOUND cart.shop.svc.cluster.local" moved to cart
    signals = [_decisive("storefront", "dns_failure", 0.85, 1, culprit="dns", rule="dns.nxdomain",
                         looked_up="cart.shop.svc.cluster.local")]
    cands = _cands(context(service="storefront", topology=MESH, events=[_change("cart", "config", 0)]), signals)
    assert cands[("cart", "config_change")].features["decisive_score"] == 0.85
    assert cands[("cart", "dns_failure")].features["decisive_score"] < 0.85


def test_a_refusal_that_grew_for_an_hour_after_the_release_is_dated_by_its_first_line() -> None:
    # the api's own 429 template first appeared 5 minutes after its release and kept growing: its surge window dates
    # it 40 minutes after, past the change window; its first line keeps it the release's
    grown = signal("logs", "api", "rate_limited", 1.0, 40,
                   attributes={"first_seen": at(5).isoformat(), "template": "status=429 upstream=-"})
    ctx = context(service="api", topology=LIMITER, events=[_change("api", "deploy", 0)])
    assert _cands(ctx, [grown])[("api", "bad_deploy")].features["decisive_score"] == 1.0
    # a template that was there before the release is no fresh refusal of it
    old = grown.model_copy(update={"attributes": {"first_seen": at(-30).isoformat()}})
    assert _cands(ctx, [old])[("api", "bad_deploy")].features.get("decisive_score", 0.0) < 1.0


EDGE = {"customer-v6": ["edge-rtr"], "edge-rtr": []}


def test_a_crash_recurring_since_shortly_after_the_update_is_the_updates() -> None:
    # the routing daemon's segfault read in the log's last lines, 42 minutes after the router update, printed again and
    # again since 12 minutes after it (``first_seen``): the update explains the crashes
    crash = _decisive("edge-rtr", "crash_loop", 0.53, 42, rule="native.segv", first_seen=at(12).isoformat())
    ctx = context(service="customer-v6", topology=EDGE, events=[_change("edge-rtr", "deploy", 0)])
    assert _cands(ctx, [crash])[("edge-rtr", "bad_deploy")].features["decisive_score"] == 0.53
    # crashes that began before the update are not its doing
    older = _decisive("edge-rtr", "crash_loop", 0.53, 42, rule="native.segv", first_seen=at(-10).isoformat())
    assert _cands(ctx, [older]).get(("edge-rtr", "bad_deploy")) is None or \
        _cands(ctx, [older])[("edge-rtr", "bad_deploy")].features.get("decisive_score", 0.0) < 0.53


SHOP = {"ingress-nginx": ["cart-service"], "cart-service": []}


def test_a_release_whose_own_spec_finding_names_the_setting_is_not_credited_as_code() -> None:
    # the ingress reports no live upstreams right after cart-service's release; the release's own Kubernetes finding
    # (its rollout strategy took every pod at once) names the setting: the release's code takes no credit
    ctx = context(service="cart-service", topology=SHOP, events=[_change("cart-service", "deploy", 0)])
    gone = _decisive("ingress-nginx", "dependency_failure", 0.68, 1, culprit="cart-service",
                     rule="nginx.no_live_upstreams")
    spec = signal("kubernetes", "cart-service", "config_change", 0.8, 0.5, attributes={"decisive": True})
    cands = _cands(ctx, [gone, spec])
    assert cands[("cart-service", "config_change")].features["decisive_score"] == 0.8
    code = cands.get(("cart-service", "bad_deploy"))
    assert code is None or code.features["decisive_score"] < 0.68
    # without that finding the release is what the callers' failure follows
    plain = _cands(ctx, [gone])
    assert plain[("cart-service", "bad_deploy")].features["decisive_score"] == 0.68
