"""Metamorphic robustness check of the casebook's root-cause answers (dev cases only).

Each dev case is copied into a temporary folder and changed in a way that keeps the meaning a senior engineer
would read, with its truth changed consistently; the copies are scored through the same shipped path as
``bench.casebook`` (``run_casebook`` -> ``evaluate_bundles``). A rule that depends on a surface detail of the
cases it was tuned on (a service's name, a vendor's payload shape, the absolute time, the absence of ordinary
noise) shows up as a case that flips.

Variants:

- ``rename``: every service, component, pod, node and namespace name (collected from the alert's labels, the
  topology, the log and metric file names, the events, the truth and the Kubernetes texts) is replaced
  everywhere, files' names included, by a neutral name of the same shape: each word of a name by a neutral
  word (one per word, so ``orders-api`` and ``orders-db`` stay related), hash-like parts by random ones of the
  same length and alphabet, numbers by numbers, IPv4 addresses by addresses in the same /16 (subnets kept).
  Vocabulary is never renamed: technology and role words (``kafka``, ``redis``, ``db``, ``api``, ``worker``,
  ...; ``KEEP_WORDS``), Kubernetes system names, kinds and reasons.
- ``rename-roles``: the same, with role words replaced too (``orders-db`` -> ``amber-cobalt``): only technology and
  product names stay. Stricter than a senior engineer's reading needs; it shows which answers lean on a role word.
- ``timeshift``: every absolute timestamp moved by one offset (days and hours) in every format present
  (RFC 3339 / ISO-8601, RFC 1123, syslog, klog, nginx/Apache, Go's ``2006/01/02``, Datadog's ``Mar 03 2026
  09:00:00``, epoch seconds/ms in metrics and time fields); kubectl's relative ages stay as they are.
- ``vendor``: the alert re-expressed in another vendor's payload that Sherlog accepts (Alertmanager, Grafana,
  generic JSON, Datadog, PagerDuty v3, Opsgenie) with the same labels, annotations and start time.
- ``noise``: ordinary unrelated lines (health checks, INFO) interleaved in the logs in their own format, a log
  of an unrelated healthy service with one warning in the baseline, and a routine scale event of it.
- ``concat``: the saved kubectl outputs under ``kubernetes/`` pasted into one file without the ``$ kubectl ...``
  command lines that introduced them (as a responder pastes describe + events + logs output into one ticket);
  what a part is must then be read from its shape alone.

    python -m bench.casebook.perturb [--cases DIR] [--split dev] [--seed N] [--variants rename rename-roles ...]
                                     [--keep DIR]

Prints per variant AC@1 / AC@3 / category next to the unperturbed figures, the cases that flip (dev only),
then one JSON line with the headline figures. Test (even-numbered) cases are never read: ``--split`` accepts
``dev`` only.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

VARIANTS = ("rename", "rename-roles", "timeshift", "vendor", "noise", "concat")
TEXT_SUFFIXES = {".json", ".jsonl", ".log", ".txt", ".csv", ".md", ".yaml", ".yml"}

# ---- rename -----------------------------------------------------------------------------------------------------

# Words that are vocabulary, not names: technologies and products (what a component *is*), roles, Kubernetes
# system names, environments and regions. A name made only of these words is left as it is; inside a name such
# a word is kept and the other words are replaced. The kind of log a file is, after its component's name
# (``git-server-kern.log``, ``rack-bmc.log``, ``atl-epms.log``), is vocabulary too, and so are providers' and carriers'
# names and an autonomous system number's ``as`` (``as3491``): a log line names them in its own case (``AS3491``,
# ``AT&T``, ``cognito-idp``), which the renaming does not touch, so renaming them would break the case's meaning.
TECH_WORDS = frozenset("""
kafka zookeeper redis postgres postgresql pg psql mysql mariadb mongo mongodb cassandra elasticsearch es opensearch
memcached rabbitmq nats etcd consul vault nomad coredns dns istiod istio envoy nginx haproxy traefik keycloak
grafana prometheus alertmanager loki jaeger apiserver kubelet kube containerd docker sidekiq celery gunicorn
uwsgi jvm java python go node nodes calico cilium flannel cni csi ebs s3 gcs azure aws gke eks aks k8s
io com net org internal compute amazonaws local cluster svc system public default monitoring ingress egress
metrics state cert harbor vmss node-exporter fluent bit sql smtp imap
prod production staging stage dev test canary blue green stable us eu ap east west north south central
pool node-pool ip v1 v2 v3 http https grpc tcp udp tls ssl
kern kernel syslog dmesg journal bmc ipmi audit console bms epms dcim
rabbit keda hpa cognito route53 cloudfront as att pccw
ipv4 ipv6 ghcr gcr quay ecr kyverno gatekeeper stripe
""".split())
# Words that say what role a component plays (``-db``, ``-api``, ``-worker``, ``-backup``): kept by ``rename``, replaced
# too by ``rename-roles``, which checks that no answer needed a role word in a name when the evidence says it.
ROLE_WORDS = frozenset("""
db database api web www ui frontend backend gateway lb cache queue worker workers job cron cronjob app
service primary replica master standby leader follower shard writer reader edge core auth login oauth sso
server scheduler controller manager proxy operator webhook admission registry
rtr router switch san nas vm host hosts agent daemon sidecar init migration migrate
backup backups dump restore migrations migrator exporter headless consumer producer mt
mail sms dashboard portal search storage store data registrar resolver transit
""".split())
KEEP_WORDS = TECH_WORDS | ROLE_WORDS
# Whole names that are system components' own (never renamed).
KEEP_NAMES = frozenset({"kube-system", "kube-public", "kube-node-lease", "kube-state-metrics", "kube-apiserver",
                        "kube-proxy", "kube-dns", "kube-scheduler", "kube-controller-manager", "metrics-server",
                        "cert-manager", "ingress-nginx", "aws-node", "docker.io", "localhost"})
NEUTRAL_WORDS = ("amber", "birch", "cobalt", "dune", "ember", "fjord", "garnet", "heron", "indigo", "juniper",
                 "kelvin", "lumen", "maple", "nimbus", "onyx", "pebble", "quartz", "raven", "sorrel", "tundra",
                 "umber", "velvet", "willow", "xylo", "yarrow", "zephyr", "alder", "basalt", "cedar", "delta",
                 "egret", "flint", "gale", "hazel", "iris", "jasper", "kite", "larch", "marlin", "nectar",
                 "opal", "prism", "quill", "rowan", "sable", "thistle", "ulex", "vesper", "wren", "zinnia")
_KEEP_IPS = {(8, 8, 8, 8), (8, 8, 4, 4), (1, 1, 1, 1), (1, 0, 0, 1), (9, 9, 9, 9), (10, 96, 0, 1), (10, 96, 0, 10),
             (10, 100, 0, 1), (10, 100, 0, 10), (172, 20, 0, 10)}
_NAME = r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?"
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)")
_DOTTED_HOST = re.compile(r"(?<![\w.-])[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?![\w-])")
_HOST_TOKEN = re.compile(r"(?<![\w.-])[a-z][a-z0-9]*(?:-[a-z0-9]+)*\d[a-z0-9]*(?![\w-])")  # with a digit
_IP_HOST = re.compile(r"^ip-(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})$")
# Labels whose value names a service, workload, pod, node or host.
NAME_LABELS = frozenset({"service", "app", "app_kubernetes_io_name", "app.kubernetes.io/name", "pod", "pod_name",
                         "kube_pod_name", "deployment", "kube_deployment", "statefulset", "kube_stateful_set",
                         "daemonset", "kube_daemon_set", "replicaset", "job_name", "cronjob", "kube_cronjob",
                         "node", "kubernetes_node", "host", "hostname", "instance", "exported_service",
                         "workload", "component", "namespace", "kube_namespace", "container", "persistentvolumeclaim",
                         "entity", "kube_service", "service_name", "server", "target", "destination"})
_KUBE_NAME_PATTERNS = (
    re.compile(rf"^Name:\s+({_NAME})\s*$", re.MULTILINE),
    re.compile(rf"^Namespace:\s+({_NAME})\s*$", re.MULTILINE),
    re.compile(rf"^Node:\s+({_NAME})(?:/|\s*$)", re.MULTILINE),
    re.compile(rf"Controlled By:\s+\w+/({_NAME})"),
    re.compile(rf"(?<![\w./-])(?:pods?|deployments?(?:\.apps)?|deploy|replicasets?(?:\.apps)?|rs|statefulsets?"
               rf"(?:\.apps)?|sts|daemonsets?(?:\.apps)?|ds|jobs?(?:\.batch)?|cronjobs?(?:\.batch)?|nodes?|"
               rf"persistentvolumeclaims?|pvc)/({_NAME})"),
    re.compile(rf"\bapp(?:\.kubernetes\.io/name)?=({_NAME})"),
    re.compile(rf"\bin pod ({_NAME})_"),
    re.compile(rf"-n ({_NAME})\b"),
)
_SYSLOG_HOST = re.compile(rf"^[A-Z][a-z]{{2}} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)? ({_NAME}) [\w./-]+(?:\[\d+\])?:",
                          re.MULTILINE)
_TABLE_HEADER = re.compile(r"^NAME\s+(?:READY|STATUS|ROLES|AGE|TYPE|DESIRED|CAPACITY|REFERENCE|STATUS)\b")


def _is_hashlike(seg: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9]+", seg)) and any(c.isdigit() for c in seg) and any(c.isalpha() for c in seg)


@dataclass
class Renamer:
    """A consistent, shape-preserving renaming of one case's names (and IPv4 addresses)."""

    rng: random.Random
    keep: frozenset[str] = KEEP_WORDS  # words never replaced (``TECH_WORDS`` alone for ``rename-roles``)
    taken: set[str] = field(default_factory=set)  # words that must not be produced (present in the case)
    words: dict[str, str] = field(default_factory=dict)
    segments: dict[str, str] = field(default_factory=dict)
    octets: dict[tuple[int, int], int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def word(self, w: str) -> str:
        if w not in self.words:
            free = [n for n in NEUTRAL_WORDS if n not in self.taken and n not in self.words.values()]
            new = self.rng.choice(free) if free else f"w{len(self.words)}x"
            self.words[w] = new
        return self.words[w]

    def _random_like(self, seg: str) -> str:
        while True:
            out = "".join(self.rng.choice("2456789") if c.isdigit() else self.rng.choice("bcdfghjklmnpqrstvwxz")
                          if c.isalpha() else c for c in seg)
            if out != seg and out not in self.segments.values():
                return out

    def segment(self, seg: str) -> str:
        """One hyphen-separated part of a name: vocabulary and numbers kept, a word replaced by a neutral word,
        a word with a number (``xen10``, ``db2``) by a neutral word with the same number, a hash-like part
        (``6d5c7b9f84``, ``q8lzt``) by a random one of the same length and alphabet."""
        if not seg or seg in self.keep or seg.isdigit():
            return seg
        if seg not in self.segments:
            runs = re.findall(r"[a-z]+|\d+|[^a-z\d]+", seg)
            if len(seg) == 1 and seg.isalpha():  # a side or zone letter (transit-a, transit-b): another letter
                self.segments[seg] = self._letter(seg)
            elif seg.isalpha():
                self.segments[seg] = self.word(seg)
            elif len(runs) == 2 and runs[0].isalpha() and runs[1].isdigit():
                self.segments[seg] = "".join(r if not r.isalpha() or r in self.keep else self.word(r) for r in runs)
            else:
                self.segments[seg] = self._random_like(seg)
        return self.segments[seg]

    def _letter(self, seg: str) -> str:
        used = set(self.segments) | set(self.segments.values()) | self.taken | {seg}
        free = [c for c in "bcdfghjklmnpqrstvwxz" if c not in used]
        return self.rng.choice(free) if free else self.word(seg)

    def hash_part(self, seg: str) -> str:
        """A pod-template hash or pod suffix: random, same length, digits where digits were."""
        if seg not in self.segments:
            self.segments[seg] = self._random_like(seg)
        return self.segments[seg]

    def ip(self, octets: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """Same /16, the third and fourth octets permuted consistently (0, 1 and 255 fixed); loopback, link-local,
        well-known resolvers and the usual cluster DNS/API addresses kept."""
        a, b, c, d = octets
        if a in (0, 127, 255) or max(octets) > 255 or (a, b) == (169, 254) or octets in _KEEP_IPS:
            return octets
        return a, b, self._octet(3, c), self._octet(4, d)

    def _octet(self, pos: int, value: int) -> int:
        if value in (0, 1, 255):
            return value
        key = (pos, value)
        if key not in self.octets:  # as many digits as before, so columns and shapes stay
            used = {v for (p, _), v in self.octets.items() if p == pos}
            low, high = {1: (2, 9), 2: (10, 99), 3: (100, 254)}[len(str(value))]
            choices = [v for v in range(low, high + 1) if v not in used] or [v for v in range(2, 255) if v not in used]
            self.octets[key] = self.rng.choice(choices)
        return self.octets[key]

    def add(self, name: str) -> None:
        name = name.strip().strip(".")
        if len(name) < 2 or not re.fullmatch(_NAME, name) or _IPV4.fullmatch(name):
            return  # addresses are renamed on their own
        head = name.split(".", 1)[0]
        if "." in name and not re.search(r"[-\d]", head):
            return  # a dotted name whose first label is a bare word (``sh.helm.release...``) is not a host
        if head in self.names or head in KEEP_NAMES or head.startswith("kube-"):
            return
        found = _IP_HOST.match(head)
        if found:
            new = "ip-" + "-".join(str(o) for o in self.ip(tuple(int(g) for g in found.groups())))  # type: ignore[arg-type]
        else:
            from bot.domain.workloads import workload_of_pod, workload_of_replicaset

            owner = next((o for o in (workload_of_pod(head), workload_of_replicaset(head))
                          if o != head and head.startswith(o + "-") and not head[len(o) + 1:].isdigit()), head)
            parts = owner.split("-")
            if owner in KEEP_NAMES or owner.startswith("kube-") or all(p in self.keep or p.isdigit() or not p
                                                                        for p in parts):
                return
            tail = [self.hash_part(p) for p in head[len(owner) + 1:].split("-")] if owner != head else []
            new = "-".join([self.segment(p) for p in parts] + tail)
        if new != head:
            self.names[head] = new  # a host's domain (``.eu-west-1.compute.internal``) is kept
            if "-" in head:  # the name spelt as an identifier (a BIRD protocol bgp_transit_a for transit-a)
                self.names.setdefault(head.replace("-", "_"), new.replace("-", "_"))

    def _host_token(self, m: re.Match[str]) -> str:
        token = m.group(0)
        if token in KEEP_NAMES or token.startswith("kube-") or token in self.names.values():
            return token
        return re.sub(r"[a-z]+", lambda w: self.words.get(w.group(0), w.group(0)), token)

    def pattern(self) -> re.Pattern[str] | None:
        if not self.names:
            return None
        alternatives = "|".join(re.escape(n) for n in sorted(self.names, key=len, reverse=True))
        # a name that ends an identifier after an underscore (a metric measured via it: loss_percent_via_level3) is
        # renamed with it, or the evidence would keep naming what the truth no longer does; one that starts an
        # identifier is vocabulary's (the kind auth_failure_surge for a service named auth) and stays
        return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9_])")

    def apply(self, text: str) -> str:
        pattern = self.pattern()
        if pattern is not None:
            text = pattern.sub(lambda m: self.names[m.group(0)], text)
        if self.words:  # a host name built from a renamed name's words (auth.teams.internal for teams-auth)
            text = _DOTTED_HOST.sub(lambda m: ".".join(self.words.get(label, label) for label in m.group(0).split(".")),
                                    text)
            # a fleet member's host name (ny-web08 for the service web): its renamed words follow
            text = _HOST_TOKEN.sub(self._host_token, text)
        return _IPV4.sub(lambda m: ".".join(str(o) for o in self.ip(tuple(int(g) for g in m.groups()))),  # type: ignore[arg-type]
                         text)


