"""bench.casebook: the runner's arithmetic on a tiny hand-made casebook, and every committed case loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.casebook import CASES_DIR, CaseResult, figures, headline, miss_lines, select_cases
from bench.casebook.__main__ import main
from bot.domain import GroundTruth
from bot.domain.vocabulary import ALL_KINDS, category_of
from bot.pipeline.bundle import load_bundle
from bot.pipeline.evaluation import EvalCase


def _result(name: str, split: str, rank: int | None, confidence: float, *, source: str = "kubernetes",
            category_correct: bool = True, ms: float = 10.0) -> CaseResult:
    truth = GroundTruth(category="memory", root_cause_service="api", root_cause_kind="oom_kill")
    score = EvalCase(name=name, kind="oom_kill", rank=rank, top_confidence=confidence, top_correct=rank == 1,
                     category_correct=category_correct, ms=ms)
    return CaseResult(name, split, source, truth, score, [("api", "oom_kill", confidence)])


def test_figures_arithmetic_on_known_scores() -> None:
    rows = [_result("a", "dev", 1, 0.9), _result("b", "dev", None, 0.8, category_correct=False),
            _result("c", "dev", 2, 0.3, ms=30.0)]
    f = figures(rows)
    assert f["cases"] == 3
    assert f["top1"] == pytest.approx(1 / 3)
    assert f["top3"] == pytest.approx(2 / 3)
    assert f["category_accuracy"] == pytest.approx(2 / 3)
    # one case per bin: |0.9 - 1|, |0.8 - 0|, |0.3 - 0| weighted 1/3 each
    assert f["ece"] == pytest.approx((0.1 + 0.8 + 0.3) / 3)
    assert f["wrong_above_half"] == 1
    assert f["wrong_above_half_rate"] == pytest.approx(1 / 3)
    assert f["p50_ms"] == pytest.approx(10.0)


def test_headline_splits_and_test_sources() -> None:
    rows = [_result("a", "dev", 1, 0.9), _result("b", "test", 1, 0.7, source="postmortem"),
            _result("c", "test", 3, 0.6)]
    line = headline(rows)
    assert line["dev"]["cases"] == 1 and line["dev"]["top1"] == 1.0
    assert line["test"]["cases"] == 2 and line["test"]["top1"] == 0.5 and line["test"]["top3"] == 1.0
    assert line["test"]["wrong_above_half"] == 1
    assert line["test_top1_by_source"] == {"kubernetes": 0.0, "postmortem": 1.0}
    assert "rank 3" in "\n".join(miss_lines(rows))


def _write_case(root: Path, name: str, *, truth: dict[str, object], pod: str, message: str) -> None:
    case = root / name
    (case / "logs").mkdir(parents=True)
    alert = {"version": "4", "status": "firing", "receiver": "k8s", "groupLabels": {}, "commonLabels": {},
             "commonAnnotations": {}, "externalURL": "http://alertmanager:9093", "groupKey": "{}:{}",
             "alerts": [{"status": "firing",
                         "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": pod,
                                    "container": "app", "severity": "warning"},
                         "annotations": {"description": f"Pod shop/{pod} (app) is in waiting state."},
                         "startsAt": "2026-03-02T10:15:00Z", "endsAt": "0001-01-01T00:00:00Z",
                         "generatorURL": "http://prometheus:9090/graph", "fingerprint": name}]}
    (case / "alert.json").write_text(json.dumps(alert), encoding="utf-8")
    (case / "logs" / "app.log").write_text(f"2026-03-02T10:14:58Z ERROR {message}\n", encoding="utf-8")
    (case / "truth.json").write_text(json.dumps(truth), encoding="utf-8")


@pytest.fixture
def tiny_casebook(tmp_path: Path) -> Path:
    base = {"keywords": [], "modelled_on": "test", "notes": "test"}
    _write_case(tmp_path, "k8s-01-a", pod="checkout-7c9d8f6b5-x2kbc", message="java.lang.OutOfMemoryError",
                truth={**base, "category": "memory", "root_cause_service": "checkout",
                       "root_cause_kind": "oom_kill", "split": "dev", "source": "kubernetes"})
    _write_case(tmp_path, "k8s-02-b", pod="ledger-0", message="panic: nil map",
                truth={**base, "category": "application", "root_cause_service": "no-such-service-anywhere",
                       "root_cause_kind": "deadlock", "split": "test", "source": "kubernetes"})
    _write_case(tmp_path, "pm-01-c", pod="search-5d8f-abcde", message="upstream timed out",
                truth={**base, "category": "dependency", "root_cause_service": "no-such-provider",
                       "root_cause_kind": "rate_limited", "split": "test", "source": "postmortem"})
    return tmp_path


def test_runner_prints_tables_and_a_json_last_line(tiny_casebook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--cases", str(tiny_casebook), "--show-misses"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    line = json.loads(out[-1])
    assert line["dev"]["cases"] == 1 and line["test"]["cases"] == 2
    # the two test truths name services that appear nowhere in their bundles: no answer can hit them
    assert line["test"]["top1"] == 0.0 and line["test"]["top3"] == 0.0
    assert line["test_top1_by_source"] == {"kubernetes": 0.0, "postmortem": 0.0}
    text = "\n".join(out)
    assert "per true kind, test" in text and "k8s-02-b" in text and "pm-01-c" in text
    assert "truth: no-such-service-anywhere / deadlock" in text


def test_runner_filters_by_source_and_split(tiny_casebook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert [p.name for p in select_cases(tiny_casebook, split="test")] == ["k8s-02-b", "pm-01-c"]
    assert [p.name for p in select_cases(tiny_casebook, source="postmortem")] == ["pm-01-c"]
    assert main(["--cases", str(tiny_casebook), "--source", "kubernetes", "--split", "test", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert json.loads(out[0])["test"]["cases"] == 1


def test_llm_flag_without_endpoint_says_so(tiny_casebook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--cases", str(tiny_casebook), "--split", "dev", "--llm", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0] == "no LLM endpoint configured (llm.base_url); deterministic figures only"
    assert json.loads(out[-1])["dev"]["cases"] == 1


def test_missing_cases_folder_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--cases", str(tmp_path / "nope")]) == 2
    assert "not a folder" in capsys.readouterr().err


CASES = sorted(p for p in CASES_DIR.iterdir() if p.is_dir()) if CASES_DIR.is_dir() else []


def test_the_casebook_has_cases() -> None:
    assert len([c for c in CASES if c.name.startswith("k8s-")]) >= 42


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_case_loads_with_a_valid_truth(case: Path) -> None:
    context, report = load_bundle(case)
    assert report.problems == []
    assert report.truth is not None
    raw = json.loads((case / "truth.json").read_text(encoding="utf-8"))
    assert raw["root_cause_kind"] in ALL_KINDS
    assert category_of(raw["root_cause_kind"]).value == raw["category"]
    assert raw["split"] in ("dev", "test")
    assert raw["source"] in ("kubernetes", "postmortem")
    assert raw["root_cause_service"] and raw.get("modelled_on") and raw.get("notes")
    assert context.kubernetes or context.events or context.logs, "a case needs evidence besides the alert"
