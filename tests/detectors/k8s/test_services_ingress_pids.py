"""Readings that need more than one line: a Service's target port against where its pods listen, an Ingress's
missing TLS secret named on the workload the Ingress serves, a leak of processes on a node short of PIDs, a CSI
driver not registered on the node named on the driver's node plugin (docs/causes.md)."""

from __future__ import annotations

import pytest

from bot.domain import KubeText
from detectors.kubernetes import detect_kubernetes_signals
from detectors.kubernetes.ingress import ingress_backends, owner_of, secret_owners
from detectors.kubernetes.parse import parse_kube_text
from detectors.kubernetes.resolve import csi_node_plugin, provisioner_workload
from detectors.kubernetes.services import listen_ports, parse_service_describe, target_port_signals

from .factories import context

SVC = """$ kubectl -n insurance describe svc quote-service
Name:              quote-service
Namespace:         insurance
Selector:          app.kubernetes.io/name=quote-service
Type:              ClusterIP
IP:                10.0.188.52
Port:              http  80/TCP
TargetPort:        {target}/TCP
Endpoints:         {endpoints}
Session Affinity:  None
Events:            <none>
"""


def _svc(target: str = "8000", endpoints: str = "10.1.4.17:8000,10.1.5.230:8000") -> KubeText:
    return KubeText(name="svc.txt", text=SVC.format(target=target, endpoints=endpoints))


@pytest.mark.parametrize(
    ("line", "port"),
    [
        ("[2026-10-06 15:22:03 +0000] [1] [INFO] Listening at: http://0.0.0.0:8080 (1)", 8080),
        ('{"level":"INFO","msg":"http server listening on port 9000"}', 9000),
        ("INFO:     Uvicorn running on http://0.0.0.0:8001 (Press CTRL+C to quit)", 8001),
        ("Tomcat started on port(s): 8081 (http) with context path ''", 8081),
        ("server listening on :3000", 3000),
    ],
)
def test_listen_lines_give_the_port(line: str, port: int) -> None:
    assert listen_ports([line]) == {port}


def test_ordinary_lines_give_no_listening_port() -> None:
    assert (
        listen_ports(["Listening on 10.1.2.3", "connected to db at 10.0.0.5:5432", "GET /healthz 200"])
        == set()
    )


def test_a_service_sending_to_a_port_its_pods_do_not_listen_on_is_the_workloads_change() -> None:
    logs = {"quote-service": ["[INFO] Listening at: http://0.0.0.0:8080 (1)"]}
    [signal] = target_port_signals([_svc()], logs)
    assert (signal.service, signal.kind, signal.attributes["decisive"]) == (
        "quote-service",
        "config_change",
        True,
    )
    assert "8000" in signal.title and "8080" in signal.title


@pytest.mark.parametrize(
    ("target", "endpoints", "listening"),
    [
        ("8000", "10.1.4.17:8000", "Listening at: http://0.0.0.0:8000 (1)"),  # agrees
        (
            "http",
            "10.1.4.17:8080",
            "Listening at: http://0.0.0.0:9000 (1)",
        ),  # a named port: the pods resolve it
        ("8000", "<none>", "Listening at: http://0.0.0.0:9000 (1)"),  # no endpoints: another reading
        ("8000", "10.1.4.17:8000", "GET /healthz 200"),  # the log does not say where it listens
    ],
)
def test_no_target_port_reading_without_a_clear_mismatch(target: str, endpoints: str, listening: str) -> None:
    assert target_port_signals([_svc(target, endpoints)], {"quote-service": [listening]}) == []


def test_the_service_describe_is_parsed_with_its_selector() -> None:
    found = parse_service_describe(SVC.format(target="8000", endpoints="10.1.4.17:8000"))
    assert (
        found is not None and found.selector == ("quote-service",) and found.target_ports == frozenset({8000})
    )


def test_the_detector_names_the_target_port_mismatch_with_no_other_finding() -> None:
    ctx = context(_svc())
    ctx.logs["quote-service"] = ["[INFO] Listening at: http://0.0.0.0:8080 (1)"]
    assert [(s.service, s.kind) for s in detect_kubernetes_signals(ctx)] == [
        ("quote-service", "config_change")
    ]


