"""LangChain's own fake chat model, scripted turn by turn, that also records what it was sent.

``FakeMessagesListChatModel`` (langchain_core) replays its ``responses`` in order (and starts over
when they run out). This subclass adds what the investigation needs from a real provider model:
``bind_tools`` (the tool names are kept for assertions) and a record of every message list it saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import Field


class ScriptedChatModel(FakeMessagesListChatModel):
    seen: list[list[BaseMessage]] = Field(default_factory=list)
    call_kwargs: list[dict[str, Any]] = Field(default_factory=list)
    bound_tools: list[str] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:  # type: ignore[override]
        self.bound_tools = [getattr(t, "name", str(t)) for t in tools]
        return self

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        self.seen.append(list(messages))
        self.call_kwargs.append(dict(kwargs))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def sent_text(self) -> str:
        """Everything the model was shown, across calls."""
        return "\n".join(str(m.content) for batch in self.seen for m in batch)


def call(name: str, args: dict[str, Any] | str, n: int = 0) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"call-{name}-{n}", "type": "tool_call"}


def tool_turn(*calls: dict[str, Any], tokens: tuple[int, int] = (300, 40)) -> AIMessage:
    return AIMessage(content="", tool_calls=list(calls),
                     usage_metadata={"input_tokens": tokens[0], "output_tokens": tokens[1],
                                     "total_tokens": sum(tokens)})


def answer_turn(content: str, tokens: tuple[int, int] = (500, 90)) -> AIMessage:
    return AIMessage(content=content, usage_metadata={"input_tokens": tokens[0], "output_tokens": tokens[1],
                                                      "total_tokens": sum(tokens)})
