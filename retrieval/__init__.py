"""Retrieval of similar past incidents and runbook sections: hybrid dense (all-MiniLM-L6-v2) + BM25
search over a vector store (Chroma embedded or HTTP, or memory), boosted by feedback and recency.

Imports only ``bot.domain``, ``config`` and its own modules.
"""

from bot.domain import RetrievalError
from retrieval.documents import load_markdown_folder, read_markdown_folder, split_runbook
from retrieval.filters import SearchFilters
from retrieval.importers import load_csv_file, load_json_file
from retrieval.query import query_for_incident, query_for_question
from retrieval.results import IngestReport, SearchHit, SkippedDocument
from retrieval.retriever import Retriever, document_for_incident

__all__ = [
    "IngestReport",
    "RetrievalError",
    "Retriever",
    "SearchFilters",
    "SearchHit",
    "SkippedDocument",
    "document_for_incident",
    "load_csv_file",
    "load_json_file",
    "load_markdown_folder",
    "query_for_incident",
    "query_for_question",
    "read_markdown_folder",
    "split_runbook",
]
