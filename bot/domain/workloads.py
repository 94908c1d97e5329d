"""Kubernetes workload names from pod and job names (docs/causes.md, "Which service").

A pod's name carries its owner's: ``checkout-7c9d8f6b5-x2kbc`` (Deployment -> ReplicaSet -> Pod),
``ledger-0`` (StatefulSet), ``backup-28475520-q7k2z`` (CronJob -> Job -> Pod), ``fluentd-8xk2p`` (DaemonSet
or a bare Job). These are naming rules of the Kubernetes controllers, so a pure function can undo them.
"""

from __future__ import annotations

import re

# ReplicaSet pod-template hashes are 6-10 chars and pod suffixes 5 chars of the "safe" alphabet (no vowels, no
# 0/1/3). Hand-written or redacted pastes often use hex-like hashes instead (``7b6c5d4e3f``), so a segment of
# lower-case letters and digits with at least one digit is taken for a hash as well.
_SAFE = "bcdfghjklmnpqrstvwxz2456789"
_HASH = rf"(?:[{_SAFE}]{{6,10}}|(?=[a-z0-9]*\d)[a-z0-9]{{6,10}})"
_SUFFIX = rf"(?:[{_SAFE}]{{5}}|(?=[a-z0-9]*\d)[a-z0-9]{{5}})"
_DEPLOYMENT_POD = re.compile(rf"^(?P<name>.+)-{_HASH}-{_SUFFIX}$")
_CRONJOB_POD = re.compile(rf"^(?P<name>.+)-\d{{8,10}}-{_SUFFIX}$")
_CRONJOB_JOB = re.compile(r"^(?P<name>.+)-\d{8,10}$")
_SUFFIXED_POD = re.compile(rf"^(?P<name>.+)-{_SUFFIX}$")
_STATEFUL_POD = re.compile(r"^(?P<name>.+)-\d{1,4}$")
_REPLICASET = re.compile(rf"^(?P<name>.+)-{_HASH}$")
# kubeadm runs the control plane as static pods named ``<component>-<node name>`` (``kube-scheduler-cp-1``): the
# node's name is no ordinal or hash of a controller, the component is the workload. etcd is left out: ``etcd-0`` and
# ``etcd-backup-...`` are also the names of ordinary workloads
CONTROL_PLANE_STATIC_PODS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")


def workload_of_pod(pod: str) -> str:
    """The owning workload's name for a pod name; the name itself when no controller pattern fits."""
    name = pod.strip()
    for component in CONTROL_PLANE_STATIC_PODS:
        if name.startswith(f"{component}-") and len(name) > len(component) + 1:
            return component
    for pattern in (_CRONJOB_POD, _DEPLOYMENT_POD, _STATEFUL_POD, _SUFFIXED_POD):
        match = pattern.match(name)
        if match and _plausible(match.group("name")):
            return match.group("name")
    return name


def workload_of_job(job: str) -> str:
    """A CronJob's name for the Jobs it creates (``backup-28475520`` -> ``backup``); other jobs unchanged."""
    match = _CRONJOB_JOB.match(job.strip())
    return match.group("name") if match and _plausible(match.group("name")) else job.strip()


def workload_of_replicaset(replicaset: str) -> str:
    """A Deployment's name for its ReplicaSets (``checkout-7c9d8f6b5`` -> ``checkout``)."""
    match = _REPLICASET.match(replicaset.strip())
    return match.group("name") if match and _plausible(match.group("name")) else replicaset.strip()


def _plausible(name: str) -> bool:
    return len(name) >= 2 and not name.endswith("-")
