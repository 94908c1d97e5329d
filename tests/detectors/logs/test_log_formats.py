from datetime import UTC, datetime

import pytest

from bot.domain.errors import InputError
from detectors.logs.formats import HeaderFormat
from detectors.logs.parsing import detect_format, parse_lines
from detectors.logs.timestamps import parse_timestamp

SAMPLES = {
    "json": '{"ts":"2024-01-02T03:04:07Z","level":"warn","msg":"slow query","service":"api"}',
    "logfmt": 'level=error ts=2024-01-02T03:04:08Z msg="no such host" caller=dns.go:12',
    "syslog5424": "<11>1 2024-01-02T03:04:05.003Z host01 postgres 811 - - FATAL: too many connections",
    "syslog3164": "<30>Jan  2 03:04:05 host01 kubelet[1234]: Back-off restarting failed container",
    "klog": "E0102 03:04:05.123456    1234 reflector.go:42] failed to list pods: x509: certificate has expired",
    "access": '10.1.2.3 - - [02/Jan/2024:03:04:05 +0000] "GET /api/v1/items?id=3 HTTP/1.1" 503 12 "-" "curl/8"',
    "nginx_error": "2024/01/02 03:04:05 [error] 12#0: *5 connect() failed (111: Connection refused)",
    "apache_error": "[Tue Jan 02 03:04:05 2024] [error] [client 10.0.0.1] File does not exist: /var/www/x",
    "generic": "2024-01-02 03:04:05,123 - app.db - ERROR - remaining connection slots are reserved",
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_detects_each_format_and_reads_time_and_level(name: str) -> None:
    line = SAMPLES[name]
    fmt = detect_format([line] * 3)
    assert fmt.name == name
    parsed = fmt.parse(line)
    assert parsed is not None
    assert parsed.ts is not None and parsed.ts.tzinfo is not None
    ts = parsed.ts.astimezone(UTC)
    assert (ts.month, ts.day, ts.minute) == (1, 2, 4)  # syslog 3164 and klog carry no year
    assert parsed.level in {"warning", "error", "critical", "info"}


def test_access_log_status_sets_level_and_drops_query() -> None:
    parsed = detect_format([SAMPLES["access"]]).parse(SAMPLES["access"])
    assert parsed is not None
    assert parsed.level == "error"
    assert parsed.message == "GET /api/v1/items 503"


def test_stack_trace_lines_join_into_one_event() -> None:
    lines = [
        "2024-01-02T03:04:05Z ERROR [main] com.shop.Orders - request failed",
        "java.lang.OutOfMemoryError: Java heap space",
        "\tat com.shop.Orders.load(Orders.java:10)",
        "\tat com.shop.Orders.run(Orders.java:12)",
        "Caused by: java.io.IOException: broken",
        "2024-01-02T03:04:06Z INFO [main] com.shop.Orders - recovered",
    ]
    events = list(parse_lines(lines))
    assert [e.line_no for e in events] == [1, 6]
    assert events[0].lines == 5
    assert "OutOfMemoryError" in events[0].message
    assert events[1].message == "recovered"


def test_python_traceback_joins() -> None:
    lines = [
        "2024-01-02 03:04:05,000 - worker - ERROR - task crashed",
        "Traceback (most recent call last):",
        '  File "w.py", line 3, in run',
        "ZeroDivisionError: division by zero",
        "2024-01-02 03:04:06,000 - worker - INFO - next task",
    ]
    events = list(parse_lines(lines))
    assert len(events) == 2
    assert "ZeroDivisionError" in events[0].message


def test_mixed_stream_parses_each_line_with_its_format() -> None:
    lines = [SAMPLES["generic"], SAMPLES["json"], SAMPLES["generic"], SAMPLES["logfmt"]]
    events = list(parse_lines(lines))
    assert [e.message for e in events][:2] == ["remaining connection slots are reserved", "slow query"]
    assert events[1].service == "api"
    assert events[3].message == "no such host"


def test_garbage_never_raises() -> None:
    junk: list[str | bytes] = [b"\x00\xff\xfe\x80garbage", "", "   ", "x" * 10_000_000, "\x00" * 100, "{not json"]
    events = list(parse_lines(junk))
    assert len(events) == 3
    assert all(len(e.raw) <= 8192 for e in events)


def test_loghub_header_notation_and_regex() -> None:
    fmt = HeaderFormat("<Date> <Time> <Pid> <Level> <Component>: <Content>")
    parsed = fmt.parse("081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating")
    assert parsed is not None
    assert parsed.message == "PacketResponder 1 terminating"
    assert parsed.level == "info"
    assert parsed.fields["Component"] == "dfs.DataNode$PacketResponder"
    assert parsed.ts == datetime(2008, 11, 9, 20, 36, 15, tzinfo=UTC)
    rx = HeaderFormat(r"(?P<ts>\S+) (?P<level>\w+) (?P<message>.*)")
    assert rx.content("2024-01-01T00:00:00Z WARN disk almost full") == "disk almost full"
    assert fmt.contents(["not matching at all", "081109 203615 148 INFO a.B: hi"]) == ["not matching at all", "hi"]


def test_header_without_content_is_refused() -> None:
    with pytest.raises(InputError, match="Content"):
        HeaderFormat("<Date> <Time>")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-02T03:04:05+02:00", datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC)),
        ("10/Oct/2000:13:55:36 -0700", datetime(2000, 10, 10, 20, 55, 36, tzinfo=UTC)),
        ("1700000000123", datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)),
        ("Sun Dec 04 04:47:44 2005", datetime(2005, 12, 4, 4, 47, 44, tzinfo=UTC)),
        ("not a time", None),
    ],
)
def test_timestamps_normalise_to_utc(text: str, expected: datetime | None) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        # a past incident's syslog and klog lines take the incident's year, not the year of the analysis
        ("Oct  4 15:39:02", datetime(2021, 10, 4, 15, 40, tzinfo=UTC), datetime(2021, 10, 4, 15, 39, 2, tzinfo=UTC)),
        ("1004 15:39:02.5", datetime(2021, 10, 4, 15, 40, tzinfo=UTC),
         datetime(2021, 10, 4, 15, 39, 2, 500000, tzinfo=UTC)),
        # December lines of an incident that started on the 1st of January belong to the year before
        ("Dec 31 23:58:00", datetime(2025, 1, 1, 0, 2, tzinfo=UTC), datetime(2024, 12, 31, 23, 58, tzinfo=UTC)),
        # a few days after the start is still the same year
        ("Jan  3 10:00:00", datetime(2025, 1, 1, 0, 2, tzinfo=UTC), datetime(2025, 1, 3, 10, 0, tzinfo=UTC)),
    ],
)
def test_yearless_timestamps_take_the_reference_year(text: str, reference: datetime, expected: datetime) -> None:
    from detectors.logs.timestamps import reference_time

    with reference_time(reference):
        assert parse_timestamp(text) == expected
    assert parse_timestamp(text, year=1999) == expected.replace(year=1999)  # an explicit year still wins