INGRESS_DESCRIBE = """$ kubectl -n shop describe ingress shop-web
Name:             shop-web
Namespace:        shop
Ingress Class:    nginx
TLS:
  shop-example-com-tls terminates shop.example.com
Rules:
  Host              Path  Backends
  ----              ----  --------
  shop.example.com
                    /   shop-web-svc:80 (10.40.2.14:3000,10.40.5.9:3000)
Events:           <none>
"""
INGRESS_YAML = """$ kubectl -n partners get ingress partner-gateway -o yaml
spec:
  rules:
  - host: api.partners.example.net
    http:
      paths:
      - backend:
          service:
            name: partner-gateway
            port:
              number: 8443
        path: /
  tls:
  - hosts:
    - api.partners.example.net
    secretName: api-partners-tls-2026
"""


def test_an_ingress_names_its_tls_secret_and_backends_in_describe_and_yaml() -> None:
    assert ingress_backends(INGRESS_DESCRIBE) == {"shop-example-com-tls": ["shop-web-svc"]}
    assert ingress_backends(INGRESS_YAML) == {"api-partners-tls-2026": ["partner-gateway"]}
    owners = secret_owners([KubeText(name="i.txt", text=INGRESS_DESCRIBE)], ["shop-web"])
    assert (
        owner_of(owners, "shop/shop-example-com-tls") == "shop-web"
    )  # the chart's Service suffix is dropped
    assert owner_of(owners, "shop/other-tls") == ""


def test_a_missing_tls_secret_is_the_config_of_the_workload_its_ingress_serves() -> None:
    ctx = context(KubeText(name="ingress.txt", text=INGRESS_YAML))
    ctx.logs["ingress-nginx-controller"] = [
        'W0422 16:37:12.118220 7 controller.go:1387] Error getting SSL certificate "partners/api-partners-tls-2026": '
        "local SSL certificate partners/api-partners-tls-2026 was not found. Using default certificate"
    ]
    signals = [s for s in detect_kubernetes_signals(ctx) if s.attributes.get("decisive")]
    assert [(s.service, s.kind) for s in signals] == [("partner-gateway", "config_change")]


NODE_PID = """$ kubectl describe node wrk-b-17
Name:               wrk-b-17
Roles:              <none>
Taints:             node.kubernetes.io/pid-pressure:NoSchedule
Unschedulable:      false
Conditions:
  Type             Status  LastHeartbeatTime                 LastTransitionTime                Reason                       Message
  ----             ------  -----------------                 ------------------                ------                       -------
  MemoryPressure   False   Tue, 14 Jul 2026 03:24:10 +0000   Fri, 22 May 2026 04:10:11 +0000   KubeletHasSufficientMemory   kubelet has sufficient memory available
  PIDPressure      True    Tue, 14 Jul 2026 03:24:10 +0000   Tue, 14 Jul 2026 03:03:52 +0000   KubeletHasInsufficientPID    kubelet has insufficient PID available
  Ready            True    Tue, 14 Jul 2026 03:24:10 +0000   Fri, 22 May 2026 04:10:31 +0000   KubeletReady                 kubelet is posting ready status
"""
PS = """$ kubectl -n crawl exec link-crawler-1 -c fetcher -- sh -c 'ps -eo pid,ppid,stat,args | tail -3'
 48213     1 Z    [curl] <defunct>
 48219     1 Z    [curl] <defunct>
 48230     1 R    ps -eo pid,ppid,stat,args
"""


def test_an_exec_output_is_the_named_pods_text() -> None:
    [log] = parse_kube_text(KubeText(name="ps.txt", text=PS)).logs
    assert (log.pod, log.container, log.previous) == ("link-crawler-1", "fetcher", False)


def test_unreaped_processes_are_the_leak_only_on_a_node_short_of_pids() -> None:
    pressed = context(KubeText(name="node.txt", text=NODE_PID), KubeText(name="ps.txt", text=PS))
    pressed.logs["link-crawler"] = [line for line in PS.splitlines()[1:]]
    signals = detect_kubernetes_signals(pressed)
    assert (signals[0].service, signals[0].kind) == ("link-crawler", "resource_quota")
    assert signals[0].attributes["explains"] == ["resource_quota"]
    assert {(s.service, s.kind) for s in signals[1:] if s.attributes.get("decisive")} == {
        ("wrk-b-17", "resource_quota")
    }
    calm = context(KubeText(name="ps.txt", text=PS))
    calm.logs["link-crawler"] = [line for line in PS.splitlines()[1:]]
    assert not [s for s in detect_kubernetes_signals(calm) if s.attributes.get("rule") == "process.zombies"]


