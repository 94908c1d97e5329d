"""cert-manager Certificates that expired: the certificate is the workload's that presents it (docs/causes.md).

cert-manager renews a ``Certificate`` into its secret; when the renewal keeps failing (an ACME challenge answered
403 or 404, a DNS-01 provider refusing the record), the certificate in the secret runs out and the Certificate's
``Ready`` condition says ``Certificate expired on ...``. Clients then meet an expired certificate on a host name
(``loyalty.example.com``) that names no workload; the Certificate does. Read from what a responder saves:
``kubectl describe certificate``, ``kubectl get certificate -o wide`` (STATUS column), ``kubectl get events``
(reason ``Expired`` on ``certificate/x``), ``-o yaml``.

The owner is, in order: the workload the Ingress naming the Certificate's secret serves (``ingress.py``), a label of
the Certificate that is a known component (``app.kubernetes.io/name``, ``app``), the secret's or the Certificate's
name without a certificate suffix (``loyalty-web-tls`` -> ``loyalty-web``) when that is a known component, else
that name itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain import Evidence, EvidenceType, KubeText, Signal, SignalSource, stable_hash
from detectors.kubernetes.parse import split_commands
from detectors.kubernetes.text import clean

# What cert-manager prints about a Certificate, as data: (pattern on the text, kind, score). The Ready condition's
# message for an expired certificate is fixed wording in cert-manager's readiness controller.
STATUS_ROWS: tuple[tuple[str, str, float], ...] = (
    (r"Certificate expired on", "certificate_expired", 0.85),
)
_STATUS = [(re.compile(pattern), kind, score) for pattern, kind, score in STATUS_ROWS]

_SUFFIX = re.compile(r"[-.](?:tls|ssl|https|cert|certs|certificate|crt|secret|keypair)$", re.I)
_DESCRIBE_KIND = re.compile(r"^Kind:\s+Certificate\s*$", re.M)
_DESCRIBE_API = re.compile(r"^API Version:\s+cert-manager\.io/", re.M)
_DESCRIBE_NAME = re.compile(r"^Name:\s+(?P<name>[\w.-]+)", re.M)
_DESCRIBE_SECRET = re.compile(r"^\s+Secret Name:\s+(?P<secret>[\w.-]+)", re.M)
_YAML_KIND = re.compile(r"^kind:\s*Certificate\s*$", re.M)
_YAML_API = re.compile(r"^apiVersion:\s*cert-manager\.io/", re.M)
_YAML_NAME = re.compile(r"^\s{2}name:\s*[\"']?(?P<name>[\w.-]+)", re.M)
_YAML_SECRET = re.compile(r"^\s*secretName:\s*[\"']?(?P<secret>[\w.-]+)", re.M)
_LABEL = re.compile(r"\b(?:app\.kubernetes\.io/(?:name|instance)|app)[=:]\s*[\"']?(?P<value>[a-z0-9][\w.-]*)")
# a row naming the Certificate: an event (``certificate/x``, reason Expired) or ``get certificate -o wide``
_EVENT_ROW = re.compile(r"\bcertificate(?:\.cert-manager\.io)?/(?P<name>[\w.-]+)\s")
# the end of the certificate in the secret, as the Certificate's status gives it (describe's ``Not After``, the
# YAML's ``notAfter``, or a ``-o jsonpath='{.status.notAfter}'`` of a named Certificate): before the incident's
# time, the certificate has run out whatever its Ready condition's message says (a renewal still retrying)
_NOT_AFTER = re.compile(r"^\s*(?:Not After:|notAfter:)\s*[\"']?(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)", re.M)
_JSONPATH_CERT = re.compile(r"\bget\s+certificates?(?:\.cert-manager\.io)?\s+(?P<name>[a-z0-9][\w.-]*)\b.*"
                            r"jsonpath=\S*\.status\.notAfter")
_BARE_TS = re.compile(r"^\s*(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\s*$", re.M)
_TABLE_ROW = re.compile(r"^(?:certificate(?:\.cert-manager\.io)?/)?(?P<name>[\w.-]+)\s+(?:True|False)\s+"
                        r"(?P<secret>[\w.-]+)\s")


@dataclass
class CertificateStatus:
    """One Certificate whose status says it failed, with what names its owner."""

    name: str
    kind: str
    score: float
    line: str
    secret: str = ""
    labels: list[str] = field(default_factory=list)


def _status(text: str) -> tuple[str, float, str] | None:
    for pattern, kind, score in _STATUS:
        found = pattern.search(text)
        if found:
            start = text.rfind("\n", 0, found.start()) + 1
            end = text.find("\n", found.end())
            return kind, score, text[start: end if end >= 0 else len(text)].strip()
    return None


def _ran_out(text: str, now: datetime | None, pattern: re.Pattern[str] = _NOT_AFTER) -> tuple[str, float, str] | None:
    """The certificate's end as its status prints it, when that is before ``now`` (the incident's time)."""
    found = pattern.search(text) if now is not None else None
    if found is None or now is None:
        return None
    end = datetime.fromisoformat(found.group("ts").replace("Z", "+00:00"))
    moment = now if now.tzinfo is not None else now.replace(tzinfo=end.tzinfo)
    if end > moment:
        return None
    return "certificate_expired", 0.8, f"notAfter {found.group('ts')} (before {moment:%Y-%m-%dT%H:%M:%SZ})"


def _object_status(segment: str, now: datetime | None = None) -> CertificateStatus | None:
    """A describe or YAML of one Certificate whose status says it failed."""
    described = _DESCRIBE_KIND.search(segment) and _DESCRIBE_API.search(segment)
    yamled = _YAML_KIND.search(segment) and _YAML_API.search(segment)
    if not (described or yamled):
        return None
    status = _status(segment) or _ran_out(segment, now)
    name = (_DESCRIBE_NAME if described else _YAML_NAME).search(segment)
    if status is None or name is None:
        return None
    secret = (_DESCRIBE_SECRET if described else _YAML_SECRET).search(segment)
    kind, score, line = status
    return CertificateStatus(name=name.group("name"), kind=kind, score=score, line=line,
                             secret=secret.group("secret") if secret else "",
                             labels=[m.group("value") for m in _LABEL.finditer(segment)])


def _row_statuses(segment: str) -> list[CertificateStatus]:
    """Event rows and table rows that name a Certificate and say it failed."""
    out = []
    for line in segment.split("\n"):
        status = _status(line)
        if status is None:
            continue
        kind, score, quoted = status
        event = _EVENT_ROW.search(line)
        row = _TABLE_ROW.match(line.strip())
        if event:
            out.append(CertificateStatus(name=event.group("name"), kind=kind, score=score, line=quoted))
        elif row:
            out.append(CertificateStatus(name=row.group("name"), kind=kind, score=score, line=quoted,
                                         secret=row.group("secret")))
    return out


def failed_certificates(kube_texts: list[KubeText], now: datetime | None = None) -> list[CertificateStatus]:
    out: list[CertificateStatus] = []
    for item in kube_texts:
        for command, segment in split_commands(clean(item.text)):
            found = _object_status(segment, now)
            named = _JSONPATH_CERT.search(command) if found is None else None
            ran_out = _ran_out(segment, now, _BARE_TS) if named else None
            if named and ran_out:
                found = CertificateStatus(name=named.group("name"), kind=ran_out[0], score=ran_out[1], line=ran_out[2])
            out.extend([found] if found is not None else _row_statuses(segment))
    return out


def _base(name: str) -> str:
    while name and _SUFFIX.search(name):
        name = _SUFFIX.sub("", name)
    return name


def certificate_owner(cert: CertificateStatus, known: set[str], secret_owner: Callable[[str], str]) -> str:
    """The workload a Certificate is for (see the module's docstring); "" when nothing names one."""
    for secret in (cert.secret, cert.name):
        owner = secret_owner(secret) if secret else ""
        if owner:
            return owner
    for label in cert.labels:
        if label in known:
            return label
    for name in (cert.secret, cert.name):
        base = _base(name)
        if base and base in known:
            return base
    return _base(cert.secret or cert.name)


def certificate_signals(kube_texts: list[KubeText], known: set[str],
                        secret_owner: Callable[[str], str], now: datetime | None = None) -> list[Signal]:
    """One decisive signal per (owner, kind) from the Certificates whose status says they failed, or whose end
    (``notAfter``) is before ``now``, the incident's time."""
    grouped: dict[tuple[str, str], list[CertificateStatus]] = {}
    for cert in failed_certificates(kube_texts, now):
        owner = certificate_owner(cert, known, secret_owner)
        if owner:
            grouped.setdefault((owner, cert.kind), []).append(cert)
    signals = []
    for (owner, kind), certs in grouped.items():
        first = certs[0]
        evidence = [Evidence(id=f"k8s:{stable_hash('certificate', owner, c.name, c.line)}",
                             type=EvidenceType.KUBERNETES, summary=f"certificate/{c.name}: {c.line}"[:300],
                             service=owner, detail="rule certificate.status; cert-manager Certificate status")
                    for c in certs[:3]]
        signals.append(Signal(
            source=SignalSource.KUBERNETES, detector="k8s.certificates", service=owner, kind=kind,
            title=f"certificate/{first.name} (for {owner}): {first.line[:160]}", score=first.score,
            evidence=evidence,
            attributes={"decisive": True, "rule": "certificate.status", "object": f"certificate/{first.name}",
                        "count": len(certs), "message": first.line[:500], "blame": "workload",
                        "culprit": owner}))  # named by the Certificate: its own, not a dependency's
    return signals
