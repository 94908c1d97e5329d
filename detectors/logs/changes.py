"""Changes that only a log records: a host's journal or an application's log stating that something changed.

A change log (``events.jsonl``) misses what nobody announced: an unattended package upgrade, a configuration
management run, an operator's ``sysctl -w``, a router's configuration commit, a feature flag flipped from an admin
page, a migration run at start-up. Such lines become change events (``ChangeEvent``), read like the change log's
own: the service is the component whose log it is (or the workload the line names, ``deployment.apps/checkout``,
when the incident knows it), the time is the line's, the kind is the row's.

``CHANGE_ROWS`` is the table: each row a pattern (case-insensitive), the change kind it states and one line it
must read and one it must not (``tests/detectors/logs/test_log_changes.py`` checks both). Lines a component prints
routinely are not changes: a line whose template (``masking.mask``) was already printed ``ROUTINE_MIN`` times
more than ``ROUTINE_LEAD`` before it (a console audit login every few minutes, an hourly configuration run that
changes nothing) is dropped, and so is a line that says it changed nothing (``config reloaded, no changes``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.domain import ChangeEvent
from bot.domain.workloads import workload_of_pod
from detectors.logs.anchors import required_literals, trie_regex
from detectors.logs.formats import BUILTIN_FORMATS, LineFormat, ParsedLine
from detectors.logs.masking import mask
from detectors.logs.parsing import clean, detect_format

ROUTINE_LEAD = timedelta(minutes=30)
ROUTINE_MIN = 2
# a line that says the run changed nothing (``config reloaded, no changes``, ``nothing to apply``) states no change
_NOTHING_CHANGED = re.compile(r"\b(?:no|zero|0) (?:(?:config(?:uration)?|settings?) )?changes?\b(?! (?:were|was) )|"
                              r"\bnothing (?:changed|to (?:apply|change|reload|update))\b|\bunchanged\b",
                              re.IGNORECASE)
MAX_SCAN_LINES = 100_000
MAX_CHANGES_PER_SERVICE = 6
MAX_TEXT = 300
FORMAT_SAMPLE = 50


class ExampledPattern:
    """A rule-table row (a frozen dataclass) whose ``pattern`` is compiled once, case-insensitively, into its
    ``regex`` field; its ``positive`` text must match and its ``negative`` text must not (each table's test)."""

    __slots__ = ()
    pattern: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern, re.IGNORECASE))


@dataclass(frozen=True, slots=True)
class ChangeRow(ExampledPattern):
    """A line that states a change: ``kind`` is a change-log kind (deploy, config, flag); ``positive`` is a
    line the pattern must read, ``negative`` a close one it must not. A ``target`` group names the workload."""

    id: str
    kind: str
    pattern: str
    positive: str
    negative: str
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)


