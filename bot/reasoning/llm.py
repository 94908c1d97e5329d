"""LLM reasoning over the packed evidence, on a LangChain chat model of any configured provider.

The LLM refines, never replaces, the deterministic answer:
- the chat model comes from ``llm.provider`` (``connectors.llm.build_chat_model``); tokens, cost and
  latency are counted by a LangChain callback (``UsageMeter``), retries and timeouts are the settings';
- evidence is redacted and packed within a token budget; log text is delimited as untrusted data;
- with ``llm.investigate`` the model may first call read-only tools scoped to the incident
  (``bot.investigation``); each result is evidence ``tool:<n>`` and every call is recorded in
  ``analysis.llm["tool_calls"]``;
- the reply must be one JSON object validated with the pydantic models below; hypotheses with a kind
  outside the vocabulary, or citing an evidence id that does not exist, are dropped;
- LLM confidence is blended with the deterministic score (weight ``LLM_WEIGHT``), never taken raw;
- timeouts, transport errors, spent budgets and malformed replies keep the deterministic answer, and
  the reason is recorded in ``analysis.llm`` with tokens, cost and latency.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, ValidationError

import prompts
from bot.domain import ALL_KINDS, Analysis, Evidence, Hypothesis, Incident, IncidentContext, LLMError
from bot.investigation.loop import run as run_investigation
from bot.investigation.scope import Scope
from bot.investigation.tools import Toolbox, ToolResources
from bot.reasoning.packing import catalogue, pack
from bot.reasoning.redact import redact, redaction_count
from config.settings import LLMSettings
from connectors.llm import UsageMeter, build_chat_model, json_mode_arguments
from connectors.llm import invoke_chat as invoke

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


def reply_json(message: AIMessage) -> dict[str, Any]:
    """The one JSON object of a reply (code fences and a sentence around it tolerated); ``LLMError`` otherwise."""
    content = message.text.strip()
    if not content:
        raise LLMError("the LLM returned an empty reply")
    text = _FENCE.sub("", content)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        # a model answering after tool calls (no JSON mode there) may put a sentence around the object
        start, end = text.find("{"), text.rfind("}")
        try:
            data = json.loads(text[start:end + 1]) if 0 <= start < end else None
        except json.JSONDecodeError:
            data = None
        if data is None:
            raise LLMError(f"the LLM reply is not JSON ({e.msg})") from e
    if not isinstance(data, dict):
        raise LLMError("the LLM reply is not a JSON object")
    return data


class LLMReasoner:
    """Asks the configured chat model; ``refine`` never raises for LLM failures.

    ``model`` is any LangChain chat model (default: built from ``settings``); ``tools`` are the
    systems the investigation tools read (used with ``settings.investigate``).
    """

    def __init__(self, settings: LLMSettings, *, model: BaseChatModel | None = None,
                 tools: ToolResources | None = None) -> None:
        self.settings = settings
        self.model = model if model is not None else build_chat_model(settings)
        self.tools = tools or ToolResources()

    # ---- model calls --------------------------------------------------------------------
    def _messages(self, user: str, *, investigate: bool) -> list[BaseMessage]:
        system = prompts.render("system.j2", kinds=list(ALL_KINDS), investigate=investigate)
        return [SystemMessage(content=system), HumanMessage(content=user)]

    def _scope(self, context: IncidentContext) -> Scope | None:
        if not self.settings.investigate:
            return None
        return Scope.for_context(context, self.settings, default_namespace=self.tools.kubernetes_namespace)

    def _ask(self, user: str, meter: UsageMeter, toolbox: Toolbox | None) -> dict[str, Any]:
        """The reply's JSON object: from one call, or from an investigation when a toolbox is given."""
        final = json_mode_arguments(self.settings)
        if toolbox is None:
            reply = invoke(self.model, self._messages(user, investigate=False), meter=meter,
                           settings=self.settings, **final)
            return reply_json(reply)
        result = run_investigation(self.model, self._messages(user, investigate=True), toolbox=toolbox,
                                   settings=self.settings, meter=meter, final_arguments=final)
        toolbox.stopped = result.stopped
        return reply_json(result.answer)

    def _toolbox(self, context: IncidentContext, scope: Scope | None) -> Toolbox | None:
        if scope is None:
            return None
        return Toolbox(context=context, scope=scope, resources=self.tools, output_chars=self.settings.tool_output_chars)

    def _usage(self, meter: UsageMeter, toolbox: Toolbox | None) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.settings.model, "provider": self.settings.provider,
                               **meter.as_dict(self.settings), "investigated": toolbox is not None}
        if toolbox is not None:
            out["tool_calls"] = [r.record() for r in toolbox.results]
            if toolbox.stopped:
                out["budget_spent"] = toolbox.stopped
        return out

    # ---- analysis ---------------------------------------------------------------------
    def refine(self, *, context: IncidentContext, analysis: Analysis) -> Analysis:
        """The analysis with LLM-blended hypotheses and summary, or unchanged with the reason why."""
        budget = max(256, self.settings.context_tokens - 900)
        packed = pack(analysis, budget_tokens=budget)
        known = catalogue(analysis)
        scope = self._scope(context)
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
            scope=scope, max_steps=self.settings.max_steps, max_tool_calls=self.settings.max_tool_calls,
        )
        meter, toolbox = UsageMeter(), self._toolbox(context, scope)
        facts = {"evidence_items": len(packed.items), "evidence_dropped_for_budget": packed.dropped,
                 "redactions": redaction_count(user)}
        try:
            reply = LLMAnalysisReply.model_validate(self._ask(user, meter, toolbox))
        except (LLMError, ValidationError) as e:
            reason = str(e) if isinstance(e, LLMError) else "the LLM reply did not match the expected schema"
            log.warning("llm refinement fell back to the deterministic answer", extra={"reason": reason})
            out = analysis.model_copy(deep=True)
            out.llm = {**self._usage(meter, toolbox), **facts, "used": False, "fallback_reason": reason}
            return out
        if toolbox is not None:
            known.update({r.id: r.evidence() for r in toolbox.results if r.citable})
        return self._blend(analysis, reply, known, {**self._usage(meter, toolbox), **facts})

    def _blend(self, analysis: Analysis, reply: LLMAnalysisReply, known: dict[str, Evidence],
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
            cited_tools = [known[i] for i in (pair[1] if pair else []) if i.startswith("tool:")]
            evidence = [*det.evidence, *(e for e in cited_tools if e.id not in {x.id for x in det.evidence})]
            blended.append(det.model_copy(update={"confidence": conf, "features": feats, "evidence": evidence}))
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
        """An evidence-cited answer (investigating first with ``llm.investigate``); raises ``LLMError``."""
        packed = pack(analysis, budget_tokens=max(256, self.settings.context_tokens - 600))
        scope = self._scope(context)
        user = prompts.render(
            "question.j2",
            incident_title=redact(context.incident.title or ""),
            service=context.incident.service,
            alert_time=context.alert_time.isoformat(),
            analysis_summary=redact(analysis.summary),
            evidence=packed.items,
            question=redact(question),
            scope=scope, max_steps=self.settings.max_steps, max_tool_calls=self.settings.max_tool_calls,
        )
        meter, toolbox = UsageMeter(), self._toolbox(context, scope)
        try:
            reply = LLMAnswerReply.model_validate(self._ask(user, meter, toolbox))
        except ValidationError as e:
            raise LLMError("the LLM reply did not match the expected schema") from e
        finally:
            log.info("llm answer", extra={"usage": self._usage(meter, toolbox)})
        tools = {r.id: r for r in (toolbox.results if toolbox else []) if r.citable}
        cited = [i for i in dict.fromkeys(reply.evidence_ids) if i in packed.ids or i in tools]
        if not cited:
            raise LLMError("the LLM answer cites no existing evidence")
        lines = [reply.answer.strip(), f"(evidence: {', '.join(cited)})"]
        lines += [f"- {i}: {tools[i].evidence().summary}" for i in cited if i in tools]
        return "\n".join(lines)

    def postmortem(self, *, draft: str) -> str:
        user = prompts.render("postmortem.j2", draft=redact(draft))
        try:
            reply = LLMMarkdownReply.model_validate(self._ask(user, UsageMeter(), None))
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
