"""The casebook's Kubernetes half (``bench/casebook/cases/k8s-*``): case numbers run without gaps, the split
follows the number (odd dev, even test), and every case from k8s-51 on has its row in
``bench/casebook/KUBERNETES_CASES.md`` saying the same truth as its ``truth.json`` and naming a source its
``modelled_on`` lists.

These tests guard the data's shape and its documentation, never Sherlog's answers on it (loading and the
vocabulary are checked for every case in ``test_casebook.py``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

CASEBOOK = Path(__file__).resolve().parents[2] / "bench" / "casebook"
CASES = sorted(
    (p for p in (CASEBOOK / "cases").glob("k8s-*") if p.is_dir()), key=lambda p: int(p.name.split("-")[1])
)
CASE_NAME = re.compile(r"^k8s-(?P<n>\d{2,3})-[a-z0-9]+(?:-[a-z0-9]+)*$")
# | k8s-51-x | deploy | `svc` / `kind` | dev | https://... |
TABLE_ROW = re.compile(
    r"^\| (?P<case>k8s-\d+-[a-z0-9-]+) \| (?P<category>[a-z]+) \| `(?P<service>[^`]+)` / `(?P<kind>[a-z_]+)` "
    r"\| (?P<split>dev|test) \| (?P<source>\S+) \|",
    re.MULTILINE,
)
MIN_CASES = 373
FIRST_DOCUMENTED = 51


def _number(case: Path) -> int:
    return int(case.name.split("-")[1])


def _table() -> dict[str, dict[str, str]]:
    text = (CASEBOOK / "KUBERNETES_CASES.md").read_text(encoding="utf-8")
    return {m["case"]: m.groupdict() for m in TABLE_ROW.finditer(text)}


def test_case_numbers_run_without_gaps() -> None:
    assert len(CASES) >= MIN_CASES
    for case in CASES:
        assert CASE_NAME.match(case.name), f"{case.name}: expected k8s-NN-<slug>"
    assert [_number(c) for c in CASES] == list(range(1, len(CASES) + 1))


def test_the_table_parser_reads_a_row() -> None:
    row = "| k8s-51-init-migration-fails-billing-api | deploy | `billing-api` / `bad_deploy` | dev | https://x |"
    match = TABLE_ROW.search(row)
    assert match is not None and match["service"] == "billing-api" and match["kind"] == "bad_deploy"
    assert match["source"] == "https://x"


@pytest.mark.parametrize("case", [c for c in CASES if _number(c) >= FIRST_DOCUMENTED], ids=lambda c: c.name)
def test_documented_row_matches_truth(case: Path) -> None:
    truth = json.loads((case / "truth.json").read_text(encoding="utf-8"))
    assert truth["split"] == ("dev" if _number(case) % 2 else "test")
    row = _table().get(case.name)
    assert row is not None, f"{case.name} has no row in KUBERNETES_CASES.md"
    assert (row["category"], row["service"], row["kind"], row["split"]) == (
        truth["category"],
        truth["root_cause_service"],
        truth["root_cause_kind"],
        truth["split"],
    )


@pytest.mark.parametrize("case", [c for c in CASES if _number(c) >= FIRST_DOCUMENTED], ids=lambda c: c.name)
def test_documented_source_is_one_the_truth_names(case: Path) -> None:
    truth = json.loads((case / "truth.json").read_text(encoding="utf-8"))
    row = _table().get(case.name)
    assert row is not None, f"{case.name} has no row in KUBERNETES_CASES.md"
    assert row["source"].startswith("https://")
    assert row["source"] in truth["modelled_on"]


BATCH_13 = range(294, 314)


def test_batch_13_twins_share_a_failure_family() -> None:
    """k8s-294..313 are written as twins (2k test, 2k+1 dev): each pair shares category and kind, names a
    different service or wording, and together they cover at least eight documented sources."""
    by_number = {_number(c): c for c in CASES if _number(c) in BATCH_13}
    assert sorted(by_number) == list(BATCH_13)
    truths = {n: json.loads((c / "truth.json").read_text(encoding="utf-8")) for n, c in by_number.items()}
    for test_n in range(294, 314, 2):
        test, dev = truths[test_n], truths[test_n + 1]
        assert (test["category"], test["root_cause_kind"]) == (dev["category"], dev["root_cause_kind"]), test_n
        assert by_number[test_n].name.split("-", 2)[2] != by_number[test_n + 1].name.split("-", 2)[2]
        assert test["source"] == dev["source"] == "kubernetes"
    assert len({t["modelled_on"] for t in truths.values()}) >= 8


def test_fourteenth_batch_is_complete_balanced_and_on_workload_lifecycle() -> None:
    """k8s-314..333: twenty cases, ten dev and ten test, each with raw kubectl output under kubernetes/ and a change
    or note on a component other than the truth's (a red herring), over at least three kinds."""
    batch = [c for c in CASES if 314 <= _number(c) <= 333]
    assert [_number(c) for c in batch] == list(range(314, 334))
    truths = [json.loads((c / "truth.json").read_text(encoding="utf-8")) for c in batch]
    assert sorted(t["split"] for t in truths) == ["dev"] * 10 + ["test"] * 10
    assert len({t["root_cause_kind"] for t in truths}) >= 3
    for case, truth in zip(batch, truths, strict=True):
        assert any((case / "kubernetes").glob("*.txt")), case.name
        rows = [json.loads(line) for line in (case / "events.jsonl").read_text(encoding="utf-8").splitlines()]
        assert any(r["service"] != truth["root_cause_service"] for r in rows), case.name


