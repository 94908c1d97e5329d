"""Reasoning: ranked root causes with calibrated confidence, categories, recommendations, summaries.

The deterministic path (``rank``, ``categorize``, ``recommend``, ``summarize``) always works; the LLM
path (``LLMReasoner``) refines it when configured, and ``FeedbackLearner`` updates the scorer.
"""

from typing import Any

from bot.reasoning.categorize import categorize
from bot.reasoning.ranker import RankResult, rank
from bot.reasoning.recommend import recommend
from bot.reasoning.scorer import RankerModel, default_model
from bot.reasoning.summary import summarize

_LLM_NAMES = ("LLMReasoner", "answer_question", "postmortem_draft")


def __getattr__(name: str) -> Any:
    """The LLM names load the LLM client libraries on first use only: an analysis without an LLM never
    pays for importing them."""
    if name in _LLM_NAMES:
        from bot.reasoning import llm

        return getattr(llm, name)
    raise AttributeError(f"module 'bot.reasoning' has no attribute {name!r}")


__all__ = [
    "LLMReasoner", "RankResult", "RankerModel", "answer_question", "categorize", "default_model",
    "postmortem_draft", "rank", "recommend", "summarize",
]
