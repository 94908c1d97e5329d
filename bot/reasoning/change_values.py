"""The values a change sets, and the failing lines that quote them.

A change's text often states what it set: ``env.DB_PORT 5432 -> 5433``, ``DB_HOST a.example -> b.example``,
``upstream from 10.0.0.5:8080 to 10.0.0.9:8080``, ``set REDIS_URL=redis://cache-2:6379``. A failing line that
quotes such a new value (a connection refused on ``:5433``, a lookup of the misspelt host) was printed by a program
running with that change: the value did not exist before it, so the line cannot be older, and what failed is what
the change pointed the program at (docs/causes.md, "Which kind, elsewhere"). The dependency such a line blames is
then no suspect by that line.

``NEW_VALUE_FORMS`` is the table of the ways a change's text states a value: each row a pattern whose ``new`` group
is the value set (and ``old`` group the value replaced, where the text gives it), one text it must read and one close
text it must not (``tests/reasoning/test_change_values.py`` checks both). ``specific_value`` keeps only values that
can identify a line (an address, a port, a name with dots or dashes, a tag), never a bare word or a short number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from detectors.logs.changes import ExampledPattern

_VALUE = r"[^\s,;()'\"]+"


@dataclass(frozen=True, slots=True)
class ValueForm(ExampledPattern):
    id: str
    pattern: str
    positive: str
    negative: str
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)


NEW_VALUE_FORMS: tuple[ValueForm, ...] = (
    # ``KEY old -> new`` (also ``→`` and ``=>``)
    ValueForm("arrow", rf"(?P<old>{_VALUE}) ?(?:->|→|=>) ?(?P<new>{_VALUE})",
              "helm upgrade api: values env.DB_PORT 5432 -> 5433", "api 2.1.0 rolled out"),
    # ``from old to new``
    ValueForm("from_to", rf"\bfrom (?P<old>{_VALUE}) to (?P<new>{_VALUE})",
              "DB_HOST changed from pg-1.db.internal to pg-2.db.internal", "moved to the new cluster"),
    # ``set KEY to new`` / ``KEY set to new`` / ``pointed KEY at new``
    ValueForm("set_to", rf"\b(?:set|changed|pointed|switched|moved)(?: [\w.-]+)? (?:to|at) (?P<new>{_VALUE})",
              "set DB_HOST to pg-2.db.internal", "set up the new dashboard"),
    # ``KEY=new`` (an env assignment, a flag)
    ValueForm("assign", rf"(?<![\w-])[A-Za-z_][\w.-]*=(?P<new>{_VALUE})",
              "kubectl set env deploy/api REDIS_URL=redis://cache-2:6379", "api: retries == 3 is the default"),
)

# words that set a value yet name nothing a line could be traced to
_BARE_WORDS = frozenset({
    "true", "false", "yes", "no", "on", "off", "none", "null", "nil", "enabled", "disabled", "enable", "disable",
    "default", "auto", "always", "never", "empty", "unset",
})
_TRAILING = ".:"


def specific_value(value: str) -> str | None:
    """``value`` without trailing punctuation when it can identify a line (at least 4 characters, not a bare word
    of ``_BARE_WORDS``, and a number, or a name holding a digit or one of ``. : - _ / @``), else None."""
    value = value.strip().rstrip(_TRAILING)
    if len(value) < 4 or value.lower() in _BARE_WORDS:
        return None
    if not re.search(r"[\d.:/_@-]", value):
        return None  # a bare word ("fast", "strict") names nothing a failing line could be traced to
    return value


def new_values(text: str) -> list[tuple[str | None, str]]:
    """The (old, new) values the change's ``text`` states it set, new values filtered by ``specific_value``
    (old is None where the text does not give it, or it names nothing specific)."""
    out: list[tuple[str | None, str]] = []
    for form in NEW_VALUE_FORMS:
        for match in form.regex.finditer(text or ""):
            new = specific_value(match.group("new"))
            if new is None:
                continue
            old_raw = match.groupdict().get("old")
            old = specific_value(old_raw) if old_raw else None
            if old == new:
                continue
            if all(n != new for _o, n in out):
                out.append((old, new))
    return out


def quotes(line: str, value: str) -> bool:
    """Whether ``line`` quotes ``value`` whole (not as a part of a longer name or number)."""
    return re.search(r"(?<![\w.-])" + re.escape(value) + r"(?![\w-]|\.\w)", line or "", re.IGNORECASE) is not None


def quoted_new_value(values: list[tuple[str | None, str]], line: str) -> str | None:
    """The new value of a change's ``new_values`` that ``line`` quotes, when the line does not also quote the value
    it replaced (then the line could be either's); None otherwise."""
    for old, new in values:
        if quotes(line, new) and not (old and quotes(line, old)):
            return new
    return None
