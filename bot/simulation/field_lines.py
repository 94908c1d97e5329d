"""Lines real responders paste for host, network, database and provider faults, as data tables.

- ``KERNEL``: kernel ring-buffer messages of a node by fault kind (conntrack table full, NIC link loss, late Tx
  completions, block-layer and filesystem I/O errors, machine checks, hung tasks, the OOM killer, the pids cgroup).
- ``ROUTER``: a top-of-rack switch's syslog when the node's uplink flaps or goes down or its BGP session drops
  (Cisco IOS and NX-OS, Arista EOS, Junos, FRR).
- ``DB_FAILOVER`` / ``DB_LAG``: Postgres and Patroni lines of a primary's loss and a standby's promotion, and
  of a standby falling behind.
- ``THROTTLE``: provider throttling replies (S3 ``SlowDown``, AWS ``Rate exceeded``, HTTP 429 ``Retry-After``).
- ``NOISE``: errors that are always there (in the baseline too), for red herrings.

Messages follow the wording of the Linux kernel (EDAC, MCE, block layer, ext4, nf_conntrack, NIC drivers),
Cisco/Arista/Junos/FRR syslog, PostgreSQL, Patroni and the
providers' documented error replies; values are drawn by the caller.
"""

from __future__ import annotations

KERNEL: dict[str, tuple[str, ...]] = {
    "packet_loss": ("nf_conntrack: nf_conntrack: table full, dropping packet",
                    "net_ratelimit: {n} callbacks suppressed",
                    "nf_conntrack: nf_conntrack: table full, dropping packet"),
    # a slow path, not a lost link: late Tx completions, traffic falling back from the accelerated VF to the
    # synthetic NIC, a driver whose GRO hurts TCP (a Tx queue stall or a link down is a partition: docs/causes.md)
    "network_latency": ("ena 0000:00:05.0 eth0: Found a Tx that wasn't completed on time, qid {d}, index {n}{n}. "
                        "{n}{n}0 usecs have passed since last napi execution. Napi scheduled: 1",
                        "hv_netvsc {uuid} eth0: Data path switched from VF: enP{n}{n}s1",
                        "TCP: eth0: Driver has suspect GRO implementation, TCP performance may be compromised."),
    "network_partition": ("ixgbe 0000:01:00.0 eth0: NIC Link is Down",
                          "bond0: (slave eth0): link status definitely down, disabling slave",
                          "mlx5_core 0000:3b:00.0 ens1f0: Link down"),
    "hardware_error": ("mce: [Hardware Error]: Machine check events logged",
                       "mce: [Hardware Error]: CPU {d}: Machine Check: 0 Bank 7: be00000000800400",
                       "EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#1_DIMM#0 (channel:1 slot:0 "
                       "page:0x{n}{n}f offset:0x0 grain:32 syndrome:0x0)",
                       "EXT4-fs error (device nvme1n1p1): ext4_find_entry:1616: inode #{n}{n}: comm kubelet: reading "
                       "directory lblock 0",
                       "Buffer I/O error on dev nvme1n1p1, logical block {n}{n}{n}, lost async page write",
                       "nvme nvme1: I/O {n} QID {d} timeout, aborting",
                       "blk_update_request: I/O error, dev nvme1n1, sector {n}{n}{n}{n} op 0x1:(WRITE) flags 0x800 "
                       "phys_seg 1 prio class 0"),
    "node_failure": ("INFO: task kworker/u16:{d}:{n}{n} blocked for more than 120 seconds.",
                     "\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.",
                     "watchdog: BUG: soft lockup - CPU#{d} stuck for 2{d}s! [containerd:{n}{n}]",
                     "rcu: INFO: rcu_sched self-detected stall on CPU"),
    "disk_io_latency": ("INFO: task jbd2/nvme1n1-8:{n}{n} blocked for more than 120 seconds.",
                        "nvme nvme1: I/O {n} QID {d} timeout, completion polled"),
    "oom_kill": ("{proc} invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=9{n}",
                 "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-{hex}.scope,"
                 "mems_allowed=0,oom_memcg=/kubepods.slice/kubepods-burstable.slice,task={proc},pid={n}{n},uid=1000",
                 "Memory cgroup out of memory: Killed process {n}{n} ({proc}) total-vm:{n}00000kB, "
                 "anon-rss:{n}0000kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:{n}00kB oom_score_adj:9{n}"),
    "node_oom": ("Out of memory: Killed process {n}{n} ({proc}) total-vm:{n}00000kB, anon-rss:{n}0000kB, "
                 "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:{n}00kB oom_score_adj:{n}",
                 "{proc} invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, "
                 "oom_score_adj=0"),
    "thread_pool_exhaustion": ("cgroup: fork rejected by pids controller in /kubepods.slice/kubepods-burstable.slice/"
                               "kubepods-burstable-pod{hex}.slice",),
    "disk_full": ("EXT4-fs warning (device nvme0n1p1): ext4_dx_add_entry:2516: Directory index full!",),
}

