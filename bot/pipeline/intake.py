"""Intake: alerts -> incidents. Dedup by fingerprint, correlate related alerts, suppress flapping.

``IntakeService.accept(alerts)`` routes a batch in ONE database transaction that holds the intake lock
(PostgreSQL: ``pg_advisory_xact_lock``; SQLite: ``BEGIN IMMEDIATE``), so several API replicas and queue
workers never open two incidents for one problem; the lock is released at commit or when a process dies.
``accept_many`` does the same for several deliveries in one transaction (group commit), one result each;
the API's ``IntakeCoalescer`` feeds it with the webhook requests that arrive while a transaction runs.
Open incidents and their correlation profiles are cached between transactions and re-read only when
their row's ``updated_at`` changed (in this or another process).

Per alert, in order:

- ``raw.update_only`` (a note, an escalation): updates the alert it names; never opens an incident.
- same fingerprint in an open incident: the same alert, updated in place. A repeat that changes
  nothing is counted in ``duplicates`` and triggers nothing; a status change (firing, acknowledged,
  resolved) updates the incident, which is resolved once none of its alerts fires.
- same fingerprint in an incident resolved within ``flap_window``: flapping. The incident is reopened
  (never a new one); past ``flap_threshold`` flaps its reopenings and resolutions are silent
  (``suppressed``) so chat is not flooded.
- otherwise the best related open incident within the window (``bot.pipeline.grouping``), or a new one.

A resolve for an alert never seen firing is recorded on a resolved incident and never opens one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, text, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.domain import Alert, AlertStatus, Incident, IncidentStatus, Severity, stable_hash, utcnow
from bot.domain.events import EventType, IncidentEvent, OutboxEvent
from bot.pipeline.grouping import (
    GroupIndex,
    GroupingPolicy,
    GroupProfile,
    best_group,
    edges_from_labels,
    merge_topology,
)
from bot.storage import Store, jobs, outbox
from bot.storage.intake_groups import IntakeGroupRow
from bot.storage.tables import AlertRow, IncidentRow, KeyValueRow

log = logging.getLogger(__name__)
_INCIDENTS: Table = cast(Table, getattr(IncidentRow, "__table__"))  # noqa: B009 - SQLModel hides it from typing
_ALERTS: Table = cast(Table, getattr(AlertRow, "__table__"))  # noqa: B009
_GROUPS: Table = cast(Table, getattr(IntakeGroupRow, "__table__"))  # noqa: B009

_SEVERITY_ORDER = [Severity.INFO, Severity.WARNING, Severity.HIGH, Severity.CRITICAL]
LEARNED_TOPOLOGY_KEY = "intake.topology.learned"
_TOPOLOGY_REFRESH = timedelta(seconds=30)


@dataclass
class IntakeResult:
    incidents: list[Incident] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # incident ids created by this call
    updated: list[str] = field(default_factory=list)  # changed: a new alert, a status or severity change
    resolved: list[str] = field(default_factory=list)
    alerts: int = 0
    duplicates: int = 0  # repeats that changed nothing
    suppressed: list[str] = field(default_factory=list)  # fingerprints whose flapping was silenced
    ignored: int = 0  # update-only notifications about alerts Sherlog never saw

    @property
    def incident_ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for inc in self.incidents:
            seen.setdefault(inc.id, None)
        return list(seen)


def lifecycle_events(results: list[IntakeResult]) -> list[OutboxEvent]:
    """``incident.created`` / ``incident.resolved`` for what these intake results report."""
    out: list[OutboxEvent] = []
    for result in results:
        out += [OutboxEvent(type=EventType.INCIDENT_CREATED, payload=IncidentEvent(incident_id=i)) for i in result.created]
        out += [OutboxEvent(type=EventType.INCIDENT_RESOLVED, payload=IncidentEvent(incident_id=i))
                for i in result.resolved]
    return out


def group_key(alert: Alert) -> str:
    """``Incident.fingerprint`` of an incident opened by ``alert``: its service (or alert name) and name."""
    return f"{alert.service or alert.labels.get('alertname', alert.name)}|{alert.name}"[:128]


def _aware(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


@dataclass
class _Seen:
    alert_id: str
    incident_id: str
    alert_status: str
    incident_status: str
    resolved_at: datetime | None
    data: dict[str, Any] | None = None  # the stored alert (annotations, notes) for merging


@dataclass
class _Touched:
    incident: Incident
    row: IncidentRow | None
    initial_status: IncidentStatus | None  # None: created by this batch
    changed: bool = False
    statuses_changed: bool = False
    silent: bool = False
    alerts: list[Alert] = field(default_factory=list)


class IntakeService:
    def __init__(self, *, store: Store, group_window: timedelta = timedelta(minutes=30),
                 policy: GroupingPolicy | None = None, queue_analyses: bool = True) -> None:
        self.store = store
        self.policy = policy or GroupingPolicy(window=group_window)
        self.queue_analyses = queue_analyses
        self.emit_events = False  # set by the composition root when a relay delivers the outbox
        self._lock = threading.Lock()
        self._learned: dict[str, list[str]] = {}
        self._learned_at: datetime | None = None
        self._lock_key: int | None = None
        # incident id -> (row updated_at, profile): open profiles are re-read only when another batch
        # (in this or another process) changed them
        self._profiles: dict[str, tuple[datetime, GroupProfile]] = {}
        # incident id -> (row updated_at, incident) of open incidents, the same way: re-read only when changed
        self._incidents: dict[str, tuple[datetime, Incident]] = {}
        # the correlation index of the cached open profiles, kept between transactions like them
        self._index: GroupIndex | None = None

    @classmethod
    def from_settings(cls, *, settings: Any, store: Store) -> IntakeService:
        """Intake with every ``intake.*`` correlation setting and the top-level ``topology``."""
        return cls(store=store, policy=GroupingPolicy.from_settings(
            settings.intake, topology=getattr(settings, "topology", None)))

    # ---- public ------------------------------------------------------------------------------

    def accept(self, alerts: list[Alert]) -> IntakeResult:
        return self.accept_many([alerts])[0]

    def accept_many(self, batches: list[list[Alert]]) -> list[IntakeResult]:
        """Accept several webhook deliveries in ONE transaction (group commit), one result per delivery.

        Each delivery is routed and flushed in turn, so a later one sees what an earlier one opened, and the
        results are what separate ``accept`` calls would have returned. Nothing is committed unless all are.
        """
        results = [IntakeResult(alerts=len(alerts)) for alerts in batches]
        work = [(alerts, result) for alerts, result in zip(batches, results, strict=True) if alerts]
        if not work:
            return results
        for alerts, _ in work:
            for alert in alerts:
                alert.fingerprint = alert.compute_fingerprint()
        with self._lock, self.store.session() as session:
            try:
                self._lock_database(session)
                batch = _Batch(session, self.policy, self._topology(session), results[0], self._profiles,
                               self._incidents, self._index)
                self._index = batch.index
                batch.prefetch([a.fingerprint for alerts, _ in work for a in alerts])
                for i, (alerts, result) in enumerate(work):
                    if i:
                        batch.next_delivery(result)
                    with session.no_autoflush:  # one flush per delivery, not one per read
                        for alert in alerts:
                            batch.route(alert)
                    batch.flush(write=False)
                batch.write()
                if self.policy.learn_topology and batch.new_edges:
                    self._save_learned(session, batch.new_edges)
                if self.queue_analyses:  # the durable queue row commits with the incident it analyses
                    jobs.enqueue(session, [i for r in results for i in (*r.created, *r.updated)], now=batch.now)
                if self.emit_events:  # the events commit with the state change they report
                    outbox.write(session, lifecycle_events(results), now=batch.now)
                session.commit()
            except BaseException:
                self._profiles.clear()  # profiles may hold this batch's uncommitted changes
                self._index = None
                self._incidents.clear()
                raise
            batch.remember_incidents()
        return results

    def learned_topology(self) -> dict[str, list[str]]:
        with self.store.session() as session:
            return self._topology(session, force=True)

    # ---- locking and topology -----------------------------------------------------------------

    def _lock_database(self, session: Session) -> None:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            if self._lock_key is None:
                schema = session.execute(text("SELECT current_schema()")).scalar() or "public"
                self._lock_key = int(stable_hash("sherlog-intake", str(schema)), 16) & 0x7FFF_FFFF_FFFF_FFFF
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": self._lock_key})
        elif dialect == "sqlite":
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        else:  # pragma: no cover - other databases are not supported by the storage layer
            log.warning("no cross-process intake lock for this database", extra={"dialect": dialect})

    def _topology(self, session: Session, *, force: bool = False) -> dict[str, list[str]]:
        now = utcnow()
        if self.policy.learn_topology and (force or self._learned_at is None
                                           or now - self._learned_at > _TOPOLOGY_REFRESH):
            row = session.get(KeyValueRow, LEARNED_TOPOLOGY_KEY)
            self._learned = {k: list(v) for k, v in (row.data if row else {}).items()}
            self._learned_at = now
        return merge_topology(self.policy.topology, self._learned)

    def _save_learned(self, session: Session, edges: set[tuple[str, str]]) -> None:
        row = session.get(KeyValueRow, LEARNED_TOPOLOGY_KEY)
        graph = {k: list(v) for k, v in (row.data if row else {}).items()}
        merged = merge_topology(graph, {a: [b] for a, b in edges})
        if row is None:
            session.add(KeyValueRow(key=LEARNED_TOPOLOGY_KEY, updated_at=utcnow(), data=merged))
        else:
            row.data, row.updated_at = merged, utcnow()
            session.add(row)
        self._learned = merged


def learn_topology(*, store: Store, topology: dict[str, list[str]]) -> dict[str, list[str]]:
    """Merge dependency edges (service -> dependencies) into the learned topology intake correlates with."""
    current = store.get_state(key=LEARNED_TOPOLOGY_KEY) or {}
    merged = merge_topology(current, topology)
    store.put_state(key=LEARNED_TOPOLOGY_KEY, data=merged)
    return merged


class _Batch:
    """One ``accept`` call: caches what it read, writes once, inside the caller's transaction."""

    def __init__(self, session: Session, policy: GroupingPolicy, topology: dict[str, list[str]],
                 result: IntakeResult, cache: dict[str, tuple[datetime, GroupProfile]] | None = None,
                 incident_cache: dict[str, tuple[datetime, Incident]] | None = None,
                 index: GroupIndex | None = None) -> None:
        self.cache = cache if cache is not None else {}
        self.incident_cache = incident_cache if incident_cache is not None else {}
        self.incident_versions: dict[str, datetime] = {}  # open incident -> its row's updated_at
        self.s = session
        self.policy = policy
        self.topology = topology
        self.result = result
        self.seen: dict[str, _Seen] = {}
        self.touched: dict[str, _Touched] = {}  # incidents this delivery touches
        self.known: dict[str, _Touched] = {}  # incidents earlier deliveries of this transaction touched
        self.groups: dict[str, GroupProfile] = {}
        self.index = GroupIndex()
        self.reloaded: set[str] = set()  # profiles read afresh from the database by this batch
        self.group_rows: dict[str, IntakeGroupRow] = {}
        self.new_edges: set[tuple[str, str]] = set()
        self.new_incidents: list[dict[str, Any]] = []  # rows inserted at flush (Core, one executemany)
        self.new_alerts: dict[str, dict[str, Any]] = {}  # alert id -> row
        self.changed_alerts: dict[str, dict[str, Any]] = {}  # alert id -> values
        self.new_groups: set[str] = set()
        # rows queued by ``flush`` and sent by ``write``
        self.w_incidents: list[dict[str, Any]] = []
        self.w_alerts: list[dict[str, Any]] = []
        self.w_alert_updates: dict[str, dict[str, Any]] = {}
        self.w_incident_updates: dict[str, dict[str, Any]] = {}
        self.w_group_inserts: dict[str, dict[str, Any]] = {}
        self.w_group_updates: dict[str, dict[str, Any]] = {}
        self.now = utcnow()
        self._load_open_groups()
        self._ready_index(index)

    # ---- reads -------------------------------------------------------------------------------

    def _load_open_groups(self) -> None:
        rows = self.s.exec(
            select(IntakeGroupRow.incident_id, IntakeGroupRow.updated_at, IncidentRow.updated_at)
            .join(IncidentRow, col(IncidentRow.id) == col(IntakeGroupRow.incident_id))
            .where(IncidentRow.status != IncidentStatus.RESOLVED.value)
        ).all()
        self.incident_versions = {iid: _aware(at) or self.now for iid, _, at in rows}
        versions = [(iid, at) for iid, at, _ in rows]
        for iid in list(self.incident_cache):
            if self.incident_cache[iid][0] != self.incident_versions.get(iid):
                del self.incident_cache[iid]  # changed elsewhere, or resolved
        stale = [iid for iid, at in versions if iid not in self.cache or self.cache[iid][0] != _aware(at)]
        for i in range(0, len(stale), 500):
            for row in self.s.exec(select(IntakeGroupRow).where(col(IntakeGroupRow.incident_id).in_(stale[i:i + 500]))):
                self.group_rows[row.incident_id] = row
                self.cache[row.incident_id] = (_aware(row.updated_at) or self.now, _profile_from(row))
                self.reloaded.add(row.incident_id)
        open_ids = {iid for iid, _ in versions}
        for iid in list(self.cache):
            if iid not in open_ids:
                del self.cache[iid]
        for iid in open_ids:
            self.groups[iid] = self.cache[iid][1]  # shared: a failed batch clears the whole cache

    def _ready_index(self, index: GroupIndex | None) -> None:
        """The index of the open profiles: the previous transaction's, with the profiles new to it or read
        afresh; rebuilt when resolved incidents make up most of it (or after a failed transaction)."""
        if index is None or len(index.ids) > 2 * len(self.groups) + 1000:
            self.index = GroupIndex(self.groups.values())
            return
        for iid, group in self.groups.items():
            if iid in self.reloaded or iid not in index.ids:
                index.add(group)
        self.index = index

    def prefetch(self, fingerprints: list[str]) -> None:
        unique = list(dict.fromkeys(fingerprints))
        for i in range(0, len(unique), 500):
            chunk = unique[i:i + 500]
            ac, ic = _ALERTS.c, _INCIDENTS.c
            rows = self.s.execute(
                sa_select(ac.id, ac.fingerprint, ac.incident_id, ac.status, ac.received_at, ic.status, ic.resolved_at,
                          ac.data)
                .join_from(_ALERTS, _INCIDENTS, ic.id == ac.incident_id)
                .where(ac.fingerprint.in_(chunk))
            ).all()
            best: dict[str, tuple[bool, datetime, _Seen]] = {}
            for alert_id, fp, incident_id, a_status, received, i_status, resolved_at, data in rows:
                key = (i_status != IncidentStatus.RESOLVED.value, _aware(received) or self.now)
                if fp not in best or key > best[fp][:2]:
                    best[fp] = (*key, _Seen(alert_id, incident_id, a_status, i_status, _aware(resolved_at),
                                            data if isinstance(data, dict) else None))
            for fp, (_, _, seen) in best.items():
                self.seen[fp] = seen

    def next_delivery(self, result: IntakeResult) -> None:
        """After ``flush``: route the next delivery of the same transaction into ``result``. What was read
        and written stays known (no re-reads); what is reported starts afresh."""
        self.result = result
        self.known.update(self.touched)
        self.touched = {}
        self.new_incidents, self.new_alerts, self.changed_alerts = [], {}, {}
        self.new_groups = set()

    def _incident(self, incident_id: str) -> _Touched:
        touched = self.touched.get(incident_id)
        if touched is None and incident_id in self.known:
            # a copy, so the Incident an earlier delivery reported keeps its own alerts and state
            incident = _copy(self.known[incident_id].incident)
            touched = _Touched(incident=incident, row=None, initial_status=incident.status)
            self.touched[incident_id] = touched
        if touched is None and incident_id in self.incident_cache:
            incident = _copy(self.incident_cache[incident_id][1])
            touched = _Touched(incident=incident, row=None, initial_status=incident.status)
            self.touched[incident_id] = touched
        if touched is None:
            data = self._incident_data(incident_id)
            if data is None:  # opened by an earlier delivery of this transaction, not written yet
                self.write()
                data = self._incident_data(incident_id)
            assert data is not None, "alert rows reference existing incidents"
            incident = Incident.model_validate(data)
            touched = _Touched(incident=incident, row=None, initial_status=incident.status)
            self.touched[incident_id] = touched
            if incident_id not in self.groups:
                group_row = self.s.get(IntakeGroupRow, incident_id)
                if group_row is not None:
                    self.groups[incident_id] = _profile_from(group_row)
                    self.index.add(self.groups[incident_id])
        return touched

    def remember_incidents(self) -> None:
        """After commit: the open incidents this transaction wrote, as stored (``updated_at`` is their version)."""
        self.known.update(self.touched)
        for incident_id, touched in self.known.items():
            incident = touched.incident
            if incident.status == IncidentStatus.RESOLVED:
                self.incident_cache.pop(incident_id, None)
            else:
                self.incident_cache[incident_id] = (incident.updated_at, _copy(incident))

    def _incident_data(self, incident_id: str) -> dict[str, Any] | None:
        data = self.s.execute(sa_select(_INCIDENTS.c.data).where(_INCIDENTS.c.id == incident_id)).scalar()
        return data if isinstance(data, dict) else None

    # ---- routing -------------------------------------------------------------------------------

    def route(self, alert: Alert) -> None:
        if self.policy.learn_topology:
            for edge in edges_from_labels(alert):
                if edge[1] not in self.topology.get(edge[0], []):
                    self.new_edges.add(edge)
                    self.topology.setdefault(edge[0], []).append(edge[1])
        seen = self.seen.get(alert.fingerprint)
        if alert.raw.get("update_only"):
            if seen is None:
                self.result.ignored += 1
                return
            self._annotate(alert, seen)
            return
        if seen is not None and seen.incident_status != IncidentStatus.RESOLVED.value:
            self._update(alert, seen)
            return
        if seen is not None and alert.status != AlertStatus.RESOLVED:
            gap = abs(alert.starts_at - (seen.resolved_at or self.now))
            if gap <= self.policy.flap_window:
                self._reopen_flapping(alert, seen)
                return
        if seen is not None and alert.status == AlertStatus.RESOLVED:
            self.result.duplicates += 1  # a resolve repeated after its incident closed
            self.result.incidents.append(self._incident(seen.incident_id).incident)
            return
        if alert.status == AlertStatus.RESOLVED:
            self._record_orphan_resolve(alert)
            return
        group = best_group(alert, self.groups.values(), self.policy, self.topology, self.index)
        if group is not None:
            touched = self._incident(group.incident_id)
            if touched.incident.status != IncidentStatus.RESOLVED:
                self._attach(alert, touched, new=True)
                return
        self._open(alert)

    def _attach(self, alert: Alert, touched: _Touched, *, new: bool) -> None:
        incident = touched.incident
        if new:
            self.new_alerts[alert.id] = _alert_values(alert, incident.id, self.now)
        else:
            self._write_alert(alert.id, {"incident_id": incident.id, "status": alert.status.value,
                                         "data": alert.model_dump(mode="json")})
        self.seen[alert.fingerprint] = _Seen(alert.id, incident.id, alert.status.value, incident.status.value,
                                             incident.resolved_at)
        refs = alert.raw.get("external_refs")
        if isinstance(refs, dict):
            for key, value in refs.items():
                if incident.external_refs.get(str(key)) != str(value):
                    incident.external_refs[str(key)] = str(value)
                    touched.changed = True
        if _SEVERITY_ORDER.index(alert.severity) > _SEVERITY_ORDER.index(incident.severity):
            incident.severity = alert.severity
            touched.changed = True
        group = self.groups.get(incident.id)
        if group is None:
            group = GroupProfile(incident_id=incident.id, first_at=alert.starts_at, last_at=alert.starts_at)
            self.groups[incident.id] = group
            self.new_groups.add(incident.id)
        if new:
            # another pod with the same alert is no news; a new service or alert name is (re-analysis)
            touched.changed = touched.changed or group.is_news(alert)
            if alert.status != AlertStatus.FIRING or incident.status == IncidentStatus.RESOLVED:
                touched.statuses_changed = True  # a new firing alert cannot resolve an open incident
        group.add(alert, self.policy, new=new)
        self.index.add_alert(group, alert, self.policy)
        touched.alerts.append(alert)
        self.result.incidents.append(incident)

    def _open(self, alert: Alert) -> None:
        incident = Incident(
            fingerprint=group_key(alert), title=(alert.summary or alert.name)[:500], service=alert.service,
            severity=alert.severity, source=alert.source, labels=dict(alert.labels), started_at=alert.starts_at,
            status=IncidentStatus.ACKNOWLEDGED if alert.status == AlertStatus.ACKNOWLEDGED else IncidentStatus.OPEN,
        )
        if incident.status == IncidentStatus.ACKNOWLEDGED:
            incident.acknowledged_at = self.now
        touched = _Touched(incident=incident, row=None, initial_status=None)
        self.touched[incident.id] = touched
        self.new_incidents.append({"id": incident.id})  # values written at flush, before the alerts
        self._attach(alert, touched, new=True)
        log.info("incident opened", extra={"incident_id": incident.id, "service": incident.service})

    def _update(self, alert: Alert, seen: _Seen) -> None:
        touched = self._incident(seen.incident_id)
        alert.id = seen.alert_id
        old = self._stored(seen)
        if old is not None:
            alert.annotations = {**(old.get("annotations") or {}), **alert.annotations}
            notes = (old.get("raw") or {}).get("notes")
            if notes:
                alert.raw = {**alert.raw, "notes": notes}
        changed_status = seen.alert_status != alert.status.value
        group = self.groups.get(seen.incident_id)
        if group is not None and group.flaps.get(alert.fingerprint, 0) >= self.policy.flap_threshold:
            touched.silent = True  # a flapping alert's resolutions are as quiet as its reopenings
        before = touched.incident.severity
        self._attach(alert, touched, new=False)
        seen.data = alert.model_dump(mode="json")
        if changed_status:
            touched.changed = touched.statuses_changed = True
        elif touched.incident.severity == before:
            self.result.duplicates += 1

    def _annotate(self, alert: Alert, seen: _Seen) -> None:
        touched = self._incident(seen.incident_id)
        stored = self._stored(seen)
        if stored is None:
            self.result.ignored += 1
            return
        old = Alert.model_validate(stored)
        old.annotations.update(alert.annotations)
        notes = list(old.raw.get("notes", []))
        if alert.raw.get("note"):
            notes.append(str(alert.raw["note"]))
        old.raw = {**old.raw, "notes": notes[-50:]}
        if _SEVERITY_ORDER.index(alert.severity) > _SEVERITY_ORDER.index(old.severity):
            old.severity = alert.severity
        seen.data = old.model_dump(mode="json")
        self._write_alert(old.id, {"data": seen.data})
        refs = alert.raw.get("external_refs")
        if isinstance(refs, dict):
            touched.incident.external_refs.update({str(k): str(v) for k, v in refs.items()})
        self.result.incidents.append(touched.incident)

    def _reopen_flapping(self, alert: Alert, seen: _Seen) -> None:
        touched = self._incident(seen.incident_id)
        group = self.groups.get(seen.incident_id)
        if group is None:
            group = GroupProfile(incident_id=seen.incident_id, first_at=alert.starts_at, last_at=alert.starts_at)
            self.groups[seen.incident_id] = group
            self.new_groups.add(seen.incident_id)
        group.flaps[alert.fingerprint] = group.flaps.get(alert.fingerprint, 0) + 1
        if group.flaps[alert.fingerprint] >= self.policy.flap_threshold:
            touched.silent = True
            if alert.fingerprint not in self.result.suppressed:
                self.result.suppressed.append(alert.fingerprint)
        self._update(alert, seen)

    def _record_orphan_resolve(self, alert: Alert) -> None:
        incident = Incident(
            fingerprint=group_key(alert), title=(alert.summary or alert.name)[:500], service=alert.service,
            severity=alert.severity, source=alert.source, labels=dict(alert.labels), started_at=alert.starts_at,
            status=IncidentStatus.RESOLVED, resolved_at=alert.ends_at or self.now,
        )
        self.new_incidents.append(_incident_values(incident, created=True))
        self.new_alerts[alert.id] = _alert_values(alert, incident.id, self.now)
        self.seen[alert.fingerprint] = _Seen(alert.id, incident.id, alert.status.value,
                                             IncidentStatus.RESOLVED.value, incident.resolved_at)
        incident.alerts = [alert]
        self.result.incidents.append(incident)

    # ---- writes --------------------------------------------------------------------------------

    def _stored(self, seen: _Seen) -> dict[str, Any] | None:
        if seen.data is None and seen.alert_id in self.new_alerts:
            seen.data = self.new_alerts[seen.alert_id]["data"]
        return seen.data

    def _write_alert(self, alert_id: str, values: dict[str, Any]) -> None:
        pending = self.new_alerts.get(alert_id)
        if pending is not None:
            pending.update(values)
        else:
            self.changed_alerts.setdefault(alert_id, {}).update(values)

    def flush(self, *, write: bool = True) -> None:
        """Settle this delivery (statuses, what the result reports) and queue its rows; ``write`` sends every
        queued row to the database (a transaction's deliveries are written together, in order)."""
        created = {row["id"] for row in self.new_incidents if len(row) == 1}
        self.w_incidents.extend(r for r in self.new_incidents if len(r) > 1)
        for incident_id in created:
            self.w_incidents.append(_incident_values(self.touched[incident_id].incident, created=True))
        self.w_alerts.extend(self.new_alerts.values())
        for alert_id, values in self.changed_alerts.items():
            self.w_alert_updates.setdefault(alert_id, {}).update(values)
        if any(t.statuses_changed for t in self.touched.values()):
            self.write()  # the status is counted from the stored alerts
        for incident_id, touched in self.touched.items():
            incident = touched.incident
            if touched.statuses_changed:
                self._recompute_status(touched)
            incident.updated_at = self.now
            if incident_id not in created:
                self.w_incident_updates[incident_id] = {"_id": incident_id, **_incident_values(incident, created=False)}
            incident.alerts = touched.alerts
            self._classify(incident_id, touched)
        self._write_groups()
        if write:
            self.write()

    def write(self) -> None:
        if self.w_incidents:
            self.s.execute(insert(_INCIDENTS), self.w_incidents)
        if self.w_alerts:
            self.s.execute(insert(_ALERTS), self.w_alerts)
        for alert_id, values in self.w_alert_updates.items():
            self.s.execute(update(_ALERTS).where(_ALERTS.c.id == alert_id).values(**values))
        if self.w_incident_updates:
            table = _INCIDENTS
            self.s.execute(update(table).where(table.c.id == bindparam("_id")), list(self.w_incident_updates.values()))
        if self.w_group_inserts:
            self.s.execute(insert(_GROUPS), list(self.w_group_inserts.values()))
        if self.w_group_updates:
            table = _GROUPS
            self.s.execute(update(table).where(table.c.incident_id == bindparam("_id")),
                           list(self.w_group_updates.values()))
        self.w_incidents, self.w_alerts, self.w_alert_updates, self.w_incident_updates = [], [], {}, {}
        self.w_group_inserts, self.w_group_updates = {}, {}

    def _recompute_status(self, touched: _Touched) -> None:
        incident = touched.incident
        counts = dict(self.s.exec(
            select(AlertRow.status, _count()).where(AlertRow.incident_id == incident.id).group_by(AlertRow.status)
        ).all())
        active = counts.get(AlertStatus.FIRING.value, 0) + counts.get(AlertStatus.ACKNOWLEDGED.value, 0)
        if active == 0 and incident.status != IncidentStatus.RESOLVED:
            incident.status = IncidentStatus.RESOLVED
            ends = [a.ends_at for a in touched.alerts if a.ends_at is not None]
            incident.resolved_at = max(ends) if ends else self.now
        elif active and incident.status == IncidentStatus.RESOLVED:
            incident.status = IncidentStatus.OPEN
            incident.resolved_at = None
        if active and counts.get(AlertStatus.FIRING.value, 0) == 0 and incident.status == IncidentStatus.OPEN:
            incident.status = IncidentStatus.ACKNOWLEDGED
            incident.acknowledged_at = incident.acknowledged_at or self.now
        for seen in self.seen.values():
            if seen.incident_id == incident.id:
                seen.incident_status = incident.status.value
                seen.resolved_at = incident.resolved_at

    def _write_groups(self) -> None:
        stamp = utcnow()  # tells other processes' caches that these profiles changed
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for incident_id in self.touched:
            group = self.groups.get(incident_id)
            if group is None:
                continue
            data = {"services": sorted(group.services), "entities": sorted(group.entities),
                    "labels": sorted(group.labels), "flaps": group.flaps, "names": sorted(group.names),
                    "kinds": sorted(group.kinds)}
            values = {"first_at": group.first_at, "last_at": group.last_at, "updated_at": stamp, "data": data}
            if incident_id in self.new_groups:
                inserts.append({"incident_id": incident_id, **values})
            else:
                updates.append({"_id": incident_id, **values})
            self.cache[incident_id] = (stamp, group)
        for row in inserts:
            self.w_group_inserts[row["incident_id"]] = row
        for row in updates:
            incident_id = row["_id"]
            if incident_id in self.w_group_inserts:  # not written yet: insert the latest profile
                self.w_group_inserts[incident_id] = {"incident_id": incident_id,
                                                     **{k: v for k, v in row.items() if k != "_id"}}
            else:
                self.w_group_updates[row["_id"]] = row

    def _classify(self, incident_id: str, touched: _Touched) -> None:
        final = touched.incident.status
        if touched.initial_status is None:
            self.result.created.append(incident_id)
            if final == IncidentStatus.RESOLVED:
                self.result.resolved.append(incident_id)
        elif final == IncidentStatus.RESOLVED and touched.initial_status != IncidentStatus.RESOLVED:
            if not touched.silent:
                self.result.resolved.append(incident_id)
        elif touched.changed and not touched.silent:
            self.result.updated.append(incident_id)


