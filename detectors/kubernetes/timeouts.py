"""A proxy timeout lowered below a workload's usual response time (docs/causes.md): after a change of the workload
(or of its Ingress) whose record names a timeout (``proxy-read-timeout "120" -> "5"``), the ingress controller
answers 504 on the workload's requests (ingress-nginx's access log, the upstream named ``[<ns>-<workload>-<port>]``)
and logs ``upstream timed out (110: ...) while reading response header from upstream``, while the workload itself
still finishes them. The timeout is the workload's spec, ``config_change``; a workload that became slow is not this
(no timeout in its change record). Only changes with a clock time before the first such 504, within
``WINDOW``, count."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.domain import ChangeEvent, Evidence, EvidenceType, Signal, SignalSource, stable_hash
from detectors.logs.timestamps import parse_timestamp

WINDOW = timedelta(minutes=30)
MIN_CUTS = 2  # one 504 could be a request that was slow for its own reasons
CHANGE_KINDS = frozenset({"config", "deploy", "k8s"})
_NAMES_TIMEOUT = re.compile(r"timeout", re.IGNORECASE)
_TIMED_OUT = re.compile(r"upstream timed out \(110: [^)]*\) while reading response header from upstream")
# ingress-nginx's default access log: [time] "request" status ... [upstream name] [alternative] address ...
_ACCESS = re.compile(r"\[(?P<ts>\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] \"[^\"]*\" (?P<status>\d{3}) "
                     r".*? \[(?P<upstream>[\w.-]+)\] ")


def _names(upstream: str, workload: str) -> bool:
    """Whether an upstream name ``<ns>-<service>-<port>`` is the workload's Service."""
    return re.search(rf"(?:^|-){re.escape(workload)}-(?:\d+|[a-z][\w-]*)$", upstream) is not None


def timeout_cut_signals(changes: list[ChangeEvent], logs: dict[str, list[str]]) -> list[Signal]:
    """One decisive ``config_change`` per workload whose change naming a timeout was followed (within ``WINDOW``)
    by ``MIN_CUTS`` 504s of its requests in an ingress log that also says the upstream timed out."""
    signals = []
    for change in changes:
        workload = change.service or ""
        if not workload or change.kind not in CHANGE_KINDS or not _NAMES_TIMEOUT.search(change.text):
            continue
        for reporter, lines in logs.items():
            if reporter == workload or not any(_TIMED_OUT.search(line) for line in lines):
                continue
            cut = []
            for line in lines:
                found = _ACCESS.search(line)
                if not found or found["status"] != "504" or not _names(found["upstream"], workload):
                    continue
                at = parse_timestamp(found["ts"])
                if at is not None and change.ts <= at <= change.ts + WINDOW:
                    cut.append((at, line.strip()))
            if len(cut) >= MIN_CUTS:
                signals.append(_signal(workload, reporter, change, cut))
                break
    return signals


def _signal(workload: str, reporter: str, change: ChangeEvent, cut: list[tuple[datetime, str]]) -> Signal:
    title = (f"{len(cut)} requests to {workload} timed out at the ingress ({reporter}) after a change of its timeout: "
             f"{change.text[:160]}")
    evidence = [Evidence(id=f"k8s:{stable_hash('timeout-cut', workload, line)}", type=EvidenceType.KUBERNETES,
                         summary=line[:300], service=workload, ts=t, detail=f"rule ingress.timeout_lowered; from {reporter}")
                for t, line in cut[:3]]
    return Signal(source=SignalSource.KUBERNETES, detector="k8s.timeouts", service=workload, kind="config_change",
                  title=title, score=0.8, started_at=cut[0][0], evidence=evidence,
                  attributes={"decisive": True, "rule": "ingress.timeout_lowered", "count": len(cut),
                              "reporter_log": reporter})
