"""One command language for Slack (`/sherlog ...`, mentions, DMs), Teams and the CLI.

``parse_command(text)`` turns text into a ``Command``; ``dispatch(command, ...)`` runs it through the
pipeline service functions and returns a ``Reply`` that each surface renders its own way. Blocking:
surfaces call ``dispatch`` from a thread. No chat vendor is known here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.domain import Analysis, Incident, InputError, SherlogError, SimilarIncident, Vote
from bot.pipeline import chat
from bot.pipeline.service import Pipeline

log = logging.getLogger(__name__)

HELP = """\
*Sherlog commands*
• `analyze [incident|alert id]` — (re)run the analysis (latest open incident by default)
• `similar <text>` — past incidents like this description
• `summary [incident id]` — the short story of an incident
• `status` — open incidents and their likely causes
• `runbook <text>` — runbook sections that match
• `ack [incident id]` — acknowledge
• `resolve [incident id] [service kind] [: what fixed it]` — resolve, optionally with the confirmed cause
• `feedback up|down|fixed [service kind] [comment]` — vote on a cause
• `diagnose <service> <kind>` — game day: your diagnosis of the drill running in this channel
• `help` — this list
Ask anything else in an incident thread ("why?", "what changed?", "show logs for checkout")."""

COMMANDS = ("analyze", "similar", "summary", "status", "runbook", "ack", "resolve", "feedback", "help", "diagnose",
            "ask")
HEAVY = frozenset({"analyze", "similar", "runbook", "diagnose", "ask"})
_INCIDENT_ID = re.compile(r"^inc-[0-9a-z]+$", re.IGNORECASE)
_ALIASES = {"analyse": "analyze", "acknowledge": "ack", "close": "resolve", "question": "ask", "?": "help",
            "runbooks": "runbook", "vote": "feedback"}


class GameDay(Protocol):
    """The game-day engine's side the chat needs (``bot.simulation.gameday.GameDayEngine``)."""

    def active(self, channel: str) -> dict[str, Any]: ...

    def diagnose(self, game_id: str, *, user: str, service: str, kind: str) -> dict[str, Any]: ...

    def ask(self, game_id: str, *, user: str, question: str) -> str: ...


@dataclass(frozen=True)
class Command:
    name: str
    args: str = ""

    @property
    def heavy(self) -> bool:
        """Slow commands (analysis, embedding search, LLM): surfaces answer them after acknowledging."""
        return self.name in HEAVY


@dataclass
class Reply:
    """What a command produced. ``incident``/``analysis`` set: render the full analysis."""

    text: str
    incident: Incident | None = None
    analysis: Analysis | None = None
    similar: list[SimilarIncident] = field(default_factory=list)
    ok: bool = True
    public: bool = True  # False: only the asking user should see it (ephemeral in Slack)
    data: dict[str, Any] = field(default_factory=dict)


def parse_command(text: str) -> Command:
    """``"analyze inc-1"`` -> Command("analyze", "inc-1"); unknown words become a question (``ask``)."""
    text = (text or "").strip()
    if not text:
        return Command("help")
    head, _, rest = text.partition(" ")
    name = _ALIASES.get(head.lower(), head.lower())
    if name in COMMANDS:
        return Command(name, rest.strip())
    return Command("ask", text)


def dispatch(command: Command, *, pipeline: Pipeline, user: str, surface: str,
             incident_hint: str | None = None, channel: str | None = None,
             gameday: GameDay | None = None) -> Reply:
    """Run one command. ``incident_hint`` is the incident of the conversation (an auto-post's thread).

    Errors a user can act on come back as a ``Reply`` with ``ok=False``; nothing raises.
    """
    try:
        if command.name == "diagnose":
            return _diagnose(command.args, user=user, channel=channel, gameday=gameday)
        return _run(command, pipeline=pipeline, user=user, surface=surface, hint=incident_hint)
    except SherlogError as e:
        return Reply(text=f"⚠️ {e}", ok=False, public=False)
    except Exception:  # noqa: BLE001 - a chat command never shows a traceback
        log.exception("chat command failed", extra={"command": command.name, "surface": surface})
        return Reply(text="⚠️ Sherlog could not run that command; the error is in its log.", ok=False, public=False)


_LEADING_ID = re.compile(r"^(inc-[0-9a-z]+)\s*(:?)\s*(.*)$", re.IGNORECASE | re.DOTALL)


def _split_ref(args: str, hint: str | None) -> tuple[str | None, str]:
    """A leading incident id in ``args`` wins over the conversation's incident. A colon right after the id
    (``inc-A: restarted``) is kept at the head of the rest, so ``resolve`` reads what follows as the
    resolution, not as a cause."""
    match = _LEADING_ID.match(args.strip())
    if match is None:
        return hint, args.strip()
    ref, colon, rest = match.groups()
    return ref, f"{colon}{rest.strip()}" if colon else rest.strip()


