"""A Job failed at its deadline by its own spec (docs/causes.md): a change that set the deadline, or a container
that never exits holding the Job open, is the workload's configuration; a deadline met for another reason is not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain import ChangeEvent, KubeText
from detectors.kubernetes import detect_kubernetes_signals
from detectors.kubernetes.detector import JOB_SPEC_LIMITS

from .factories import context

DESCRIBE_JOB = """$ kubectl -n billing describe job invoice-batch-29475120
Name:             invoice-batch-29475120
Namespace:        billing
Active Deadline Seconds:  900s
Pods Statuses:    0 Active (0 Ready) / 0 Succeeded / 1 Failed
Events:
  Type     Reason            Age   From            Message
  ----     ------            ----  ----            -------
  Normal   SuccessfulCreate  17m   job-controller  Created pod: invoice-batch-29475120-wq6zj
  Warning  DeadlineExceeded  2m    job-controller  Job was active longer than specified deadline
"""

HELD_OPEN_POD = """$ kubectl -n finance describe pod ledger-export-29471040-7xk2p
Name:             ledger-export-29471040-7xk2p
Namespace:        finance
Status:           Running
Controlled By:    Job/ledger-export-29471040
Containers:
  export:
    Image:          registry.example/ledger-export:3.4.2
    State:          Terminated
      Reason:       Completed
      Exit Code:    0
    Ready:          False
    Restart Count:  0
  cloud-sql-proxy:
    Image:          gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1
    State:          Running
    Ready:          True
    Restart Count:  0
"""

DEADLINE_EVENTS = """$ kubectl -n finance get events
LAST SEEN   TYPE      REASON             OBJECT                          MESSAGE
2m          Warning   DeadlineExceeded   job/ledger-export-29471040      Job was active longer than specified deadline
"""


def _kinds(signals: list, service: str) -> set[str]:
    return {s.kind for s in signals if s.service == service}


def test_the_table_names_the_field_each_limit_enforces() -> None:
    assert JOB_SPEC_LIMITS == {"job.deadline": "activeDeadlineSeconds"}


@pytest.mark.parametrize("text", [
    "invoice-batch jobTemplate activeDeadlineSeconds 7200 -> 900",
    # the same field as Terraform and Helm values spell it
    "kubernetes_cron_job_v1.invoice_batch: job_template.spec.active_deadline_seconds 7200 => 900",
    "helm upgrade invoice-batch --set job.active-deadline-seconds=900",
])
def test_a_deadline_a_change_of_the_workload_set_is_that_change(text: str) -> None:
    change = ChangeEvent(ts=datetime(2024, 3, 3, 16, 0, tzinfo=UTC), kind="config", service="invoice-batch",
                         text=text)
    signals = detect_kubernetes_signals(context(KubeText(name="job.txt", text=DESCRIBE_JOB), events=[change]))
    assert "config_change" in _kinds(signals, "invoice-batch")


def test_a_change_of_another_field_or_workload_does_not_move_the_deadline() -> None:
    changes = [ChangeEvent(ts=datetime(2024, 3, 3, 16, 0, tzinfo=UTC), kind="config", service="invoice-batch",
                           text="invoice-batch image 3.1.0"),
               ChangeEvent(ts=datetime(2024, 3, 3, 16, 0, tzinfo=UTC), kind="config", service="other-job",
                           text="other-job activeDeadlineSeconds 600")]
    signals = detect_kubernetes_signals(context(KubeText(name="job.txt", text=DESCRIBE_JOB), events=changes))
    assert "config_change" not in _kinds(signals, "invoice-batch")


def test_a_job_held_open_by_a_container_that_never_exits_is_its_own_spec() -> None:
    signals = detect_kubernetes_signals(context(KubeText(name="pod.txt", text=HELD_OPEN_POD),
                                                KubeText(name="events.txt", text=DEADLINE_EVENTS)))
    assert "config_change" in _kinds(signals, "ledger-export")


def test_a_deadline_with_the_work_still_running_stays_as_it_was() -> None:
    running = HELD_OPEN_POD.replace("""    State:          Terminated
      Reason:       Completed
      Exit Code:    0""", "    State:          Running")
    signals = detect_kubernetes_signals(context(KubeText(name="pod.txt", text=running),
                                                KubeText(name="events.txt", text=DEADLINE_EVENTS)))
    assert "config_change" not in _kinds(signals, "ledger-export")
