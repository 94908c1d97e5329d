from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.domain import DocumentType, InputError
from retrieval.importers import read_csv_file, read_json_file


def test_json_array_of_incidents(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(
        json.dumps(
            [
                {
                    "id": "A-1",
                    "title": "Pool exhausted",
                    "description": "checkout waited for connections",
                    "services": ["checkout"],
                    "resolution": "raised pool",
                    "date": "2026-01-02",
                },
                {"title": "Disk full", "body": "logging disk full", "services": "logging; storage"},
                {"title": "no text at all"},
                "not an object",
            ]
        )
    )
    result = read_json_file(path)
    assert [d.title for d in result.documents] == ["Pool exhausted", "Disk full"]
    first, second = result.documents
    assert first.id == "A-1" and first.resolution == "raised pool" and first.source == "json"
    assert second.services == ["logging", "storage"]
    assert second.id.startswith("incident:json:")
    assert len(result.problems) == 2
    # the generated id is stable: a re-import finds the same document
    assert read_json_file(path).documents[1].id == second.id


def test_json_object_wrapper_and_json_lines(tmp_path: Path) -> None:
    wrapped = tmp_path / "w.json"
    wrapped.write_text(json.dumps({"incidents": [{"id": "X", "title": "t", "text": "body"}]}))
    assert [d.id for d in read_json_file(wrapped).documents] == ["X"]
    lines = tmp_path / "l.jsonl"
    lines.write_text('{"id": "L1", "title": "a", "text": "one"}\n{"id": "L2", "title": "b", "text": "two"}\n')
    assert [d.id for d in read_json_file(lines).documents] == ["L1", "L2"]


def test_json_record_type_overrides_and_runbooks_are_split(tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    path.write_text(
        json.dumps(
            [
                {
                    "id": "RB",
                    "type": "runbook",
                    "title": "Cache",
                    "text": "# Cache\n## Flush\nflush it\n## Warm\nwarm it",
                },
            ]
        )
    )
    docs = read_json_file(path).documents
    assert {d.type for d in docs} == {DocumentType.RUNBOOK}
    assert [d.heading_path for d in docs] == [["Flush"], ["Warm"]]


def test_invalid_json_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(InputError, match="neither JSON nor JSON Lines"):
        read_json_file(path)


def test_csv_with_semicolon_lists(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "id,title,date,services,category,resolution,text\n"
        'P-7,Cert expired,2026-02-03,gateway;edge,tls,renewed cert,"clients failed handshakes, x509 expired"\n'
        "P-8,Empty,2026-02-04,gateway,tls,,\n"
    )
    result = read_csv_file(path)
    [doc] = result.documents
    assert doc.id == "P-7" and doc.services == ["gateway", "edge"] and doc.category == "tls"
    assert "x509 expired" in doc.text
    assert result.problems[0].reason.startswith("record has no text")
