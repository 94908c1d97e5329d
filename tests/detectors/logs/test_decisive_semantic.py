"""Meaning matching in the decisive detector, with a small deterministic encoder standing in for the model."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from detectors.logs import semantic
from detectors.logs.decisive import detect_decisive_signals
from detectors.logs.decisive_rules import RULES
from tests.detectors.logs.factories import web_service_lines


class WordEncoder:
    """Unit bag-of-words vectors (hashed): texts sharing words are near, as sentence vectors would be."""

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        self.calls += 1
        out = np.zeros((len(texts), 512), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[i, zlib.crc32(word.encode()) % 512] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


@pytest.fixture
def encoder() -> Iterator[WordEncoder]:
    enc = WordEncoder()
    semantic.use_encoder(lambda: enc)
    yield enc
    semantic.use_encoder(None)


def test_a_line_no_rule_reads_is_matched_by_meaning(encoder: WordEncoder) -> None:
    logs = {"exporter": ["2024-03-01T12:00:00Z INFO export started",
                         "2024-03-01T12:00:05Z ERROR the provider throttled our requests: too many requests, "
                         "rate limit exceeded"]}
    (sig,) = detect_decisive_signals(logs)
    assert (sig.detector, sig.kind) == ("logs.semantic", "rate_limited")
    assert sig.attributes["decisive"] is False and sig.attributes["semantic"] is True
    assert semantic.SCORE_LOW <= sig.score <= semantic.SCORE_HIGH


def test_meaning_matches_name_the_peer_they_blame(encoder: WordEncoder) -> None:
    line = ('2024-03-01T12:00:05Z ERROR request to a downstream dependency timed out (upstream: '
            '"http://ledger:8080/post")')
    (sig,) = detect_decisive_signals({"checkout": [line]})
    assert (sig.kind, sig.attributes["culprit"]) == ("dependency_failure", "ledger")


def test_semantic_scores_stay_below_specific_rules() -> None:
    assert semantic.SCORE_HIGH <= min(r.score for r in RULES if not r.generic)


def test_rule_matched_lines_are_not_read_again_and_healthy_logs_never_load_the_model(encoder: WordEncoder) -> None:
    rules_only = {"api": ["2024-03-01T12:00:01Z ERROR dial tcp 10.0.0.5:5432: connect: connection refused"]}
    assert [s.detector for s in detect_decisive_signals(rules_only)] == ["logs.decisive"]
    assert detect_decisive_signals({"web": web_service_lines(seconds=300)}) == []
    assert encoder.calls == 0


def test_a_model_that_cannot_load_leaves_the_rules_and_a_note() -> None:
    def broken() -> semantic.Encoder:
        raise OSError("model files missing")

    semantic.use_encoder(broken)
    try:
        logs = {"api": ["2024-03-01T12:00:01Z ERROR dial tcp 10.0.0.5:5432: connect: connection refused",
                        "2024-03-01T12:00:02Z ERROR the widget pipeline broke in an unusual way"]}
        signals = detect_decisive_signals(logs)
        assert [s.kind for s in signals] == ["db_down"]
        note = semantic.status_note()
        assert note is not None and "model files missing" in note
    finally:
        semantic.use_encoder(None)
    assert semantic.status_note() is None


def test_at_most_max_lines_are_read_per_analysis(encoder: WordEncoder) -> None:
    seen: list[int] = []
    original = encoder.encode

    def counting(texts: list[str]) -> npt.NDArray[np.float32]:
        seen.append(len(texts))
        return original(texts)

    encoder.encode = counting  # type: ignore[method-assign]
    logs = {f"svc{s}": [f"2024-03-01T12:00:{i:02d}Z ERROR widget {chr(97 + i % 26)}{chr(97 + s)} broke oddly "
                        f"{'x' * i}" for i in range(30)] for s in range(8)}
    detect_decisive_signals(logs)
    assert seen[-1] <= semantic.MAX_LINES


class SignedEncoder(WordEncoder):
    signature = "word-encoder/test"


def test_stored_description_vectors_are_used_only_for_their_own_model(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stored = tmp_path / "vectors.npz"
    semantic.write_description_vectors(SignedEncoder(), stored)
    monkeypatch.setattr(semantic, "VECTORS_FILE", stored)
    same = SignedEncoder()
    assert semantic.load_description_vectors(same, semantic.description_texts()) is not None
    semantic.SemanticMatcher(same)
    assert same.calls == 0  # descriptions came from the file

    class OtherModel(WordEncoder):
        signature = "another-model/int8"

    other = OtherModel()
    assert semantic.load_description_vectors(other, semantic.description_texts()) is None
    semantic.SemanticMatcher(other)
    assert other.calls == 1


def test_one_meaning_signal_per_service_and_kind(encoder: WordEncoder) -> None:
    logs = {"exporter": [
        "2024-03-01T12:00:05Z ERROR the provider throttled our requests: too many requests, rate limit exceeded",
        "2024-03-01T12:00:09Z ERROR provider throttled requests again, too many requests for the quota",
    ]}
    signals = detect_decisive_signals(logs)
    assert [(s.kind, s.attributes["count"]) for s in signals] == [("rate_limited", 2)]