def _text_files(case: Path) -> list[Path]:
    return sorted(p for p in case.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES)


def _alert_labels(case: Path) -> list[dict[str, str]]:
    """Every alert's labels (any vendor), plus its service, read through the shipped parsers."""
    from connectors.alerts import parse_alerts

    try:
        alerts = parse_alerts(json.loads((case / "alert.json").read_text(encoding="utf-8")))
    except Exception:  # noqa: BLE001 - an unreadable alert contributes no names; the case still runs
        return []
    out = []
    for a in alerts:
        labels = dict(a.labels)
        if a.service:
            labels["__service__"] = a.service
        out.append(labels)
    return out


def collect_names(case: Path) -> set[str]:
    """The names of services, components, workloads, pods, nodes and namespaces a case mentions."""
    from bot.domain.workloads import workload_of_pod, workload_of_replicaset

    names: set[str] = set()
    truth = json.loads((case / "truth.json").read_text(encoding="utf-8"))
    names.add(str(truth.get("root_cause_service") or ""))
    for labels in _alert_labels(case):
        for key, value in labels.items():
            if key in NAME_LABELS or key == "__service__":
                value = value.rsplit(":", 1)[0] if key == "instance" else value  # host:port
                names.add(value)
    topo = case / "topology.json"
    if topo.is_file():
        for key, deps in json.loads(topo.read_text(encoding="utf-8")).items():
            names.add(key)
            names.update(str(d) for d in deps or [])
    for path in (case / "logs").glob("*.log") if (case / "logs").is_dir() else []:
        names.add(path.stem)
        names.update(m.group(1) for m in _SYSLOG_HOST.finditer(path.read_text(encoding="utf-8", errors="replace")))
    for path in (case / "metrics").glob("*.csv") if (case / "metrics").is_dir() else []:
        names.add(path.name.split(".", 1)[0])
    events = case / "events.jsonl"
    if events.is_file():
        for line in events.read_text(encoding="utf-8").splitlines():
            try:
                names.add(str(json.loads(line).get("service") or ""))
            except (ValueError, AttributeError):
                continue
    kube = case / "kubernetes"
    for path in sorted(kube.rglob("*")) if kube.is_dir() else []:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for pattern in _KUBE_NAME_PATTERNS:
            names.update(m.group(1) for m in pattern.finditer(text))
        in_table = False
        for line in text.splitlines():
            if _TABLE_HEADER.match(line):
                in_table = True
                continue
            if in_table:
                first = line.split()[0] if line.split() else ""
                if not first or not re.fullmatch(_NAME, first):
                    in_table = False
                else:
                    names.add(first)
    # the owner of a Deployment's or CronJob's pod, or of a ReplicaSet, is a name too (renamed word by word, so
    # the pod keeps its shape); a "-N" ordinal (``kafka-2``, ``lb-3``) does not make ``kafka`` or ``lb`` a name
    for name in list(names):
        for owner in (workload_of_pod(name), workload_of_replicaset(name)):
            if owner != name and not re.fullmatch(re.escape(owner) + r"-\d{1,4}", name):
                names.add(owner)
    return {n for n in names if n}


