"""Reasoning: ranked root causes with calibrated confidence, categories, recommendations, summaries.

The deterministic path (``rank``, ``categorize``, ``recommend``, ``summarize``) always works; the LLM
path (``LLMReasoner``) refines it when configured, and ``FeedbackLearner`` updates the scorer.
"""

from bot.reasoning.categorize import categorize
from bot.reasoning.llm import LLMReasoner, answer_question, postmortem_draft
from bot.reasoning.ranker import RankResult, rank
from bot.reasoning.recommend import recommend
from bot.reasoning.scorer import RankerModel, default_model
from bot.reasoning.summary import summarize

__all__ = [
    "LLMReasoner", "RankResult", "RankerModel", "answer_question", "categorize", "default_model",
    "postmortem_draft", "rank", "recommend", "summarize",
]
