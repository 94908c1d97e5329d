"""Which embedder the log detector's meaning matching uses: the pipeline's retriever's, else the one the
``retrieval`` settings describe (the same process-wide instance), loaded on first need only.

``logs.semantic_lines: false`` turns meaning matching off (rules and dumps still run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from detectors.logs.semantic import Encoder, status_note, use_encoder

if TYPE_CHECKING:
    from config.settings import Settings
    from retrieval import Retriever


def configure_log_semantics(*, settings: Settings, retriever: Retriever | None) -> None:
    logs = getattr(settings, "logs", None)
    if logs is not None and not getattr(logs, "semantic_lines", True):
        use_encoder(None)
        return

    def load() -> Encoder:
        if retriever is not None:
            return retriever.embedder
        from retrieval.retriever import embedder_for

        return embedder_for(settings.retrieval, model_dir=settings.data_dir / "models")

    use_encoder(load)


def log_semantics_note() -> str | None:
    """The analysis note when meaning matching was wanted and its model could not load."""
    return status_note()
