import os
from datetime import UTC, datetime
from pathlib import Path

from connectors.files.logs import FileLogSource, FileTailer
from connectors.logsources.base import LogQuery, has_own_time, stamp

Q = LogQuery("api", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC), limit=3)


async def test_file_source_reads_rotated_then_current_and_keeps_the_newest(tmp_path: Path) -> None:
    (tmp_path / "api.log.1").write_text("a\nb\n")
    (tmp_path / "api.log").write_text("c\nd\n")
    assert await FileLogSource(tmp_path).fetch(Q) == ["b", "c", "d"]
    assert await FileLogSource(tmp_path).fetch(LogQuery("nope", Q.start, Q.end)) == []


def test_tailer_follows_appends_partial_lines_rotation_and_truncation(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("old line\n")
    tail = FileTailer(path)
    assert tail.poll() == []  # starts at the end, like tail -F
    with path.open("a") as fh:
        fh.write("one\ntw")
    assert tail.poll() == ["one"]
    with path.open("a") as fh:
        fh.write("o\n")
    assert tail.poll() == ["two"]
    with path.open("a") as fh:
        fh.write("last before rotation\n")
    os.rename(path, tmp_path / "app.log.1")
    path.write_text("first after rotation\n")
    assert tail.poll() == ["last before rotation", "first after rotation"]
    path.write_text("")  # truncated in place (copytruncate)
    assert tail.poll() == []
    with path.open("a") as fh:
        fh.write("after truncation\n")
    assert tail.poll() == ["after truncation"]
    tail.close()


def test_tailer_waits_for_a_file_that_does_not_exist_yet(tmp_path: Path) -> None:
    tail = FileTailer(tmp_path / "later.log")
    assert tail.poll() == []
    (tmp_path / "later.log").write_text("hello\n")
    assert tail.poll() == ["hello"]


def test_stamp_only_lines_without_their_own_time() -> None:
    ts = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert stamp(ts, "plain message") == "2024-05-01T12:00:00Z plain message"
    for own in ('{"msg": "x"}', "2024-05-01 12:00:00 INFO x", "<34>Oct 11 22:14:15 host su: x",
                "Oct 11 22:14:15 host su: x", "I0102 03:04:05.123456 1 main.go:1] x"):
        assert has_own_time(own) and stamp(ts, own) == own


async def test_registry_builds_sources_from_settings_and_fetches_per_service(tmp_path: Path) -> None:
    import httpx

    from config.settings import load_settings
    from connectors.logsources.registry import build_log_sources, fetch_incident_logs

    (tmp_path / "api.log").write_text("2024-01-01T10:00:00Z ERROR boom\n")
    settings = load_settings(logs={"log_dir": str(tmp_path), "loki_url": "http://127.0.0.1:9"})
    async with httpx.AsyncClient() as client:
        sources = build_log_sources(settings, http=client)
        assert [s.name for s in sources] == ["files", "loki"]
        logs, notes = await fetch_incident_logs(sources, services=["api", "db"],
                                                alert_time=datetime(2024, 1, 1, 10, 5, tzinfo=UTC),
                                                settings=settings.logs)
    assert logs == {"api": ["2024-01-01T10:00:00Z ERROR boom"]}
    # Loki down: one note for the source (not one per service), naming the setting to check, no crash
    assert notes == ["loki: Loki at http://127.0.0.1:9 is unreachable (ConnectError); check logs.loki_url; "
                     "1 more services not queried"]
