"""Changes that only a log records (``detectors/logs/changes.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from detectors.logs.changes import CHANGE_ROWS, changes_in_log, changes_in_logs, rows_matching


@pytest.mark.parametrize("row", CHANGE_ROWS, ids=lambda r: r.id)
def test_each_row_reads_its_positive_line(row) -> None:
    assert row in rows_matching(row.positive)


@pytest.mark.parametrize("row", CHANGE_ROWS, ids=lambda r: r.id)
def test_each_row_leaves_its_negative_line(row) -> None:
    assert row not in rows_matching(row.negative)


def _iso(ts: datetime, text: str) -> str:
    return f"{ts.strftime('%Y-%m-%dT%H:%M:%SZ')} INFO {text}"


START = datetime(2024, 2, 1, 8, 0, tzinfo=UTC)


def test_a_journal_upgrade_becomes_a_config_change_of_the_log_s_component_at_the_line_s_time() -> None:
    lines = [f"Feb  1 08:{m:02d}:00 node-7 kubelet[900]: I0201 pod status updated" for m in range(0, 50)]
    lines.insert(30, "Feb  1 08:30:05 node-7 unattended-upgrade[4700]: Packages that will be upgraded: systemd udev")
    found = changes_in_log("k8s-node", lines)
    assert len(found) == 1
    change = found[0]
    assert (change.kind, change.service) == ("config", "k8s-node")
    assert (change.ts.hour, change.ts.minute, change.ts.second) == (8, 30, 5)
    assert "unattended-upgrade" in change.text and "k8s-node" in change.text


def test_a_change_line_printed_regularly_through_the_baseline_is_not_a_change() -> None:
    audit = [_iso(START + timedelta(minutes=10 * i), "sshd: %SYS-5-CONFIG_I: Configured from console by audit on vty0")
             for i in range(18)]
    assert changes_in_log("edge-rtr", audit) == []
    # the same device committing a different configuration once is one
    one = [*audit[:12], _iso(START + timedelta(minutes=121), "%SYS-5-CONFIG_I: Configured from console by ops on vty2 "
                                                          "(route-map CORE sequence 10 deleted)"), *audit[12:]]
    found = changes_in_log("edge-rtr", one)
    assert [c.ts for c in found] == [START + timedelta(minutes=121)]


def test_the_workload_a_kubectl_line_names_is_the_changed_service_when_the_incident_knows_it() -> None:
    lines = [_iso(START, "deploy-bot: deployment.apps/checkout image updated"),
             _iso(START + timedelta(minutes=1), "deploy-bot: deployment.apps/unknown-thing image updated")]
    found = changes_in_logs({"ci-runner": lines}, known=["checkout", "payments"])
    assert [(c.service, c.kind) for c in found] == [("checkout", "deploy"), ("ci-runner", "deploy")]


def test_an_audit_trail_s_call_that_removes_machines_is_a_change_of_the_component_its_tags_name() -> None:
    lines = [_iso(START + timedelta(minutes=m), "cloudtrail: DescribeInstances user=ops-automation") for m in range(40)]
    lines.insert(20, _iso(START + timedelta(minutes=20, seconds=5),
                          "cloudtrail: TerminateInstances user=ops-engineer instances=3 tags=cluster:es-fra-3,role:master"))
    lines.insert(30, _iso(START + timedelta(minutes=30), "cloudtrail: StopInstances user=ops errorCode=AccessDenied "
                                                         "tags=cluster:es-fra-1"))
    found = changes_in_logs({"cloudtrail": lines}, known=["es-fra-1", "es-fra-3", "indexer"])
    assert [(c.service, c.kind, c.ts) for c in found] == [("es-fra-3", "config", START + timedelta(minutes=20, seconds=5))]
    assert "audit.cloud_action" in found[0].text


def test_a_reload_that_says_it_changed_nothing_is_not_a_change() -> None:
    for text in ('level=info msg="config reloaded, no changes" caller=cart/client.go:287',
                 "configuration reloaded: nothing changed", "Reloading config: 0 changes"):
        assert changes_in_log("cart", [_iso(START, text)]) == [], text
    found = changes_in_log("cart", [_iso(START, 'level=info msg="config reloaded, 2 changes applied"')])
    assert [c.kind for c in found] == ["config"]


def test_lines_without_a_time_and_empty_logs_give_nothing() -> None:
    assert changes_in_log("web", []) == []
    assert changes_in_log("web", ["feature flag new_ui enabled"]) == []


def test_the_changes_detector_reads_log_changes_unless_the_change_log_has_that_change() -> None:
    from bot.domain import Alert, ChangeEvent, Incident, IncidentContext
    from detectors.registry import changes_detector

    when = START + timedelta(minutes=30)
    node_log = [_iso(START + timedelta(minutes=m), "kubelet: pod status updated") for m in range(0, 60, 5)]
    node_log.insert(6, _iso(when, "unattended-upgrade: Packages that will be upgraded: systemd udev"))
    alert = Alert(name="errors", service="intake", starts_at=START + timedelta(minutes=40))
    ctx = IncidentContext(incident=Incident(title="errors", service="intake", alerts=[alert]),
                          logs={"node": node_log}, topology={"intake": ["node"]})
    found = changes_detector(ctx)
    assert [(s.service, s.kind, s.started_at) for s in found] == [("node", "config", when)]
    assert "unattended-upgrade" in found[0].evidence[0].summary
    told = ChangeEvent(ts=when + timedelta(minutes=3), kind="config", service="node", text="patch window")
    found = changes_detector(ctx.model_copy(update={"events": [told]}))
    assert [s.evidence[0].summary.split(": ", 1)[1] for s in found] == ["patch window"]


def test_the_word_trie_finds_a_line_exactly_when_one_of_the_words_is_in_it() -> None:
    from detectors.logs.changes import _TRIGGER, TRIGGER_WORDS

    starts = "".join(sorted({w[0] for w in TRIGGER_WORDS}))
    for word in TRIGGER_WORDS:  # alone, in text, after the first letters of every word, after its own beginning
        for line in (word, f"x {word} y", f"{starts}{word}", f"{word[:-1]}{word}"):
            assert _TRIGGER.search(line)
        assert not _TRIGGER.search(word[:-1]) or any(w in word[:-1] for w in TRIGGER_WORDS)
    for row in CHANGE_ROWS:  # every row's own line passes the gate before it
        assert _TRIGGER.search(row.positive.lower())
    assert _TRIGGER.search("2024-02-01t10:00:02z info handled request in 12 ms") is None


def test_rows_skipped_for_their_literals_are_rows_that_would_not_have_read_the_line() -> None:
    from detectors.logs.changes import _ROW_LITERALS

    def every_row_searched(text: str) -> list[str]:  # rows_matching without the literal shortcut
        from detectors.logs.changes import _TRIGGER

        return [row.id for row in CHANGE_ROWS if row.regex.search(text)] if _TRIGGER.search(text.lower()) else []

    texts = [t for row in CHANGE_ROWS for t in (row.positive, row.negative, row.positive.upper())]
    texts += [f"deploy {word.upper()} x" for literals in _ROW_LITERALS for word in (literals or ())]
    texts += ["sudo ſysctl: net.ipv4.ip_forward = 0"]  # a case-insensitive s matches the long s: every row searched
    for text in texts:
        assert [row.id for row in rows_matching(text)] == every_row_searched(text), text
    assert [row.id for row in rows_matching("sudo ſysctl: net.ipv4.ip_forward = 0")] == ["config.sysctl"]
