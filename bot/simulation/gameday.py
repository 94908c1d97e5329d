"""Game days: a simulated incident played by people in a sandbox chat channel.

The engine posts the scenario's alert, streams its symptoms as thread replies (one clue every
``pace_s`` seconds, the strongest evidence last), answers questions about a named service from the
simulated telemetry, takes diagnoses (service + kind), scores them (correctness, time to diagnosis,
number of questions), reveals the truth and writes a debrief. Chat and clock are injected; results
are kept in a state store (``put_state``/``get_state``, key ``gameday:<id>``).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.domain.errors import InputError, NotFoundError
from bot.domain.models import new_id
from bot.domain.vocabulary import ALL_KINDS, category_of
from bot.simulation.bundle import alert_facts
from bot.simulation.evidence import EvidenceWriter
from bot.simulation.faults import CATALOG
from bot.simulation.history import human
from bot.simulation.scenario import Scenario, build_scenario

log = logging.getLogger(__name__)


class ChatPort(Protocol):
    """Where a game day talks: a channel message, and replies in its thread."""

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]] | None = None) -> str:
        """Post a message; return its thread id (Slack: the message ``ts``)."""
        ...

    def reply(self, channel: str, thread: str, text: str, blocks: list[dict[str, Any]] | None = None) -> str: ...

    def channel_id(self, channel: str, thread: str) -> str:
        """The id the chat uses for the channel of ``thread`` (Slack: ``C...`` for ``#sandbox``)."""
        ...


class StateStore(Protocol):
    def put_state(self, *, key: str, data: dict[str, Any]) -> None: ...

    def get_state(self, *, key: str) -> dict[str, Any] | None: ...


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def parse_scenario(text: str) -> tuple[str, str | None]:
    """``kind`` or ``kind:service`` (``demo`` is the checkout pool exhaustion)."""
    if text == "demo":
        return "db_connection_exhaustion", "checkout"
    kind, _, service = text.partition(":")
    if kind not in CATALOG:
        raise InputError(f"unknown scenario {text!r}: use a kind ({', '.join(ALL_KINDS[:4])}, ...), "
                         "kind:service, or 'demo'")
    return kind, service or None


class GameDayEngine:
    def __init__(self, *, chat: ChatPort, store: StateStore, clock: Callable[[], datetime] | None = None,
                 pace_s: float = 60.0) -> None:
        self.chat = chat
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))
        self.pace_s = pace_s

    # ---- state -----------------------------------------------------------------------------------

    def _save(self, game: dict[str, Any]) -> None:
        self.store.put_state(key=f"gameday:{game['id']}", data=game)

    def get(self, game_id: str) -> dict[str, Any]:
        game = self.store.get_state(key=f"gameday:{game_id}")
        if game is None:
            raise NotFoundError(f"no game day {game_id!r}")
        return game

    def active(self, channel: str) -> dict[str, Any]:
        pointer = self.store.get_state(key=f"gameday:active:{channel}")
        if not pointer or not pointer.get("id"):
            raise NotFoundError(f"no game day is running in {channel}; start one with "
                                "`sherlog gameday start <scenario> --channel {channel}`")
        return self.get(str(pointer["id"]))

    def history(self) -> list[dict[str, Any]]:
        return list_gamedays(self.store)

    @staticmethod
    def scenario(game: dict[str, Any]) -> Scenario:
        p = game["scenario"]
        return build_scenario(p["kind"], service=p["requested_service"], seed=p["seed"], difficulty=p["difficulty"],
                              vendor="alertmanager")

    # ---- the game --------------------------------------------------------------------------------

    def start(self, scenario: str, *, channel: str, seed: int = 7, difficulty: str = "normal",
              started_by: str = "unknown") -> dict[str, Any]:
        kind, service = parse_scenario(scenario)
        try:
            running = self.active(channel)
        except NotFoundError:
            running = None
        if running and running["status"] == "running":
            raise InputError(f"game day {running['id']} is already running in {channel}; end it first")
        scn = build_scenario(kind, service=service, seed=seed, difficulty=difficulty, vendor="alertmanager")
        facts = alert_facts(scn)[0]
        now = self.clock()
        text = (f":rotating_light: *GAME DAY* (simulated) — [FIRING] {facts.name} on *{facts.service}*: "
                f"{facts.summary}")
        blocks = [{"type": "header", "text": {"type": "plain_text", "text": f"Game day: {facts.name} on {facts.service}"}},
                  _section(f"*{facts.summary}*\n{facts.description}\n_This is a drill on simulated production._"),
                  _section("Investigate in this thread. Ask about a service (`@sherlog how is checkout?`) and "
                           "diagnose with `/sherlog diagnose <service> <kind>`.")]
        thread = self.chat.post(channel, text, blocks)
        channel_id = self.chat.channel_id(channel, thread)
        game: dict[str, Any] = {
            "id": new_id("gd"), "channel": channel, "channel_id": channel_id, "thread": thread, "status": "running",
            "started_at": now.isoformat(), "started_by": started_by,
            "scenario": {"name": scenario, **scn.params, "kind": kind, "seed": seed, "world": scn.world.name,
                         "requested_service": service},
            "alert": {"name": facts.name, "service": facts.service, "summary": facts.summary},
            "clues": self._clues(scn), "clues_posted": 0, "questions": [], "diagnoses": [], "result": None,
        }
        self._save(game)
        for name in {channel, channel_id}:  # slash commands name the channel by id, people by name
            self.store.put_state(key=f"gameday:active:{name}", data={"id": game["id"]})
        index = self.store.get_state(key="gameday:index") or {"ids": []}
        self.store.put_state(key="gameday:index", data={"ids": [*index["ids"], game["id"]]})
        log.info("game day started", extra={"game": game["id"], "kind": kind, "channel": channel})
        return game

    def _clues(self, scn: Scenario) -> list[str]:
        """Symptoms first, context next, the decisive evidence last."""
        tl, w = scn.timeline, scn.world
        clues: list[str] = []
        order = sorted(scn.impacts, key=lambda s: scn.impacts[s].strength)
        for name in [scn.alert_service] + [s for s in order if s != scn.alert_service][:2]:
            clues.append(self._metric_clue(scn, name))
        writer = EvidenceWriter(scn)
        logs = writer.timed_logs()
        fault_time = tl.at(tl.fault_at)
        noisy = [str(h["service"]) for h in scn.herrings if h["type"] == "log_burst"]
        for name in [s for s in order if s in logs][:1] + noisy[:1]:
            errors = [text for ts, text in logs[str(name)] if ts >= tl.at(tl.fault_at - 12)
                      and re.search(r"error|ERROR|\[error\]|HTTP/1\.1\" 5\d\d ", text)]
            impact = scn.impacts.get(str(name))
            pointed = [t for t in errors if impact and impact.via in t]
            line = (pointed or errors or [""])[0]
            if line:
                clues.append(f"Log excerpt from `{name}`:\n```{line.splitlines()[0][:400]}```")
        events = writer.events()
        recent = [e for e in events if e["kind"] in ("deploy", "config", "feature_flag", "k8s")
                  and datetime.fromisoformat(e["ts"].replace("Z", "+00:00")) >= tl.at(tl.fault_at - 45)]
        if recent:
            clues.append("Recent changes:\n" + "\n".join(f"• {e['ts'][11:16]} {e['kind']} {e['service']}: "
                                                          f"{e['text'][:160]}" for e in recent[-5:]))
        if scn.culprit in w.components and scn.culprit in logs:
            after = [text for ts, text in logs[scn.culprit] if ts >= fault_time and "request completed" not in text]
            fault_lines = [t for t in after if re.search(r"error|ERROR|FATAL|fatal|panic", t)] or after
            if not fault_lines:
                fault_lines = [text for ts, text in logs[scn.culprit] if ts >= fault_time]
            if fault_lines:
                clues.append(f"Log excerpt from `{scn.culprit}`:\n```{chr(10).join(fault_lines[0].splitlines()[:3])[:500]}```")
            clues.append(self._metric_clue(scn, scn.culprit))
        else:
            node_lines = [text for ts, text in logs.get(scn.culprit, []) if ts >= fault_time]
            if node_lines:
                clues.append(f"`{scn.culprit}` system log:\n```{node_lines[0][:400]}```")
            clues.append(self._metric_clue(scn, scn.culprit))
        return clues

    @staticmethod
    def _metric_clue(scn: Scenario, name: str, minute: int | None = None) -> str:
        tl = scn.timeline
        at = min(tl.minutes - 1, minute if minute is not None else tl.alert_at)
        parts = []
        for metric in ("latency_p95_ms", "error_rate", "request_rate", "cpu_usage", "memory_bytes",
                       "db_connections_in_use", "queue_depth", "replication_lag_s", "disk_used_ratio",
                       "disk_io_wait_ms", "restarts", "cpu_throttled_ratio", "tcp_retransmits"):
            values = scn.series.get((name, metric))
            if values is None:
                continue
            base = [float(v) for v in values[: max(1, tl.fault_at - 10)] if not math.isnan(float(v))]
            now = float(values[at])
            if not base:
                continue
            normal = sum(base) / len(base)
            if math.isnan(now):
                parts.append(f"{metric}: no data (normally {_fmt(metric, normal)})")
            elif metric in ("latency_p95_ms", "error_rate") or (
                    abs(now - normal) > 0.25 * max(abs(normal), 1e-3)
                    and not (metric.endswith("ratio") and abs(now - normal) < 0.03)):
                parts.append(f"{metric}: {_fmt(metric, now)} (normally {_fmt(metric, normal)})")
        return f"Dashboard `{name}` at {tl.at(at):%H:%M} UTC — " + ("; ".join(parts) or "nothing unusual")

    def tick(self, game_id: str) -> int:
        """Post the clues whose time has come; returns how many were posted."""
        game = self.get(game_id)
        if game["status"] != "running":
            return 0
        elapsed = (self.clock() - datetime.fromisoformat(game["started_at"])).total_seconds()
        due = min(len(game["clues"]), int(elapsed // self.pace_s) + 1)
        posted = 0
        while game["clues_posted"] < due:
            text = game["clues"][game["clues_posted"]]
            self.chat.reply(game["channel"], game["thread"], text, [_section(text)])
            game["clues_posted"] += 1
            posted += 1
        self._save(game)
        return posted

    def ask(self, game_id: str, *, user: str, question: str) -> str:
        """Record a question; answer from the simulated telemetry when it names a service."""
        game = self.get(game_id)
        now = self.clock()
        game["questions"].append({"user": user, "text": question, "at": now.isoformat()})
        scn = self.scenario(game)
        known = sorted(set(scn.world.components) | set(scn.world.nodes), key=len, reverse=True)
        named = [n for n in known if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", question)]
        elapsed_min = (now - datetime.fromisoformat(game["started_at"])).total_seconds() / 60.0
        minute = int(scn.timeline.alert_at + elapsed_min)
        if named:
            answer = "\n".join(self._metric_clue(scn, n, minute) for n in named[:2])
        else:
            answer = f"Name a service to look at, for example: {', '.join(scn.world.owned()[:5])}."
        self.chat.reply(game["channel"], game["thread"], answer, [_section(answer)])
        self._save(game)
        return answer

    def diagnose(self, game_id: str, *, user: str, service: str, kind: str) -> dict[str, Any]:
        """Score a diagnosis; a correct one ends the game and reveals the truth."""
        game = self.get(game_id)
        if game["status"] != "running":
            raise InputError(f"game day {game_id} has ended")
        if kind not in CATALOG:
            raise InputError(f"unknown kind {kind!r}; kinds: {', '.join(ALL_KINDS)}")
        truth = game["scenario"]
        now = self.clock()
        seconds = (now - datetime.fromisoformat(game["started_at"])).total_seconds()
        questions = sum(1 for q in game["questions"] if q["user"] == user)
        score = score_diagnosis(service=service, kind=kind, truth_service=truth["service"],
                                truth_kind=truth["kind"], seconds=seconds, questions=questions)
        entry = {"user": user, "service": service, "kind": kind, "at": now.isoformat(), **score}
        game["diagnoses"].append(entry)
        self._save(game)
        if score["correct"]:
            self.chat.reply(game["channel"], game["thread"],
                            f":tada: <@{user}> found it in {_duration(seconds)}: {kind} in {service}.")
            self.end(game_id)
        else:
            self.chat.reply(game["channel"], game["thread"],
                            f"<@{user}>: {kind} in {service} is not the root cause. Keep digging.")
        return entry

    def end(self, game_id: str) -> dict[str, Any]:
        """Reveal the truth, post and store the debrief."""
        game = self.get(game_id)
        if game["status"] == "ended":
            return game
        scn = self.scenario(game)
        now = self.clock()
        best = max(game["diagnoses"], key=lambda d: d["points"], default=None)
        winner = next((d for d in game["diagnoses"] if d["correct"]), None)
        game["result"] = {
            "ended_at": now.isoformat(), "root_cause_service": scn.culprit, "root_cause_kind": scn.kind,
            "category": scn.category, "solved": winner is not None,
            "time_to_diagnosis_s": winner["seconds"] if winner else None,
            "questions": len(game["questions"]), "best_points": best["points"] if best else 0,
            "winner": winner["user"] if winner else None,
        }
        game["debrief"] = debrief(game, scn)
        game["status"] = "ended"
        self._save(game)
        for name in {game["channel"], game.get("channel_id", game["channel"])}:
            self.store.put_state(key=f"gameday:active:{name}", data={"id": None})
        reveal = (f":mag: *Root cause*: {human(scn.kind)} in *{scn.culprit}* (category {scn.category}). "
                  f"Alert fired on {scn.alert_service}.")
        self.chat.reply(game["channel"], game["thread"], reveal,
                        [_section(reveal), _section(game["debrief"][:2900])])
        log.info("game day ended", extra={"game": game_id, "solved": winner is not None})
        return game

    def status(self, game_id: str) -> dict[str, Any]:
        game = self.get(game_id)
        return {"id": game["id"], "channel": game["channel"], "status": game["status"],
                "scenario": game["scenario"]["name"], "difficulty": game["scenario"]["difficulty"],
                "clues_posted": game["clues_posted"], "clues": len(game["clues"]),
                "questions": len(game["questions"]), "diagnoses": len(game["diagnoses"]), "result": game["result"]}


def list_gamedays(store: StateStore) -> list[dict[str, Any]]:
    """Every game day played, oldest first (the dashboard reads this)."""
    index = store.get_state(key="gameday:index") or {"ids": []}
    return [g for g in (store.get_state(key=f"gameday:{i}") for i in index["ids"]) if g]


def score_diagnosis(*, service: str, kind: str, truth_service: str, truth_kind: str, seconds: float,
                    questions: int) -> dict[str, Any]:
    """Points out of 100: correctness first, then speed (full marks within 5 min), then few questions."""
    right_service = service == truth_service
    right_kind = kind == truth_kind
    right_category = category_of(kind) == category_of(truth_kind)
    if right_service and right_kind:
        base = 100.0
    elif right_service and right_category:
        base = 60.0
    elif right_service:
        base = 40.0
    elif right_category:
        base = 20.0
    else:
        base = 0.0
    speed = max(0.4, 1.0 - max(0.0, seconds - 300.0) / 2700.0)
    penalty = 2.0 * max(0, questions - 5)
    return {"correct": right_service and right_kind, "service_correct": right_service, "kind_correct": right_kind,
            "category_correct": right_category, "seconds": round(seconds, 1), "questions": questions,
            "points": round(max(0.0, base * speed - penalty), 1)}


def debrief(game: dict[str, Any], scn: Scenario) -> str:
    spec = CATALOG[scn.kind]
    tl = scn.timeline
    lines = [f"# Game day debrief: {human(scn.kind)} in {scn.culprit}", "",
             f"- Scenario: `{game['scenario']['name']}` ({scn.difficulty}), world `{scn.world.name}`",
             f"- Alert: {game['alert']['name']} on {game['alert']['service']} — {game['alert']['summary']}",
             f"- Root cause: **{scn.kind}** in **{scn.culprit}** (category {scn.category}); the fault started "
             f"{tl.alert_at - tl.fault_at} min before the alert",
             f"- Clues posted: {game['clues_posted']} of {len(game['clues'])}; questions asked: "
             f"{len(game['questions'])}", "", "## Diagnoses", ""]
    if game["diagnoses"]:
        for d in game["diagnoses"]:
            mark = "✔" if d["correct"] else "✘"
            lines.append(f"- {mark} {d['user']}: {d['kind']} in {d['service']} after {_duration(d['seconds'])}, "
                         f"{d['questions']} questions, {d['points']} points")
    else:
        lines.append("- none")
    lines += ["", "## What pointed at the cause", "", f"- Signals: {', '.join(spec.keywords)}"]
    if scn.impacts:
        lines.append(f"- Symptoms propagated to: {', '.join(sorted(scn.impacts))}")
    if scn.herrings:
        lines.append("- Red herrings: " + ", ".join(f"{str(h['type']).replace('_', ' ')} on {h['service']}"
                                                     for h in scn.herrings))
    lines += ["", "## Runbook", ""] + [f"{i}. {step}" for i, step in enumerate(spec.runbook, 1)]
    return "\n".join(lines) + "\n"


def _fmt(metric: str, value: float) -> str:
    if metric == "error_rate" or metric.endswith("ratio"):
        return f"{value:.1%}"
    if metric == "memory_bytes":
        return f"{value / 2**20:.0f} MiB"
    if metric == "latency_p95_ms":
        return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.1f} s"
    return f"{value:.3g}"


def _duration(seconds: float) -> str:
    minutes, sec = divmod(int(seconds), 60)
    return f"{minutes} min {sec:02d} s" if minutes else f"{sec} s"