def _run(command: Command, *, pipeline: Pipeline, user: str, surface: str, hint: str | None) -> Reply:
    name, args = command.name, command.args
    if name == "help":
        return Reply(text=HELP, public=False)
    if name == "status":
        return Reply(text=chat.status_text(pipeline=pipeline))
    if name == "analyze":
        ref = args.split()[0] if args.split() else hint
        analyzed, fresh = chat.analyze(pipeline=pipeline, ref=ref)
        return Reply(text=f"Analysis of {analyzed.id} ready.", incident=analyzed, analysis=fresh)
    if name == "summary":
        ref, _ = _split_ref(args, hint)
        found_incident, latest = chat.find_incident(pipeline=pipeline,
                                                    ref=ref or (args.split()[0] if args else None))
        return Reply(text=chat.summary_text(incident=found_incident, analysis=latest), incident=found_incident)
    if name == "similar":
        found = chat.similar_incidents(pipeline=pipeline, text=args)
        if not found:
            return Reply(text=f"No similar past incident for “{args}”.")
        lines = [f"Past incidents like “{args}”:"]
        for s in found:
            cause = f" [{s.root_cause_kind} in {s.root_cause_service}]" if s.root_cause_kind else ""
            lines.append(f"- {s.title} ({s.score:.2f}){cause}" + (f": {s.resolution}" if s.resolution else "")
                         + (f" {s.url}" if s.url else ""))
        return Reply(text="\n".join(lines), similar=found)
    if name == "runbook":
        hits = chat.find_runbooks(pipeline=pipeline, text=args)
        if not hits:
            return Reply(text=f"No runbook matches “{args}”.")
        return Reply(text="\n".join([f"Runbooks for “{args}”:"] + [
            f"- {h.title}" + (f" {h.url}" if h.url else "") + f"\n  {h.snippet[:200]}" for h in hits]))
    if name == "ack":
        ref, _ = _split_ref(args, hint)
        incident, _ = chat.find_incident(pipeline=pipeline, ref=ref)
        incident = pipeline.acknowledge(incident_id=incident.id, user=user)
        return Reply(text=f"{incident.id} acknowledged by {user}.", incident=incident)
    if name == "resolve":
        ref, rest = _split_ref(args, hint)
        cause_text, _, resolution = rest.partition(":")
        service, kind = chat.parse_cause(cause_text)
        incident, _ = chat.find_incident(pipeline=pipeline, ref=ref)
        incident = pipeline.resolve(incident_id=incident.id, user=user, cause_service=service, cause_kind=kind,
                                    resolution=resolution.strip() or None)
        cause = f" Cause: {kind} in {service}." if kind and service else ""
        return Reply(text=f"{incident.id} resolved by {user}.{cause}", incident=incident)
    if name == "feedback":
        return _feedback(args, pipeline=pipeline, user=user, surface=surface, hint=hint)
    if name == "ask":
        ref, question = _split_ref(args, hint)
        question = question.lstrip(": ")
        incident, _ = chat.find_incident(pipeline=pipeline, ref=ref)
        return Reply(text=chat.answer(pipeline=pipeline, incident_id=incident.id, question=question or "why"),
                     incident=incident)
    raise InputError(f"unknown command {name!r}; try `help`")


def _feedback(args: str, *, pipeline: Pipeline, user: str, surface: str, hint: str | None) -> Reply:
    ref, rest = _split_ref(args, hint)
    words = rest.split()
    if not words or words[0].lower() not in {v.value for v in Vote}:
        raise InputError("say `feedback up|down|fixed [service kind] [comment]`")
    vote = Vote(words[0].lower())
    incident, analysis = chat.find_incident(pipeline=pipeline, ref=ref)
    service, kind = None, None
    if len(words) >= 3:
        try:
            service, kind = chat.parse_cause(" ".join(words[1:3]))
        except InputError:  # no cause named: the rest is a comment on the top cause
            service, kind = None, None
    comment_words = words[3:] if kind else words[1:]
    if kind is None and analysis is not None and analysis.top is not None:
        service, kind = analysis.top.service, analysis.top.kind
    chat.record_vote(pipeline=pipeline, incident_id=incident.id, analysis_id=analysis.id if analysis else None,
                     service=service, kind=kind, vote=vote, user=user, surface=surface,
                     comment=" ".join(comment_words) or None)
    return Reply(text=f"Thanks {user}: recorded `{vote.value}` for {kind or 'the analysis'}"
                      f"{' in ' + service if service else ''} on {incident.id}.", incident=incident, public=False)


def _diagnose(args: str, *, user: str, channel: str | None, gameday: GameDay | None) -> Reply:
    words = args.split()
    if len(words) < 2:
        raise InputError("say `diagnose <service> <kind>`, e.g. `diagnose checkout db_connection_exhaustion`")
    if gameday is None or channel is None:
        return Reply(text="Game days run in Slack channels; start one with `sherlog gameday start`.", ok=False,
                     public=False)
    game = gameday.active(channel)
    entry = gameday.diagnose(str(game["id"]), user=user, service=words[0], kind=words[1])
    verdict = "right" if entry.get("correct") else "not it"
    return Reply(text=f"Diagnosis recorded ({verdict}): {words[1]} in {words[0]}.", public=False, data=entry)


def gameday_question(*, gameday: GameDay | None, channel: str, thread: str | None, user: str,
                     question: str) -> bool:
    """Route a question asked in a running game day's thread to the engine (it answers in the thread)."""
    if gameday is None or not thread:
        return False
    try:
        game = gameday.active(channel)
    except SherlogError:
        return False
    if game.get("thread") != thread or game.get("status") != "running":
        return False
    gameday.ask(str(game["id"]), user=user, question=question)
    return True
