"""LLM reasoning over the packed evidence, against any OpenAI-compatible endpoint.

The LLM refines, never replaces, the deterministic answer:
- evidence is redacted and packed within a token budget; log text is delimited as untrusted data;
- the reply must be one JSON object validated with pydantic; hypotheses with a kind outside the
  vocabulary, or citing an evidence id that does not exist, are dropped;
- LLM confidence is blended with the deterministic score (weight ``LLM_WEIGHT``), never taken raw;
- timeouts, transport errors and malformed replies keep the deterministic answer, and the reason is
  recorded in ``analysis.llm`` with tokens, cost and latency.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any, cast

import httpx
import openai
from pydantic import BaseModel, Field, ValidationError

import prompts
from bot.domain import ALL_KINDS, Analysis, Hypothesis, Incident, IncidentContext, LLMError
from bot.reasoning.packing import catalogue, pack
from bot.reasoning.redact import redact, redaction_count
from config.settings import LLMSettings

log = logging.getLogger(__name__)

LLM_WEIGHT = 0.3
MAX_HYPOTHESES = 5
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.S)


class LLMHypothesis(BaseModel):
    service: str = Field(min_length=1, max_length=200)
    kind: str
    title: str = ""
    confidence: float = Field(ge=0.0, le=1.0)
    evidence_ids: list[str] = Field(default_factory=list)
    reasoning: str = ""


class LLMAnalysisReply(BaseModel):
    hypotheses: list[LLMHypothesis] = Field(default_factory=list, max_length=20)
    summary: str = Field(default="", max_length=4000)


class LLMAnswerReply(BaseModel):
    answer: str = Field(min_length=1, max_length=6000)
    evidence_ids: list[str] = Field(default_factory=list)


class LLMMarkdownReply(BaseModel):
    markdown: str = Field(min_length=1, max_length=30000)


class LLMReasoner:
    """Calls the configured endpoint; ``refine`` never raises for LLM failures."""

    def __init__(self, settings: LLMSettings, http_client: httpx.Client | None = None) -> None:
        self.settings = settings
        key = settings.api_key.get_secret_value() if settings.api_key else "not-needed"
        self._client = openai.OpenAI(
            base_url=settings.base_url,
            api_key=key,
            timeout=settings.timeout_s,
            max_retries=0,
            http_client=cast(Any, http_client),  # openai may bundle its own httpx fork; same API
        )

    # ---- transport --------------------------------------------------------------------
    def _complete(self, user: str, usage: dict[str, Any]) -> dict[str, Any]:
        system = prompts.render("system.j2", kinds=list(ALL_KINDS))
        started = time.perf_counter()
        try:
            response = self._client.chat.completions.create(
                model=self.settings.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                max_tokens=self.settings.max_tokens,
                temperature=self.settings.temperature,
                response_format={"type": "json_object"},
                timeout=self.settings.timeout_s,
            )
        except openai.APITimeoutError as e:
            raise LLMError(f"the LLM did not answer within {self.settings.timeout_s:g} s") from e
        except openai.APIStatusError as e:
            raise LLMError(f"the LLM endpoint answered HTTP {e.status_code}") from e
        except (openai.APIError, httpx.HTTPError) as e:
            raise LLMError(f"the LLM endpoint could not be reached: {e.__class__.__name__}") from e
        finally:
            usage["latency_ms"] = round(usage.get("latency_ms", 0.0) + (time.perf_counter() - started) * 1000, 1)
        if response.usage is not None:
            usage["prompt_tokens"] = usage.get("prompt_tokens", 0) + int(response.usage.prompt_tokens or 0)
            usage["completion_tokens"] = usage.get("completion_tokens", 0) + int(response.usage.completion_tokens or 0)
        usage["cost_usd"] = round(
            usage.get("prompt_tokens", 0) / 1000 * self.settings.price_per_1k_input
            + usage.get("completion_tokens", 0) / 1000 * self.settings.price_per_1k_output,
            6,
        )
        content = response.choices[0].message.content if response.choices else None
        if not content:
            raise LLMError("the LLM returned an empty reply")
        text = _FENCE.sub("", content.strip())
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise LLMError(f"the LLM reply is not JSON ({e.msg})") from e
        if not isinstance(data, dict):
            raise LLMError("the LLM reply is not a JSON object")
        return data

    # ---- analysis ---------------------------------------------------------------------
    def refine(self, *, context: IncidentContext, analysis: Analysis) -> Analysis:
        """The analysis with LLM-blended hypotheses and summary, or unchanged with the reason why."""
        usage: dict[str, Any] = {"model": self.settings.model}
        budget = max(256, self.settings.context_tokens - 900)
        packed = pack(analysis, budget_tokens=budget)
        known = catalogue(analysis)
        user = prompts.render(
            "analysis.j2",
            incident_title=redact(context.incident.title or ""),
            service=context.incident.service,
            severity=context.incident.severity.value,
            alert_time=context.alert_time.isoformat(),
            topology=context.topology,
            hypotheses=[
                {"service": h.service, "kind": h.kind, "confidence": h.confidence,
                 "evidence_ids": [e.id for e in h.evidence if e.id in packed.ids]}
                for h in analysis.hypotheses
            ],
            evidence=packed.items,
            max_hypotheses=MAX_HYPOTHESES,
        )
        usage.update(evidence_items=len(packed.items), evidence_dropped_for_budget=packed.dropped,
                     redactions=redaction_count(user))
        try:
            data = self._complete(user, usage)
            reply = LLMAnalysisReply.model_validate(data)
        except (LLMError, ValidationError) as e:
            reason = str(e) if isinstance(e, LLMError) else "the LLM reply did not match the expected schema"
            log.warning("llm refinement fell back to the deterministic answer", extra={"reason": reason})
            out = analysis.model_copy(deep=True)
            out.llm = {**usage, "used": False, "fallback_reason": reason}
            return out
        return self._blend(analysis, reply, known, usage)

    def _blend(self, analysis: Analysis, reply: LLMAnalysisReply, known: dict[str, Any],
               usage: dict[str, Any]) -> Analysis:
        dropped: list[str] = []
        llm_conf: dict[tuple[str, str], tuple[LLMHypothesis, list[str]]] = {}
        for h in reply.hypotheses[:MAX_HYPOTHESES * 2]:
            if h.kind not in ALL_KINDS:
                dropped.append(f"{h.service}/{h.kind}: kind not in the vocabulary")
                continue
            missing = [i for i in h.evidence_ids if i not in known]
            if missing or not h.evidence_ids:
                why = f"cites unknown evidence {', '.join(missing[:3])}" if missing else "cites no evidence"
                dropped.append(f"{h.service}/{h.kind}: {why}")
                continue
            key = (h.service, h.kind)
            if key not in llm_conf:
                llm_conf[key] = (h, list(dict.fromkeys(h.evidence_ids)))

        blended: list[Hypothesis] = []
        seen: set[tuple[str, str]] = set()
        for det in analysis.hypotheses:
            key = (det.service, det.kind)
            seen.add(key)
            pair = llm_conf.get(key)
            lc = pair[0].confidence if pair else 0.0
            conf = (1 - LLM_WEIGHT) * det.confidence + LLM_WEIGHT * lc
            feats = {**det.features, "deterministic_confidence": det.confidence, "llm_confidence": lc}
            blended.append(det.model_copy(update={"confidence": conf, "features": feats}))
        for key, (llm_h, ids) in llm_conf.items():
            if key in seen:
                continue
            # an LLM-only hypothesis is only as strong as the evidence it cites
            support = sum(known[i].weight for i in ids) / len(ids)
            conf = LLM_WEIGHT * llm_h.confidence * min(1.0, support)
            blended.append(Hypothesis(
                service=llm_h.service, kind=llm_h.kind, title=llm_h.title[:200] or f"{llm_h.kind} on {llm_h.service}",
                confidence=conf, evidence=[known[i] for i in ids][:8], source="llm",
                features={"deterministic_confidence": 0.0, "llm_confidence": llm_h.confidence,
                          "evidence_support": support},
            ))
        total = sum(h.confidence for h in blended)
        scale = 1.0 / total if total > 1.0 else 1.0
        blended.sort(key=lambda h: -h.confidence)
        out = analysis.model_copy(deep=True)
        out.hypotheses = [
            h.model_copy(update={"rank": i, "confidence": round(min(1.0, h.confidence * scale), 4)})
            for i, h in enumerate(blended[:MAX_HYPOTHESES], start=1)
        ]
        if reply.summary.strip() and llm_conf:
            out.summary = reply.summary.strip()
        out.llm = {**usage, "used": True, "accepted": len(llm_conf), "dropped": dropped}
        return out

    # ---- questions and drafts ---------------------------------------------------------
    def answer(self, *, question: str, context: IncidentContext, analysis: Analysis) -> str:
        """An evidence-cited answer; raises ``LLMError`` when the LLM cannot give one."""
        packed = pack(analysis, budget_tokens=max(256, self.settings.context_tokens - 600))
        user = prompts.render(
            "question.j2",
            incident_title=redact(context.incident.title or ""),
            service=context.incident.service,
            alert_time=context.alert_time.isoformat(),
            analysis_summary=redact(analysis.summary),
            evidence=packed.items,
            question=redact(question),
        )
        usage: dict[str, Any] = {}
        try:
            reply = LLMAnswerReply.model_validate(self._complete(user, usage))
        except ValidationError as e:
            raise LLMError("the LLM reply did not match the expected schema") from e
        cited = [i for i in reply.evidence_ids if i in packed.ids]
        if not cited:
            raise LLMError("the LLM answer cites no existing evidence")
        return f"{reply.answer.strip()}\n(evidence: {', '.join(cited)})"

    def postmortem(self, *, draft: str) -> str:
        user = prompts.render("postmortem.j2", draft=redact(draft))
        try:
            reply = LLMMarkdownReply.model_validate(self._complete(user, {}))
        except ValidationError as e:
            raise LLMError("the LLM reply did not match the expected schema") from e
        return reply.markdown.strip() + "\n"


def answer_question(
    question: str, context: IncidentContext, analysis: Analysis, llm: LLMReasoner | None = None
) -> str:
    """Answer a free-text question from the analysis' evidence (template answer without an LLM)."""
    from bot.reasoning.summary import answer_from_template

    if llm is not None:
        try:
            return llm.answer(question=question, context=context, analysis=analysis)
        except LLMError as e:
            log.warning("llm answer fell back to the template", extra={"reason": str(e)})
    return answer_from_template(question, context, analysis)


def postmortem_draft(incident: Incident, analysis: Analysis, llm: LLMReasoner | None = None) -> str:
    """A Markdown postmortem draft (template-based without an LLM or when it fails)."""
    from bot.reasoning.summary import template_postmortem

    draft = template_postmortem(incident, analysis)
    if llm is not None:
        try:
            return llm.postmortem(draft=draft)
        except LLMError as e:
            log.warning("llm postmortem fell back to the template", extra={"reason": str(e)})
    return draft
