"""Reading request bodies safely: a byte limit while streaming, a nesting limit before ``json.loads``.

Python's JSON decoder recurses once per nesting level, so ``[[[[...]]]]`` 10,000 deep raised
``RecursionError`` (a 500). ``nesting_depth`` measures the depth in one pass over the bracket characters
outside strings, before anything is decoded; no webhook we accept nests more than ``MAX_DEPTH`` deep.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import HTTPException, Request, status

MAX_DEPTH = 64
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(rb"[^\[\]{}]+")


def nesting_depth(raw: bytes) -> int:
    """The deepest nesting of ``[`` / ``{`` in a JSON text (brackets inside strings do not count)."""
    brackets = _NOT_BRACKETS.sub(b"", _STRINGS.sub(b"", raw))
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads_json(raw: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Bytes -> JSON value; ``HTTPException`` 422 when not JSON or nested deeper than ``max_depth``."""
    if nesting_depth(raw) > max_depth:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"body is nested more than {max_depth} levels deep")
    try:
        return json.loads(raw or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"body is not valid JSON: {e}") from e


async def read_body(request: Request, *, limit: int) -> bytes:
    """The raw body; 413 past ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_body(request: Request, *, limit: int) -> Any:
    """The request body as JSON; 413 past ``limit`` bytes, 422 when not JSON or nested too deep."""
    return loads_json(await read_body(request, limit=limit))