@pytest.mark.parametrize(
    ("driver", "workloads", "plugin"),
    [
        ("ebs.csi.aws.com", ["orders-mysql", "ebs-csi-node", "ebs-csi-controller"], "ebs-csi-node"),
        ("rbd.csi.ceph.com", ["csi-rbdplugin", "csi-rbdplugin-provisioner", "analytics-pg"], "csi-rbdplugin"),
        ("smb.csi.k8s.io", ["orders-mysql", "ebs-csi-node"], ""),  # its plugin is not in the evidence
        (
            "nfs.csi.k8s.io",
            ["csi-nfs-node", "csi-nfs-node-win"],
            "",
        ),  # two candidates: the evidence must choose
    ],
)
def test_the_csi_node_plugin_is_the_one_named_for_the_driver(
    driver: str, workloads: list[str], plugin: str
) -> None:
    message = f"attacher.MountDevice failed to create newCsiDriverClient: driver name {driver} not found in the list of registered CSI drivers"
    assert csi_node_plugin(message, workloads) == plugin


EVENTS = """$ kubectl get events -n orders
LAST SEEN   TYPE      REASON        OBJECT               MESSAGE
2m          Warning   FailedMount   pod/orders-mysql-2   MountVolume.MountDevice failed for volume "pvc-5e2b" : kubernetes.io/csi: attacher.MountDevice failed to create newCsiDriverClient: driver name ebs.csi.aws.com not found in the list of registered CSI drivers
"""
PLUGINS = """$ kubectl get pods -n kube-system -o wide
NAME                 READY   STATUS             RESTARTS     AGE   IP           NODE                         NOMINATED NODE   READINESS GATES
ebs-csi-node-7wz4m   1/3     CrashLoopBackOff   9 (3m ago)   23m   10.3.71.15   ip-10-3-71-15.ec2.internal   <none>           <none>
"""


def test_an_unregistered_csi_driver_blames_its_node_plugin_and_without_one_reads_as_a_mount_failure() -> None:
    seen = detect_kubernetes_signals(
        context(KubeText(name="e.txt", text=EVENTS), KubeText(name="p.txt", text=PLUGINS))
    )
    [mount] = [s for s in seen if s.service == "orders-mysql"]
    assert (mount.kind, mount.attributes["culprit"]) == ("dependency_failure", "ebs-csi-node")
    alone = detect_kubernetes_signals(context(KubeText(name="e.txt", text=EVENTS)))
    assert [(s.service, s.kind, s.attributes["rule"]) for s in alone] == [
        ("orders-mysql", "config_change", "volume.default")
    ]


DAEMONSETS = """$ kubectl -n kube-system get ds -o wide
NAME           DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR            AGE   CONTAINERS   IMAGES                 SELECTOR
ebs-csi-node   5         5         5       5            5           kubernetes.io/os=linux   40d   ebs-plugin   example/ebs:v1.37.0    app=ebs-csi-node
kube-proxy     8         8         8       8            8           kubernetes.io/os=linux   40d   kube-proxy   example/proxy:v1.31    k8s-app=kube-proxy
"""


def test_a_node_plugin_listed_by_its_daemonset_table_is_blamed_without_a_pod_of_it_seen() -> None:
    # a new tainted pool the DaemonSet does not tolerate: it runs no pod there, its table still names it
    seen = detect_kubernetes_signals(
        context(KubeText(name="e.txt", text=EVENTS), KubeText(name="d.txt", text=DAEMONSETS))
    )
    [mount] = [s for s in seen if s.service == "orders-mysql"]
    assert (mount.kind, mount.attributes["culprit"]) == ("dependency_failure", "ebs-csi-node")


@pytest.mark.parametrize(("reporter", "workloads", "provisioner"), [
    # a CSI external provisioner names itself <driver>_<pod>_<id>
    ("ebs.csi.aws.com_ebs-csi-controller-6b9d8f7c5-x2kqm_0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6", ["kafka"],
     "ebs-csi-controller"),
    ("pd.csi.storage.gke.io_csi-gce-pd-controller-0_5f0c", [], "csi-gce-pd-controller"),
    # no identity printed: the one CSI controller the bundle shows, none when several or none
    ("", ["kafka", "csi-azuredisk-controller", "csi-azuredisk-node"], "csi-azuredisk-controller"),
    ("persistentvolume-controller", ["kafka", "ebs-csi-controller", "efs-csi-controller"], ""),
    # the in-tree controller reported it: the one CSI controller seen may serve another driver; guess none
    ("persistentvolume-controller", ["kafka", "efs-csi-controller"], ""),
    ("", ["kafka"], ""),
])
def test_the_provisioner_is_the_one_that_reported_or_the_one_seen(reporter: str, workloads: list[str],
                                                                   provisioner: str) -> None:
    assert provisioner_workload(reporter, workloads) == provisioner