def test_syslog_header_with_an_iso_or_year_first_clock_names_its_host() -> None:
    from detectors.logs.formats import Syslog3164Format

    fmt = Syslog3164Format()
    iso = fmt.parse("2016-10-20T08:52:20.757Z esx-04 vmkernel: cpu7:33579)WARNING: ScsiDeviceIO: 1276: Device naa.6")
    assert iso is not None and iso.fields["host"] == "esx-04" and iso.ts is not None and iso.ts.minute == 52
    nxos = fmt.parse("2020 Sep 13 20:25:18 rtr1 %MODULE-2-MOD_SOMEPORTS_FAILED: Module 3 reported failure")
    assert nxos is not None and nxos.fields["host"] == "rtr1"
    assert nxos.ts is not None and (nxos.ts.year, nxos.ts.month, nxos.ts.hour) == (2020, 9, 20)


def test_an_application_line_with_an_iso_clock_is_not_read_as_syslog() -> None:
    from detectors.logs.formats import Syslog3164Format

    fmt = Syslog3164Format()
    assert fmt.parse('2026-01-15T19:05:00Z level=info msg="request" path=/api/v2/me status=200') is None
    assert fmt.parse("2019-03-01T10:00:00.123Z 12 [ERROR] Slave SQL for channel '': Error_code: 1062") is None