CHANGE_ROWS: tuple[ChangeRow, ...] = (
    # operating-system packages (Debian/Ubuntu unattended-upgrades, apt, dpkg's own log, yum/dnf)
    ChangeRow("os.unattended_upgrade", "config",
              r"unattended-upgrade\S*: (?:Packages that will be upgraded: \S|Installing \S)",
              "Mar  8 06:00:00 node-1 unattended-upgrade[4700]: Packages that will be upgraded: libsystemd0 systemd udev",
              "Mar  8 06:00:00 node-1 unattended-upgrade[4700]: No packages found that can be upgraded unattended"),
    ChangeRow("os.apt", "config",
              r"\b(?:apt(?:-get)?|dpkg)\b.{0,40}\b(?:upgrade|install|dist-upgrade)\b.{0,80}\b(?:Unpacking|Setting up|"
              r"upgraded|newly installed)|\bSetting up \S+ \(\S+\) \.\.\.|\bupgrade \S+:\S+ \S+ \S+$",
              "2023-03-08 06:00:12 upgrade systemd:amd64 249.11-0ubuntu3.6 249.11-0ubuntu3.7",
              "2023-03-08 06:00:12 status installed systemd:amd64 249.11-0ubuntu3.6"),
    ChangeRow("os.yum", "config",
              r"\b(?:yum|dnf)(?:\[\d+\])?: (?:Updated|Upgraded|Installed|Erased): \S",
              "Jun  2 04:10:33 web-1 yum[2211]: Updated: openssl-libs-1.0.2k-25.el7_9.x86_64",
              "Jun  2 04:10:33 web-1 yum[2211]: Nothing to do"),
    # configuration management runs that changed something
    ChangeRow("cm.ansible", "config",
              r"^\s*changed: \[[^\]]+\]|\bPLAY RECAP\b.*\bchanged=[1-9]|\bansible\S*: .*\bchanged=[1-9]",
              "changed: [web-3] => (item=/etc/nginx/nginx.conf)",
              "ok: [web-3] => (item=/etc/nginx/nginx.conf)"),
    ChangeRow("cm.puppet", "config",
              r"\(/Stage\[\w+\]/\S+\) (?:content changed|ensure changed|\S+ changed)|"
              r"\bpuppet\S*: Applied catalog\b.*\b[1-9]\d* (?:resources? )?changed",
              "puppet-agent[880]: (/Stage[main]/Nginx::Config/File[/etc/nginx/nginx.conf]/content) content changed "
              "'{md5}0a1b' to '{md5}9f8e'",
              "puppet-agent[880]: Applied catalog in 4.21 seconds"),
    ChangeRow("cm.chef", "config",
              r"\bChef (?:Infra )?Client finished, [1-9]\d*/\d+ resources updated",
              "Chef Client finished, 3/120 resources updated in 12 seconds",
              "Chef Client finished, 0/120 resources updated in 11 seconds"),
    ChangeRow("cm.salt", "config",
              r"\bsalt\S*: .*\bSucceeded: \d+ \(changed=[1-9]",
              "salt-minion[991]: Succeeded: 42 (changed=2)",
              "salt-minion[991]: Succeeded: 42"),
    # orchestrators and deploy tools
    ChangeRow("k8s.kubectl_image", "deploy",
              r"\b(?:deployment|statefulset|daemonset)\.apps/(?P<target>[\w.\-]+) (?:image updated|restarted)|"
              r"\bdeployment \"?(?P<target2>[\w.\-]+)\"? (?:image updated|successfully rolled out)",
              "deployment.apps/checkout image updated",
              "deployment.apps/checkout unchanged"),
    ChangeRow("k8s.kubectl_config", "config",
              r"\b(?:configmap|secret|deployment\.apps|service|ingress\.networking\.k8s\.io|networkpolicy"
              r"\.networking\.k8s\.io)/(?P<target>[\w.\-]+) configured\b",
              "configmap/checkout-config configured",
              "configmap/checkout-config unchanged"),
    # kubectl's answer to patch, edit, replace, set env/resources/serviceaccount: the object's spec changed
    ChangeRow("k8s.kubectl_patch", "config",
              r"\b(?:deployment|statefulset|daemonset|cronjob)\.(?:apps|batch)/(?P<target>[\w.\-]+) "
              r"(?:patched|edited|replaced|env updated|resource requirements updated|serviceaccount updated)"
              r"\b(?! \(no change\))|"
              r"\b(?:configmap|secret|service|ingress\.networking\.k8s\.io|networkpolicy\.networking\.k8s\.io|"
              r"horizontalpodautoscaler\.autoscaling)/(?P<target2>[\w.\-]+) (?:patched|edited|replaced)\b(?! \(no change\))",
              "deployment.apps/checkout patched",
              "deployment.apps/checkout patched (no change)"),
    ChangeRow("k8s.helm", "deploy",
              r"\bRelease \"(?P<target>[\w.\-]+)\" has been upgraded\b|\bhelm\b.{0,40}\bupgrade (?P<target2>[\w.\-]+)\b",
              "Release \"checkout\" has been upgraded. Happy Helming!",
              "Release \"checkout\" does not exist. Installing it now."),
    ChangeRow("deploy.version", "deploy",
              r"\b(?:deployed|deploying|rolled out|rolling out|released|upgraded to|updated to|rolling update to)"
              r" (?:the )?(?:new )?(?:version|release|build|revision|image)? ?v?\d+(?:\.\d+)+",
              "2024-02-01T10:00:02Z INFO deployer: deployed version v1.2.4 to prod",
              "2024-02-01T10:00:02Z INFO client running version v1.2.4"),
    ChangeRow("deploy.finished", "deploy",
              r"\b(?:deploy(?:ment)?|rollout|release) (?:of \S+ )?(?:#?\d+ )?(?:succeeded|finished|completed|complete)\b",
              "2024-02-01T10:00:02Z INFO spinnaker: deployment of checkout succeeded",
              "2024-02-01T10:00:02Z INFO spinnaker: deployment of checkout failed pre-flight checks, nothing changed"),
    ChangeRow("deploy.migration", "deploy",
              r"\b(?:Running|Applying|Applied) (?:database |schema )?migrations?\b(?! (?:are|is) (?:up to date|pending))"
              r"|\bMigrating to \S+|==\s*\d+ \w+: migrat(?:ing|ed)\b",
              "2024-02-01T10:00:02Z INFO Running migrations: Applying orders.0042_add_index... OK",
              "2024-02-01T10:00:02Z INFO No migrations to apply."),
    # configuration reloaded in place
    ChangeRow("config.reload", "config",
              r"\b(?:configuration|config) (?:file )?(?:re-?loaded|reload (?:succeeded|complete)|changes? applied)\b|"
              r"\breload(?:ed|ing) (?:the )?(?:configuration|config)\b|\breconfiguring\b|"
              r"\bsignal 1 \(SIGHUP\) received, reconfiguring\b",
              "2024/02/01 10:00:02 [notice] 1#1: signal 1 (SIGHUP) received, reconfiguring",
              "2024/02/01 10:00:02 [notice] 1#1: using the \"epoll\" event method"),
    ChangeRow("config.systemd_reload", "config",
              r"\bsystemd\[1\]: Reloading(?: requested from client PID \d+)?\.?$|\bsystemd\[1\]: Reloaded \S",
              "Mar  8 06:00:31 node-1 systemd[1]: Reloading.",
              "Mar  8 06:00:31 node-1 systemd[1]: Started Session 42 of user ubuntu."),
    # an operator's command that changes the running system
    ChangeRow("config.sudo_command", "config",
              r"\bsudo(?:\[\d+\])?: .*COMMAND=\S*\b(?:sysctl -w|sysctl -p|ip route (?:add|del|replace)|ip rule "
              r"(?:add|del)|iptables -[ADIR]|nft (?:add|delete|flush)|ethtool -[GKL]|tc qdisc (?:add|change|del)|"
              r"systemctl (?:restart|reload|stop|disable|mask|daemon-reload)|sed -i|tee /etc/)",
              "sudo[4121]:    alice : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/sbin/sysctl -w net.core.somaxconn=128",
              "sudo[4121]:    alice : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/journalctl -u nginx"),
    ChangeRow("config.sysctl", "config",
              r"\bsysctl\S*: (?:net|vm|kernel|fs)\.[\w.]+ ?= ?\S",
              "Mar  8 06:00:31 node-1 sysctl[311]: net.ipv4.ip_forward = 0",
              "Mar  8 06:00:31 node-1 systemd-sysctl[311]: Couldn't write '1' to 'net/ipv4/conf/all/rp_filter'"),
    # network devices: a configuration committed (IOS, Junos, EOS, NX-OS)
    ChangeRow("config.device_commit", "config",
              r"%SYS-5-CONFIG_I: Configured from|\bUI_COMMIT(?:_COMPLETED)?\b|%SYS-5-CONFIG_E\b|"
              r"\bcommit complete\b|\bConfiguration committed\b|%VSHD-5-VSHD_SYSLOG_CONFIG_I\b",
              "Jul 08 08:50:02 dr11.yyz 23806: %SYS-5-CONFIG_I: Configured from console by automation on vty2",
              "Jul 08 08:50:02 dr11.yyz 23806: %SYS-6-LOGGINGHOST_STARTSTOP: Logging to host 10.0.0.9 started"),
    # appliances and network elements: a configuration package, profile or set activated (by an operator, a MOP)
    ChangeRow("config.activated", "config",
              r"\bconfig(?:uration)? (?:package|profile|set|bundle|snapshot|archive)\b[^.;]{0,60}?"
              r"\b(?:activated|applied|committed|loaded|installed)\b(?! (?:failed|aborted))",
              "Feb 03 10:12:00 fw-edge-2 cfgd[88]: configuration profile edge-2025-02 applied by user netops (commit 41f9)",
              "Feb 03 10:12:00 fw-edge-2 cfgd[88]: configuration profile edge-2025-02 validated, awaiting approval"),
    # a cloud audit trail's record of an operator's API call that stops, removes or reboots machines (CloudTrail
    # ``TerminateInstances``, ``DeleteDBInstance``, EKS ``DeleteNodegroup``, GCP ``compute.instances.delete``): the
    # component its tags or name give (``tags=cluster:es-fra-3``), when the incident knows it; a refused call is none
    ChangeRow("audit.cloud_action", "config",
              r"^(?!.*\b(?:errorCode|AccessDenied|UnauthorizedOperation|DryRunOperation)\b).*?"
              r"\b(?:(?:Terminate|Stop|Reboot)Instances|(?:Delete|Reboot|Stop|Modify)DB(?:Instance|Cluster)|"
              r"Delete(?:Cluster|Nodegroup|LoadBalancer|AutoScalingGroup)|DeregisterTargets|UpdateNodegroupConfig|"
              r"compute\.instances\.(?:delete|stop|reset))\b"
              r"(?:.{0,200}?\b(?:cluster|service|app|component|name|Name)[:=]\s*\"?(?P<target>[\w.\-]+))?",
              '{"ts": "2020-03-10T13:02:00Z", "msg": "TerminateInstances user=ops-engineer instances=3 '
              'tags=cluster:es-fra-3,role:master"}',
              '{"ts": "2020-03-10T13:02:00Z", "msg": "TerminateInstances user=ops-engineer errorCode=AccessDenied"}'),
    # feature flags flipped
    ChangeRow("flag.flip", "flag",
              r"\b(?:feature[ _-]?flag|flag|toggle|feature)\b[^.;]{0,60}?\b(?:enabled|disabled|turned (?:on|off)|"
              r"flipped|switched (?:on|off)|set to (?:true|false|on|off|\d+%?)|rolled out to \d+%)",
              "2024-02-01T10:00:02Z INFO flags: feature flag \"new_checkout\" enabled for 100% of users",
              "2024-02-01T10:00:02Z INFO flags: feature flag \"new_checkout\" evaluated in 3ms"),
)

