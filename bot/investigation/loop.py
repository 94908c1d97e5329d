"""The investigation loop: the model calls read-only tools, within budgets, then answers in JSON.

Per turn the model (bound to the toolbox's tools) either answers (no tool call: its text is the
final answer) or asks for tools. Each call, including a malformed or unknown one, gets a tool message
back: its result delimited as untrusted data, or the reason it was refused, failed or not run.
Budgets (``llm.max_steps`` turns, ``llm.max_tool_calls``, ``llm.max_wall_s``, ``llm.max_total_tokens``)
are checked before every call. When the turns or tool calls are spent, the model is asked once more,
without tools, for its answer; when the time or tokens are spent, the investigation stops with an
``LLMError`` and the caller keeps the deterministic answer.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

import prompts
from bot.domain import LLMError
from bot.investigation.results import ToolResult, ToolStatus
from bot.investigation.tools import Toolbox
from config.settings import LLMSettings
from connectors.llm import UsageMeter
from connectors.llm import invoke_chat as invoke

log = logging.getLogger(__name__)


@dataclass
class Investigation:
    answer: AIMessage
    steps: int
    stopped: str | None = None  # the budget that ended tool use, when one did
    results: list[ToolResult] = field(default_factory=list)


@dataclass
class Budget:
    settings: LLMSettings
    meter: UsageMeter
    started: float = field(default_factory=time.monotonic)

    def hard_limit(self) -> str | None:
        """The spent budget that stops the investigation outright (time, tokens), or None."""
        if time.monotonic() - self.started >= self.settings.max_wall_s:
            return f"wall-time budget ({self.settings.max_wall_s:g} s)"
        if self.meter.total_tokens >= self.settings.max_total_tokens:
            return f"token budget ({self.settings.max_total_tokens} tokens)"
        return None


def _calls(reply: AIMessage) -> list[tuple[str, str, dict[str, Any] | None, str | None]]:
    """(call id, tool name, arguments or None, problem) of every tool call, malformed ones included."""
    out: list[tuple[str, str, dict[str, Any] | None, str | None]] = []
    for n, call in enumerate(reply.tool_calls):
        out.append((call.get("id") or f"call-{n}", call["name"], dict(call.get("args") or {}), None))
    for n, bad in enumerate(reply.invalid_tool_calls):
        out.append((bad.get("id") or f"invalid-{n}", str(bad.get("name") or "?"), None,
                    f"the arguments are not valid JSON ({str(bad.get('error') or 'unparseable')[:120]})"))
    return out


def _tool_message(result: ToolResult, call_id: str) -> ToolMessage:
    return ToolMessage(content=prompts.render("_tool_result.j2", result=result), tool_call_id=call_id,
                       name=result.tool, status="success" if result.citable else "error")


def run(model: BaseChatModel, messages: list[BaseMessage], *, toolbox: Toolbox, settings: LLMSettings,
        meter: UsageMeter, final_arguments: dict[str, Any]) -> Investigation:
    """Investigate until the model answers or a budget ends it; ``messages`` grows with the dialogue."""
    budget = Budget(settings=settings, meter=meter)
    try:
        bound = model.bind_tools(toolbox.specs())
    except NotImplementedError as e:
        raise LLMError(f"llm.investigate needs a chat model with tool calling; {settings.model} has none") from e
    steps = 0
    while steps < settings.max_steps:
        hard = budget.hard_limit()
        if hard:
            raise LLMError(f"the investigation stopped at its {hard} before an answer")
        steps += 1
        reply = invoke(bound, messages, meter=meter, settings=settings)
        messages.append(reply)
        calls = _calls(reply)
        if not calls:
            return Investigation(answer=reply, steps=steps, results=toolbox.results)
        for call_id, name, args, problem in calls:
            messages.append(_tool_message(_run_one(toolbox, budget, name, args, problem), call_id))
    stopped = f"step budget ({settings.max_steps} turns)"
    if len(toolbox.results) >= settings.max_tool_calls:
        stopped = f"tool-call budget ({settings.max_tool_calls} calls)"
    hard = budget.hard_limit()
    if hard:
        raise LLMError(f"the investigation stopped at its {hard} before an answer")
    messages.append(HumanMessage(content=f"The investigation budget is spent ({stopped}). Call no more tools: "
                                         "answer now with the JSON object, from the evidence you have."))
    reply = invoke(model, messages, meter=meter, settings=settings, **final_arguments)
    messages.append(reply)
    if reply.tool_calls or reply.invalid_tool_calls:
        raise LLMError(f"the LLM still asked for tools after the {stopped} was spent")
    return Investigation(answer=reply, steps=steps, stopped=stopped, results=toolbox.results)


def _run_one(toolbox: Toolbox, budget: Budget, name: str, args: dict[str, Any] | None,
             problem: str | None) -> ToolResult:
    if problem is not None or args is None:
        return toolbox.skip(name, {}, ToolStatus.ERROR, problem or "no arguments")
    if len(toolbox.results) >= budget.settings.max_tool_calls:
        return toolbox.skip(name, args, ToolStatus.OVER_BUDGET,
                            f"not run: the tool-call budget ({budget.settings.max_tool_calls} calls) is spent; answer now")
    hard = budget.hard_limit()
    if hard:
        return toolbox.skip(name, args, ToolStatus.OVER_BUDGET, f"not run: the {hard} is spent; answer now")
    result = toolbox.call(name, args)
    log.info("investigation tool called", extra={"tool": result.tool, "status": result.status.value,
                                                 "duration_ms": round(result.duration_ms, 1)})
    return result
