"""The LLM prompt templates (Jinja files in this folder) and their one loader.

``render("analysis_user.j2", **variables)`` renders a template with strict undefined variables;
partials (``_*.j2``) are included by the templates themselves.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

PROMPTS_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PROMPTS_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render(name: str, **variables: Any) -> str:
    """Render the template ``name`` (a file in ``prompts/``) with ``variables``."""
    return environment().get_template(name).render(**variables).strip() + "\n"


def names() -> list[str]:
    return sorted(p.name for p in PROMPTS_DIR.glob("*.j2") if not p.name.startswith("_"))
