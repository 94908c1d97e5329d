"""Masking: replace the variable parts of a log message by ``<*>`` before template mining.

One pass of a few compiled regexes (all in C): UUIDs, IPs (v4/v6, with ports), MAC addresses, hex
numbers, durations, paths/URLs, ``key=value`` numbers, and any word that holds a digit. Consecutive
wildcards collapse into one, so variable-length lists of numbers map to the same template.
"""

from __future__ import annotations

import re

WILDCARD = "<*>"
MAX_MESSAGE_CHARS = 4000

# Order matters: the specific patterns first, then the generic "a word with a digit in it".
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("datetime", r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?|"
                 r"\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
                 r"\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}(?:\s+\d{4})?\b"),
    ("uuid", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    ("url", r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s\"'<>]+"),
    ("ipv6", r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}(?![\w:])"),
    ("ip", r"(?<![\w.])/?\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\w.])"),
    ("mac", r"\b[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}\b"),
    ("hex", r"\b0[xX][0-9a-fA-F]+\b|\b[0-9a-fA-F]{16,}\b"),
    ("path", r"(?<![\w<])(?:/[\w.\-@+~%]+){2,}/?(?:\?[^\s\"'<>]*)?"),
    ("duration", r"\b\d+(?:\.\d+)?\s?(?:ms|us|µs|ns|s|sec|secs|seconds|m|min|mins|minutes|h|hours)\b"),
    ("size", r"\b\d+(?:\.\d+)?\s?(?:[KMGTP]i?B|[kKMGTP]|bytes|B)\b"),
    # any run of word-ish characters that holds a digit: ids, numbers, versions, host-1, blk_123
    ("word_digit", r"(?<![\w<>*])[\w.\-:@#$/+~%]*\d[\w.\-:@#$/+~%]*"),
)

_COMBINED = re.compile("|".join(f"(?:{p})" for _, p in _PATTERNS))
_REPEAT = re.compile(r"<\*>(?:[\s,;:/_\-.]*<\*>)+")


def mask(message: str) -> str:
    """The message with its variable parts replaced by ``<*>`` (input truncated to a sane length)."""
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS]
    masked = _COMBINED.sub(WILDCARD, message)
    if "<*><*>" in masked or "<*> <*>" in masked or "<*>," in masked or "<*>:" in masked:
        masked = _REPEAT.sub(WILDCARD, masked)
    return masked


def pattern_names() -> tuple[str, ...]:
    return tuple(name for name, _ in _PATTERNS)