def _count() -> Any:
    from sqlalchemy import func

    return func.count()


def _alert_values(alert: Alert, incident_id: str, now: datetime) -> dict[str, Any]:
    return {"id": alert.id, "incident_id": incident_id, "fingerprint": alert.fingerprint[:128],
            "source": alert.source, "status": alert.status.value, "name": alert.name[:300], "service": alert.service,
            "starts_at": alert.starts_at, "received_at": now, "data": alert.model_dump(mode="json")}


def _incident_values(incident: Incident, *, created: bool) -> dict[str, Any]:
    """The ``incidents`` columns of an incident (``category`` is the analysis's, never written here)."""
    values: dict[str, Any] = {
        "fingerprint": incident.fingerprint[:128], "title": incident.title[:500], "service": incident.service,
        "severity": incident.severity.value, "status": incident.status.value, "source": incident.source,
        "is_early_warning": incident.is_early_warning, "updated_at": incident.updated_at,
        "acknowledged_at": incident.acknowledged_at, "resolved_at": incident.resolved_at,
        "confirmed_service": incident.confirmed_service, "confirmed_kind": incident.confirmed_kind,
        "data": incident.model_dump(mode="json", exclude={"alerts"}),
    }
    if created:
        values.update(id=incident.id, created_at=incident.created_at, category=None)
    return values


