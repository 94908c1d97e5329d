from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain import DocumentType, InputError
from retrieval import load_markdown_folder, read_markdown_folder
from retrieval.documents import parse_date, slugify, split_front_matter
from tests.retrieval.conftest import RUNBOOK_MD

INCIDENT_MD = """---
id: INC-2041
title: Checkout DB pool exhausted
date: 2026-03-14
services: checkout, orders
category: database
root_cause_service: checkout
root_cause_kind: db_connection_exhaustion
resolution: Raised the pool size to 50
url: https://tracker.acme.test/INC-2041
---
Checkout requests queued waiting for a connection.
"""


def test_front_matter_is_split_from_the_body() -> None:
    meta, body = split_front_matter(INCIDENT_MD)
    assert meta["id"] == "INC-2041"
    assert body.startswith("Checkout requests queued")


def test_front_matter_that_is_not_a_mapping_is_an_input_error() -> None:
    with pytest.raises(InputError, match="mapping"):
        split_front_matter("---\n- a\n- b\n---\nbody")


def test_incident_front_matter_maps_to_document_fields(tmp_path: Path) -> None:
    (tmp_path / "inc.md").write_text(INCIDENT_MD)
    [doc] = load_markdown_folder(tmp_path, type=DocumentType.INCIDENT)
    assert doc.id == "INC-2041"
    assert doc.services == ["checkout", "orders"]
    assert doc.category == "database"
    assert doc.kinds == ["db_connection_exhaustion"]
    assert doc.root_cause_kind == "db_connection_exhaustion"
    assert doc.resolution == "Raised the pool size to 50"
    assert doc.date is not None and doc.date.year == 2026 and doc.date.tzinfo is not None
    assert doc.url == "https://tracker.acme.test/INC-2041"


def test_runbook_is_split_by_heading_with_path_and_anchor(tmp_path: Path) -> None:
    (tmp_path / "db.md").write_text(RUNBOOK_MD)
    docs = load_markdown_folder(tmp_path, type=DocumentType.RUNBOOK)
    by_anchor = {d.metadata["anchor"]: d for d in docs}
    assert set(by_anchor) == {
        "database-runbook",
        "connection-pool-exhausted",
        "raise-the-pool-size",
        "replication-lag",
        "replication-lag-1",
    }
    raise_pool = by_anchor["raise-the-pool-size"]
    # the H1 repeating the runbook title is not repeated in the path
    assert raise_pool.heading_path == ["Connection pool exhausted", "Raise the pool size"]
    assert raise_pool.url == "https://wiki.acme.test/runbooks/database#raise-the-pool-size"
    assert raise_pool.title == "Database runbook"
    # a '#' line inside a code fence stays in its section
    assert "count connections" in by_anchor["connection-pool-exhausted"].text
    assert all(d.metadata["parent_id"] == docs[0].metadata["parent_id"] for d in docs)
    assert len({d.id for d in docs}) == len(docs)


def test_ids_are_stable_across_reads(tmp_path: Path) -> None:
    (tmp_path / "db.md").write_text(RUNBOOK_MD.replace("id: ", "x: "))
    (tmp_path / "note.md").write_text("# Note\nno front matter at all\n")
    first = [d.id for d in load_markdown_folder(tmp_path, type=DocumentType.RUNBOOK)]
    second = [d.id for d in load_markdown_folder(tmp_path, type=DocumentType.RUNBOOK)]
    assert first == second


def test_bad_files_are_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text(INCIDENT_MD)
    (tmp_path / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody")
    (tmp_path / "empty.md").write_text("---\ntitle: nothing\n---\n")
    result = read_markdown_folder(tmp_path, type=DocumentType.INCIDENT)
    assert [d.id for d in result.documents] == ["INC-2041"]
    reasons = {Path(p.path).name: p.reason for p in result.problems}
    assert "YAML" in reasons["broken.md"]
    assert "empty" in reasons["empty.md"]


def test_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such folder"):
        load_markdown_folder(tmp_path / "nope")


def test_slug_and_dates() -> None:
    assert slugify("Raise the `pool` size!") == "raise-the-pool-size"
    assert parse_date("2026-03-14T10:00:00Z").isoformat() == "2026-03-14T10:00:00+00:00"  # type: ignore[union-attr]
    assert parse_date(0).year == 1970  # type: ignore[union-attr]
    assert parse_date("not a date") is None
