"""Masking: replace the variable parts of a log message by ``<*>`` before template mining.

Token by token, with a cache: most tokens of a log stream are words seen before, so they cost one
dict lookup; a new token goes once through one compiled regex of the variable shapes (UUIDs, URLs,
IPs with ports, MACs, hex, paths, anything holding a digit). Timestamps inside the message are
masked on the whole line first (they span tokens). A unit after a masked number joins it
(``12 ms``, ``1.5 KB``), and consecutive wildcards collapse into one, so variable-length lists map
to the same template.
"""

from __future__ import annotations

import functools
import re

WILDCARD = "<*>"
MAX_MESSAGE_CHARS = 4000
TOKEN_CACHE_SIZE = 20_000

# Order matters inside a token: the specific shapes first, then "a word with a digit in it".
_TOKEN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("uuid", r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    ("url", r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s\"'<>]+"),
    ("ipv6", r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}(?![\w:])"),
    ("ip", r"(?<![\w.])/?\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\w.])"),
    ("mac", r"\b[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}\b"),
    ("hex", r"\b0[xX][0-9a-fA-F]+\b|\b[0-9a-fA-F]{16,}\b"),
    ("path", r"(?<![\w<])(?:/[\w.\-@+~%]+){2,}/?(?:\?[^\s\"'<>]*)?"),
    # any run of word-ish characters that holds a digit: ids, numbers, versions, host-1, blk_123
    ("word_digit", r"(?<![\w<>*])[\w.\-:@#$/+~%]*\d[\w.\-:@#$/+~%]*"),
)
_TOKEN_RE = re.compile("|".join(f"(?:{p})" for _, p in _TOKEN_PATTERNS))
_LINE_DATETIME = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?|"
    r"\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r"\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}(?:\s+\d{4})?\b"
)
_DIGIT = re.compile(r"\d")
_CLOCK = re.compile(r"\d:\d\d:\d\d")
_REPEAT = re.compile(r"<\*>(?:[\s,;:/_\-.]*<\*>)+")
UNITS = frozenset({
    "ms", "us", "µs", "ns", "s", "sec", "secs", "second", "seconds", "m", "min", "mins", "minute", "minutes",
    "h", "hr", "hours", "B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB", "kB", "bytes", "%",
    "KB,", "MB,", "GB,", "B,", "bytes,", "ms,", "s,", "ms)", "s)", "B)", "KB)", "MB)", "GB)",
})

_cache: dict[str, str] = {}
_shapes: dict[str, str] = {}
SHAPE_CACHE_SIZE = 20_000
# a digit and the id-ish characters after it; the masks below treat every such run as one variable
_DIGITS = re.compile(r"[0-9][0-9A-Za-z_.:\-]*")


shape_of = functools.partial(_DIGITS.sub, "0")
"""The message with every run starting at a digit read as ``0``: messages of one shape mask alike."""


def mask_token(token: str) -> str:
    if token.isdigit():
        return WILDCARD
    if token.isalpha() or (not _DIGIT.search(token) and "/" not in token):
        return token
    masked = _TOKEN_RE.sub(WILDCARD, token)
    if masked.count(WILDCARD) > 1:
        masked = _REPEAT.sub(WILDCARD, masked)
    return masked


def mask(message: str) -> str:
    """The message with its variable parts replaced by ``<*>`` (input truncated to a sane length).

    Results are cached by the message's shape (``shape_of``): two messages that differ only in their
    numbers and ids mask the same way, so the second costs one regex pass and a lookup.
    """
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS]
    shape = _DIGITS.sub("0", message)
    done = _shapes.get(shape)
    if done is not None:
        return done
    if len(_shapes) > SHAPE_CACHE_SIZE:
        _shapes.clear()
    done = _shapes[shape] = _mask_tokens(message)
    return done


def _mask_tokens(message: str) -> str:
    if _CLOCK.search(message):
        message = _LINE_DATETIME.sub(WILDCARD, message)
    cache = _cache
    if len(cache) > TOKEN_CACHE_SIZE:
        cache.clear()
    out: list[str] = []
    last_wild = False
    for token in message.split():
        masked = cache.get(token)
        if masked is None:
            masked = cache[token] = mask_token(token)
        if masked == WILDCARD:
            if last_wild:
                continue
            last_wild = True
        elif last_wild and masked in UNITS:
            continue
        else:
            last_wild = False
        out.append(masked)
    return " ".join(out)
