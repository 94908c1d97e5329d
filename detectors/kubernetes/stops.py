"""Requests cut when a workload's pods stop (docs/causes.md): an ingress controller refuses or loses requests to
its upstream (ingress-nginx: ``connect() failed (111: Connection refused) while connecting to upstream``,
``upstream prematurely closed connection``) within seconds of the kubelet stopping that workload's containers
(``Killing ... Stopping container``), again and again. The pods stop serving before the controller stops sending
to them: how they stop is their spec's (no ``preStop`` delay, a grace period shorter than their drain), the
workload's ``config_change``. Only events with a clock time count (an age printed by ``kubectl get events`` is
too coarse to tie a stop to a second)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.domain import Evidence, EvidenceType, Signal, SignalSource, stable_hash
from detectors.kubernetes.model import KubeEvent
from detectors.logs.timestamps import parse_timestamp

_NGINX_TIME = re.compile(r"^(?P<ts>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[error\]")
_CUT = re.compile(r"connect\(\) failed \(111: Connection refused\) while connecting to upstream|"
                  r"upstream prematurely closed connection")
_STOPPING = re.compile(r"^Stopping container\b")
NEAR = timedelta(seconds=15)  # a cut this soon after a stop is that stop's
EARLY = timedelta(seconds=2)  # the two clocks differ
MIN_STOPS = 2  # distinct stops followed by cuts: one could be chance


def _cuts(lines: list[str]) -> list[tuple[datetime, str]]:
    out = []
    for line in lines:
        found = _NGINX_TIME.match(line)
        if not (found and _CUT.search(line)):
            continue
        at = parse_timestamp(found["ts"])
        if at is None:  # digits that are no date (a mangled paste): no time, no tie to a stop
            continue
        out.append((at, line.strip()))
    return out


def stop_cut_signals(events: list[KubeEvent], logs: dict[str, list[str]], workload_of: dict[str, str],
                     topology: dict[str, list[str]]) -> list[Signal]:
    """``workload_of``: each stopped pod's workload. A workload whose stops are each followed by cut requests in
    the log of a caller of it (by the topology, when the topology knows that caller) at ``MIN_STOPS`` moments."""
    stops: dict[str, list[datetime]] = {}
    for event in events:
        when = event.first_seen or event.last_seen
        workload = workload_of.get(event.obj.name, "")
        if event.reason == "Killing" and _STOPPING.match(event.message) and when is not None and workload:
            stops.setdefault(workload, []).append(when)
    signals = []
    for workload, times in sorted(stops.items()):
        for reporter, lines in logs.items():
            if reporter == workload or (reporter in topology and workload not in topology[reporter]):
                continue
            cut = [(t, line) for t, line in _cuts(lines) if any(-EARLY <= t - s <= NEAR for s in times)]
            moments = {s for s in times if any(-EARLY <= t - s <= NEAR for t, _ in cut)}
            if len(moments) >= MIN_STOPS:
                signals.append(_signal(workload, reporter, sorted(moments), cut))
    return signals


def _signal(workload: str, reporter: str, moments: list[datetime], cut: list[tuple[datetime, str]]) -> Signal:
    title = (f"{len(cut)} requests cut in {reporter}'s log within seconds of {len(moments)} stops of {workload}'s "
             "containers: its pods stop serving before they stop receiving")
    evidence = [Evidence(id=f"k8s:{stable_hash('stop-cut', workload, line)}", type=EvidenceType.KUBERNETES,
                         summary=line[:300], service=workload, ts=t, detail=f"rule stop.requests_cut; from {reporter}")
                for t, line in cut[:3]]
    return Signal(source=SignalSource.KUBERNETES, detector="k8s.stops", service=workload, kind="config_change",
                  title=title, score=0.8, started_at=moments[0], evidence=evidence,
                  attributes={"decisive": True, "rule": "stop.requests_cut", "count": len(cut), "reporter_log": reporter})