# the names bot/pipeline/bundle.py looks for at a bundle's top level
BUNDLE_PARTS = frozenset({"alert.json", "truth.json", "events.jsonl", "topology.json", "logs", "metrics",
                          "kubernetes", "history"})


def rename_case(case: Path, rng: random.Random, *, keep: frozenset[str] = KEEP_WORDS) -> dict[str, str]:
    """Rename every name of the case in place (file contents and file names); returns old -> new names."""
    files = _text_files(case)
    corpus = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files).lower()
    names = sorted(collect_names(case))
    letters = {seg for n in names for seg in re.split(r"[-.]", n) if len(seg) == 1 and seg.isalpha()}
    renamer = Renamer(rng=rng, keep=keep, taken={w for w in NEUTRAL_WORDS if w in corpus} | letters)
    for name in names:
        renamer.add(name)
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        path.write_text(renamer.apply(text), encoding="utf-8")
    for path in sorted(case.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.parent == case and path.name in BUNDLE_PARTS:
            continue  # the bundle's own layout is vocabulary, whatever a service is called
        new_name = renamer.apply(path.name)
        if new_name != path.name:
            path.rename(path.with_name(new_name))
    return dict(renamer.names)


# ---- timeshift --------------------------------------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MON = "(?P<mon>" + "|".join(_MONTHS) + ")"
_WD = "(?P<wd>" + "|".join(_DAYS) + ")"
_HMS = r"(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?P<frac>[.,]\d+)?)?"
# Order matters: the most specific formats first, and each match is replaced once.
_TIME_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(rf"(?<!\d)(?P<Y>\d{{4}})-(?P<m>\d{{2}})-(?P<d>\d{{2}})(?P<sep>[T ]){_HMS}")),
    ("godate", re.compile(rf"(?<!\d)(?P<Y>\d{{4}})/(?P<m>\d{{2}})/(?P<d>\d{{2}})(?P<sep>[ T]){_HMS}")),
    ("rfc1123", re.compile(rf"{_WD}, (?P<d>\d{{1,2}}) {_MON} (?P<Y>\d{{4}}) {_HMS}")),
    ("ctime", re.compile(rf"{_WD} {_MON} (?P<dpad>[ \d]\d) {_HMS}(?P<zone> [A-Z]{{3,4}})? (?P<Y>\d{{4}})")),
    ("clf", re.compile(rf"(?P<d>\d{{2}})/{_MON}/(?P<Y>\d{{4}}):{_HMS}")),
    ("dmy", re.compile(rf"(?<![\d/])(?P<d>\d{{1,2}})(?P<s1>[ -]){_MON}(?P<s2>[ -])(?P<Y>\d{{4}})(?P<s3>[ :]){_HMS}")),
    ("datadog", re.compile(rf"{_MON} (?P<d>\d{{2}}) (?P<Y>\d{{4}}) {_HMS}")),
    ("syslog", re.compile(rf"(?<![\w/]){_MON} (?P<dpad>[ \d]\d) {_HMS}")),
    ("klog", re.compile(rf"(?m)(?<![\w])(?P<lvl>[IWEF])(?P<m>\d{{2}})(?P<d>\d{{2}}) {_HMS}")),
    ("bare", re.compile(r"(?<![\d:.])(?P<H>[01]\d|2[0-3]):(?P<M>[0-5]\d)(?::(?P<S>[0-5]\d)(?P<frac>[.,]\d+)?)?(?![\d:])")),
    ("date", re.compile(r"(?<![\d.-])(?P<Y>20\d{2})-(?P<m>\d{2})-(?P<d>\d{2})(?![\d:T])")),
)
_TIME_KEYS = ("ts", "time", "timestamp", "date", "created_at", "createdAt", "last_updated", "@timestamp",
              "startsAt", "occurred_at", "starts_at", "start_time", "event_time", "updatedAt")
