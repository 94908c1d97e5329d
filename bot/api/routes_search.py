"""``GET /api/v1/search?q=&k=&type=``: past incidents and runbook sections for a text.

Uses ``request.app.state.retriever`` (set by the app factory); the search runs in a worker thread.
Needs a reader credential, like the other read endpoints.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from bot.api.auth import require_reader
from bot.domain import DocumentType, RetrievalError

logger = logging.getLogger(__name__)

router = APIRouter(tags=["search"], dependencies=[Depends(require_reader)])


@router.get("/api/v1/search")
async def search(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=2000, description="What to look for.")],
    k: Annotated[int, Query(ge=1, le=100, description="Number of results.")] = 5,
    type: Annotated[DocumentType | None, Query(description="incident or runbook")] = None,  # noqa: A002
) -> dict[str, Any]:
    from retrieval import SearchFilters

    retriever = getattr(request.app.state, "retriever", None)
    if retriever is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "retrieval is not configured on this server")
    try:
        hits = await retriever.asearch(retriever.query_for_question(q), k, SearchFilters(type=type))
    except RetrievalError as e:
        logger.warning("search failed", extra={"error": str(e)})
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"search is unavailable: {e}") from None
    return {
        "query": q,
        "k": k,
        "results": [
            {
                "rank": h.rank,
                "id": h.document.id,
                "type": h.document.type.value,
                "title": h.document.title,
                "heading_path": h.document.heading_path,
                "url": h.document.url,
                "services": h.document.services,
                "category": h.document.category,
                "root_cause_service": h.document.root_cause_service,
                "root_cause_kind": h.document.root_cause_kind,
                "resolution": h.document.resolution,
                "date": h.document.date.isoformat() if h.document.date else None,
                "snippet": " ".join(h.document.text.split())[:300],
                "score": round(h.score, 4),
                "dense": round(h.dense, 4),
                "bm25": round(h.bm25, 4),
                "why": h.why,
            }
            for h in hits
        ],
    }
