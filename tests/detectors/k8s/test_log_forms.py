"""Log text of several containers pasted one after another without their ``kubectl logs`` lines."""

from __future__ import annotations

import pytest

from bot.domain import KubeText
from detectors.kubernetes import container_logs
from detectors.kubernetes.log_forms import DATABASE_FORMS, FORMS, form_of, owner, runs_database, split_forms
from detectors.kubernetes.parse import parse_kube_text

PODS = """NAME                          READY   STATUS    RESTARTS   AGE
ledger-api-6f8b9c7d5-k2m4p    1/1     Running   0          3d
ledger-db-0                   1/1     Running   0          40d
"""
APP = [
    "2031-04-02T08:11:03.120Z ERROR 1 --- [exec-3] c.x.ledger.Repo : Connection is not available",
    "com.example.DbException: FATAL: too many connections for role",
    "    at com.example.Pool.get(Pool.java:41)",
    "2031-04-02T08:11:04.002Z INFO  1 --- [exec-4] c.x.ledger.Web : GET /accounts 200",
]
PG = [
    "2031-04-02 08:10:58.412 UTC [9911] FATAL:  too many connections for role \"ledger\"",
    "2031-04-02 08:10:59.001 UTC [9912] LOG:  checkpoint starting: time",
]
LOGFMT = ['ts=2031-04-02T08:11:00Z level=warn app=ledger-api msg="pool saturated" waiting=31',
          'ts=2031-04-02T08:11:01Z level=error app=ledger-api msg="request failed" path=/accounts']
CONFIG = ["    pool:", "      max-size: 10", "      min-idle: 10"]


@pytest.mark.parametrize(("line", "form"), [
    ("Error from server (NotFound): pods \"ledger-api-0\" not found", "kubectl-error"),
    (PG[0], "postgres"),
    ("2031-04-02T08:10:58.412345Z 14 [Warning] [MY-010055] IP address could not be resolved", "mysql"),
    ("1:M 02 Apr 2031 08:10:58.412 # OOM command not allowed when used memory > 'maxmemory'", "redis"),
    ("E0402 08:10:58.412301       1 controller.go:114] sync failed", "klog"),
    ('{"ts":"2031-04-02T08:10:58Z","level":"error","msg":"x"}', "json"),
    (LOGFMT[0], "logfmt"),
    (APP[0], "stamped"),
    ("      max-size: 10", "config"),
    ("\tat com.example.Pool.get(Pool.java:41)", ""),
    ("com.example.DbException: FATAL: too many connections for role", ""),
    ("", ""),
])
def test_each_form_is_recognised(line: str, form: str) -> None:
    assert form_of(line) == form


def test_every_form_has_a_row_above() -> None:
    assert {f for f, _ in FORMS} <= {"kubectl-error", "postgres", "mysql", "redis", "klog", "json", "logfmt",
                                     "stamped", "config"}


def test_a_paste_is_cut_where_the_format_changes_and_lasts() -> None:
    pieces = split_forms(CONFIG + APP + PG + LOGFMT)
    assert [f for f, _ in pieces] == ["config", "stamped", "postgres", "logfmt"]
    assert pieces[1][1] == APP  # the stack trace stays with the line it follows
    assert pieces[2][1] == PG


def test_one_odd_line_inside_a_log_does_not_cut() -> None:
    odd = [APP[0], LOGFMT[0], APP[3], APP[0]]
    assert split_forms(odd) == [("stamped", odd)]


def test_a_one_line_kubectl_error_is_its_own_piece() -> None:
    lines = [PG[0], "Error from server (BadRequest): container \"x\" is waiting to start", *APP]
    assert [f for f, _ in split_forms(lines)] == ["postgres", "kubectl-error", "stamped"]


def test_owner_of_each_piece() -> None:
    workloads = ["ledger-api", "ledger-db"]
    pods = {"ledger-api-6f8b9c7d5-k2m4p": "ledger-api", "ledger-db-0": "ledger-db"}
    assert owner("postgres", PG, workloads, pods) == "ledger-db"
    assert owner("postgres", PG, ["ledger-api", "ledger-db", "audit-db"], pods) == ""  # which database: unsaid
    assert owner("logfmt", LOGFMT, workloads, pods) == "ledger-api"
    assert owner("stamped", APP, workloads, pods) == ""
    # a PostgreSQL log is not a cache's: a Redis workload beside it leaves one candidate
    assert owner("postgres", PG, ["ledger-api", "ledger-pg", "quote-redis"], {}) == "ledger-pg"
    # the outputs name no database: the incident's services may
    assert owner("postgres", PG, ["ledger-api"], {}, ["ledger-api", "ledger-pg", "quote-redis"]) == "ledger-pg"
    assert owner("postgres", PG, ["ledger-api"], {}, ["ledger-api", "web"]) == ""



def test_an_api_server_error_is_about_the_service_it_called() -> None:
    error = ['Error from server (InternalError): failed calling webhook "quota.example.io": Post '
             '"https://quota-webhook.admission.svc:443/validate?timeout=10s": x509: certificate has expired']
    assert owner("kubectl-error", error, ["ledger-api", "quota-webhook"], {}) == "quota-webhook"
    assert owner("kubectl-error", error, ["ledger-api"], {}, ["quota-webhook"]) == "quota-webhook"
    assert owner("kubectl-error", error, ["ledger-api"], {}) == ""  # a Service nobody else names: unsaid
    assert owner("kubectl-error", ["Error from server (NotFound): pods \"x\" not found"], ["ledger-api"], {}) == ""


@pytest.mark.parametrize(("form", "workload"), [
    ("postgres", "billing-postgres"), ("postgres", "orders-pg-0"), ("postgres", "ledger-db"),
    ("mysql", "cart-mysql"), ("mysql", "shop-mariadb"), ("mysql", "cart-db"), ("redis", "session-redis"),
])
def test_database_forms_name_their_workloads(form: str, workload: str) -> None:
    assert form in DATABASE_FORMS and runs_database(workload, form)
    assert not runs_database("page-api", form)  # a word inside another word names nothing


def test_pasted_database_log_goes_to_the_topologys_database() -> None:
    text = "\n".join(APP + PG) + "\n"
    logs = container_logs([KubeText(name="kubernetes/1.txt", text=text)], ["ledger-api", "ledger-pg", "ledger-redis"])
    assert logs["ledger-pg"] == PG and logs[""] == APP


def test_pasted_logs_go_to_the_workloads_they_are_from() -> None:
    text = PODS + "\n" + "\n".join(PG + LOGFMT + APP) + "\n"
    logs = container_logs([KubeText(name="kubernetes/1.txt", text=text)])
    assert logs["ledger-db"] == PG
    assert logs["ledger-api"] == LOGFMT
    assert logs[""] == APP  # names nothing (nor does the file name): the caller's


def test_a_log_whose_command_names_its_pod_is_not_cut() -> None:
    text = "$ kubectl logs ledger-api-6f8b9c7d5-k2m4p\n" + "\n".join(PG + APP) + "\n"
    logs = parse_kube_text(KubeText(name="k.txt", text=text)).logs
    assert len(logs) == 1 and logs[0].pod == "ledger-api-6f8b9c7d5-k2m4p" and not logs[0].form
