"""bench.simulated_eval: the held-out split shares no family with a training split of the same fraction; given a
training split that holds some held-out family, the figures of the unseen families leave those bundles out, and
--only-unseen analyses only the others."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bench import simulated_eval
from bot.simulation.dataset import plan_dataset, read_manifest


def test_held_out_bundles_share_no_family_and_only_unseen_drops_seen_ones(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "eval"
    simulated_eval.main(["--n", "4", "--no-history", "--data", str(data)])
    held_out = [c for c in read_manifest(data) if c.split == "test"][:4]
    trained = [c for c in plan_dataset(n=600, seed=7, test_fraction=simulated_eval.TEST_FRACTION) if c.split == "train"]
    assert not {c.family for c in held_out} & {c.family for c in trained}
    # a training set that did see the first held-out bundle's family (as the old group split allowed)
    seen = dataclasses.replace(held_out[0], name="case-seen", split="train")
    (tmp_path / "model-data").mkdir()
    (tmp_path / "model-data" / "manifest.jsonl").write_text(
        "".join(json.dumps(dataclasses.asdict(c)) + "\n" for c in [*trained, seen]), encoding="utf-8")
    same = sum(c.family == held_out[0].family for c in held_out)
    capsys.readouterr()
    simulated_eval.main(["--n", "4", "--no-history", "--data", str(data), "--train-manifest",
                         str(tmp_path / "model-data" / "manifest.jsonl")])
    headline = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert headline["cases"] == 4
    if same < 4:
        assert headline["unseen_families"]["cases"] == 4 - same
    simulated_eval.main(["--n", "4", "--no-history", "--data", str(data), "--train-manifest",
                         str(tmp_path / "model-data" / "manifest.jsonl"), "--only-unseen"])
    out = capsys.readouterr().out
    headline = json.loads(out.strip().splitlines()[-1])
    assert headline["cases"] == 4 - same
    assert "family / group is in" in out and f"only the {4 - same} bundles of unseen families" in out


def test_retrieval_tally_counts_the_true_cause_among_the_retrieved_and_the_held_past_incidents() -> None:
    from bot.domain import Document, DocumentType, GroundTruth, SimilarIncident

    def past(service: str, kind: str) -> SimilarIncident:
        return SimilarIncident(id=f"{service}-{kind}", title="t", score=0.5, root_cause_service=service,
                               root_cause_kind=kind)

    def held(service: str, kind: str) -> Document:
        return Document(id=f"{service}-{kind}", type=DocumentType.INCIDENT, title="t", text="t",
                        root_cause_service=service, root_cause_kind=kind)

    truth = GroundTruth(category="storage", root_cause_service="db", root_cause_kind="disk_full")
    tally = simulated_eval.RetrievalTally()
    # the true cause at rank 1; then the true kind elsewhere at rank 2; then held but not retrieved
    tally.add(truth=truth, similar=[past("db", "disk_full")], history=[held("db", "disk_full")])
    tally.add(truth=truth, similar=[past("api", "oom_kill"), past("node-1", "disk_full")],
              history=[held("node-1", "disk_full"), held("db", "disk_full")])
    tally.add(truth=truth, similar=[past("api", "oom_kill")], history=[held("node-1", "disk_full")])
    tally.add(truth=truth, similar=[], history=[])  # no history: not counted
    assert tally.bundles == 3
    assert tally.shares() == {"kind@1": 0.333, "kind@5": 0.667, "kind_held": 1.0, "exact@1": 0.333,
                              "exact@5": 0.333, "exact_held": 0.667}