# words one of which a line stating a change holds (lower case), searched as one trie: at each place a line
# is read, one branch per next letter instead of a try of every word
TRIGGER_WORDS = (
    "upgrade", "install", "updated", "upgraded", "erased", "changed", "chef", "succeeded", "configured", "release",
    "deploy", "rolled", "rolling", "patched", "edited", "replaced", "activated", "applied",
    "migrat", "reload", "reconfigur", "sudo", "sysctl", "config_", "commit", "flag", "toggle", "feature", "setting up",
    "helm", "image", "instances", "dbinstance", "dbcluster", "deletecluster", "nodegroup", "deleteloadbalancer",
    "deleteautoscalinggroup", "deregistertargets",
)
_TRIGGER = trie_regex(frozenset(TRIGGER_WORDS))


# each row's lower-case literals one of which every line it reads holds (``anchors.required_literals``): on an
# ASCII line, a row none of whose literals the line holds is not searched (case-insensitive matching also takes
# a few non-ASCII letters for ASCII ones, which lower() does not turn into them: other lines search every row)
_ROW_LITERALS: tuple[frozenset[str] | None, ...] = tuple(
    required_literals(row.pattern) if row.pattern.isascii() else None for row in CHANGE_ROWS
)


def rows_matching(text: str) -> list[ChangeRow]:
    """The rows whose pattern reads ``text`` (every row, in table order)."""
    lower = text.lower()
    if not _TRIGGER.search(lower):
        return []
    if not text.isascii():
        return [row for row in CHANGE_ROWS if row.regex.search(text)]
    return [row for row, literals in zip(CHANGE_ROWS, _ROW_LITERALS, strict=True)
            if (literals is None or any(word in lower for word in literals)) and row.regex.search(text)]