def _detected_by_counting_every_line(lines: list[str]) -> str:
    """detect_format as specified: every format counted on every picked line, the first of the most on a tie."""
    from detectors.logs.formats import BUILTIN_FORMATS
    from detectors.logs.parsing import _CONTINUATION, clean

    picked = [clean(x) for x in lines if clean(x).strip() and not _CONTINUATION.match(clean(x))][:200]
    best, best_hits = "plain", 0
    for fmt in BUILTIN_FORMATS:
        hits = sum(1 for text in picked if fmt.parse(text) is not None)
        if hits > best_hits:
            best, best_hits = fmt.name, hits
    return best if picked and best_hits >= max(1, len(picked) * 0.3) else "plain"


_OTHERS = ["081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660",
           "plain words and nothing else", "    at com.shop.Checkout.pay(Checkout.java:42)", "",
           '{"not": "closed"', "{\"msg\": \"no time\"}", "level=info"]


def test_the_format_counted_with_early_stops_is_the_one_counting_every_line_picks() -> None:
    import random

    rng = random.Random(7)
    kinds = [*SAMPLES.values(), *_OTHERS]
    for _ in range(150):
        mix = rng.sample(kinds, rng.randint(1, 4))
        lines = [rng.choice(mix) for _ in range(rng.randint(1, 250))]
        assert detect_format(lines).name == _detected_by_counting_every_line(lines), lines[:5]


def test_on_a_tie_the_first_builtin_format_wins_even_when_the_other_reads_the_first_line() -> None:
    lines = [SAMPLES["access"], SAMPLES["klog"]] * 5  # klog comes before access in BUILTIN_FORMATS
    assert detect_format(lines).name == "klog" == _detected_by_counting_every_line(lines)
    three = [SAMPLES["access"]] * 3 + ["plain"] * 7  # 30% of the lines: enough
    assert detect_format(three).name == "access" and detect_format(three[:2] + three[3:]).name == "plain"


def test_lines_read_while_detecting_give_the_events_a_second_reading_gives() -> None:
    import random

    rng = random.Random(11)
    kinds = [*SAMPLES.values(), *_OTHERS, "Caused by: java.io.IOException: x", "Traceback (most recent call last):"]
    for _ in range(60):
        lines: list[str | bytes] = [rng.choice(kinds) for _ in range(rng.randint(1, 260))]
        lines = [x.encode() if rng.random() < 0.1 else x for x in lines]
        for start in (1, 40):
            fmt = detect_format([x if isinstance(x, str) else x.decode() for x in lines[:200]])
            reread = [repr(e) for e in parse_lines(lines, fmt=fmt, start=start)]
            assert [repr(e) for e in parse_lines(lines, start=start)] == reread


def test_a_format_that_raised_while_detecting_reads_nothing_as_when_it_raises_again() -> None:
    from detectors.logs.parsing import _FAILED, LogParser

    class Raising:
        name = "raising"

        def parse(self, line: str) -> None:
            raise ValueError(line)

    line = '{"msg": "disk full", "level": "error"}'
    fresh, reread = LogParser(Raising()), LogParser(Raising(), read={1: _FAILED})  # type: ignore[arg-type]
    for parser in (fresh, reread):
        assert parser.feed(line, 1) is None
    a, b = fresh.flush(), reread.flush()
    assert a is not None and b is not None and repr(a) == repr(b) and a.level == "error"


def test_a_time_field_under_a_name_no_table_knows_is_read_when_it_leads_the_line() -> None:
    line = "at=2019-05-11T19:30:00.820442Z level=info method=GET path=/p/58131 status=200 duration=168 cache=hit"
    parsed = detect_format([line] * 3).parse(line)
    assert parsed is not None
    assert parsed.ts == datetime(2019, 5, 11, 19, 30, 0, 820442, tzinfo=UTC)
    assert "2019-05-11" not in parsed.message  # the time is no part of the message's template
    # a date and time further along the line is a value the line reports (an expiry), not its time
    later = "level=info user=42 expires_at=2019-05-11T19:30:00Z note=renewed"
    parsed = detect_format([later] * 3).parse(later)
    assert parsed is not None and parsed.ts is None
