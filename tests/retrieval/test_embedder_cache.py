"""The embedder's document-vector cache: repeated texts are not run through the model again."""

from __future__ import annotations

import numpy as np

from retrieval.embedder import get_embedder


def test_repeated_texts_come_from_the_cache_with_identical_vectors() -> None:
    embedder = get_embedder()
    texts = ["checkout cannot get a database connection: pool exhausted", "disk full on inventory node",
             "checkout cannot get a database connection: pool exhausted"]
    before = embedder.encoded
    first = embedder.encode(texts)
    assert embedder.encoded - before == 2  # the duplicate inside one call is encoded once
    np.testing.assert_array_equal(first[0], first[2])
    again = embedder.encode(list(reversed(texts)) + ["a brand new text about dns"])
    assert embedder.encoded - before == 3  # only the new text went through the model
    np.testing.assert_allclose(again[0], first[2])
    np.testing.assert_allclose(again[1], first[1])
    assert abs(float(np.linalg.norm(again[3])) - 1.0) < 1e-4
