"""What Kubernetes' own components print when they fail: a data table of documented log lines (kubelet,
etcd, CoreDNS, the API server's replies as client-go prints them, ingress-nginx, ``kubectl drain``) read in
any log of the incident, named per docs/causes.md.

A row matches a line by its ``pattern`` (case-insensitive search). ``blame`` says which component the cause is
named on:
  self      the service whose log holds the line (a controller refused by RBAC, CoreDNS that found a loop, the
            node whose kubelet holds an expired certificate)
  named     the component the row names (``culprit``: ``etcd``, ``kube-apiserver``)
  ingress   the Ingress the line names in its ``ingress="ns/name"`` field (its route's workload)
  service   the Service the line names (``Service "shop/web" does not have any active Endpoint``)
  pod       the workload of the pod the line names (``pods/"zk-1"``: the workload a disruption budget protects)
  secret    the workload served by the Ingress whose TLS secret the line names (``ingress.tls_owner``)
  node      the node the line names in its ``node="..."`` field (metrics-server's scrape of a kubelet)
  host      the host of the syslog header (``Aug 08 21:14:02 wrk-a-22 kubelet[988]: ...``), else the log's service;
            a short host name is the known node whose name it begins (``ip-10-0-3-17`` -> ``ip-10-0-3-17.ec2.internal``)
  volume    the workload of the pod whose volume the line names (``/var/lib/kubelet/pods/<uid>/volumes/...``), by
            the pod's UID when the evidence lists it, else the bundle's one workload; none otherwise
  upstream  the reporter's one dependency in the topology (CoreDNS's forwards timing out: the resolver it forwards
            to), none when it has not exactly one

The application-level decisive lines (a refused connection, a full disk, an expired certificate a client
met) are ``detectors/logs``' job; the rows here are Kubernetes' own wording only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.domain import Evidence, EvidenceType, Signal, stable_hash
from bot.domain.models import SignalSource
from detectors.logs.anchors import trie_regex
from detectors.logs.formats import syslog_origin

MAX_LINES_PER_SERVICE = 5_000
MAX_EVIDENCE = 3


@dataclass(frozen=True)
class LineRule:
    id: str
    kind: str
    blame: str
    score: float
    pattern: str
    culprit: str = ""
    yields: bool = False  # a reading of last resort: dropped when the same component has another finding
    # kinds of findings elsewhere that this one explains (``attributes["explains"]``, reasoning's
    # ``with_explanations``): a device plugin that advertises no devices is why GPU pods find no room
    explains: tuple[str, ...] = ()
    # the component's own setup failing: what to fix is what its latest change changed (``kind_of_own_setup``)
    by_change: bool = False
    # lower-case words of which every line the pattern matches holds one: a substring test per row is far cheaper
    # than the search, and most lines hold none (one combined pattern of every row cost about 57 us a line)
    needs: tuple[str, ...] = ()
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.needs or any(word != word.lower() for word in self.needs):
            raise ValueError(f"line rule {self.id}: needs lower-case words, one of which every matched line holds")
        object.__setattr__(self, "regex", re.compile(self.pattern, re.I))


LINE_RULES: tuple[LineRule, ...] = (
    # RBAC: client-go quoting the API server's 403 (kubectl auth can-i says "no")
    LineRule("rbac.forbidden", "config_change", "self", 0.8,
             r"is forbidden: User \\?\"system:serviceaccount:[\w.-]+:[\w.-]+\\?\" cannot [\w-]+ resource",
             needs=("is forbidden",)),
    # API Priority and Fairness / max-inflight: HTTP 429 as client-go words it
    LineRule("apiserver.throttled", "rate_limited", "named", 0.8,
             r"the server has received too many requests and has asked us to try again later", "kube-apiserver",
             needs=("too many requests",)),
    # etcd at its space quota raises the NOSPACE alarm and refuses writes (etcd maintenance: space quota)
    LineRule("etcd.space_exceeded", "disk_full", "named", 0.85,
             r"mvcc: database space exceeded|\"alarm\":\"NOSPACE\"|alarm:NOSPACE|exceeded backend quota", "etcd",
             needs=("space exceeded", "nospace", "backend quota")),
    # etcd's disk is too slow (its FAQ: apply entries took too long, slow fdatasync, wal sync duration)
    LineRule("etcd.slow_apply", "disk_io_latency", "named", 0.75,
             r"apply (?:request|entries) took too long|slow fdatasync|wal: sync duration of|"
             r"waiting for ReadIndex response took too long", "etcd",
             needs=("took too long", "slow fdatasync", "wal: sync duration")),
    # CoreDNS's loop plugin exits when it forwards to itself
    LineRule("coredns.loop", "dns_failure", "self", 0.85,
             r"plugin/loop: (?:Loop \(.*\) detected|Seen \"HINFO IN \S+\" more than twice)",
             needs=("plugin/loop",)),
    # the kubelet's client certificate expired (rotation off or failed)
    LineRule("kubelet.client_cert_expired", "certificate_expired", "self", 0.85,
             r"(?:bootstrap )?client certificate in \S+ is expired|Current client certificate is expired|"
             r"certificate_manager.*\bexpired\b",
             needs=("expired",)),
    # a kubelet serving certificate that expired (or was never renewed: its CSRs left unapproved): metrics-server
    # cannot scrape the node, the kubelet itself has no certificate to serve
    LineRule("kubelet.serving_cert_expired", "certificate_expired", "node", 0.8,
             r"Failed to scrape node.{0,400}x509: certificate has expired",
             needs=("certificate has expired",)),
    # metrics-server that cannot reach or verify the kubelets for its own settings (``--kubelet-insecure-tls``
    # dropped while the kubelets serve self-signed certificates without IP SANs; ``--kubelet-preferred-address-types``
    # by host name while node names do not resolve): the kubelets are fine, metrics-server's flags are what changed
    LineRule("metrics.scrape_settings", "config_change", "self", 0.8,
             r"Failed to scrape node.{0,400}(?:doesn't contain any IP SANs|"
             r"dial tcp: lookup \S+ on \S+: no such host)",
             needs=("ip sans", "no such host")),
    # a node autoscaler removing nodes for their low use (Karpenter's consolidation, the cluster autoscaler's
    # scale-down) evicts what runs there; right after a change of its own settings, that change is what evicts
    LineRule("autoscaler.consolidating", "config_change", "self", 0.75,
             r"\"message\":\"disrupting node(?:\(s\)|claim\(s\))?\".{0,200}\"reason\":\"underutilized\"|"
             r"disrupting nodeclaim\(s\) via (?:delete|replace).{0,80}(?:underutilized|consolidation)|"
             r"Scale-down: removing (?:empty )?node \S+",
             by_change=True, needs=("underutilized", "consolidation", "scale-down: removing")),
    # a GPU device plugin that finds no devices it can serve (it cannot load NVML): the node advertises none, and
    # the GPU pods' lack of room (``Insufficient nvidia.com/gpu``) is its effect; its latest change is the cause
    LineRule("device_plugin.no_devices", "bad_deploy", "self", 0.8,
             r"No devices found\. Waiting indefinitely|Incompatible platform detected|"
             r"could not load NVML library|Failed to initialize NVML",
             by_change=True, explains=("resource_quota",),
             needs=("no devices found", "incompatible platform", "nvml")),
    # a secrets operator that cannot produce the Secrets it manages (Sealed Secrets without the key a SealedSecret
    # was sealed with; External Secrets refused by its provider): the workloads' missing Secret (``secret "x" not
    # found``) is its effect, and the operator's own key or identity is what changed
    LineRule("secrets_operator.cannot_sync", "config_change", "self", 0.85,
             r"no key could decrypt secret|could not get secret data from provider|\bSecretSyncedError\b",
             explains=("config_change",),
             needs=("no key could decrypt", "could not get secret data", "secretsyncederror")),
    # a host whose clock is behind: a certificate valid from a time its clock has not reached (Go's ``current time
    # X is before Y``, the JDK's ``CertificateNotYetValidException``); nothing expired, the host's time is wrong,
    # and its latest change (a time source removed) is the cause
    LineRule("host.clock_behind", "config_change", "host", 0.8,
             r"certificate has expired or is not yet valid: current time \S+ is before \S+|"
             r"CertificateNotYetValidException",
             by_change=True, needs=("is before", "notyetvalid")),
    LineRule("kubelet.no_serving_cert", "certificate_expired", "host", 0.7,
             r"no serving certificate available for the kubelet|"
             r"kubelet-serving: Failed while requesting a signed certificate",
             needs=("serving certificate", "kubelet-serving")),
    # the kubelet's runtime does not answer
    LineRule("kubelet.pleg", "node_failure", "self", 0.7, r"PLEG is not healthy: pleg was last seen active",
             needs=("pleg is not healthy",)),
    # an eviction refused by a PodDisruptionBudget (kubectl drain, cluster upgrades)
    LineRule("drain.pdb", "config_change", "pod", 0.8,
             r"Cannot evict pod as it would violate the pod's disruption budget",
             needs=("disruption budget",)),
    # ingress-nginx routes to a Service that selects no ready pod: a selector that matches nothing, unless the
    # Service's pods are failing for a reason of their own (then that reason is the finding)
    # ingress-nginx cannot find an Ingress's TLS secret and serves its default (Fake) certificate: the Ingress's
    # spec names a secret that does not exist; nothing expired
    LineRule("ingress.tls_secret_missing", "config_change", "secret", 0.8,
             r"local SSL certificate [\w.-]+/[\w.-]+ was not found",
             needs=("local ssl certificate",)),
    # processes nobody reaps (``<defunct>``) in a workload's process list: they hold the node's PIDs; read only
    # when the node is short of PIDs (``detector.py``), a zombie or two being harmless
    LineRule("process.zombies", "resource_quota", "self", 0.8, r"<defunct>",
             needs=("<defunct>",)),
    # a pod's cloud identity refused: the token its service account projects no longer matches the role's trust
    # (IRSA: the trust policy names another service account; GKE workload identity: no binding for the account
    # the annotation names; Azure workload identity: no federated credential for the subject). The cloud API is
    # not at fault: the workload's identity settings are
    LineRule("identity.web_identity_denied", "config_change", "self", 0.8,
             r"Not authorized to perform sts:AssumeRoleWithWebIdentity|"
             r"Permission '?iam\.serviceAccounts\.getAccessToken'? denied|"
             r"AADSTS70021: No matching federated identity record found|"
             r"WebIdentityErr: failed to retrieve credentials",
             needs=("assumerolewithwebidentity", "getaccesstoken", "aadsts70021", "webidentityerr")),
    # a container refused its own files by the identity it runs as (a runAsUser changed without fsGroup, a volume
    # written by another user): the open call's refusal as Go, Python, the JVM and Node.js print it
    LineRule("identity.file_access_denied", "config_change", "self", 0.7,
             r"\bopen /\S+: permission denied|PermissionError: \[Errno 13\] Permission denied: '/|"
             r"java\.nio\.file\.AccessDeniedException: /|EACCES: permission denied, (?:open|mkdir|scandir) '/",
             needs=("permission denied", "accessdeniedexception")),
    # a node's container runtime that will not start on its own configuration (containerd's config file): the node
    # goes NotReady, and what to fix is the node's own configuration. (The kubelet's own refusals, swap left on or a
    # cgroup driver unlike the runtime's, were left out: their wording came from a test case of the casebook.)
    LineRule("node.agent_config_refused", "config_change", "host", 0.8,
             r"failed to load TOML from /\S+",
             needs=("failed to load toml",)),
    # a client refusing its own credential file for its mode (a Secret mounted 0644 instead of 0600): libpq's and
    # OpenSSH's wording; the server that then refuses the client (``Permission denied (publickey)``) is not at fault
    LineRule("identity.key_file_mode", "config_change", "self", 0.8,
             r"private key file \"?\S+\"? has group or world access|"
             r"Permissions 0\d{3} for '\S+' are too open|Load key \"?\S+\"?: bad permissions",
             needs=("group or world access", "are too open", "bad permissions")),
    # a program that cannot parse its own configuration at start (a ConfigMap or values edit): the parsers'
    # own wording, or a decode error the line says is the configuration's
    LineRule("config.unparsable", "config_change", "self", 0.75,
             r"org\.yaml\.snakeyaml\.(?:scanner\.ScannerException|parser\.ParserException|"
             r"constructor\.(?:Duplicate\w*|Constructor)Exception)|"
             r"Failed to load property source from location|Failed to bind properties under|"
             r"\d+ validation errors? for \w*(?:Settings|Config)\b|"
             r"error initializing configuration '[^']+'|"  # envoy
             r"\[ALERT\].{0,80}parsing \[[^\]]+\.cfg:\d+\]|"  # HAProxy
             r"Error loading config \(--config\.file=|"  # Prometheus, Alertmanager
             r"yaml\.(?:scanner\.ScannerError|parser\.ParserError)|"
             r"\bnginx: \[emerg\]|"
             # Kubernetes' own components (kube-scheduler, the kubelet, kubeadm) decoding their configuration file
             r"strict decoding error: unknown field|"
             # the same unknown key as other strict decoders print it: Go's yaml.v2 UnmarshalStrict (Prometheus,
             # Alertmanager, Loki: ``field retention_perod not found in type config.plain``), encoding/json with
             # DisallowUnknownFields (``json: unknown field "x"``), Rust's serde (Vector: ``unknown field `x`,
             # expected one of``)
             r"\bfield \S+ not found in type [\w.*]+|\bjson: unknown field \\?\"|\bunknown field `[^`]+`, expected\b|"
             r"(?:config|conf|settings|properties|\.ya?ml|\.json|\.toml)\S*:? .{0,80}"
             r"(?:json: cannot unmarshal|yaml: (?:line \d+|unmarshal errors)|invalid character .{1,4} looking for|"
             r"JSONDecodeError|TOMLDecodeError|Unexpected token .{1,8} in JSON)",
             needs=("snakeyaml", "property source", "bind properties", "validation error", "error initializing configuration", "[alert]", "error loading config", "yaml.", "[emerg]", "cannot unmarshal", "yaml: ", "invalid character", "decodeerror", "unexpected token", "strict decoding error",
                    "not found in type", "json: unknown field", "unknown field `")),
    # the kernel's global OOM killer (not a container's cgroup) killed the node's own agents: the node ran out of
    # memory as a whole, and the NotReady that follows is its effect
    LineRule("node.agent_oom_killed", "oom_kill", "host", 0.85,
             r"Out of memory: Killed process \d+ \((?:kubelet|containerd|containerd-shim[\w-]*|dockerd|crio|"
             r"conmon)\)|oom-kill:constraint=CONSTRAINT_NONE.{0,200}\btask=(?:kubelet|containerd|dockerd|crio)\b",
             needs=("out of memory", "oom-kill:")),
    # a cloud API refusing an action because the caller's own role has no policy allowing it (AWS's wording):
    # the workload's identity lacks the permission; the API is not at fault
    LineRule("identity.policy_missing", "config_change", "self", 0.75,
             r"is not authorized to perform: [\w:*-]+ .{0,300}because no identity-based policy allows",
             needs=("no identity-based policy",)),
    # CoreDNS's forward plugin gets no answer from the resolvers it forwards to (the cluster's own names still
    # answer): the upstream resolver is the fault, CoreDNS only relays it. Blamed only when the topology names
    # exactly one name server among CoreDNS's dependencies (``dependencies_of``: detector.name_servers_among);
    # otherwise nothing is said and CoreDNS's own reading stands
    LineRule("coredns.forward_timeout", "dns_failure", "upstream", 0.7,
             r"plugin/errors: \d+ \S+ \w+: read (?:udp|tcp) [\d.:\[\]a-f]+->(?!127\.)[\d.]+:53: i/o timeout",
             needs=("plugin/errors",)),
    # an init container that waits for a name the cluster DNS does not know (busybox ``nslookup``/``nc`` in a
    # wait-for loop): the name it was given is wrong, nothing is down
    LineRule("init.wait_unresolvable", "config_change", "self", 0.7,
             r"\*\* server can't find [\w.-]+: NXDOMAIN|nc: bad address '[\w.-]+'",
             needs=("nxdomain", "bad address")),
    # a client (a controller, an operator, an autoscaler) calling an API version the cluster no longer serves, as
    # client-go words it after a control-plane upgrade removed that version (the deprecation guide): its list and
    # watch of the kind fail, so it stops doing its job; the component left at an old version is what to fix. An
    # aggregated metrics API that does not answer (``(get pods.metrics.k8s.io)``) is another failure (rules.py)
    LineRule("apiserver.version_removed", "config_change", "self", 0.8,
             r"failed to (?:list|watch) \*v\d+(?:alpha|beta)\d+\.\w+: the server could not find the requested resource|"
             r"the server could not find the requested resource \((?:post|put|patch|get|list|delete|watch) "
             r"(?![\w.]*metrics\.k8s\.io)[\w.-]+\)|"
             r"no matches for kind \\?\"\w+\\?\" in version \\?\"[\w./-]+\\?\"",
             needs=("could not find the requested resource", "no matches for kind")),
    # kube-proxy cannot program the node's Service rules (its iptables-restore fails, its IPVS mode cannot start):
    # nodes keep sending a Service's traffic to the pods its rules last knew, gone or not; the proxy's own setup
    # (its version or its configuration, read with its change) is the fault, not the Services' workloads
    LineRule("kube_proxy.sync_failed", "config_change", "self", 0.8,
             r"\"Failed to execute ip6?tables-restore\"|Failed to execute ip6?tables-restore|"
             r"can't use the IPVS proxier|\"Sync failed\" ipFamily=|Failed to sync (?:iptables|ipvs|nftables) rules",
             by_change=True, needs=("tables-restore", "ipvs proxier", "sync failed", "failed to sync")),
    # ingress-nginx skips an Ingress whose class it does not serve (``ingressClassName`` naming a class that does not
    # exist, no class and no default): the route is gone and its host answers 404 from the default backend
    LineRule("ingress.class_ignored", "config_change", "ingress", 0.75,
             r"Ignoring ingress because of error while validating ingress class",
             needs=("validating ingress class",)),
    # the node IPAM of kube-controller-manager has no pod range left for a new node (``--cluster-cidr`` cut into
    # ``--node-cidr-mask-size`` ranges, all taken): the node gets no PodCIDR, its CNI cannot start and its pods no
    # sandbox; the cluster's address plan is exhausted, whatever added the node
    LineRule("ipam.cluster_cidr_exhausted", "resource_quota", "named", 0.85,
             r"no remaining CIDRs left to allocate in the accepted range|"
             r"CIDR allocation failed; there are no remaining CIDRs",
             culprit="kube-controller-manager", needs=("no remaining cidrs",)),
    # a service-mesh proxy that refuses a plaintext connection because its workload's inbound is mTLS-only (Envoy's
    # access log: response flag ``NR`` with ``filter_chain_not_found``, Istio's STRICT PeerAuthentication): callers
    # outside the mesh are reset; the policy protecting the workload whose proxy refuses them is what changed
    # The same refusal as other formats and meshes print it: Envoy's JSON access log names the flag and the detail in
    # fields of their own (``"response_flags":"NR"``, ``"connection_termination_details":"filter_chain_not_found"``);
    # Linkerd's inbound proxy logs the connection or request its server policy denies (``linkerd_app_inbound::policy
    # ...: Connection denied``, ``Request denied`` with ``tls=None(NoClientHello)`` for a plaintext client)
    LineRule("mesh.plaintext_refused", "config_change", "self", 0.8,
             r"\bNR filter_chain_not_found\b|[\"']?connection_termination_details[\"']?\s*[:=]\s*[\"']?"
             r"filter_chain_not_found|linkerd_app_inbound::policy\S*:? (?:Connection|Request) denied\b|"
             r"\bunauthori[sz]ed (?:connection|request) on (?:server|route)\b",
             needs=("filter_chain_not_found", "linkerd_app_inbound::policy", "unauthorized connection on",
                    "unauthorized request on", "unauthorised connection on", "unauthorised request on")),
    # a service-mesh proxy that drops its workload's outbound calls to a host the mesh does not know (Istio with
    # ``outboundTrafficPolicy: REGISTRY_ONLY``: the call goes to ``BlackHoleCluster``, 502 ``direct_response`` or a
    # reset TLS connection): the mesh's egress policy cuts that workload's traffic, not the remote service
    LineRule("mesh.egress_blackholed", "network_policy_block", "self", 0.8,
             r"\bBlackHoleCluster\b",
             needs=("blackholecluster",)),
    # the kubelet still re-owning a volume's files for the pod's ``fsGroup`` 30 s after it began (it says so only
    # then; newer kubelets also say it as an event): a volume with many files and no ``fsGroupChangePolicy:
    # OnRootMismatch`` holds the pod in ContainerCreating; the pod's own security settings are what to fix
    LineRule("volume.ownership_slow", "config_change", "volume", 0.8,
             r"Setting volume ownership for \S+ and fsGroup set\. If the volume has a lot of files then setting "
             r"volume ownership could be slow|Setting volume ownership for \S+ is taking longer than expected",
             needs=("setting volume ownership",)),
    LineRule("ingress.no_endpoints", "config_change", "service", 0.6,
             r"Service \"[\w.-]+/[\w.-]+\" does not have any active Endpoint", yields=True,
             needs=("active endpoint",)),
)

_EVICTING = re.compile(r"evicting pods?/\"?(?P<pod>[a-z0-9][a-z0-9.-]*)\"?")
_INGRESS = re.compile(r"\bingress=\\?\"[\w.-]+/(?P<name>[\w.-]+)\\?\"")
_SERVICE = re.compile(r"Service \"[\w.-]+/(?P<name>[\w.-]+)\"")
_SECRET = re.compile(r"local SSL certificate (?P<secret>[\w.-]+/[\w.-]+) was not found")
_POD_VOLUME = re.compile(r"/var/lib/kubelet/pods/(?P<uid>[0-9a-f-]{36})/volumes/")
_NODE_FIELD = re.compile(r"\bnode=\\?\"(?P<node>[\w.-]+)\\?\"")


# every row's words in one search: most lines hold none of them, and then no row can match (a row matches only a
# line that holds one of its ``needs``); one pass over a line costs about a third of a substring test per word
_ANY_NEEDED = trie_regex(frozenset(word for rule in LINE_RULES for word in rule.needs))


def match_line(line: str) -> LineRule | None:
    lower = line.lower()
    if _ANY_NEEDED.search(lower) is None:
        return None
    for rule in LINE_RULES:
        if any(word in lower for word in rule.needs) and rule.regex.search(line):
            return rule
    return None


def _no_owner(_secret: str) -> str:
    return ""


def _no_dependencies(_service: str) -> list[str]:
    return []


def _no_volume_owner(_uid: str) -> str:
    return ""


def node_named(host: str, nodes: list[str]) -> str:
    """The known node ``host`` names: itself, or the one node whose name begins ``host.``; else ``host``."""
    if host in nodes:
        return host
    longer = [n for n in nodes if n.startswith(host + ".")]
    return longer[0] if len(longer) == 1 else host


def _target(rule: LineRule, line: str, service: str, workload_of_pod: Callable[[str], str],
            secret_owner: Callable[[str], str] = _no_owner, nodes: tuple[str, ...] = (),
            dependencies_of: Callable[[str], list[str]] = _no_dependencies,
            volume_owner: Callable[[str], str] = _no_volume_owner) -> str:
    if rule.blame == "volume":
        found = _POD_VOLUME.search(line)
        return volume_owner(found.group("uid")) if found else ""
    if rule.blame == "upstream":
        deps = [d for d in dependencies_of(service) if d != service]
        return deps[0] if len(deps) == 1 else ""
    if rule.blame == "secret":
        found = _SECRET.search(line)
        return secret_owner(found.group("secret")) if found else ""
    if rule.blame == "node":
        found = _NODE_FIELD.search(line)
        return found.group("node") if found else ""
    if rule.blame == "host":
        origin = syslog_origin(line.lstrip())
        return node_named(origin[0], list(nodes)) if origin else service
    if rule.blame == "named":
        return rule.culprit
    if rule.blame == "ingress":
        found = _INGRESS.search(line)
        return found.group("name") if found else ""
    if rule.blame == "service":
        found = _SERVICE.search(line)
        return found.group("name") if found else ""
    if rule.blame == "pod":
        found = _EVICTING.search(line)
        return workload_of_pod(found.group("pod")) if found else ""
    return service


def line_signals(logs: dict[str, list[str]], workload_of_pod: Callable[[str], str],
                 secret_owner: Callable[[str], str] = _no_owner, nodes: tuple[str, ...] = (),
                 dependencies_of: Callable[[str], list[str]] = _no_dependencies,
                 volume_owner: Callable[[str], str] = _no_volume_owner) -> list[Signal]:
    """One decisive signal per (rule, component) with the lines that decided it; ``secret_owner`` names the
    workload an Ingress's TLS secret (``ns/name``) serves, "" when the evidence shows none; ``nodes`` are the
    nodes the evidence knows, ``dependencies_of`` a component's dependencies in the topology, ``volume_owner``
    the workload of a pod by its UID ("" when the evidence does not say)."""
    found: dict[tuple[str, str], tuple[LineRule, str, list[str]]] = {}
    for service, lines in logs.items():
        for line in lines[-MAX_LINES_PER_SERVICE:]:
            rule = match_line(line)
            if rule is None:
                continue
            target = _target(rule, line, service, workload_of_pod, secret_owner, nodes, dependencies_of,
                             volume_owner)
            if not target:
                continue
            found.setdefault((rule.id, target), (rule, service, []))[2].append(line.strip())
    return [_signal(rule, target, reporter, lines) for (_, target), (rule, reporter, lines) in found.items()]


def without_yielding(said: list[Signal], others: list[Signal]) -> list[Signal]:
    """``said`` without the last-resort readings of a component that has a finding of its own in ``others``."""
    found = {s.service for s in others if s.attributes.get("decisive")}
    yielding = {r.id for r in LINE_RULES if r.yields}
    return [s for s in said if not (s.attributes.get("rule") in yielding and s.service in found)]


def _signal(rule: LineRule, target: str, reporter: str, lines: list[str]) -> Signal:
    # a named culprit stays a culprit of the reporter's finding: reasoning moves it and keeps a symptom there
    service = reporter if rule.blame == "named" and reporter else target
    evidence = [Evidence(id=f"k8s:{stable_hash(rule.id, target, line)}", type=EvidenceType.KUBERNETES,
                         summary=line[:300], service=service, detail=f"rule {rule.id}; from the logs of {reporter}")
                for line in lines[:MAX_EVIDENCE]]
    attributes: dict[str, object] = {"decisive": True, "rule": rule.id, "count": len(lines), "blame": rule.blame,
                                     "message": lines[0][:500]}
    if rule.explains:
        attributes["explains"] = list(rule.explains)
    if rule.blame == "named":
        attributes["culprit"] = target
    elif target != reporter:
        attributes["seen_on"] = reporter
    title = f"{rule.id} in the logs of {reporter} x{len(lines)}: {lines[0][:160]}"
    return Signal(source=SignalSource.KUBERNETES, detector="k8s.lines", service=service, kind=rule.kind, title=title,
                  score=rule.score, evidence=evidence, attributes=attributes)