def test_fifteenth_batch_twins_on_nodes_runtimes_and_add_ons() -> None:
    """k8s-334..353: twenty cases written as twins (2k test, 2k+1 dev) on nodes, runtimes and cluster add-ons: each
    pair shares category and kind under different names, every case has raw kubectl output under kubernetes/ and a
    change or note on a component other than the truth's (a red herring), and the batch spans at least five kinds
    and eight documented sources."""
    batch = {_number(c): c for c in CASES if 334 <= _number(c) <= 353}
    assert sorted(batch) == list(range(334, 354))
    truths = {n: json.loads((c / "truth.json").read_text(encoding="utf-8")) for n, c in batch.items()}
    for test_n in range(334, 354, 2):
        test, dev = truths[test_n], truths[test_n + 1]
        assert (test["split"], dev["split"]) == ("test", "dev"), test_n
        assert (test["category"], test["root_cause_kind"]) == (dev["category"], dev["root_cause_kind"]), test_n
        assert batch[test_n].name.split("-", 2)[2] != batch[test_n + 1].name.split("-", 2)[2]
        assert test["source"] == dev["source"] == "kubernetes"
    assert len({t["root_cause_kind"] for t in truths.values()}) >= 5
    assert len({t["modelled_on"] for t in truths.values()}) >= 8
    for n, case in batch.items():
        assert any((case / "kubernetes").glob("*.txt")), case.name
        rows = [json.loads(line) for line in (case / "events.jsonl").read_text(encoding="utf-8").splitlines()]
        assert any(r["service"] != truths[n]["root_cause_service"] for r in rows), case.name


def test_sixteenth_batch_twins_on_workloads_as_they_fail() -> None:
    """k8s-354..373: twenty cases written as twins (2k test, 2k+1 dev) on workloads as they fail in practice: each
    pair shares category and kind under different names, every case has raw kubectl output under kubernetes/ and a
    change or note on a component other than the truth's (a red herring), at least half carry Kubernetes events as
    ``k8s_event`` rows beside service logs under logs/, and the batch spans at least ten documented sources."""
    batch = {_number(c): c for c in CASES if 354 <= _number(c) <= 373}
    assert sorted(batch) == list(range(354, 374))
    truths = {n: json.loads((c / "truth.json").read_text(encoding="utf-8")) for n, c in batch.items()}
    for test_n in range(354, 374, 2):
        test, dev = truths[test_n], truths[test_n + 1]
        assert (test["split"], dev["split"]) == ("test", "dev"), test_n
        assert (test["category"], test["root_cause_kind"]) == (dev["category"], dev["root_cause_kind"]), test_n
        assert batch[test_n].name.split("-", 2)[2] != batch[test_n + 1].name.split("-", 2)[2]
        assert test["source"] == dev["source"] == "kubernetes"
    assert len({t["modelled_on"] for t in truths.values()}) >= 10
    with_events_and_logs = 0
    for n, case in batch.items():
        assert any((case / "kubernetes").glob("*.txt")), case.name
        rows = [json.loads(line) for line in (case / "events.jsonl").read_text(encoding="utf-8").splitlines()]
        assert any(r["service"] != truths[n]["root_cause_service"] for r in rows), case.name
        if any(r["kind"] == "k8s_event" for r in rows) and any((case / "logs").glob("*.log")):
            with_events_and_logs += 1
    assert with_events_and_logs >= 10
