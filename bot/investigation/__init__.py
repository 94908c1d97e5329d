"""LLM investigation with read-only tools, scoped to one incident and bounded by budgets.

``Toolbox`` (tools.py) holds the tools, the incident's ``Scope`` (scope.py) and the systems they read
(``ToolResources``); ``run`` (loop.py) lets a LangChain chat model call them and answer. Every call
is a ``ToolResult`` with a status, recorded on the analysis and citable as evidence ``tool:<n>``.
"""

import bot.reasoning  # noqa: F401 - first: bot.reasoning.llm imports this package's modules, which use its redaction
from bot.investigation.loop import Investigation, run
from bot.investigation.results import ToolResult, ToolStatus
from bot.investigation.scope import Refused, Scope
from bot.investigation.tools import TOOLS, Toolbox, ToolResources

__all__ = ["TOOLS", "Investigation", "Refused", "Scope", "ToolResources", "ToolResult", "ToolStatus", "Toolbox",
           "run"]
