"""Kubernetes components' own log lines (kubelet, etcd, CoreDNS, client-go, ingress-nginx, kubectl drain): one
documented line per row, which component it blames, and lines that must not match."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain import ChangeEvent, KubeText, is_cause_kind
from bot.domain.workloads import workload_of_pod
from detectors.kubernetes import detect_kubernetes_signals
from detectors.kubernetes.lines import LINE_RULES, line_signals, match_line

from .factories import context

# (rule id, a line as the component prints it, kind, the service the signal is on, culprit or "")
CASES: list[tuple[str, str, str, str, str]] = [
    ("rbac.forbidden", 'E0811 13:02:11.220871 1 reflector.go:158] "Unhandled Error" err="failed to list *v1.Secret: '
     'secrets is forbidden: User \\"system:serviceaccount:platform:cert-operator\\" cannot list resource '
     '\\"secrets\\" in API group \\"\\" at the cluster scope"', "config_change", "reporter", ""),
    ("apiserver.throttled", 'time="2026-05-27T15:31:02Z" level=error msg="sync error: the server has received too '
     'many requests and has asked us to try again later (get replicasets.apps)"', "rate_limited", "reporter",
     "kube-apiserver"),
    ("etcd.slow_apply", '{"level":"warn","caller":"etcdserver/util.go:170","msg":"apply request took too long",'
     '"took":"1.902331818s","expected-duration":"100ms"}', "disk_io_latency", "reporter", "etcd"),
    ("etcd.slow_apply", '{"level":"warn","caller":"wal/wal.go:805","msg":"slow fdatasync","took":"1.88s",'
     '"expected-duration":"1s"}', "disk_io_latency", "reporter", "etcd"),
    ("coredns.loop", '[FATAL] plugin/loop: Loop (127.0.0.1:40172 -> :53) detected for zone ".", see '
     'https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 4547991504243258144.3688648895315093531."',
     "dns_failure", "reporter", ""),
    ("coredns.loop", '2018/11/05 13:48:22 [FATAL] plugin/loop: Seen "HINFO IN 4849932600568443392.1730530029506169038."'
     " more than twice, loop detected", "dns_failure", "reporter", ""),
    ("kubelet.client_cert_expired", "E0402 00:14:10.901337 1873 bootstrap.go:266] part of the existing bootstrap "
     "client certificate in /etc/kubernetes/kubelet.conf is expired: 2026-04-02 00:11:48 +0000 UTC",
     "certificate_expired", "reporter", ""),
    ("kubelet.pleg", 'I0707 13:51:58.204118 2211 kubelet.go:2434] "Skipping pod synchronization" err="PLEG is not '
     'healthy: pleg was last seen active 3m2.118774301s ago; threshold is 3m0s"', "node_failure", "reporter", ""),
    ("drain.pdb", 'error when evicting pods/"zookeeper-1" -n "streaming" (will retry after 5s): Cannot evict pod as '
     "it would violate the pod's disruption budget.", "config_change", "zookeeper", ""),
    ("ingress.no_endpoints", 'W0421 15:52:04.381552 7 controller.go:1214] Service "shop/storefront-web" does not '
     "have any active Endpoint.", "config_change", "storefront-web", ""),
    ("etcd.space_exceeded", '{"level":"warn","caller":"etcdserver/server.go:1168","msg":"alarm raised","alarm":'
     '"NOSPACE","from":"8e9e05c52164694d"}', "disk_full", "reporter", "etcd"),
    ("etcd.space_exceeded", 'time="2026-12-01T06:12:44Z" level=error msg="error in workflow operation" '
     'error="etcdserver: mvcc: database space exceeded"', "disk_full", "reporter", "etcd"),
    ("kubelet.serving_cert_expired", 'E0618 13:28:14.104417 1 scraper.go:149] "Failed to scrape node" err="Get '
     '\\"https://10.8.0.57:10250/metrics/resource\\": tls: failed to verify certificate: x509: certificate has '
     'expired or is not yet valid: current time 2026-06-18T13:28:14Z is after 2026-06-18T09:12:40Z" '
     'node="bm-node-07"', "certificate_expired", "bm-node-07", ""),
    ("kubelet.no_serving_cert", "Aug 08 21:14:02 wrk-a-22 kubelet[988]: I0808 21:14:02.000441 988 log.go:245] "
     "http: TLS handshake error from 10.70.0.11:51844: no serving certificate available for the kubelet",
     "certificate_expired", "wrk-a-22", ""),
    ("ingress.tls_secret_missing", "W1112 09:58:31.441077 7 controller.go:1387] Error getting SSL certificate "
     '"shop/shop-tls": local SSL certificate shop/shop-tls was not found. Using default certificate',
     "config_change", "shop-web", ""),
    ("process.zombies", "  14873 Z    chrome <defunct>", "resource_quota", "reporter", ""),
    ("identity.web_identity_denied", "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling "
     "the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity",
     "config_change", "reporter", ""),
    ("identity.web_identity_denied", "java.io.IOException: Error code 403 trying to get security access token from "
     "Compute Engine metadata for the default service account: Unable to generate access token; IAM returned 403 "
     "Forbidden: Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
     "config_change", "reporter", ""),
    ("identity.web_identity_denied", "level=error msg=\"get credentials\" err=\"WebIdentityErr: failed to retrieve "
     "credentials\ncaused by: AccessDenied\"", "config_change", "reporter", ""),
    ("identity.web_identity_denied", "AADSTS70021: No matching federated identity record found for presented "
     "assertion. Assertion Issuer: 'https://oidc.prod-aks.azure.com/x/'.", "config_change", "reporter", ""),
    ("identity.file_access_denied", "ERROR failed to open segment /data/seg/0042.log: open /data/seg/0042.log: "
     "permission denied", "config_change", "reporter", ""),
    ("identity.file_access_denied", "PermissionError: [Errno 13] Permission denied: '/var/lib/app/state.db'",
     "config_change", "reporter", ""),
    ("identity.file_access_denied", "java.nio.file.AccessDeniedException: /data/index/segments_4", "config_change",
     "reporter", ""),
    ("identity.file_access_denied", "Error: EACCES: permission denied, open '/app/cache/manifest.json'",
     "config_change", "reporter", ""),
    ("config.unparsable", "Caused by: org.yaml.snakeyaml.scanner.ScannerException: mapping values are not allowed "
     "here", "config_change", "reporter", ""),
    ("config.unparsable", "java.lang.IllegalStateException: Failed to load property source from location "
     "'file:/config/application.yaml'", "config_change", "reporter", ""),
    ("config.unparsable", "panic: load config /etc/planner/config.json: json: cannot unmarshal string into Go struct "
     "field Timeouts.timeouts.solver of type time.Duration", "config_change", "reporter", ""),
    ("config.unparsable", "error reading settings.yaml: yaml: line 14: mapping values are not allowed in this "
     "context", "config_change", "reporter", ""),
    ("config.unparsable", "yaml.scanner.ScannerError: mapping values are not allowed here", "config_change",
     "reporter", ""),
    ("config.unparsable", "Failed to bind properties under 'app.retry.max-attempts' to int", "config_change",
     "reporter", ""),
    ("config.unparsable", "pydantic_core._pydantic_core.ValidationError: 1 validation error for AppSettings",
     "config_change", "reporter", ""),
    ("config.unparsable", "[critical][main] [source/server/server.cc:131] error initializing configuration "
     "'/etc/envoy/envoy.yaml': Protobuf message (type envoy.config.bootstrap.v3.Bootstrap) has unknown fields",
     "config_change", "reporter", ""),
    ("config.unparsable", "[ALERT]    (1) : config : parsing [/usr/local/etc/haproxy/haproxy.cfg:42] : unknown "
     "keyword 'timout' in 'defaults' section", "config_change", "reporter", ""),
    ("config.unparsable", 'ts=2026-03-02T10:00:01Z caller=main.go:482 level=error msg="Error loading config '
     '(--config.file=/etc/prometheus/prometheus.yml)" err="parsing YAML file /etc/prometheus/prometheus.yml: yaml: '
     'unmarshal errors"', "config_change", "reporter", ""),
    ("config.unparsable", 'E0118 09:36:51.221093       1 run.go:72] "command failed" err="decoding '
     '.profiles[0].pluginConfig[0]: strict decoding error: unknown field \\"scoringStrategy.resources[0].wieght\\""',
     "config_change", "reporter", ""),
    # the same unknown key from other strict decoders
    ("config.unparsable", 'level=error ts=2026-03-02T10:00:01Z caller=main.go:90 msg="validating config" err="yaml: '
     'line 3: field retention_perod not found in type config.plain"', "config_change", "reporter", ""),
    ("config.unparsable", 'E0302 10:00:01.000000 1 server.go:61] failed to load config: json: unknown field '
     '"maxPodz"', "config_change", "reporter", ""),
    ("config.unparsable", "2026-03-02T10:00:01.123Z ERROR vector::cli: Configuration error. error=unknown field "
     "`inputz`, expected one of `type`, `inputs`", "config_change", "reporter", ""),
    ("node.agent_oom_killed", "Dec 07 04:25:51 wrk-9 kernel: Out of memory: Killed process 2114 (kubelet) "
     "total-vm:2318840kB, anon-rss:201448kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1024kB oom_score_adj:-999",
     "oom_kill", "wrk-9", ""),
    ("node.agent_oom_killed", "Dec 07 13:02:41 wrk-4 kernel: oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),"
     "cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/containerd.service,task=containerd,pid=1187,uid=0",
     "oom_kill", "wrk-4", ""),
    ("identity.policy_missing", 'level=error msg="AccessDenied: User: arn:aws:sts::111122223333:assumed-role/'
     "shared-ro/1700000000 is not authorized to perform: route53:ChangeResourceRecordSets on resource: "
     "arn:aws:route53:::hostedzone/Z123 because no identity-based policy allows the route53:ChangeResourceRecordSets "
     'action"', "config_change", "reporter", ""),
    ("coredns.forward_timeout", "[ERROR] plugin/errors: 2 api.example.com. A: read udp 10.244.0.14:40322->"
     "10.8.0.11:53: i/o timeout", "dns_failure", "resolver-a", ""),
    ("init.wait_unresolvable", "** server can't find orders-db.default.svc.cluster.local: NXDOMAIN",
     "config_change", "reporter", ""),
    ("init.wait_unresolvable", "nc: bad address 'orders-broker'", "config_change", "reporter", ""),
    ("config.unparsable", '2026/03/02 10:00:01 [emerg] 1#1: unknown directive "proxy_pas" in '
     "/etc/nginx/conf.d/default.conf:14\nnginx: [emerg] unknown directive", "config_change", "reporter", ""),
    ("apiserver.version_removed", "E1208 19:38:02.208861 1 reflector.go:138] k8s.io/client-go/informers/factory.go:134:"
     " Failed to watch *v1beta1.CSIStorageCapacity: failed to list *v1beta1.CSIStorageCapacity: the server could not "
     "find the requested resource", "config_change", "reporter", ""),
    ("apiserver.version_removed", '2026-12-08T08:21:14Z ERROR Failed to ensure HPA is correctly created '
     '{"error": "the server could not find the requested resource (post horizontalpodautoscalers.autoscaling)"}',
     "config_change", "reporter", ""),
    ("apiserver.version_removed", 'Error: UPGRADE FAILED: unable to build kubernetes objects from release manifest: '
     'resource mapping not found for name: "web" namespace: "" from "": no matches for kind "PodDisruptionBudget" '
     'in version "policy/v1beta1"', "config_change", "reporter", ""),
    ("identity.key_file_mode", 'connection to server at "10.61.2.14", port 5432 failed: private key file '
     '"/etc/pg-certs/tls.key" has group or world access; file must have permissions u=rw (0600) or less',
     "config_change", "reporter", ""),
    ("identity.key_file_mode", "Permissions 0644 for '/etc/git-secret/ssh' are too open.", "config_change",
     "reporter", ""),
    ("ingress.class_ignored", 'I1215 08:58:41.227310       7 store.go:432] "Ignoring ingress because of error while '
     'validating ingress class" ingress="loyalty/loyalty-web" error="no object matching key \\"nginx\\" in local '
     'store"', "config_change", "loyalty-web", ""),
    ("node.agent_config_refused", "Dec 19 07:20:41 ip-10-31-9-54 containerd[412877]: containerd: failed to load TOML "
     'from /etc/containerd/config.toml: invalid plugin key URI "registry.mirrors" expect io.containerd.x.vx',
     "config_change", "ip-10-31-9-54", ""),
    ("kube_proxy.sync_failed", 'E1208 10:31:58.377015 1 proxier.go:1525] "Failed to execute iptables-restore" err=<',
     "config_change", "reporter", ""),
    ("kube_proxy.sync_failed", 'E1208 18:19:02.131870 1 server.go:558] "Error running ProxyServer" err="can\'t use '
     "the IPVS proxier: IPVS proxier will not be used because the following required kernel modules are not loaded: "
     '[ip_vs]"', "config_change", "reporter", ""),
    ("ipam.cluster_cidr_exhausted", 'E0112 14:43:05.118204 1 range_allocator.go:137] "Failed to allocate CIDR for '
     'node" err="failed to allocate cidr from cluster cidr at idx:0: CIDR allocation failed; there are no remaining '
     'CIDRs left to allocate in the accepted range" node="wrk-17"', "resource_quota", "reporter",
     "kube-controller-manager"),
    ("mesh.plaintext_refused", '[2027-01-18T02:12:03.129Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" '
     '"-" "-" "-" - - 10.30.4.18:8080 10.30.7.61:52214 - -', "config_change", "reporter", ""),
    # the same plaintext refusal in Envoy's JSON access log format and in Linkerd's inbound proxy log
    ("mesh.plaintext_refused", '{"start_time":"2027-02-03T11:40:09.310Z","response_code":0,"response_flags":"NR",'
     '"connection_termination_details":"filter_chain_not_found","downstream_remote_address":"10.8.1.4:39012"}',
     "config_change", "reporter", ""),
    ("mesh.plaintext_refused", "[  5120.331214s]  INFO ThreadId(02) inbound:server{port=8080}: "
     "linkerd_app_inbound::policy::tcp: Connection denied server.group=policy.linkerd.io server.kind=server "
     "server.name=ledger-http tls=None(NoClientHello) client=10.8.1.4:39012", "config_change", "reporter", ""),
    ("mesh.plaintext_refused", "[   88.100251s]  INFO ThreadId(01) inbound:server{port=8080}:rescue{client.addr="
     "10.8.2.9:41822}: linkerd_app_inbound::policy::http: Request denied server.group=policy.linkerd.io "
     "server.name=ledger-http tls=None(NoClientHello)", "config_change", "reporter", ""),
    # Linkerd's proxy with JSON logs: the error it answers the denied client with
    ("mesh.plaintext_refused", '{"timestamp":"[    61.204118s]","level":"INFO","fields":{"message":"Request failed",'
     '"error":"unauthorized connection on server default:all-authenticated"},"target":'
     '"linkerd_app_core::errors::respond"}', "config_change", "reporter", ""),
    # Envoy's JSON access log carries the blackhole in the upstream cluster field
    ("mesh.egress_blackholed", '{"upstream_cluster":"BlackHoleCluster","response_flags":"-","response_code":502,'
     '"authority":"api.partner.example:443"}', "network_policy_block", "reporter", ""),
    ("mesh.egress_blackholed", '[2027-01-23T10:03:11.448Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" '
     "BlackHoleCluster - 104.18.22.61:443 10.60.3.27:44810 - -", "network_policy_block", "reporter", ""),
    ("volume.ownership_slow", "Jan 25 09:20:14 ip-10-9-3-66 kubelet[2311]: W0125 09:20:14.553120 2311 volume_linux.go:49]"
     " Setting volume ownership for /var/lib/kubelet/pods/3c9e1a7d-5b2f-4e80-9d14-6a0c8b7e2f51/volumes/kubernetes.io~csi/"
     "pvc-5e1a/mount and fsGroup set. If the volume has a lot of files then setting volume ownership could be slow, see "
     "https://github.com/kubernetes/kubernetes/issues/69699", "config_change", "artifact-store", ""),
    # metrics-server's scrapes failing for its own flags: no --kubelet-insecure-tls, or node names that do not resolve
    ("metrics.scrape_settings", 'E0318 12:20:41.118202 1 scraper.go:149] "Failed to scrape node" err="Get '
     '\\"https://10.1.3.17:10250/metrics/resource\\": tls: failed to verify certificate: x509: cannot validate '
     'certificate for 10.1.3.17 because it doesn\'t contain any IP SANs" node="wrk-1"', "config_change", "reporter", ""),
    ("metrics.scrape_settings", 'E1101 08:00:02.441201 1 scraper.go:149] "Failed to scrape node" err="Get '
     '\\"https://pool-a-7qz:10250/metrics/resource\\": dial tcp: lookup pool-a-7qz on 10.8.0.10:53: no such host" '
     'node="pool-a-7qz"', "config_change", "reporter", ""),
    # a node autoscaler removing nodes for their low use: Karpenter (v1 and older wording), the cluster autoscaler
    ("autoscaler.consolidating", '{"level":"INFO","time":"2027-03-20T02:42:10.118Z","logger":"controller","message":'
     '"disrupting node(s)","controller":"disruption","reason":"underutilized","decision":"delete"}', "config_change",
     "reporter", ""),
    ("autoscaler.consolidating", '2024-05-02T10:01:12.511Z INFO controller.disruption disrupting nodeclaim(s) via '
     'replace, terminating 1 nodes (4 pods) ip-10-1-2-3/m5.large/spot and replacing with ... Consolidation',
     "config_change", "reporter", ""),
    ("autoscaler.consolidating", "I0319 20:51:40.110233 1 actuator.go:161] Scale-down: removing node ip-10-9-5-12."
     "ec2.internal, utilization: {0.78 0.70 0 cpu 0.78}, pods to reschedule: web-1", "config_change", "reporter", ""),
    ("autoscaler.consolidating", "I0101 01:00:00.000000 1 scale_down.go:1102] Scale-down: removing empty node "
     "gke-pool-b-9k2x", "config_change", "reporter", ""),
    # a GPU device plugin that serves no devices
    ("device_plugin.no_devices", "I0307 09:41:12.442412 1 main.go:346] No devices found. Waiting indefinitely.",
     "bad_deploy", "reporter", ""),
    ("device_plugin.no_devices", "E0307 09:41:12.442371 1 factory.go:112] Incompatible platform detected",
     "bad_deploy", "reporter", ""),
    ("device_plugin.no_devices", "I0307 09:41:12.442339 1 factory.go:104] Detected non-NVML platform: could not load "
     "NVML library: libnvidia-ml.so.1: cannot open shared object file", "bad_deploy", "reporter", ""),
    ("device_plugin.no_devices", "2023/10/01 10:00:00 Failed to initialize NVML: Driver/library version mismatch",
     "bad_deploy", "reporter", ""),
    # a secrets operator that cannot produce its Secrets
    ("secrets_operator.cannot_sync", "2027/03/14 10:25:31 Error updating payouts/psp-key, giving up: no key could "
     "decrypt secret (psp_private_key)", "config_change", "reporter", ""),
    ("secrets_operator.cannot_sync", '{"level":"error","msg":"error processing spec.data[0] (key: prod/db), err: '
     'could not get secret data from provider","ExternalSecret":"orders/orders-db"}', "config_change", "reporter", ""),
    ("secrets_operator.cannot_sync", "orders-db   aws-secretsmanager   15m   SecretSyncedError   False",
     "config_change", "reporter", ""),
    # a clock behind: Go's wording with the time before the certificate's start, the JDK's exception
    ("host.clock_behind", "Mar 05 07:33:10 wrk-c-14 kubelet[1187]: E0305 07:33:10.204871 1187 kubelet_node_status.go:96] "
     '"Unable to register node with API server" err="tls: failed to verify certificate: x509: certificate has expired or '
     'is not yet valid: current time 2027-03-05T07:33:10Z is before 2027-03-05T08:06:52Z"', "config_change", "wrk-c-14",
     ""),
    ("host.clock_behind", "javax.net.ssl.SSLHandshakeException: PKIX path validation failed: "
     "java.security.cert.CertificateNotYetValidException: NotBefore: Fri Mar 05 08:06:52 UTC 2027", "config_change",
     "reporter", ""),
]


def _owner(secret: str) -> str:
    return "shop-web" if secret == "shop/shop-tls" else ""


def _volume_owner(uid: str) -> str:
    return "artifact-store" if uid == "3c9e1a7d-5b2f-4e80-9d14-6a0c8b7e2f51" else ""


@pytest.mark.parametrize(("rule_id", "line", "kind", "service", "culprit"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_row_reads_its_line(rule_id: str, line: str, kind: str, service: str, culprit: str) -> None:
    rule = match_line(line)
    assert rule is not None and (rule.id, rule.kind) == (rule_id, kind)
    [signal] = line_signals({"reporter": ["starting", line, "done"]}, workload_of_pod, _owner, (),
                            lambda service: ["resolver-a"] if service == "reporter" else [], _volume_owner)
    assert (signal.service, signal.kind, signal.attributes["decisive"]) == (service, kind, True)
    assert signal.attributes.get("culprit", "") == culprit
    assert line.strip()[:100] in signal.evidence[0].summary


def test_every_row_has_a_case_and_names_a_vocabulary_kind() -> None:
    assert {c[0] for c in CASES} == {r.id for r in LINE_RULES}
    assert len({r.id for r in LINE_RULES}) == len(LINE_RULES)
    assert all(is_cause_kind(r.kind) and 0.0 < r.score < 0.9 for r in LINE_RULES)
    # each row's gate: lower-case words, one of which its every example line holds (match_line tests the gate first)
    assert all(r.needs and all(w == w.lower() for w in r.needs) for r in LINE_RULES)
    for rule_id, line, *_ in CASES:
        [rule] = [r for r in LINE_RULES if r.id == rule_id]
        assert any(w in line.lower() for w in rule.needs), (rule_id, line)


@pytest.mark.parametrize("line", [
    'Error from server (Forbidden): pods "x" is forbidden: exceeded quota: compute, requested: cpu=1',
    "GET /v1/rate 429 Too Many Requests from partner api",  # a provider's 429 is detectors/logs' reading
    '{"level":"info","msg":"applied entries","took":"12ms"}',
    "[INFO] plugin/reload: Running configuration SHA512 = 591cf328",
    "evicting pod streaming/zookeeper-1",
    'Service "shop/web" has 3 active endpoints',
    # a decode error of a reply, not of the program's configuration; an S3 refusal that is no identity exchange
    'ERROR client: decode response from GET /v1/rates: json: cannot unmarshal number into Go value of type string',
    "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the PutObject operation",
    # a refusal that is not of the container's own files
    'dial unix /var/run/docker.sock: connect: permission denied',
    "git@github.com: Permission denied (publickey).",
    # a container's own process killed by the OOM killer is the workload's (the kubelet reads it), not the node's
    "Dec 07 04:25:58 wrk-9 kernel: Out of memory: Killed process 30877 (java) total-vm:9184312kB",
    # CoreDNS forwarding to itself times out: that is a loop, not an upstream
    "[ERROR] plugin/errors: 2 example.com. A: read udp 10.244.0.3:40322->127.0.0.53:53: i/o timeout",
    # a refusal by a resource's own policy, not the caller's missing permission
    "AccessDenied: User: arn:aws:sts::1:assumed-role/x/1 is not authorized to perform: s3:GetObject on resource: "
    "arn:aws:s3:::b/k with an explicit deny in a resource-based policy",
    # an aggregated metrics API that does not answer is that API's server down, not a removed version
    "unable to fetch pod metrics: the server could not find the requested resource (get pods.metrics.k8s.io)",
    # kube-proxy syncing its rules as usual
    'I1208 10:31:58.204411 1 proxier.go:805] "Syncing iptables rules"',
    # CoreDNS's own query log answering NXDOMAIN is not a wait loop
    '[INFO] 10.244.3.19:48122 - 1187 "A IN x.default.svc.cluster.local. udp 53 false 512" NXDOMAIN qr,aa,rd 146',
])
def test_ordinary_lines_match_no_row(line: str) -> None:
    assert match_line(line) is None


def test_one_signal_per_rule_and_component_counting_its_lines() -> None:
    line = "msg=\"the server has received too many requests and has asked us to try again later\""
    signals = line_signals({"argo-rollouts": [line] * 4, "flux": [line]}, workload_of_pod)
    # both reporters name the same culprit: one signal per (rule, culprit), the first reporter keeps it
    assert [(s.service, s.attributes["culprit"], s.attributes["count"]) for s in signals] == [
        ("argo-rollouts", "kube-apiserver", 5)]


def test_the_detector_reads_component_lines_in_any_log() -> None:
    ctx = context(KubeText(name="pdb.txt", text="NAME   MIN AVAILABLE   MAX UNAVAILABLE   ALLOWED DISRUPTIONS\n"))
    ctx.logs["bm-worker-03"] = ["Apr 02 00:14:10 bm-worker-03 kubelet[1873]: E0402 bootstrap.go:266] part of the "
                                "existing bootstrap client certificate in /etc/kubernetes/kubelet.conf is expired"]
    [signal] = [s for s in detect_kubernetes_signals(ctx) if s.detector == "k8s.lines"]
    assert (signal.service, signal.kind) == ("bm-worker-03", "certificate_expired")


def test_a_service_without_endpoints_yields_to_its_pods_own_failure() -> None:
    line = 'W0421 15:52:04.381552 7 controller.go:1214] Service "shop/web" does not have any active Endpoint.'
    crashing = ("$ kubectl -n shop get pods\nNAME                   READY   STATUS             RESTARTS   AGE\n"
                "web-6d9c8b7a5f-4kq2m   0/1     CrashLoopBackOff   7          20m\n")
    alone = context(KubeText(name="svc.txt", text="$ kubectl -n shop get endpoints web\nNAME   ENDPOINTS   AGE\n"
                                                   "web    <none>      611d\n"))
    alone.logs["ingress-nginx-controller"] = [line]
    assert [(s.service, s.kind) for s in detect_kubernetes_signals(alone) if s.detector == "k8s.lines"] == [
        ("web", "config_change")]
    crash = context(KubeText(name="pods.txt", text=crashing))
    crash.logs["ingress-nginx-controller"] = [line]
    signals = detect_kubernetes_signals(crash)
    assert not [s for s in signals if s.detector == "k8s.lines"]
    assert [(s.service, s.kind) for s in signals if s.attributes.get("decisive")] == [("web", "crash_loop")]


def test_a_missing_tls_secret_no_saved_ingress_names_is_not_guessed() -> None:
    line = 'Error getting SSL certificate "shop/x-tls": local SSL certificate shop/x-tls was not found.'
    assert line_signals({"ingress-nginx-controller": [line]}, workload_of_pod) == []


def test_a_kubelet_line_without_a_syslog_header_stays_with_its_log() -> None:
    line = "I0808 21:14:02.000441 988 log.go:245] http: TLS handshake error: no serving certificate available for the kubelet"
    [signal] = line_signals({"wrk-a-22": [line]}, workload_of_pod)
    assert (signal.service, signal.kind) == ("wrk-a-22", "certificate_expired")


@pytest.mark.parametrize("needs", [(), ("Took Too Long",)])
def test_a_row_without_lower_case_gate_words_is_refused(needs: tuple[str, ...]) -> None:
    from detectors.kubernetes.lines import LineRule

    with pytest.raises(ValueError, match="needs lower-case words"):
        LineRule("etcd.slow_apply", "disk_io_latency", "named", 0.75, r"took too long", "etcd", needs=needs)


def test_a_kernel_line_under_a_short_host_name_is_the_node_it_begins() -> None:
    line = "Dec 07 04:25:51 ip-10-6-14-203 kernel: Out of memory: Killed process 2114 (kubelet) total-vm:2318840kB"
    nodes = ("ip-10-6-14-203.eu-central-1.compute.internal", "ip-10-6-14-2.eu-central-1.compute.internal")
    [signal] = line_signals({"node": [line]}, workload_of_pod, nodes=nodes)
    assert (signal.service, signal.kind) == ("ip-10-6-14-203.eu-central-1.compute.internal", "oom_kill")


def test_an_upstream_timeout_names_nothing_when_the_resolver_has_not_one_dependency() -> None:
    line = "[ERROR] plugin/errors: 2 api.example.com. A: read udp 10.244.0.14:40322->10.8.0.11:53: i/o timeout"
    assert line_signals({"coredns": [line]}, workload_of_pod) == []
    assert line_signals({"coredns": [line]}, workload_of_pod,
                        dependencies_of=lambda s: ["dns-a", "dns-b"]) == []
    [signal] = line_signals({"coredns": [line]}, workload_of_pod, dependencies_of=lambda s: ["dns-a"])
    assert (signal.service, signal.kind, signal.attributes["seen_on"]) == ("dns-a", "dns_failure", "coredns")


def _proxy_context(change_kind: str | None, text: str = "") -> object:
    ctx = context(KubeText(name="svc.txt", text="$ kubectl -n shop get endpoints web\nNAME   ENDPOINTS   AGE\n"
                                                 "web    10.3.1.88:8080   611d\n"))
    ctx.logs["kube-proxy"] = ['E1208 10:31:58.377015 1 proxier.go:1525] "Failed to execute iptables-restore" err=<',
                              'I1208 10:31:58.377102 1 proxier.go:810] "Sync failed" ipFamily="IPv4" retryingTime="30s"']
    if change_kind:
        ctx.events.append(ChangeEvent(ts=ctx.alert_time - timedelta(minutes=50), kind=change_kind,
                                      service="kube-proxy", text=text))
    return ctx


@pytest.mark.parametrize(("change_kind", "text", "kind"), [
    (None, "", "config_change"),
    ("deploy", "kube-proxy image v1.29.9 -> v1.30.5", "bad_deploy"),
    ("config", "kube-proxy ConfigMap: mode iptables -> ipvs", "config_change"),
])
def test_kube_proxys_own_setup_failing_is_what_its_latest_change_changed(change_kind: str | None, text: str,
                                                                         kind: str) -> None:
    [signal] = [s for s in detect_kubernetes_signals(_proxy_context(change_kind, text)) if s.detector == "k8s.lines"]
    assert (signal.service, signal.kind) == ("kube-proxy", kind)


def test_a_change_logged_without_a_zone_is_read_as_utc() -> None:
    ctx = _proxy_context("deploy", "kube-proxy image v1.29.9 -> v1.30.5")
    ctx.events[0] = ctx.events[0].model_copy(update={"ts": ctx.events[0].ts.replace(tzinfo=None)})
    [signal] = [s for s in detect_kubernetes_signals(ctx) if s.detector == "k8s.lines"]
    assert signal.kind == "bad_deploy"


def test_the_one_word_search_lets_through_every_line_a_rows_words_are_in() -> None:
    # match_line skips a line none of the rows' words are in; each word, wherever it stands (and beside the first
    # letters of the others, which a trie could take the wrong branch on), must let the line through
    from detectors.kubernetes.lines import _ANY_NEEDED

    words = sorted({word for rule in LINE_RULES for word in rule.needs})
    starts = "".join(sorted({w[0] for w in words}))
    for word in words:
        for line in (word, f"x {word} y", f"{starts}{word}", f"{word[:-1]} {word}", word.upper()):
            assert _ANY_NEEDED.search(line.lower()), (word, line)
    assert _ANY_NEEDED.search("2026-05-27T15:31:02Z INFO handled request in 12 ms") is None



def test_a_proxys_plaintext_refusal_is_not_read_from_another_flag() -> None:
    # Envoy's NR without filter_chain_not_found (no route for a request) says nothing of the inbound mTLS mode
    assert match_line('[2027-01-18T02:12:03Z] "GET /x HTTP/1.1" 404 NR route_not_found - "-" 0 0 0 -') is None


def test_a_slow_ownership_change_of_a_pod_nobody_names_blames_nothing() -> None:
    line = ("W0125 09:20:14.553120 2311 volume_linux.go:49] Setting volume ownership for /var/lib/kubelet/pods/"
            "3c9e1a7d-5b2f-4e80-9d14-6a0c8b7e2f51/volumes/kubernetes.io~csi/pvc-5e1a/mount and fsGroup set. If the "
            "volume has a lot of files then setting volume ownership could be slow")
    assert line_signals({"wrk-03": [line]}, workload_of_pod, _owner, (), lambda _s: [], lambda _uid: "") == []
