"""bench.casebook.perturb: each variant keeps a case loadable and its truth consistent; the renaming leaves no
old name anywhere; only dev cases are ever read."""

from __future__ import annotations

import json
import random
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from bench.casebook import CASES_DIR
from bench.casebook.perturb import (
    CONCAT_NAME,
    KEEP_WORDS,
    TECH_WORDS,
    Renamer,
    _interleave,
    _parse,
    concat_case,
    dev_cases,
    headline,
    noise_case,
    rename_case,
    rename_roles_case,
    run,
    shift_text,
    timeshift_case,
    vendor_case,
)
from bot.pipeline.bundle import load_bundle

SMALL_DEV = ("k8s-01-oomkilled-report-worker", "pm-17-auth-certificate-lapsed")


def _copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(CASES_DIR / name, target)
    return target


def _everything(case: Path) -> str:
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in case.rglob("*") if p.is_file()]
    return "\n".join(texts + [p.relative_to(case).as_posix() for p in case.rglob("*")])


def test_shift_text_leaves_a_timestamps_utc_offset_alone() -> None:
    # RabbitMQ's "2026-01-07 12:00:03.459421+00:00": the offset after the fraction is no time of day
    offset = timedelta(days=-58, hours=4)
    text = "2026-01-07 12:00:03.459421+00:00 [info] <0.1.0> accepting\n2026-01-07T12:00:03-05:00 x; until 12:30\n"
    assert shift_text(text, offset, 2026) == (
        "2025-11-10 16:00:03.459421+00:00 [info] <0.1.0> accepting\n2025-11-10T16:00:03-05:00 x; until 16:30\n")


@pytest.mark.parametrize("name", SMALL_DEV)
def test_rename_is_consistent_and_leaves_no_old_name(name: str, tmp_path: Path) -> None:
    case = _copy(name, tmp_path)
    truth_before = json.loads((case / "truth.json").read_text(encoding="utf-8"))
    original, _ = load_bundle(CASES_DIR / name)
    mapping = rename_case(case, random.Random(7))

    old_service = truth_before["root_cause_service"]
    truth_after = json.loads((case / "truth.json").read_text(encoding="utf-8"))
    assert old_service in mapping and truth_after["root_cause_service"] == mapping[old_service] != old_service
    assert truth_after["root_cause_kind"] == truth_before["root_cause_kind"]
    text = _everything(case)
    for old in mapping:
        assert not re.search(rf"(?<![A-Za-z0-9_]){re.escape(old)}(?![A-Za-z0-9_])", text), old
    # the case still loads, with every part, and the alert names the renamed service
    context, report = load_bundle(case)
    assert report.problems == [] and report.truth is not None
    assert report.truth.root_cause_service == mapping[old_service]
    assert len(context.logs) == len(original.logs) and len(context.kubernetes) == len(original.kubernetes)
    assert original.incident.service is not None
    assert context.incident.service == mapping.get(original.incident.service, original.incident.service)


def test_rename_roles_replaces_role_words_but_not_technology(tmp_path: Path) -> None:
    case = _copy(SMALL_DEV[0], tmp_path)
    mapping = rename_roles_case(case, random.Random(7))
    new = mapping["report-worker"]
    assert "worker" not in new.split("-") and len(new.split("-")) == 2
    assert "kube-state-metrics" not in mapping and load_bundle(case)[1].problems == []


def test_renamer_keeps_shapes_and_vocabulary() -> None:
    r = Renamer(rng=random.Random(3))
    for name in ("orders-api-7c9d8f6b5-x2kbc", "orders-db", "ip-10-42-7-118", "kafka", "kube-state-metrics",
                 "web-frontend", "xen12"):
        r.add(name)
    assert "kafka" not in r.names and "kube-state-metrics" not in r.names and "web-frontend" not in r.names
    pod = r.names["orders-api-7c9d8f6b5-x2kbc"]
    word, api, hash_, suffix = pod.split("-")
    assert api == "api" and len(hash_) == 9 and len(suffix) == 5 and word != "orders"
    assert any(c.isdigit() for c in hash_) and hash_ != "7c9d8f6b5"
    assert r.names["orders-db"] == f"{word}-db"  # one word, one neutral word: the two stay related
    assert re.fullmatch(r"ip-10-42-\d-\d{3}", r.names["ip-10-42-7-118"])
    assert re.fullmatch(r"[a-z]+12", r.names["xen12"])
    assert r.apply("dial tcp 10.42.7.118:5432 from orders-api-7c9d8f6b5-x2kbc") == \
        f"dial tcp {r.names['ip-10-42-7-118'][3:].replace('-', '.')}:5432 from {pod}"
    assert {"db", "api", "worker", "redis"} <= KEEP_WORDS
    # a name inside an identifier's words (a metric measured via a provider) is renamed with it
    r.add("level3")
    assert r.apply("loss_percent_via_level3") == f"loss_percent_via_{r.names['level3']}"
    r.add("ledger")  # a name starting an identifier: the identifier is vocabulary's (a kind) and stays
    assert r.apply("ledger_failure_surge on ledger") == f"ledger_failure_surge on {r.names['ledger']}"



