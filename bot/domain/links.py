"""Which links Sherlog shows as links: absolute http(s) URLs only.

An alert's ``generatorURL`` or a runbook link comes from outside; ``javascript:``, ``data:``, ``vbscript:``,
scheme-relative (``//host``) and anything with control characters or spaces is never made clickable.
"""

from __future__ import annotations

from urllib.parse import urlsplit

ALLOWED_SCHEMES = frozenset({"http", "https"})


def safe_url(url: object) -> str | None:
    """``url`` when it is an absolute http(s) URL with a host, else ``None``."""
    if not isinstance(url, str) or not url or len(url) > 4000:
        return None
    if any(ord(c) < 0x21 or c in "\x7f\u2028\u2029" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ALLOWED_SCHEMES or not parts.netloc:
        return None
    return url
