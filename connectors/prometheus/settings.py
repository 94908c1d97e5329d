"""The ``prometheus`` settings section (and the PromQL placeholder check the log templates share)."""

from __future__ import annotations

from pydantic import Field, field_validator

from connectors.plugins import SettingsSection


def placeholder_misuse(query: str) -> str | None:
    """Why ``{service}`` in a PromQL template cannot be filled in safely, or None when it can.

    The placeholder becomes a complete, quoted string literal, so it must stand outside any string
    (not ``"{service}"``, not ``".*{service}"``) and apart from names (not ``{service}_requests``).
    Strings ("...", '...', `...`) and ``#`` comments are skipped as PromQL's lexer reads them.
    """
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch in "\"'`":
            j = i + 1
            while j < n and query[j] != ch:
                j += 2 if ch != "`" and query[j] == "\\" else 1
            if "{service}" in query[i:j + 1]:
                return "inside a quoted string"
            i = j + 1
        elif ch == "#":
            end = query.find("\n", i)
            i = n if end < 0 else end + 1
        elif query.startswith("{service}", i):
            before, after = query[i - 1:i], query[i + 9:i + 10]
            if any(c and (c.isalnum() or c in "_:") for c in (before, after)):
                return "joined to a name"
            i += 9
        else:
            i += 1
    return None


class PrometheusSettings(SettingsSection):
    url: str | None = None
    timeout_s: float = Field(default=10.0, gt=0)
    step: str = "30s"
    lookback_minutes: int = Field(default=60, ge=1)
    queries: dict[str, str] = Field(default_factory=dict)  # name -> PromQL with {service} (unquoted)
    # the shipped node_exporter / kube-state-metrics / cAdvisor / HTTP RED queries (connectors.prometheus.defaults),
    # scoped to the alert; a name in ``queries`` replaces the shipped query of that name
    default_queries: bool = True
    grafana_url: str | None = None

    @field_validator("queries")
    @classmethod
    def _placeholder_unquoted(cls, queries: dict[str, str]) -> dict[str, str]:
        for name, query in queries.items():
            problem = placeholder_misuse(query)
            if problem:
                raise ValueError(f"query {name!r}: {{service}} is {problem}; write it without quotes as a whole "
                                 "label value, e.g. up{service={service}} or up{service=~{service}} "
                                 "(Sherlog fills it in as a quoted, escaped PromQL string)")
        return queries