def _copy(incident: Incident) -> Incident:
    """A copy routing can change without touching the original (the mutable parts are copied)."""
    out = incident.model_copy()
    out.external_refs = dict(incident.external_refs)
    out.labels = dict(incident.labels)
    out.alerts = []
    return out


def _profile_from(row: IntakeGroupRow) -> GroupProfile:
    data = row.data or {}
    return GroupProfile(
        incident_id=row.incident_id, first_at=_aware(row.first_at) or utcnow(), last_at=_aware(row.last_at) or utcnow(),
        services=set(data.get("services", [])), entities=set(data.get("entities", [])),
        labels=set(data.get("labels", [])), flaps={k: int(v) for k, v in (data.get("flaps") or {}).items()},
        names=set(data.get("names", [])), kinds=set(data.get("kinds", [])),
    )


# ---- group commit for the webhook route ------------------------------------------------------------


class IntakeCoalescer:
    """Group commit for webhook requests: deliveries that arrive while a transaction runs are accepted
    together in the next one, each request still answered only after ITS alerts are committed.

    One transaction per request costs a lock, a commit (an fsync on SQLite) and the correlation reads; under
    load most requests share them. A failed shared transaction is retried one delivery at a time, so a bad
    delivery fails only its own request. Use from one event loop (the API's).
    """

    def __init__(self, accept_many: Any, *, max_alerts: int = 1000) -> None:
        self._accept_many = accept_many  # (list[list[Alert]]) -> list[IntakeResult], blocking
        self._max_alerts = max_alerts
        self._pending: list[tuple[list[Alert], asyncio.Future[IntakeResult]]] = []
        self._running = False
        self._task: asyncio.Task[None] | None = None  # referenced so it is not collected mid-drain

    async def accept(self, alerts: list[Alert]) -> IntakeResult:
        future: asyncio.Future[IntakeResult] = asyncio.get_running_loop().create_future()
        self._pending.append((alerts, future))
        if not self._running:
            self._running = True
            self._task = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        group: list[tuple[list[Alert], asyncio.Future[IntakeResult]]] = []
        try:
            while self._pending:
                take, size = 1, len(self._pending[0][0])
                while take < len(self._pending) and size + len(self._pending[take][0]) <= self._max_alerts:
                    size += len(self._pending[take][0])
                    take += 1
                group, self._pending = self._pending[:take], self._pending[take:]
                try:
                    results = await asyncio.to_thread(self._accept_many, [alerts for alerts, _ in group])
                except Exception as e:
                    if len(group) > 1:
                        log.warning("shared intake transaction failed; retrying deliveries one by one")
                        await self._one_by_one(group)
                    else:
                        _settle(group[0][1], error=e)
                    continue
                for (_, future), result in zip(group, results, strict=True):
                    _settle(future, result=result)
        finally:
            self._running = False
            for _, future in group:  # cancelled mid-transaction: never leave a request waiting
                _settle(future, error=asyncio.CancelledError())

    async def _one_by_one(self, group: list[tuple[list[Alert], asyncio.Future[IntakeResult]]]) -> None:
        for alerts, future in group:
            try:
                result = (await asyncio.to_thread(self._accept_many, [alerts]))[0]
            except Exception as e:
                _settle(future, error=e)
            else:
                _settle(future, result=result)


def _settle(future: asyncio.Future[IntakeResult], *, result: IntakeResult | None = None,
            error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert result is not None
        future.set_result(result)