@pytest.mark.parametrize(("name", "kept", "renamed"), [
    ("git-server-kern", "kern", "git"),  # the kind of log a file is: the kernel's
    ("lhr-ad1-bmc", "bmc", "lhr"),  # a board controller's
    ("atl-tcc-epms", "epms", "atl"),  # a site's electrical power monitoring system
    ("rabbit-2", "rabbit", None),  # a broker fleet's host
    ("keda-hpa-email-sender", "keda", "email"),  # the autoscaler a workload's scaler belongs to
    ("cognito", "cognito", None),  # a provider's product, named so in its endpoints
    ("as3491-pccw", "as3491", None),  # an autonomous system and its carrier
    ("att", "att", None),
    ("dc-resolver", "resolver", "dc"),  # role words
    ("registrar", "registrar", None),
    ("transit-a", "transit", None),
])
def test_renamer_keeps_log_kinds_providers_and_roles(name: str, kept: str, renamed: str | None) -> None:
    """Words a log line spells its own way (AS3491, AT&T, cognito-idp) or that say what a log or a component is
    stay: renaming them in names only left the evidence naming what the renamed truth no longer did."""
    r = Renamer(rng=random.Random(5))
    r.add(name)
    new = r.names.get(name, name)
    assert kept in new.split("-")
    if renamed:
        assert renamed not in new.split("-")


@pytest.mark.parametrize(("name", "kept"), [
    ("kyverno-admission-controller", "kyverno"),  # a policy engine: what the component is
    ("ghcr", "ghcr"),  # registries' products (ghcr.io, quay.io, gcr.io, ECR)
    ("quay", "quay"),
    ("ipv6-proxy", "ipv6"),  # a protocol, not a name
    ("stripe", "stripe"),  # a payment provider, as api.stripe.com names it
])
def test_rename_roles_keeps_product_names(name: str, kept: str) -> None:
    """``rename-roles`` replaces role words only: a product or protocol a log line names its own way stays."""
    r = Renamer(rng=random.Random(5), keep=TECH_WORDS)
    r.add(name)
    assert kept in r.names.get(name, name).split("-")


def test_renamer_gives_a_side_letter_another_letter() -> None:
    """A one-letter part (a provider's side, transit-a/transit-b) stays one letter, not a word: the shape is kept
    and the two sides stay apart."""
    r = Renamer(rng=random.Random(5), taken={"a", "b"})
    r.add("transit-a")
    r.add("transit-b")
    a, b = r.names["transit-a"], r.names["transit-b"]
    assert re.fullmatch(r"transit-[c-z]", a) and re.fullmatch(r"transit-[c-z]", b) and a != b
    # the name spelt as an identifier (a BIRD protocol named after the peer) follows it
    assert r.apply("bird: bgp_transit_a: State changed to down") == f"bird: bgp_{a.replace('-', '_')}: State changed to down"

def test_shift_text_moves_every_format_by_one_offset() -> None:
    offset = timedelta(days=30, hours=5)
    text = ("2026-03-03T09:29:30.118Z iso\n"
            "Mar  3 09:29:30 host prog[1]: syslog\n"
            "I0303 09:29:30.123456   1 main.go:42] klog\n"
            '10.0.0.1 - - [03/Mar/2026:09:29:30 +0000] "GET / HTTP/1.1" 200\n'
            "Started: Tue, 03 Mar 2026 09:29:30 +0000\n"
            "2026/03/03 09:29:30 go\n"
            '{"ts": 1772530170, "msg": "epoch"}\n'
            "endsAt 0001-01-01T00:00:00Z stays\n"
            "since 09:29 UTC\n")
    assert shift_text(text, offset, 2026) == (
        "2026-04-02T14:29:30.118Z iso\n"
        "Apr  2 14:29:30 host prog[1]: syslog\n"
        "I0402 14:29:30.123456   1 main.go:42] klog\n"
        '10.0.0.1 - - [02/Apr/2026:14:29:30 +0000] "GET / HTTP/1.1" 200\n'
        "Started: Thu, 02 Apr 2026 14:29:30 +0000\n"
        "2026/04/02 14:29:30 go\n"
        '{"ts": 1775140170, "msg": "epoch"}\n'
        "endsAt 0001-01-01T00:00:00Z stays\n"
        "since 14:29 UTC\n")


