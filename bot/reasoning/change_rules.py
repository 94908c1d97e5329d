"""What a change is, by what it changed, and when a dependency's own failure speaks against it.

A change log types a change by how it was shipped (``deploy``, ``config``, ``flag``); an engineer names it by what
it changed: a new image or code is ``bad_deploy``; values, labels, probes, RBAC, security settings, resources or a
chart's templates shipped through the same pipeline are ``config_change``; pods merely recreated or restarted, and a
job run or enqueued by hand, changed nothing of what runs and are no suspect at all (docs/causes.md, "Which kind,
elsewhere"): what such a run does (its load, its backlog) the detectors read.

``WHAT_CHANGED`` is the table: each row a pattern (case-insensitive), what it says changed (``code``, ``config``,
``restart`` or ``run``), one text it must read and one close text it must not (``tests/reasoning/test_change_rules.py``
checks both).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from detectors.logs.changes import ExampledPattern


@dataclass(frozen=True, slots=True)
class WhatChanged(ExampledPattern):
    id: str
    what: str  # "code", "config", "restart" or "run"
    pattern: str
    positive: str
    negative: str
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)


WHAT_CHANGED: tuple[WhatChanged, ...] = (
    # new code: an application version (not a chart's: ``chart 5.0.0``, ``--version 3.0.0``), a commit, an image
    WhatChanged("code.version", "code",
                r"(?<!chart )(?<!--version )(?<!chart version )(?<![\w.-])v?\d+\.\d+(?:\.\d+)*(?:[-+.][\w.]+)?\b",
                "cart-api 5.5.2 rolled out", "helm upgrade web --version 3.0.0 (chart migration)"),
    WhatChanged("code.dated_build", "code", r"\b(?:19|20)\d\d[.-]\d\d[.-]\d\d(?:[.-]\d+)?\b",
                "api deploy 2019-07-10.6 (batching)", "deploy of web at 10:30"),
    WhatChanged("code.commit", "code", r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b",
                "github/github deploy 7c1e9a2 (notifications)", "deploy of deadbeef-service"),
    WhatChanged("code.words", "code",
                r"\b(?:image|build|rewrite|hotfix|bug ?fix|fix|patch|binary|firmware|new code|code change|"
                r"feature|endpoint|schema migration|canary)\b",
                "web: new image registry/web:abc", "web: values refactor"),
    # configuration shipped as a deploy: values, labels and selectors, probes, access, security, resources
    WhatChanged("config.chart", "config",
                r"\bchart (?:v?\d|values|refactor|migration|restructur|split)|\bhelm chart\b|--version\b|"
                r"\bvalues(?:\.ya?ml)?\b(?: (?:refactor|file|change|restructured|update))?",
                "storefront-web chart 5.0.0: RBAC split", "kite-web 3.2.1 (chart settings)"),
    WhatChanged("config.spec", "config",
                r"\b(?:labels?|selector|liveness|readiness|startup ?probe|probes?|rbac|clusterrole|rolebinding|"
                r"service ?account|securitycontext|runasuser|runasgroup|fsgroup|pod ?security|env(?:ironment)? "
                r"var(?:iable)?s?|configmap|secret|resources?(?: requests| limits)?|requests|limits?|replicas|"
                r"annotations?|ingress|targetport|network ?policy|node ?selector|affinity|tolerations?|taints?|"
                r"priorityclass|storageclass|settings?|parameters?|timeouts?|ttl|pool size|max_?\w+|"
                r"config(?:uration)?s?|routing (?:tables?|rules?))\b",
                "event-journal: securityContext hardened (runAsUser 10001)", "checkout 4.9.0 rolled out"),
    # infrastructure an apply provisions for a component: its certificates, host-name aliases, DNS records
    WhatChanged("config.infrastructure", "config",
                r"\b(?:certificates?|certs?|(?:host ?name |domain |dns )?aliases|cnames?|dns records?)\b",
                "infra: terraform apply static (certificate and aliases)", "web 2.1.0 (alias lookup fix)"),
    WhatChanged("config.assignment", "config", r"\b[\w.]+ \S+ ?-> ?\S+",
                "MaxStartups 100:30:200 -> 150:30:300", "deployed to prod"),
    # nothing of what runs changed: the same pods recreated or restarted
    # nothing of what runs changed: a job run, enqueued or triggered by hand (its load is read by the detectors)
    WhatChanged("run.job", "run",
                r"\b(?:enqueued|queued|triggered|kicked off|started|launched|ran|running|scheduled) (?:a |an |the )?"
                r"(?:one-off |one-time |manual |ad[- ]hoc )?(?:job|task|backfill|batch(?: job)?|reindex|export)\b",
                "ops: enqueued one-off job RecomputeInvoices (all accounts)", "ops: deployed job runner 2.4.0"),
    WhatChanged("restart.only", "restart",
                r"\b(?:pods? (?:were |was )?(?:recreated|restarted|rescheduled|evicted)|rollout restart|"
                r"restarted|bounced|re-?deploy(?:ed)? \S+ \((?:remediation|restart))",
                "coredns pods recreated after node upgrade", "coredns pods run 1.11.1"),
)


# the purpose a change was made for, not what it changed: ``(... for upcoming custom-domains feature)``, ``ahead of the
# planned launch``. A change that prepares for a feature has not shipped it; its own words are read without this clause
_PURPOSE = re.compile(r"\b(?:for|ahead of|in preparation for|to prepare(?: for)?|preparing(?: for)?) (?:the |an? )?"
                      r"(?:upcoming|future|planned|next|coming)\b[^(),;]*", re.IGNORECASE)


def what_changed(text: str) -> set[str]:
    """What the change's text says changed: a subset of {"code", "config", "restart", "run"}. A clause naming what
    the change prepares for (``for upcoming custom-domains feature``) is no part of what it changed."""
    text = _PURPOSE.sub(" ", text or "")
    return {row.what for row in WHAT_CHANGED if row.regex.search(text)}


# the version of a chart a release installs (``helm upgrade x --version 3.4.0``, ``chart 3.4.0``)
_CHART_VERSION = re.compile(r"(?:--version[ =]|\bchart (?:version )?)v?(\d+\.\d+(?:\.\d+)*(?:-[\w.]+)?)\b", re.IGNORECASE)


def chart_version(text: str) -> str | None:
    """The chart version a release's ``text`` installs, or None."""
    match = _CHART_VERSION.search(text or "")
    return match.group(1) if match else None


