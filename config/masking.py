"""Masking credentials inside URL settings for display (``sherlog config check``, logs).

A URL's userinfo (``user:password@`` or ``token@``) keeps the user name and loses the password; a query
parameter whose name says it holds a credential keeps its name and loses its value. Everything else of the
URL (scheme, host, port, path, other parameters) stays, so an operator can still check where it points.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<rest>\S*)$")
CREDENTIAL_PARAMS = re.compile(
    r"(?i)^(?:.*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|credential|signature)"
    r".*|key|sig|auth|authorization|code|sas|sv|x-amz-security-token)$")


def _mask_userinfo(rest: str) -> str:
    ends = [i for i in (rest.find(c) for c in "/?#") if i != -1]
    authority = rest[:min(ends)] if ends else rest
    at = authority.rfind("@")
    if at == -1:
        return rest
    user, sep, _password = authority[:at].partition(":")
    return (f"{user}:{MASK}@" if sep else f"{MASK}@") + rest[at + 1:]


def _mask_query(rest: str) -> str:
    head, sep, query = rest.partition("?")
    if not sep:
        return rest
    query, hash_sep, fragment = query.partition("#")
    parts = []
    for pair in query.split("&"):
        name, eq, _value = pair.partition("=")
        parts.append(f"{name}={MASK}" if eq and CREDENTIAL_PARAMS.match(name) else pair)
    return f"{head}?{'&'.join(parts)}{hash_sep}{fragment}"


def mask_url(text: str) -> str:
    """``text`` with the password of its userinfo and credential query values masked, when it is a URL."""
    match = _URL.match(text.strip())
    if match is None:
        return text
    return match.group("scheme") + _mask_query(_mask_userinfo(match.group("rest")))


def mask_urls(data: Any) -> Any:
    """Every string that is a URL, anywhere in nested settings data, with its credentials masked."""
    if isinstance(data, dict):
        return {k: mask_urls(v) for k, v in data.items()}
    if isinstance(data, list):
        return [mask_urls(v) for v in data]
    if isinstance(data, str):
        return mask_url(data)
    return data
