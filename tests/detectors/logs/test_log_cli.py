import json
from pathlib import Path

from typer.testing import CliRunner

from bot.cli.logs import app
from tests.detectors.logs.factories import web_service_lines

runner = CliRunner()


def test_mine_prints_one_object_per_line_with_header_spec(tmp_path: Path) -> None:
    log = tmp_path / "hdfs.log"
    log.write_text(
        "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38 terminating\n"
        "081109 203807 222 INFO dfs.DataNode$PacketResponder: PacketResponder 0 for block blk_-69 terminating\n"
        "081109 204005 35 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated\n"
    )
    result = runner.invoke(app, ["mine", str(log), "--header", "<Date> <Time> <Pid> <Level> <Component>: <Content>",
                                 "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3]
    assert rows[0]["template_id"] == rows[1]["template_id"] != rows[2]["template_id"]
    assert rows[0]["template"] == "PacketResponder <*> for block <*> terminating"


def test_mine_keeps_ids_across_runs_with_state(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("\n".join(web_service_lines(seconds=50)) + "\n")
    state = tmp_path / "state.json"
    first = runner.invoke(app, ["mine", str(log), "--json", "--state", str(state)])
    other = tmp_path / "b.log"
    other.write_text("2024-03-01T12:00:00Z ERROR [x] a.B - something new\n" + log.read_text())
    second = runner.invoke(app, ["mine", str(other), "--json", "--state", str(state)])
    ids_first = {json.loads(x)["template_id"] for x in first.stdout.splitlines()}
    rows_second = [json.loads(x) for x in second.stdout.splitlines()]
    assert {r["template_id"] for r in rows_second[1:]} == ids_first
    assert rows_second[0]["template_id"] not in ids_first


def test_signals_against_a_baseline_file(tmp_path: Path) -> None:
    base = tmp_path / "base.log"
    cur = tmp_path / "cur.log"
    base.write_text("\n".join(web_service_lines(seconds=600, seed=1)) + "\n")
    cur.write_text("\n".join(web_service_lines(seconds=600, seed=2, incident_from=100,
                                                incident_line="dial tcp: lookup payments.internal: no such host"))
                   + "\n")
    result = runner.invoke(app, ["signals", str(cur), "--baseline", str(base), "--json", "--service", "checkout"])
    assert result.exit_code == 0, result.output
    signals = [json.loads(line) for line in result.stdout.splitlines()]
    assert signals[0]["kind"] == "dns_failure"
    assert signals[0]["service"] == "checkout"
    assert signals[0]["evidence"][0]["id"].startswith("log:checkout:")


def test_signals_without_baseline_split_by_alert_time(tmp_path: Path) -> None:
    cur = tmp_path / "svc.log"
    cur.write_text("\n".join(web_service_lines(incident_from=1600, incident_line="OutOfMemoryError: Java heap space"))
                   + "\n")
    result = runner.invoke(app, ["signals", str(cur), "--alert-time", "2024-03-01T12:28:20Z"])
    assert result.exit_code == 0, result.output
    assert "oom_kill" in result.stdout


def test_missing_file_is_one_clear_error() -> None:
    result = runner.invoke(app, ["mine", "/nonexistent/file.log"])
    assert result.exit_code == 2
    assert "does not exist" in result.output