def reports_version(line: str, version: str) -> bool:
    """Whether ``line`` states ``version`` whole as a version (``v3.4.0``, ``3.4.0``; not ``13.4.0`` or ``3.4.0.1``)."""
    return re.search(r"(?<![\w.-])v?" + re.escape(version) + r"(?![\w-]|\.\d)", line or "", re.IGNORECASE) is not None


# an operating-system package manager's account of what it upgrades (unattended-upgrades, yum/dnf, apt and dpkg's log):
# the packages follow the phrase, one word each (``libssl3 net-agent openssl``, ``openssl-libs-1.0.2k-25.el7_9.x86_64``,
# ``systemd:amd64 249.11``)
_PACKAGE_UPGRADE = re.compile(r"(?:Packages that will be upgraded:|\b(?:yum|dnf)\S*: (?:Updated|Upgraded|Installed):|"
                              r"\bSetting up(?= \S+ \()|\bupgrade(?= [\w.+-]+:\w+ ))\s+(?P<packages>.+)$",
                              re.IGNORECASE)
_PACKAGE_VERSION = re.compile(r"[:(]|-\d")


def upgrades_own_package(text: str, service: str | None) -> bool:
    """Whether a package upgrade's ``text`` lists the component's own program (a package named ``service``): the
    host's update shipped a new version of that program, not only its settings."""
    match = _PACKAGE_UPGRADE.search(text or "")
    if not match or not service:
        return False
    own = service.strip().lower()
    return any(_PACKAGE_VERSION.split(word.lower(), maxsplit=1)[0] == own for word in match["packages"].split())


def kind_by_what_changed(kind: str, text: str, reported: Sequence[str] = (), service: str | None = None) -> str | None:
    """The cause kind of a change of stated ``kind`` (a change cause kind) whose text is ``text``: a deploy that
    changed only configuration is ``config_change``; a deploy or configuration change that only recreated or
    restarted what runs, or ran a job, is no change (None). Otherwise the stated kind.

    A deploy typed by its chart's version (``--version 3.4.0``) whose component's own lines (``reported``) state
    that version as the program's (``Starting X v3.4.0``) shipped the program, not only its settings: it stays a
    deploy (``bad_deploy``). So does a host's package upgrade (typed ``config``) that lists the component's own
    program (``Packages that will be upgraded: libssl3 net-agent`` in ``net-agent``'s log, ``upgrades_own_package``):
    a new version of what runs is ``bad_deploy``."""
    if kind not in ("bad_deploy", "config_change"):
        return kind
    if kind == "config_change" and upgrades_own_package(text, service):
        return "bad_deploy"
    what = what_changed(text)
    if what & {"restart", "run"} and not what & {"code", "config"}:
        return None
    if kind == "bad_deploy" and "config" in what and "code" not in what:
        version = chart_version(text)
        if version and any(reports_version(line, version) for line in reported):
            return kind
        return "config_change"
    return kind