_EPOCH_FIELD = re.compile(r'(?P<key>"?(?:' + "|".join(re.escape(k) for k in _TIME_KEYS)
                          + r')"?\s*[:=]\s*"?)(?P<num>\d{10}(?:\.\d+)?|\d{13}|\d{16}|\d{19})(?!\d)')


def _year_hint(case: Path) -> int:
    """The year of the case (for syslog and klog stamps, which carry none): the alert's start."""
    text = (case / "alert.json").read_text(encoding="utf-8", errors="replace")
    found = re.search(r"(20\d{2})-\d{2}-\d{2}[T ]", text)
    if found:
        return int(found.group(1))
    for path in _text_files(case):
        found = re.search(r"(20\d{2})-\d{2}-\d{2}[T ]", path.read_text(encoding="utf-8", errors="replace"))
        if found:
            return int(found.group(1))
    return 2026


def _shift_match(kind: str, m: re.Match[str], offset: timedelta, year: int) -> str:
    g = m.groupdict()
    if kind == "bare":  # a time of day alone (prose, a container's own clock): the offset's hours and minutes
        minutes = (int(g["H"]) * 60 + int(g["M"]) + int(offset.total_seconds() // 60)) % (24 * 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}" + (f":{g['S']}{g['frac'] or ''}" if g["S"] is not None else "")
    month = int(g["m"]) if g.get("m") else _MONTHS.index(g["mon"]) + 1
    day = int(g.get("d") or g.get("dpad") or 1)
    yr = int(g["Y"]) if g.get("Y") else year
    if not 1971 <= yr <= 2200:
        return m.group(0)  # Go's zero time and other placeholders are not times
    if kind == "date":
        try:
            new_day = datetime(yr, month, day, tzinfo=UTC) + timedelta(days=offset.days)
        except ValueError:
            return m.group(0)
        return new_day.strftime("%Y-%m-%d")
    try:
        when = datetime(yr, month, day, int(g["H"]), int(g["M"]), int(g["S"] or 0), tzinfo=UTC) + offset
    except ValueError:
        return m.group(0)
    hms = f"{when:%H}:{when:%M}" + (f":{when:%S}{g['frac'] or ''}" if g["S"] is not None else "")
    if kind == "iso":
        return f"{when:%Y-%m-%d}{g['sep']}{hms}"
    if kind == "godate":
        return f"{when:%Y/%m/%d}{g['sep']}{hms}"
    if kind == "rfc1123":
        d = f"{when.day:02d}" if len(g["d"]) == 2 else str(when.day)
        return f"{_DAYS[when.weekday()]}, {d} {_MONTHS[when.month - 1]} {when.year} {hms}"
    if kind == "ctime":
        return f"{_DAYS[when.weekday()]} {_MONTHS[when.month - 1]} {when.day:>2} {hms}{g['zone'] or ''} {when.year}"
    if kind == "clf":
        return f"{when.day:02d}/{_MONTHS[when.month - 1]}/{when.year}:{hms}"
    if kind == "dmy":
        d = f"{when.day:02d}" if len(g["d"]) == 2 else str(when.day)
        return f"{d}{g['s1']}{_MONTHS[when.month - 1]}{g['s2']}{when.year}{g['s3']}{hms}"
    if kind == "datadog":
        return f"{_MONTHS[when.month - 1]} {when.day:02d} {when.year} {hms}"
    if kind == "syslog":
        pad = f"{when.day:>2}" if g["dpad"].startswith(" ") or len(g["dpad"].strip()) == 1 else f"{when.day:02d}"
        return f"{_MONTHS[when.month - 1]} {pad} {hms}"
    if kind == "klog":
        return f"{g['lvl']}{when:%m%d} {hms}"
    return m.group(0)


def _match_time(kind: str, m: re.Match[str], year: int) -> datetime | None:
    """The time a ``_TIME_FORMATS`` match stands for (None for a bare time of day or a date alone)."""
    g = m.groupdict()
    if kind in ("bare", "date"):
        return None
    month = int(g["m"]) if g.get("m") else _MONTHS.index(g["mon"]) + 1
    try:
        return datetime(int(g["Y"]) if g.get("Y") else year, month, int(g.get("d") or g.get("dpad") or 1),
                        int(g["H"]), int(g["M"]), int(g["S"] or 0), tzinfo=UTC)
    except ValueError:
        return None


def line_stamp(line: str, year: int) -> tuple[str, re.Match[str], datetime] | None:
    """The timestamp a log line starts with (within its first 60 characters): its format, match and time."""
    head = line[:80]
    found = []
    for order, (kind, pattern) in enumerate(_TIME_FORMATS):
        m = pattern.search(head)
        if m and m.start() <= 60:
            when = _match_time(kind, m, year)
            if when is not None:
                found.append((m.start(), order, kind, m, when))
    if not found:
        return None
    _, _, kind, m, when = min(found, key=lambda f: (f[0], f[1]))  # the earliest stamp of the line
    return kind, m, when


def shift_text(text: str, offset: timedelta, year: int) -> str:
    """Every absolute timestamp in ``text`` moved by ``offset`` (each character is rewritten at most once)."""
    spans: list[tuple[int, int, str]] = []
    taken = [False] * (len(text) + 1)
    for kind, pattern in _TIME_FORMATS:
        for m in pattern.finditer(text):
            if any(taken[m.start():m.end()]):
                continue
            if kind == "bare" and m.start() >= 2 and text[m.start() - 1] in "+-" and taken[m.start() - 2]:
                continue  # the UTC offset of a timestamp just read ("...:03.459421+00:00"), not a time of day
            spans.append((m.start(), m.end(), _shift_match(kind, m, offset, year)))
            for i in range(m.start(), m.end()):
                taken[i] = True
    for m in _EPOCH_FIELD.finditer(text):
        if any(taken[m.start("num"):m.end("num")]):
            continue
        spans.append((m.start("num"), m.end("num"), _shift_epoch(m.group("num"), offset)))
    out, last = [], 0
    for start, end, new in sorted(spans):
        out.append(text[last:start])
        out.append(new)
        last = end
    out.append(text[last:])
    return "".join(out)


def _shift_epoch(num: str, offset: timedelta) -> str:
    digits = len(num.split(".")[0])
    scale = {10: 1, 13: 1_000, 16: 1_000_000, 19: 1_000_000_000}.get(digits, 1)
    if "." in num:
        decimals = len(num.split(".")[1])
        return f"{float(num) + offset.total_seconds():.{decimals}f}"
    return str(int(num) + int(offset.total_seconds()) * scale)


def _shift_prometheus_json(obj: Any, offset: timedelta) -> Any:
    """``[epoch, "value"]`` pairs of a Prometheus range answer moved by the offset."""
    if isinstance(obj, list):
        if len(obj) == 2 and isinstance(obj[0], (int, float)) and isinstance(obj[1], str) and 1e9 < obj[0] < 1e10:
            return [obj[0] + offset.total_seconds(), obj[1]]
        return [_shift_prometheus_json(o, offset) for o in obj]
    if isinstance(obj, dict):
        return {k: _shift_prometheus_json(v, offset) for k, v in obj.items()}
    return obj


def _shift_epoch_csv(text: str, offset: timedelta) -> str:
    lines = text.splitlines(keepends=True)
    out = []
    for line in lines:
        first, sep, rest = line.partition(",")
        if re.fullmatch(r"\d{10}(\.\d+)?|\d{13}", first.strip()):
            first = _shift_epoch(first.strip(), offset)
        out.append(first + sep + rest)
    return "".join(out)


def timeshift_case(case: Path, rng: random.Random) -> timedelta:
    """Move every timestamp of the case by one offset (some days and hours, either way); returns it."""
    offset = timedelta(days=rng.choice((-1, 1)) * rng.randint(20, 400), hours=rng.randint(1, 23))
    year = _year_hint(case)
    for path in _text_files(case):
        text = path.read_text(encoding="utf-8", errors="replace")
        new = shift_text(text, offset, year)
        if path.suffix == ".csv":
            new = _shift_epoch_csv(new, offset)
        if path.suffix == ".json" and path.parent.name == "metrics":
            try:
                new = json.dumps(_shift_prometheus_json(json.loads(new), offset), indent=1)
            except ValueError:
                pass
        path.write_text(new, encoding="utf-8")
    return offset


# ---- vendor -----------------------------------------------------------------------------------------------------

VENDORS = ("alertmanager", "grafana", "generic", "datadog", "pagerduty", "opsgenie")
_MULTI = ("alertmanager", "grafana", "generic")  # formats that carry several alerts in one payload


def _iso(when: datetime) -> str:
    text = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{when.microsecond // 1000:03d}Z" if when.microsecond else "Z")


def _alert_dicts(alerts: list[Any]) -> list[dict[str, Any]]:
    out = []
    for a in alerts:
        annotations = {k: v for k, v in a.annotations.items() if k not in {"time_note", "value"}}
        if a.summary and "summary" not in annotations:
            annotations["summary"] = a.summary
        if a.description and "description" not in annotations:
            annotations["description"] = a.description
        labels = {k: v for k, v in a.labels.items()
                  if k not in {"monitor_id", "scope", "pagerduty_incident", "pagerduty_service", "urgency"}}
        labels.setdefault("alertname", a.name)
        labels.setdefault("severity", a.severity.value)
        out.append({"labels": labels, "annotations": annotations, "starts_at": a.starts_at,
                    "status": a.status.value if a.status.value in ("firing", "resolved") else "firing",
                    "severity": a.severity.value, "name": a.name, "service": a.service,
                    "fingerprint": a.fingerprint.split(":")[-1][:16] or "0"})
    return out


def _to_alertmanager(alerts: list[dict[str, Any]], grafana: bool = False) -> dict[str, Any]:
    items = [{"status": a["status"], "labels": a["labels"], "annotations": a["annotations"],
              "startsAt": _iso(a["starts_at"]), "endsAt": "0001-01-01T00:00:00Z",
              "generatorURL": "http://rules.example/graph", "fingerprint": a["fingerprint"]} for a in alerts]
    common = {k: v for k, v in alerts[0]["labels"].items() if all(x["labels"].get(k) == v for x in alerts)}
    payload: dict[str, Any] = {"receiver": "oncall", "status": alerts[0]["status"], "alerts": items,
                               "groupLabels": {"alertname": common.get("alertname", alerts[0]["name"])},
                               "commonLabels": common, "commonAnnotations": {}, "externalURL": "http://am.example",
                               "groupKey": "{}:{alertname=\"" + alerts[0]["name"] + "\"}", "truncatedAlerts": 0}
    if grafana:
        payload.update({"version": "1", "orgId": 1, "title": f"[FIRING:{len(items)}] {alerts[0]['name']}",
                        "state": "alerting", "message": alerts[0]["annotations"].get("summary", "")})
        for item in items:
            item["silenceURL"] = "http://grafana.example/alerting/silence/new"
            item["dashboardURL"] = ""
            item["panelURL"] = ""
    else:
        payload["version"] = "4"
    return payload


def _to_generic(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": a["name"], "status": a["status"], "severity": a["severity"], "labels": a["labels"],
             "annotations": a["annotations"], "summary": a["annotations"].get("summary", ""),
             "description": a["annotations"].get("description", ""), "starts_at": _iso(a["starts_at"]),
             "fingerprint": a["fingerprint"]} for a in alerts]


def _tags(labels: dict[str, str]) -> str:
    return ",".join(f"{k}:{v}" for k, v in labels.items() if k != "alertname" and "," not in v)


_DD_PRIORITY = {"critical": "P1", "high": "P2", "warning": "P3", "info": "P5"}
_PD_URGENCY = {"critical": "high", "high": "high", "warning": "low", "info": "low"}


def _to_datadog(a: dict[str, Any]) -> dict[str, Any]:
    body = "\n\n".join(v for v in (a["annotations"].get("summary"), a["annotations"].get("description")) if v)
    return {"alert_id": "4711", "alert_transition": "Triggered", "alert_title": a["name"],
            "alert_status": a["annotations"].get("summary", ""), "alert_priority": _DD_PRIORITY[a["severity"]],
            "event_msg": body, "tags": _tags(a["labels"]), "date": str(int(a["starts_at"].timestamp() * 1000)),
            **({"hostname": a["labels"]["host"]} if "host" in a["labels"] else {}),
            "link": "https://app.datadoghq.example/monitors/4711"}


def _to_pagerduty(a: dict[str, Any]) -> dict[str, Any]:
    details = {**a["labels"], **a["annotations"]}
    return {"event": {
        "id": "01EVT", "event_type": "incident.triggered", "resource_type": "incident",
        "occurred_at": _iso(a["starts_at"]), "agent": None,
        "data": {"id": "Q1PERT", "type": "incident", "title": a["annotations"].get("summary") or a["name"],
                 "status": "triggered", "urgency": _PD_URGENCY[a["severity"]], "created_at": _iso(a["starts_at"]),
                 **({"service": {"summary": a["service"]}} if a["service"] else {}),
                 **({"priority": {"summary": "P1"}} if a["severity"] == "critical" else {}),
                 "body": {"details": details}},
    }}


def _to_opsgenie(a: dict[str, Any]) -> dict[str, Any]:
    return {"action": "Create", "integrationId": "1", "integrationName": "perturb",
            "source": {"name": "", "type": "api"},
            "alert": {"alertId": "og-1", "message": a["annotations"].get("summary") or a["name"], "alias": a["name"],
                      "entity": a["service"] or "", "tags": [f"{k}:{v}" for k, v in a["labels"].items()],
                      "details": a["labels"], "description": a["annotations"].get("description", ""),
                      "priority": _DD_PRIORITY[a["severity"]], "createdAt": int(a["starts_at"].timestamp() * 1000)}}


def vendor_case(case: Path, rng: random.Random) -> str:
    """Re-express the case's alert in another vendor's payload; returns ``old->new``."""
    from connectors.alerts import detect_source, parse_alerts

    payload = json.loads((case / "alert.json").read_text(encoding="utf-8"))
    source = detect_source(payload)
    alerts = _alert_dicts(parse_alerts(payload))
    choices = [v for v in (_MULTI if len(alerts) > 1 else VENDORS) if v != source]
    target = rng.choice(choices)
    first = alerts[0]
    new: Any = {"alertmanager": lambda: _to_alertmanager(alerts), "grafana": lambda: _to_alertmanager(alerts, True),
                "generic": lambda: _to_generic(alerts), "datadog": lambda: _to_datadog(first),
                "pagerduty": lambda: _to_pagerduty(first), "opsgenie": lambda: _to_opsgenie(first)}[target]()
    if detect_source(new) != target:
        raise RuntimeError(f"{case.name}: the {target} payload was not recognised as {target}")
    (case / "alert.json").write_text(json.dumps(new, indent=2), encoding="utf-8")
    return f"{source}->{target}"


# ---- noise ------------------------------------------------------------------------------------------------------

NOISE_SERVICE = "newsletter-sender"  # not a word of any case; a healthy, unrelated service
_HEALTH = ("GET /healthz 200 1ms", "GET /readyz 200 1ms", "heartbeat ok", "cache stats hits=9812 misses=41",
           "GET /metrics 200 3ms")


def _alert_start(case: Path) -> datetime:
    from connectors.alerts import parse_alerts

    alerts = parse_alerts(json.loads((case / "alert.json").read_text(encoding="utf-8")))
    return min(a.starts_at for a in alerts)


def _line_time(line: str, year: int) -> datetime | None:
    from connectors.alerts.common import to_time

    if line.startswith("{"):
        try:
            obj = json.loads(line)
        except ValueError:
            return None
        if isinstance(obj, dict):
            for key in _TIME_KEYS + ("t", "@t", "logtime"):
                if key in obj:
                    return to_time(obj[key])
        return None
    stamp = line_stamp(line, year)
    return stamp[2] if stamp else None


_LOUD = re.compile(r"(?i)\b(?:error|err|fatal|critical|crit|warn|warning|exception|panic|fail\w*)\b|\" [45]\d\d ")
_LOGFMT = re.compile(r"\s(?:level|lvl|msg|severity)=")
_ACCESS_REQUEST = re.compile(r'"(?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) [^"]*"')
_PREFIX_END = re.compile(r"\]: |\] |: | - ")


def _noise_line(template: str, when: datetime, message: str, year: int) -> str | None:
    """A line of ``template``'s format at ``when`` saying ``message`` at INFO, or None when the format is not
    one this can imitate (a JSON object's keys, an access log's request, a prefix before the message)."""
    if template.startswith("{"):
        try:
            obj = json.loads(template)
        except ValueError:
            return None
        if not isinstance(obj, dict):
            return None
        new: dict[str, Any] = {}
        for key, value in obj.items():
            low = key.lower()
            if key in _TIME_KEYS or key in ("t", "@t", "logtime"):
                new[key] = when.isoformat().replace("+00:00", "Z") if isinstance(value, str) else when.timestamp()
            elif low in ("level", "lvl", "severity", "loglevel", "level_name"):
                new[key] = "INFO" if str(value).isupper() else "info"
            elif low in ("msg", "message", "event", "text"):
                new[key] = message
            elif isinstance(value, (dict, list)) or low in ("error", "err", "exception", "stack", "trace",
                                                             "stacktrace", "status", "code", "reason"):
                continue
            else:
                new[key] = value
        if not any(k.lower() in ("msg", "message", "event", "text") for k in new):
            new["msg"] = message
        return json.dumps(new)
    stamp = line_stamp(template, year)
    if stamp is None:
        return None
    kind, m, then = stamp
    new_stamp = _shift_match(kind, m, when.replace(microsecond=0) - then, year)
    head, rest = template[:m.start()] + new_stamp, template[m.end():]
    if _LOGFMT.search(rest):  # key=value lines: the stamp's own end (zone, quote), then level and msg
        return head + re.match(r"\S*", rest).group(0) + f' level=info msg="{message}"'  # type: ignore[union-attr]
    request = _ACCESS_REQUEST.search(rest)
    if request:  # an access log: the same client and layout, a health probe's request
        tail = shift_text(rest[:request.start()], when.replace(microsecond=0) - then, year) \
            + '"GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29"'
        return head + tail
    sep = _PREFIX_END.search(rest)
    if sep is None or sep.start() > 60:
        return f"{head} INFO {message}"
    prefix = re.sub(r"\b(?:ERROR|ERR|FATAL|CRITICAL|CRIT|WARN|WARNING|error|err|fatal|warn|warning)\b", "INFO",
                    shift_text(rest[:sep.end()], when.replace(microsecond=0) - then, year))
    return head + prefix + message


def _interleave(lines: list[str], rng: random.Random, year: int) -> list[str]:
    """Health-check lines in the file's own format, one every few minutes between its first and last line."""
    timed = [(t, i) for i, line in enumerate(lines) if (t := _line_time(line, year)) is not None]
    if len(timed) < 2:
        return lines
    calm = [i for _, i in timed if not _LOUD.search(lines[i])]
    template = lines[calm[0] if calm else timed[0][1]]
    first, last = timed[0][0], timed[-1][0]
    # no faster than the file's own rhythm: a sparse log (a cron's few runs) made into a steady stream would end in
    # a silence it never had, which reads as a component that went away (detectors/logs/silence.py)
    times = sorted(t for t, _ in timed)
    gaps = sorted(b - a for a, b in zip(times, times[1:], strict=False))
    step = max(timedelta(minutes=2), (last - first) / 30, gaps[len(gaps) // 2])
    inserts: list[tuple[datetime, str]] = []
    when = first + step / 2
    while when < last:
        line = _noise_line(template, when, rng.choice(_HEALTH), year)
        if line is None:
            return lines
        inserts.append((when, line))
        when += step
    out: list[str] = []
    pending = sorted(inserts)
    current: datetime | None = None
    for line in lines:
        t = _line_time(line, year)
        current = t or current
        while pending and current is not None and pending[0][0] <= current:
            out.append(pending.pop(0)[1])
        out.append(line)
    out.extend(line for _, line in pending)
    return out


def noise_case(case: Path, rng: random.Random) -> int:
    """Add ordinary unrelated lines, an unrelated healthy service's log (one baseline warning) and a routine
    scale event of it; returns the number of lines added."""
    start = _alert_start(case)
    added = 0
    logs = case / "logs"
    logs.mkdir(exist_ok=True)
    for path in sorted(logs.glob("*.log")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        new = _interleave(lines, rng, start.year)
        added += len(new) - len(lines)
        path.write_text("\n".join(new) + "\n", encoding="utf-8")
    t0 = start - timedelta(minutes=60)
    noise: list[str] = []
    for i in range(0, 75, 3):
        when = t0 + timedelta(minutes=i, seconds=rng.randint(0, 50))
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        noise.append(f"{stamp} INFO {NOISE_SERVICE} {rng.choice(_HEALTH)}")
        if i == 15:
            noise.append(f"{stamp} WARN {NOISE_SERVICE} smtp relay answered slowly (1840 ms); "
                         "message queued for retry")
        if i % 15 == 0:
            noise.append(f"{stamp} INFO {NOISE_SERVICE} sent batch of 250 newsletters in 2.1s")
    (logs / f"{NOISE_SERVICE}.log").write_text("\n".join(noise) + "\n", encoding="utf-8")
    added += len(noise)
    events = case / "events.jsonl"
    event = {"ts": _iso(start - timedelta(minutes=40)), "kind": "scale", "service": NOISE_SERVICE,
             "text": f"HorizontalPodAutoscaler {NOISE_SERVICE}: scaled from 2 to 3 replicas (cpu 71% of 70% target)"}
    existing = events.read_text(encoding="utf-8") if events.is_file() else ""
    if existing and not existing.endswith("\n"):
        existing += "\n"
    events.write_text(existing + json.dumps(event) + "\n", encoding="utf-8")
    return added + 1


# ---- concat -----------------------------------------------------------------------------------------------------

_KUBECTL_LINE = re.compile(r"^\s*(?:[\w@:~./-]*[$#%>]\s*)?(?:kubectl|oc|k)\s+\S")
CONCAT_NAME = "kubectl-output.txt"  # a name that names no workload (as container_logs reads names)


def concat_case(case: Path, rng: random.Random) -> str:
    """Paste every file under ``kubernetes/`` (in name order) into one file, dropping the kubectl command lines
    and the file names that said what each output was; returns a short description."""
    folder = case / "kubernetes"
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    if not files:
        return "no kubernetes/ files"
    parts: list[str] = []
    dropped = 0
    for path in files:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        kept = [line for line in lines if not _KUBECTL_LINE.match(line)]
        dropped += len(lines) - len(kept)
        while kept and not kept[-1].strip():
            kept.pop()
        while kept and not kept[0].strip():
            kept.pop(0)
        if kept:
            parts.append("\n".join(kept))
        path.unlink()
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        sub.rmdir()
    (folder / CONCAT_NAME).write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return f"{len(files)} files -> 1, {dropped} command lines dropped"


# ---- running ----------------------------------------------------------------------------------------------------

def rename_roles_case(case: Path, rng: random.Random) -> dict[str, str]:
    """``rename`` that replaces role words in names too (``orders-db`` -> ``amber-cobalt``)."""
    return rename_case(case, rng, keep=TECH_WORDS)


PERTURBERS: dict[str, Callable[[Path, random.Random], Any]] = {
    "rename": rename_case, "rename-roles": rename_roles_case, "timeshift": timeshift_case, "vendor": vendor_case, "noise": noise_case,
    "concat": concat_case}


@dataclass
class PerturbedCase:
    original: str  # the dev case's folder name
    path: Path
    note: str  # what was changed (a short description)


def make_variant(cases: list[Path], variant: str, out_dir: Path, seed: int) -> list[PerturbedCase]:
    """Copy each case into ``out_dir`` (as ``case-NNN``) and perturb it; one RNG per case, from the seed."""
    out: list[PerturbedCase] = []
    for i, case in enumerate(cases):
        target = out_dir / f"case-{i:03d}"
        shutil.copytree(case, target)
        rng = random.Random(f"{seed}:{variant}:{case.name}")
        result = PERTURBERS[variant](target, rng)
        note = (f"{len(result)} names" if isinstance(result, dict) else str(result))
        out.append(PerturbedCase(case.name, target, note))
    return out


def _score(bundles: list[Path], settings_dir: Path) -> dict[str, Any]:
    from bench.casebook import run_casebook
    from bot.pipeline import Pipeline
    from config.settings import load_settings

    settings = load_settings(data_dir=settings_dir / ".sherlog", retrieval={"backend": "memory"})
    return {r.name: r for r in run_casebook(bundles, pipeline=Pipeline(settings=settings))}


def _figures(results: list[Any]) -> dict[str, float]:
    from bench.casebook import figures

    f = figures(results)
    return {k: round(float(f[k]), 4) for k in ("top1", "top3", "category_accuracy")}


def run(cases: list[Path], variants: list[str], seed: int, keep: Path | None = None) -> dict[str, Any]:
    """Score the unperturbed cases and each variant; returns figures and flips per variant."""
    work = Path(tempfile.mkdtemp(prefix="sherlog-perturb-"))
    try:
        base = _score(cases, work / "base")
        base_by_case = {name: r for name, r in base.items()}
        out: dict[str, Any] = {"cases": len(cases), "seed": seed, "base": _figures(list(base.values())),
                               "variants": {}}
        for variant in variants:
            folder = (keep or work) / variant
            folder.mkdir(parents=True, exist_ok=True)
            made = make_variant(cases, variant, folder, seed)
            scored = _score([m.path for m in made], work / f"run-{variant}")
            flips = []
            rows = []
            for m in made:
                r = scored.get(m.path.name)
                b = base_by_case.get(m.original)
                if r is None or b is None:
                    continue
                rows.append(r)
                if (r.score.rank == 1) != (b.score.rank == 1) or r.score.category_correct != b.score.category_correct:
                    flips.append({"case": m.original, "note": m.note,
                                  "before": _answer(b), "after": _answer(r),
                                  "truth": f"{r.truth.root_cause_service} / {r.truth.root_cause_kind}"})
            out["variants"][variant] = {**_figures(rows), "flips": flips}
        return out
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)


def _answer(r: Any) -> str:
    top = f"{r.top[0][0]} / {r.top[0][1]} {r.top[0][2]:.2f}" if r.top else "(none)"
    return f"rank {r.score.rank or '-'}, cat {'ok' if r.score.category_correct else 'wrong'}, top: {top}"


def report_lines(result: dict[str, Any]) -> list[str]:
    base = result["base"]
    head = f"{'variant':<12}{'AC@1':>7}{'Δ':>7}{'AC@3':>7}{'Δ':>7}{'cat':>7}{'Δ':>7}{'flips':>7}"
    lines = [f"metamorphic check: {result['cases']} dev cases, seed {result['seed']}", "", head, "-" * len(head),
             f"{'unperturbed':<12}{base['top1']:>7.2f}{'':>7}{base['top3']:>7.2f}{'':>7}"
             f"{base['category_accuracy']:>7.2f}"]
    for name, v in result["variants"].items():
        lines.append(f"{name:<12}{v['top1']:>7.2f}{v['top1'] - base['top1']:>+7.2f}{v['top3']:>7.2f}"
                     f"{v['top3'] - base['top3']:>+7.2f}{v['category_accuracy']:>7.2f}"
                     f"{v['category_accuracy'] - base['category_accuracy']:>+7.2f}{len(v['flips']):>7}")
    for name, v in result["variants"].items():
        if not v["flips"]:
            continue
        lines += ["", f"flips under {name}:"]
        for f in v["flips"]:
            lines.append(f"  {f['case']}  ({f['note']})  truth {f['truth']}")
            lines.append(f"      before: {f['before']}")
            lines.append(f"      after:  {f['after']}")
    return lines


def headline(result: dict[str, Any]) -> dict[str, Any]:
    return {"cases": result["cases"], "seed": result["seed"], "base": result["base"],
            **{name: {k: v[k] for k in ("top1", "top3", "category_accuracy")} | {"flips": len(v["flips"])}
               for name, v in result["variants"].items()}}


_NUMBER_IN_NAME = re.compile(r"^[a-z0-9]+-(\d+)(?:-|$)")


def dev_cases(root: Path) -> list[Path]:
    """The dev cases under ``root``: odd-numbered folders (``k8s-07-...``) whose truth says ``split: dev``.
    Even-numbered folders (the test half) are never opened."""
    from bench.casebook import read_case_labels

    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        found = _NUMBER_IN_NAME.match(folder.name)
        if not found or int(found.group(1)) % 2 == 0:
            continue
        if (folder / "alert.json").is_file() and read_case_labels(folder)[0] == "dev":
            out.append(folder)
    return out


def _parse(argv: list[str] | None) -> argparse.Namespace:
    from bench.casebook import CASES_DIR

    parser = argparse.ArgumentParser(prog="python -m bench.casebook.perturb", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=Path, default=CASES_DIR, help="folder of case bundles")
    parser.add_argument("--split", choices=("dev",), default="dev", help="only dev: test cases are never perturbed")
    parser.add_argument("--seed", type=int, default=16, help="seed of the renaming, offsets, vendors and noise")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--case", action="append", default=[], help="only this dev case (folder name; repeatable)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the perturbed copies under this folder")
    parser.add_argument("--json", action="store_true", help="print only the headline JSON line")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    from bench.casebook import ready_to_run

    if not ready_to_run(args.cases):
        return 2
    cases = dev_cases(args.cases)
    if args.case:
        cases = [c for c in cases if c.name in set(args.case)]
    if not cases:
        print(f"error: no dev cases under {args.cases}", file=sys.stderr)
        return 2
    result = run(cases, args.variants, args.seed, keep=args.keep)
    if not args.json:
        print("\n".join(report_lines(result)))
        print()
    print(json.dumps(headline(result)))
    return 0


__all__ = ["CONCAT_NAME", "KEEP_WORDS", "ROLE_WORDS", "TECH_WORDS", "VARIANTS", "Renamer", "collect_names", "concat_case", "headline", "make_variant", "noise_case",
           "dev_cases", "rename_case", "rename_roles_case", "run", "shift_text", "timeshift_case", "vendor_case"]

if __name__ == "__main__":
    sys.exit(main())