def _parsed(text: str, fmt: LineFormat) -> ParsedLine | None:
    for candidate in (fmt, *BUILTIN_FORMATS):
        try:
            parsed = candidate.parse(text)
        except Exception:  # noqa: BLE001 - a format must never break detection
            parsed = None
        if parsed is not None and (parsed.ts is not None or candidate is not fmt):
            return parsed
    return None


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _target(match: re.Match[str], known: Mapping[str, str]) -> str | None:
    for group in ("target", "target2"):
        name = match.groupdict().get(group)
        if not name:
            continue
        low = name.lower()
        for candidate in (low, workload_of_pod(low), re.sub(r"-(?:config|cm|secret|svc)$", "", low)):
            if candidate in known:
                return known[candidate]
    return None


@dataclass(slots=True)
class _Seen:
    row: ChangeRow
    service: str
    ts: datetime
    text: str
    template: str


def changes_in_log(service: str, lines: Sequence[str], *, known: Iterable[str] = ()) -> list[ChangeEvent]:
    """The changes one service's log states, one event per template (its first line), routine lines dropped."""
    lines = lines[-MAX_SCAN_LINES:]
    if not lines:
        return []
    fmt = detect_format([clean(x) for x in lines[:FORMAT_SAMPLE]])
    known_lower = {k.lower(): k for k in known if k}
    times: dict[str, list[datetime]] = {}  # template -> times it was printed (every match, routine or not)
    firsts: list[_Seen] = []
    for raw in lines:
        if isinstance(raw, str) and not _TRIGGER.search(raw[:MAX_TEXT * 4].lower()):
            continue  # the cheap word pass first: most lines state no change
        text = clean(raw)
        rows = rows_matching(text)
        if not rows or _NOTHING_CHANGED.search(text):
            continue
        parsed = _parsed(text, fmt)
        if parsed is None or parsed.ts is None:
            continue
        ts = _aware(parsed.ts)
        template = mask(parsed.message or text)
        earlier = times.setdefault(template, [])
        routine = sum(1 for t in earlier if ts - t > ROUTINE_LEAD) >= ROUTINE_MIN
        earlier.append(ts)
        if routine:
            continue
        row = rows[0]
        match = row.regex.search(text)
        target = (_target(match, known_lower) if match else None) or service
        if any(s.template == template and s.service == target for s in firsts):
            continue
        firsts.append(_Seen(row, target, ts, text.strip()[:MAX_TEXT], template))
    out: list[ChangeEvent] = []
    for seen in firsts:
        # a template printed again and again long after its first line (a periodic run from the log's start) is routine
        printed = times.get(seen.template, [])
        if sum(1 for t in printed if t - seen.ts > ROUTINE_LEAD) >= ROUTINE_MIN + 1:
            continue
        out.append(ChangeEvent(ts=seen.ts, kind=seen.row.kind, service=seen.service,
                               text=f"from {service}'s log ({seen.row.id}): {seen.text}"))
        if len(out) >= MAX_CHANGES_PER_SERVICE:
            break
    return out


def changes_in_logs(logs: Mapping[str, Sequence[str]], *, known: Iterable[str] = ()) -> list[ChangeEvent]:
    """The changes every service's log states (``changes_in_log``), oldest first."""
    names = {*known, *logs}
    out: list[ChangeEvent] = []
    for service, lines in logs.items():
        out.extend(changes_in_log(service, lines, known=names))
    return sorted(out, key=lambda e: e.ts)
