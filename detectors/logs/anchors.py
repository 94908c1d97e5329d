"""Required literals of a regex: strings one of which every match must contain.

A log detector with a hundred rules cannot run a hundred regexes over every line. ``required_literals``
reads a pattern's parse tree (the standard library's own parser) and returns lower-case strings such
that any match contains at least one of them; ``str.__contains__`` on those is far cheaper than the
regex, so a rule runs only on lines that hold one of its literals, and a trie of every rule's literals
(``trie_regex``) is the one cheap pass that picks candidate lines.
"""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

MIN_LITERAL = 3

_Items = list[tuple[Any, Any]]


def _best(options: list[frozenset[str]]) -> frozenset[str] | None:
    """The most selective option: the one whose shortest literal is longest (fewer strings on a tie)."""
    if not options:
        return None
    return max(options, key=lambda s: (min(len(x) for x in s), -len(s)))


def _flush(run: list[str], options: list[frozenset[str]]) -> None:
    if len(run) >= MIN_LITERAL:
        options.append(frozenset({"".join(run).lower()}))
    run.clear()


def _sequence(items: _Items) -> frozenset[str] | None:
    options: list[frozenset[str]] = []
    run: list[str] = []
    for op, arg in items:
        if op is sre.LITERAL:
            run.append(chr(arg))
            continue
        _flush(run, options)
        sub: frozenset[str] | None = None
        if op is sre.SUBPATTERN:
            sub = _sequence(arg[-1])
        elif op is sre.BRANCH:
            branches = [_sequence(b) for b in arg[1]]
            if branches and all(b is not None for b in branches):
                sub = frozenset().union(*(b for b in branches if b is not None))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)) and arg[0] >= 1:
            sub = _sequence(arg[2])
        if sub:
            options.append(sub)
    _flush(run, options)
    return _best(options)


def required_literals(pattern: str) -> frozenset[str] | None:
    """Lower-case literals one of which every match of ``pattern`` holds, or None when there is no such set."""
    try:
        return _sequence(list(_parser.parse(pattern, re.IGNORECASE)))
    except Exception:  # noqa: BLE001 - an unusual construct: no shortcut, the regex always runs
        return None


def trie_regex(words: frozenset[str] | set[str]) -> re.Pattern[str]:
    """One regex matching any of ``words``, shaped as a trie so each step branches on one character."""
    trie: dict[str, Any] = {}
    for word in sorted(words):
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + walk(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return re.compile(walk(trie))
