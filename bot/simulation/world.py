"""The world model: a small production system the simulator breaks.

A ``World`` holds components (services, a database, a cache, a queue, cluster DNS, external APIs),
their dependencies, the Kubernetes nodes they run on, and the language each service is written in
(which decides its log format). Two templates exist (``shop`` and ``media``); a seed varies node
placement and some service languages so that two bundles of the same kind do not look identical.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

# roles
EDGE = "edge"
APP = "app"
WORKER = "worker"
DATABASE = "database"
CACHE = "cache"
QUEUE = "queue"
DNS = "dns"
EXTERNAL = "external"
NODE = "node"

APP_ROLES = (EDGE, APP, WORKER)
OWNED_ROLES = (EDGE, APP, WORKER, DATABASE, CACHE, QUEUE, DNS)  # components we run and log


@dataclass(frozen=True)
class Component:
    name: str
    role: str
    language: str  # nginx, java, go, python, node, postgres, redis, rabbitmq, kafka, coredns, external
    deps: tuple[str, ...] = ()
    uses_db: bool = False
    auth: bool = False  # handles logins
    consumes: bool = False  # reads from the queue
    base_rps: float = 50.0
    base_latency_ms: float = 60.0
    paths: tuple[str, ...] = ("/",)


@dataclass(frozen=True)
class World:
    name: str
    domain: str
    components: dict[str, Component]
    nodes: tuple[str, ...]
    placement: dict[str, str] = field(default_factory=dict)  # component -> node

    @property
    def database(self) -> str:
        return next(c.name for c in self.components.values() if c.role == DATABASE)

    @property
    def queue(self) -> str:
        return next(c.name for c in self.components.values() if c.role == QUEUE)

    @property
    def dns(self) -> str:
        return next(c.name for c in self.components.values() if c.role == DNS)

    @property
    def edge(self) -> str:
        return next(c.name for c in self.components.values() if c.role == EDGE)

    def owned(self) -> list[str]:
        """Components that run in the cluster and write logs, in name order."""
        return sorted(c.name for c in self.components.values() if c.role in OWNED_ROLES)

    def by_role(self, *roles: str) -> list[str]:
        return sorted(c.name for c in self.components.values() if c.role in roles)

    def callers_of(self, name: str) -> list[str]:
        return sorted(c.name for c in self.components.values() if name in c.deps)

    def upstream(self, name: str) -> dict[str, tuple[int, str]]:
        """Every transitive caller of ``name``: caller -> (depth, the dependency it sees failing)."""
        out: dict[str, tuple[int, str]] = {}
        frontier = [(name, 0)]
        while frontier:
            current, depth = frontier.pop(0)
            for caller in self.callers_of(current):
                if caller not in out and caller != name:
                    out[caller] = (depth + 1, current)
                    frontier.append((caller, depth + 1))
        return out

    def on_node(self, node: str) -> list[str]:
        return sorted(c for c, n in self.placement.items() if n == node)

    def topology(self) -> dict[str, list[str]]:
        """The dependency graph as the bundle stores it; a service also depends on its node."""
        graph: dict[str, list[str]] = {}
        for comp in sorted(self.components.values(), key=lambda c: c.name):
            deps = sorted(comp.deps)
            node = self.placement.get(comp.name)
            if node:
                deps.append(node)
            graph[comp.name] = deps
        for node in self.nodes:
            graph[node] = []
        return dict(sorted(graph.items()))


def _shop() -> World:
    c = Component
    comps = [
        c("api-gateway", EDGE, "nginx", ("checkout", "cart", "catalog", "users", "search"), base_rps=420,
          base_latency_ms=45, paths=("/api/checkout", "/api/cart", "/api/catalog", "/api/users", "/api/search")),
        c("checkout", APP, "java", ("payments", "inventory", "cart", "orders-db", "rabbitmq"), uses_db=True,
          base_rps=35, base_latency_ms=180, paths=("/api/checkout", "/api/checkout/confirm")),
        c("cart", APP, "go", ("redis", "catalog"), base_rps=140, base_latency_ms=25, paths=("/api/cart",)),
        c("catalog", APP, "python", ("orders-db", "redis"), uses_db=True, base_rps=160, base_latency_ms=40,
          paths=("/api/catalog/products", "/api/catalog/categories")),
        c("payments", APP, "java", ("payment-provider", "orders-db"), uses_db=True, base_rps=30,
          base_latency_ms=220, paths=("/v1/charges", "/v1/refunds")),
        c("inventory", APP, "go", ("orders-db",), uses_db=True, base_rps=60, base_latency_ms=30,
          paths=("/v1/stock", "/v1/reservations")),
        c("users", APP, "node", ("orders-db", "redis"), uses_db=True, auth=True, base_rps=90,
          base_latency_ms=35, paths=("/api/users/login", "/api/users/me")),
        c("search", APP, "python", ("catalog",), base_rps=70, base_latency_ms=90, paths=("/api/search",)),
        c("notifications", WORKER, "python", ("rabbitmq", "email-provider"), consumes=True, base_rps=12,
          base_latency_ms=300, paths=("/internal/notify",)),
        c("orders-db", DATABASE, "postgres", base_rps=900, base_latency_ms=4),
        c("redis", CACHE, "redis", base_rps=2500, base_latency_ms=1),
        c("rabbitmq", QUEUE, "rabbitmq", base_rps=40, base_latency_ms=3),
        c("coredns", DNS, "coredns", base_rps=600, base_latency_ms=2),
        c("payment-provider", EXTERNAL, "external", base_rps=30, base_latency_ms=250),
        c("email-provider", EXTERNAL, "external", base_rps=12, base_latency_ms=180),
    ]
    return World("shop", "shop.example.com", {x.name: x for x in comps}, ("node-1", "node-2", "node-3", "node-4"))


def _media() -> World:
    c = Component
    comps = [
        c("edge-proxy", EDGE, "nginx", ("web-bff", "stream-api", "accounts"), base_rps=650, base_latency_ms=55,
          paths=("/bff/home", "/stream/play", "/accounts/login")),
        c("web-bff", APP, "node", ("recommendations", "catalog-api", "accounts"), base_rps=300,
          base_latency_ms=120, paths=("/bff/home", "/bff/title")),
        c("stream-api", APP, "go", ("license-service", "catalog-api", "cdn-provider"), base_rps=220,
          base_latency_ms=70, paths=("/stream/play", "/stream/manifest")),
        c("accounts", APP, "java", ("media-db", "session-cache"), uses_db=True, auth=True, base_rps=150,
          base_latency_ms=60, paths=("/accounts/login", "/accounts/profile")),
        c("recommendations", APP, "python", ("session-cache", "catalog-api"), base_rps=180, base_latency_ms=140,
          paths=("/v2/recommendations",)),
        c("catalog-api", APP, "java", ("media-db", "session-cache"), uses_db=True, base_rps=260,
          base_latency_ms=35, paths=("/v1/titles", "/v1/titles/search")),
        c("license-service", APP, "go", ("media-db", "drm-provider"), uses_db=True, base_rps=120,
          base_latency_ms=50, paths=("/v1/licenses",)),
        c("transcoder", WORKER, "python", ("kafka", "object-store"), consumes=True, base_rps=8,
          base_latency_ms=900, paths=("/internal/jobs",)),
        c("media-db", DATABASE, "postgres", base_rps=1400, base_latency_ms=3),
        c("session-cache", CACHE, "redis", base_rps=4000, base_latency_ms=1),
        c("kafka", QUEUE, "kafka", base_rps=60, base_latency_ms=5),
        c("coredns", DNS, "coredns", base_rps=800, base_latency_ms=2),
        c("cdn-provider", EXTERNAL, "external", base_rps=200, base_latency_ms=60),
        c("drm-provider", EXTERNAL, "external", base_rps=120, base_latency_ms=90),
        c("object-store", EXTERNAL, "external", base_rps=8, base_latency_ms=120),
    ]
    return World("media", "watch.example.com", {x.name: x for x in comps},
                 ("ip-10-0-1-21", "ip-10-0-2-47", "ip-10-0-3-12", "ip-10-0-3-88"))


WORLDS = {"shop": _shop, "media": _media}
_SWAPPABLE = ("java", "go", "python", "node")


def build_world(name: str = "shop", *, seed: int = 0, vary: bool = True) -> World:
    """The named world, with node placement (and, when ``vary``, some languages) drawn from ``seed``."""
    if name not in WORLDS:
        raise KeyError(name)
    world = WORLDS[name]()
    rng = random.Random(f"world:{name}:{seed}")
    comps = dict(world.components)
    if vary:
        for cname, comp in sorted(comps.items()):
            if comp.role in (APP, WORKER) and rng.random() < 0.3:
                comps[cname] = replace(comp, language=rng.choice(_SWAPPABLE))
    placement: dict[str, str] = {}
    nodes = list(world.nodes)
    db_node = nodes[-1]
    for cname in sorted(comps):
        comp = comps[cname]
        if comp.role == EXTERNAL:
            continue
        if comp.role == DATABASE:
            placement[cname] = db_node
        else:
            placement[cname] = rng.choice(nodes[:-1]) if comp.role != QUEUE else rng.choice(nodes)
    return replace(world, components=comps, placement=placement)
