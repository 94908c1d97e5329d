"""Change-log entries typed only as ``change`` or ``maintenance`` (``detectors.changes.normalise_kind``,
``bot.reasoning.keywords.CHANGE_KINDS``): an untyped change of a component is a configuration change; a maintenance
entry is one only when its text changes the component's setup (its nodes moved, a host replaced or re-provisioned,
an element inserted, capacity added), never routine work that leaves it as it was."""

from __future__ import annotations

import pytest

from bot.domain import ChangeEvent
from bot.reasoning.features import build_candidates
from bot.reasoning.keywords import change_kind
from detectors.changes import normalise_kind
from tests.reasoning.factories import at, context, signal


@pytest.mark.parametrize("text", [
    "Move nodes off of allocator i-0900 due to routine system maintenance",
    "planned work: replace transport router TR-02 and move VoLTE traffic to it",
    "legacy-billing VM re-provisioned on the new hypervisor cluster",
    "MOP 24-0221: insert network element into production (capacity expansion)",
    "adding data node capacity to es-fra-3 (ticket OPS-4412)",
])
def test_a_maintenance_that_changes_the_setup_is_a_configuration_change(text: str) -> None:
    assert normalise_kind(ChangeEvent(ts=at(0), kind="maintenance", service="x", text=text)) == "config"


@pytest.mark.parametrize("text", [
    "weekly pg_dump to backup site",
    "app-db weekly vacuum",
    "RDS weekly maintenance window completed: no pending changes",
    "xen14 rebooted for a kernel update",
    "k8s-node-12 cordoned and drained for kernel patching",
    "drive replacement DC1: app server app-dc1-01 shut down",
    "replaced failed disk in slot 3",
    "MOP 17: put the new firewall in service",
])
def test_routine_maintenance_stays_a_note(text: str) -> None:
    assert normalise_kind(ChangeEvent(ts=at(0), kind="maintenance", service="x", text=text)) == "maintenance"


def test_an_untyped_change_is_a_configuration_change() -> None:
    assert change_kind("change") == "config_change"
    assert change_kind("maintenance") is None


def _cands(events):  # type: ignore[no-untyped-def]
    ctx = context(service="query-api", topology={"query-api": ["writer"], "writer": []}, events=events)
    crash = signal("logs", "writer", "crash_loop", 0.85, 4, attributes={"decisive": True, "line": "writer exited"})
    return {(c.service, c.kind): c for c in build_candidates(context=ctx, signals=[crash], similar=[], runbooks=[])}


@pytest.mark.parametrize(("kind", "text"), [
    ("change", "writer hosts moved to new instance type (hardware configuration change, CHG-1180)"),
    ("maintenance", "Move writer nodes off of allocator i-0900 due to routine system maintenance"),
])
def test_a_change_or_maintenance_followed_by_its_components_own_failure_is_a_suspect(kind: str, text: str) -> None:
    cands = _cands([ChangeEvent(ts=at(0), kind=kind, service="writer", text=text)])
    assert cands[("writer", "config_change")].features["decisive_score"] == 0.85


def test_routine_maintenance_makes_no_suspect() -> None:
    cands = _cands([ChangeEvent(ts=at(0), kind="maintenance", service="writer", text="writer weekly vacuum")])
    assert ("writer", "config_change") not in cands
