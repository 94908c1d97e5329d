"""Redaction of secrets and personal data before anything leaves the process for an LLM.

Replaces each match with a typed placeholder (``[REDACTED:email]``) so the model still sees that
something was there. Order matters: the most specific patterns (keys, tokens) run before the broad ones.
"""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private_key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S)),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b")),
    ("aws_key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("github_token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b")),
    ("api_key", re.compile(r"\bsk-[A-Za-z0-9_-]{16,}\b")),
    ("url_credentials", re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)")),
    ("bearer", re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{12,}")),
    (
        "secret",
        re.compile(
            r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret|auth)"
            r"(\s*[=:]\s*|\"\s*:\s*\")([^\s\"',;&]{3,})"
        ),
    ),
    ("email", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")),
    ("card", re.compile(r"\b(?:\d[ -]?){13,16}\b")),
    ("ipv4", re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")),
    ("phone", re.compile(r"(?<![\w.])\+?\d{1,3}[ .-]?\(?\d{2,4}\)?[ .-]\d{3,4}[ .-]\d{3,4}\b")),
)


def redact(text: str) -> str:
    """``text`` with secrets and personal data replaced by ``[REDACTED:<what>]``."""
    out = text
    for name, pattern in _PATTERNS:
        if name == "secret":
            out = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}[REDACTED:secret]", out)
        elif name == "bearer":
            out = pattern.sub(lambda m: f"{m.group(1)} [REDACTED:token]", out)
        else:
            out = pattern.sub(f"[REDACTED:{name}]", out)
    return out


def redaction_count(text: str) -> int:
    return text.count("[REDACTED:")