@pytest.mark.parametrize("name", SMALL_DEV)
def test_timeshift_vendor_and_noise_keep_the_case_readable(name: str, tmp_path: Path) -> None:
    original, _ = load_bundle(CASES_DIR / name)
    shifted = _copy(name, tmp_path / "t")
    offset = timeshift_case(shifted, random.Random(1))
    context, report = load_bundle(shifted)
    assert report.problems == [] and context.incident.started_at - original.incident.started_at == offset
    assert [e.ts - offset for e in context.events] == [e.ts for e in original.events]

    vendored = _copy(name, tmp_path / "v")
    change = vendor_case(vendored, random.Random(1))
    before, after = change.split("->")
    assert before != after
    context, report = load_bundle(vendored)
    assert report.problems == []
    assert (context.incident.service, context.incident.started_at) == (original.incident.service,
                                                                        original.incident.started_at)

    noisy = _copy(name, tmp_path / "n")
    assert noise_case(noisy, random.Random(1)) > 0
    context, report = load_bundle(noisy)
    assert report.problems == [] and report.truth == load_bundle(CASES_DIR / name)[1].truth
    assert len(context.events) == len(original.events) + 1
    assert sum(map(len, context.logs.values())) > sum(map(len, original.logs.values()))


def test_noise_keeps_a_sparse_logs_rhythm() -> None:
    # a cron's five runs over 38 minutes: health lines every two minutes would make it a steady stream that then
    # ends in a silence it never had (read as a component that went away, detectors/logs/silence.py)
    minutes = (0, 12, 24, 32, 38)
    lines = [f"2020-03-18T06:{m:02d}:00Z INFO cron: nothing to import" for m in minutes]
    out = _interleave(lines, random.Random(1), 2020)
    assert 0 < len(out) - len(lines) <= len(lines)
    # a busy log still gets its health lines every couple of minutes
    busy = [f"2020-03-18T06:{m // 60:02d}:{m % 60:02d}Z INFO done" for m in range(0, 1800, 20)]
    assert len(_interleave(busy, random.Random(1), 2020)) - len(busy) >= 10


def test_only_dev_cases_are_read(tmp_path: Path) -> None:
    cases = dev_cases(CASES_DIR)
    assert cases and all(int(c.name.split("-")[1]) % 2 == 1 for c in cases)
    with pytest.raises(SystemExit):
        _parse(["--split", "test"])
    # an even-numbered folder is never opened, even with a dev label
    fake = tmp_path / "k8s-02-x"
    fake.mkdir()
    (fake / "alert.json").write_text("{}", encoding="utf-8")
    (fake / "truth.json").write_text('{"split": "dev"}', encoding="utf-8")
    assert dev_cases(tmp_path) == []


def test_run_scores_a_variant_through_the_casebook_path() -> None:
    result = run([CASES_DIR / SMALL_DEV[0]], ["rename"], seed=16)
    line = headline(result)
    assert line["cases"] == 1 and set(line) == {"cases", "seed", "base", "rename"}
    assert line["base"]["top1"] in (0.0, 1.0) and line["rename"]["top1"] in (0.0, 1.0)
    flips = result["variants"]["rename"]["flips"]
    assert len(flips) == line["rename"]["flips"]
    assert (line["base"]["top1"] != line["rename"]["top1"]) <= bool(flips)


def test_a_service_named_after_a_bundle_part_leaves_the_layout_alone(tmp_path: Path) -> None:
    # "rds-events" and "metrics-store" share a word with events.jsonl and metrics/: the layout is vocabulary
    case = tmp_path / "case"
    (case / "logs").mkdir(parents=True)
    (case / "metrics").mkdir()
    shutil.copy(CASES_DIR / SMALL_DEV[0] / "alert.json", case / "alert.json")
    (case / "truth.json").write_text(json.dumps({"root_cause_service": "rds-events", "root_cause_kind": "db_down",
                                                 "category": "database", "split": "dev"}))
    (case / "topology.json").write_text(json.dumps({"metrics-store": ["rds-events"], "rds-events": []}))
    (case / "events.jsonl").write_text(json.dumps({"ts": "2026-11-27T03:00:00Z", "kind": "deploy",
                                                   "service": "rds-events", "text": "failover"}) + "\n")
    (case / "logs" / "metrics-store.log").write_text("2026-11-27T03:01:00Z ERROR rds-events unreachable\n")
    mapping = rename_case(case, random.Random(3))
    assert mapping["rds-events"] != "rds-events"  # renamed: its word "events" went to a neutral word
    assert {p.name for p in case.iterdir()} == {"alert.json", "truth.json", "topology.json", "events.jsonl", "logs",
                                                  "metrics"}
    assert [p.name for p in (case / "logs").iterdir()] == [f"{mapping.get('metrics-store', 'metrics-store')}.log"]


def test_concat_pastes_the_kubectl_outputs_into_one_file_without_commands(tmp_path: Path) -> None:
    case = _copy("k8s-03-refused-postgres-orders-db", tmp_path)
    before = sorted(p.name for p in (case / "kubernetes").iterdir())
    note = concat_case(case, random.Random(1))
    assert [p.name for p in (case / "kubernetes").iterdir()] == [CONCAT_NAME]
    pasted = (case / "kubernetes" / CONCAT_NAME).read_text(encoding="utf-8")
    assert "kubectl" not in pasted.split("\n")[0] and not re.search(r"^\$ kubectl", pasted, re.M)
    assert note.startswith(f"{len(before)} files -> 1") and "LAST SEEN" in pasted and "Name:" in pasted
    context, report = load_bundle(case)
    assert report.problems == [] and len(context.kubernetes) == 1