ROUTER: tuple[tuple[str, str], ...] = (  # (device style, message)
    ("ios", "%LINK-3-UPDOWN: Interface TenGigabitEthernet1/0/{port}, changed state to down"),
    ("ios", "%LINEPROTO-5-UPDOWN: Line protocol on Interface TenGigabitEthernet1/0/{port}, changed state to down"),
    ("ios", "%BGP-5-ADJCHANGE: neighbor {peer} Down Interface flap"),
    ("ios", "%PM-4-ERR_DISABLE: link-flap error detected on Te1/0/{port}, putting Te1/0/{port} in err-disable state"),
    ("nxos", "%ETHPORT-5-IF_DOWN_LINK_FAILURE: Interface Ethernet1/{port} is down (Link failure)"),
    ("nxos", "%BGP-5-ADJCHANGE: bgp-65001 [{n}{n}] (default) neighbor {peer} Down - holdtimer expired error"),
    ("frr", "bgpd[{n}{n}]: %ADJCHANGE: neighbor {peer}(Unknown) in vrf default Down BGP Notification send"),
    ("eos", "Ebra: %LINEPROTO-5-UPDOWN: Line protocol on Interface Ethernet{port} ({node}), changed state to down"),
    ("eos", "Bgp: %BGP-3-NOTIFICATION: sent to neighbor {peer} (VRF default AS 6{n}01) 4/0 (Hold Timer Expired "
            "Error/Unspecific) 0 bytes"),
    ("junos", "mib2d[{n}{n}]: SNMP_TRAP_LINK_DOWN: ifIndex 5{n}, ifAdminStatus up(1), ifOperStatus down(2), "
              "ifName xe-0/0/{port}"),
    ("junos", "rpd[{n}{n}]: BGP_NEIGHBOR_STATE_CHANGED: BGP peer {peer} (External AS 6{n}01) changed state from "
              "Established to Idle (event HoldTime) (instance master)"),
)

DB_FAILOVER: tuple[tuple[str, str], ...] = (  # (level, message) on the database's log after the primary is lost
    ("warn", "patroni: Request failed to {db}-0: GET http://{ip}:8008/patroni (HTTPConnectionPool(host='{ip}', "
             "port=8008): Max retries exceeded)"),
    ("info", "patroni: Got response from {db}-1 http://10.244.{d}.{n}:8008/patroni: {{\"state\": \"running\", "
             "\"role\": \"replica\"}}"),
    ("info", "patroni: promoted self to leader by acquiring session lock"),
    ("info", "received promote request"),
    ("info", "redo done at 0/{n}A000110 system usage: CPU: user: 0.{n} s, system: 0.0{d} s, elapsed: {d}.{n} s"),
    ("info", "selected new timeline ID: {d}"),
    ("info", "database system is ready to accept connections"),
)

DB_LAG: tuple[tuple[str, str], ...] = (
    ("warn", "patroni: Member {db}-1 exceeds maximum replication lag ({n}{n}{n}{n}{n}{n}{n} > 1048576 bytes)"),
    ("info", "recovery restart point at 2/{n}A0004F8"),
    ("warn", "standby \"{db}-1\" is {n}{n}{n} MB behind; replay_lag {n}:{n}.{n}"),
)

THROTTLE: dict[str, tuple[str, ...]] = {
    "object-store": ("SlowDown: Please reduce your request rate. (Service: Amazon S3; Status Code: 503; Error Code: "
                     "SlowDown; Request ID: {hex16}; S3 Extended Request ID: {hex16}=)",
                     "operation error S3: PutObject, https response error StatusCode: 503, RequestID: {hex16}, api "
                     "error SlowDown: Please reduce your request rate."),
    "aws": ("ThrottlingException: Rate exceeded (Service: {api}; Status Code: 400; Error Code: ThrottlingException; "
            "Request ID: {uuid})",
            "operation error {api}: {op}, exceeded maximum number of attempts, 3, https response error StatusCode: 400, "
            "RequestID: {uuid}, api error ThrottlingException: Rate exceeded"),
    "http": ("HTTP 429 Too Many Requests from {host}: Retry-After: {d}0",
             "received 429 from https://{host}/v1/{path} (x-ratelimit-remaining: 0, retry-after: {d}0s)",
             "rate limited by {host}: 429 Too Many Requests {{\"error\":{{\"type\":\"rate_limit_error\",\"message\":"
             "\"Too many requests hit the API too quickly.\"}}}}"),
}

NOISE: tuple[tuple[str, str], ...] = (
    ("error", "failed to push metrics to statsd-exporter:9125: dial udp: lookup statsd-exporter: no such host"),
    ("warn", "GET /favicon.ico returned 404"),
    ("error", "could not refresh JWKS from https://auth.example.com/.well-known/jwks.json: context deadline exceeded"),
    ("warn", "slow query (1{n}00ms): SELECT count(*) FROM audit_log WHERE created_at > $1"),
    ("error", "tracing exporter: failed to send 512 spans: rpc error: code = Unavailable desc = connection error"),
    ("warn", "deprecated API version v1beta1 used by client {n}"),
)

PROVIDER_STYLE = {"object-store": "object-store", "cdn-provider": "http", "drm-provider": "http",
                  "payment-provider": "http", "email-provider": "aws"}
