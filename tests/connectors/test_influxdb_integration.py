"""InfluxDBConnector (1.x InfluxQL path) against a real InfluxDB 1.x (Debian package ``influxdb``).

Each module starts its own ``influxd`` (tests/influxd.py) from a config written to a temp dir: own
meta/data/wal dirs, HTTP and RPC listeners on free ports of 127.0.0.1, reporting and every other
service off. The plain
server has ``max-row-limit = 4`` (as older 1.x defaults cut answers too), the second one has auth
enabled. Points are written with the line protocol at millisecond precision, with tags service/host,
around an alert time; the tests read them back through ``InfluxDBConnector.query`` and compare with
what was written (means computed here from the same points). The 2.x Flux path is only tested
against a stand-in (tests/connectors/test_influxdb.py): Debian has no InfluxDB 2.
"""

from __future__ import annotations

import logging
import math
import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from bot.domain.errors import ConnectorError
from config.settings import InfluxDBSettings
from connectors.influxdb.client import InfluxDBConnector
from tests.influxd import create_db as _create_db
from tests.influxd import influxd_server, needs_influxd
from tests.influxd import write_lines as _write
from tests.processes import free_port as _free_port

pytestmark = [pytest.mark.integration, needs_influxd]

ALERT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ROW_LIMIT = 4
HOSTS = [("checkout", "web-1", 0), ("checkout", "web-2", 250), ("payments", "db-1", 750)]  # ms offsets
GAP = {(("checkout", "web-2")): {-6, -5}}  # web-2 sends nothing from 3 to 2 minutes before the alert


def _points() -> list[tuple[str, str, datetime, float, int]]:
    """(service, host, time, p99 seconds, errors): every 30 s from 10 min before to 5 min after the alert.

    web-1 also has a second point half a second after each regular one (same whole second), and its
    latency jumps after the alert.
    """
    out = []
    for service, host, offset_ms in HOSTS:
        for i in range(-20, 10):
            if i in GAP.get((service, host), set()):
                continue
            t = ALERT + timedelta(seconds=30 * i, milliseconds=offset_ms)
            p99 = round(0.1 + 0.003 * (i + 20) + (0.8 if host == "web-1" and i >= 0 else 0.0), 6)
            errors = (i + 20) % 4 + (10 if host == "web-1" and i >= 0 else 0)
            out.append((service, host, t, p99, errors))
            if host == "web-1":
                out.append((service, host, t + timedelta(milliseconds=500), p99 + 0.001, errors + 1))
    return out


def _line(service: str, host: str, t: datetime, p99: float, errors: int) -> str:
    ms = int((t - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))
    return f"http_latency,service={service},host={host} p99={p99!r},errors={errors}i {ms}"


@pytest.fixture(scope="module")
def influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(url, database) of a running influxd holding ``_points()``."""
    with influxd_server(tmp_path_factory.mktemp("influxd"), row_limit=ROW_LIMIT) as url:
        db = f"sherlog_{uuid.uuid4().hex[:8]}"
        _create_db(url, db)
        _write(url, db, [_line(*p) for p in _points()])
        yield url, db


def _connector(url: str, db: str | None, token: str | None = None) -> InfluxDBConnector:
    """Built from settings as the product builds it (its own httpx client on influxdb.url)."""
    return InfluxDBConnector(
        settings=InfluxDBSettings(
            url=url, version=1, database=db, token=SecretStr(token) if token else None, timeout_s=10
        )
    )


@pytest.fixture
def conn(influx: tuple[str, str]) -> Iterator[InfluxDBConnector]:
    c = _connector(*influx)
    yield c
    c.client.close()


def _window(minutes_before: int = 10, minutes_after: int = 5) -> str:
    start = (ALERT - timedelta(minutes=minutes_before)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (ALERT + timedelta(minutes=minutes_after)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"time >= '{start}' AND time < '{end}'"


def test_raw_points_come_back_with_exact_utc_times_values_and_tags(conn: InfluxDBConnector) -> None:
    got = conn.query(
        f'SELECT "p99", "errors" FROM "http_latency" WHERE "service" = \'checkout\' AND {_window()} GROUP BY *'
    )
    by_key = {(s.labels["host"], s.metric): s for s in got}
    assert set(by_key) == {
        (h, m) for h in ("web-1", "web-2") for m in ("http_latency_p99", "http_latency_errors")
    }
    for host in ("web-1", "web-2"):
        written = sorted((t, p99, err) for svc, h, t, p99, err in _points() if h == host)
        p99 = by_key[(host, "http_latency_p99")]
        errors = by_key[(host, "http_latency_errors")]
        assert p99.service == "checkout" and p99.labels == {"service": "checkout", "host": host}
        # sub-second times survive (web-1 has two points in each whole second), in UTC
        assert p99.timestamps == [t for t, _, _ in written] and errors.timestamps == p99.timestamps
        assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in p99.timestamps)
        assert p99.values == [v for _, v, _ in written]
        assert errors.values == [float(e) for _, _, e in written]
    assert len(set(by_key[("web-1", "http_latency_p99")].timestamps)) == 2 * 30


def test_per_minute_means_around_the_alert_by_host(conn: InfluxDBConnector) -> None:
    got = conn.query(
        'SELECT mean("p99") FROM "http_latency" WHERE "service" = \'checkout\' AND '
        f'{_window()} GROUP BY time(1m), "service", "host" fill(null)',
        metric="p99_seconds",
    )
    assert sorted(s.labels["host"] for s in got) == ["web-1", "web-2"]
    minutes = [ALERT + timedelta(minutes=m) for m in range(-10, 5)]
    for series in got:
        host = series.labels["host"]
        assert series.metric == "p99_seconds" and series.service == "checkout"
        assert series.labels == {"service": "checkout", "host": host}
        assert series.timestamps == minutes
        buckets: dict[datetime, list[float]] = defaultdict(list)
        for _, h, t, p99, _ in _points():
            if h == host:
                buckets[t.replace(second=0, microsecond=0)].append(p99)
        for minute, value in zip(minutes, series.values, strict=True):
            if buckets[minute]:
                assert value == pytest.approx(sum(buckets[minute]) / len(buckets[minute]), rel=1e-12)
            else:
                assert math.isnan(value), (host, minute)  # web-2's gap is a NaN, not a dropped minute
    web2 = next(s for s in got if s.labels["host"] == "web-2")
    assert sum(math.isnan(v) for v in web2.values) == 1
    web1 = next(s for s in got if s.labels["host"] == "web-1")
    assert min(web1.values[10:]) > max(web1.values[:10]) + 0.5  # the jump at the alert shows


def test_select_star_without_group_by_splits_rows_by_tag_columns(conn: InfluxDBConnector) -> None:
    got = conn.query(f'SELECT * FROM "http_latency" WHERE {_window(1, 0)}')
    keys = sorted((s.service, s.labels["host"], s.metric) for s in got)
    assert keys == sorted(
        (svc, h, m) for svc, h, _ in HOSTS for m in ("http_latency_errors", "http_latency_p99")
    )
    for s in got:
        written = sorted(
            (t, p99)
            for svc, h, t, p99, _ in _points()
            if h == s.labels["host"] and ALERT - timedelta(minutes=1) <= t < ALERT
        )
        assert s.labels == {"service": s.service, "host": s.labels["host"]}
        assert s.timestamps == [t for t, _ in written]
        if s.metric == "http_latency_p99":
            assert s.values == [v for _, v in written]


def test_row_limit_does_not_cut_the_answer(influx: tuple[str, str], conn: InfluxDBConnector) -> None:
    url, db = influx
    q = f'SELECT "p99" FROM "http_latency" WHERE "host" = \'web-1\' AND {_window()}'
    plain = httpx.get(f"{url}/query", params={"db": db, "q": q}, timeout=10).json()
    series = plain["results"][0]["series"][0]
    assert series.get("partial") is True and len(series["values"]) == ROW_LIMIT  # the server does cut
    (p99,) = conn.query(q)
    assert len(p99.values) == 60 and p99.timestamps == sorted(p99.timestamps)


def test_empty_answer_and_several_statements(conn: InfluxDBConnector) -> None:
    assert conn.query(f'SELECT "p99" FROM "http_latency" WHERE "service" = \'nope\' AND {_window()}') == []
    assert conn.query('SELECT "p99" FROM "no_such_measurement"') == []
    got = conn.query(
        f'SELECT max("p99") FROM "http_latency" WHERE {_window()} GROUP BY "service"; '
        f'SELECT sum("errors") FROM "http_latency" WHERE {_window()} GROUP BY "service"'
    )
    assert [s.metric for s in got] == ["http_latency"] * 4
    maxima, sums = got[:2], got[2:]  # statement order, then series order (by tag value)
    assert [s.service for s in maxima] == [s.service for s in sums] == ["checkout", "payments"]
    for svc, top, total in zip(("checkout", "payments"), maxima, sums, strict=True):
        mine = [p for p in _points() if p[0] == svc]
        _, _, t_max, p_max, _ = max(mine, key=lambda p: (p[3], -p[2].timestamp()))
        assert top.values == [p_max] and top.timestamps == [t_max]  # a selector keeps its point's time
        assert total.values == [float(sum(p[4] for p in mine))]
        assert total.timestamps == [ALERT - timedelta(minutes=10)]  # an aggregate: the window start


def test_wrong_database_and_malformed_query_are_clear_errors(influx: tuple[str, str]) -> None:
    url, _ = influx
    with pytest.raises(ConnectorError, match=r"database not found: no_such_db.*influxdb\.database"):
        _connector(url, "no_such_db").query("SELECT * FROM cpu")
    conn = _connector(*influx)
    with pytest.raises(ConnectorError, match=r"HTTP 400.*error parsing query: found SELEC"):
        conn.query("SELEC p99 FROM http_latency")
    with pytest.raises(ConnectorError, match="statement 0 failed: GROUP BY requires at least one aggregate"):
        conn.query(f"SELECT p99 FROM http_latency WHERE {_window()} GROUP BY time(1m)")  # a 200 with an error
    with pytest.raises(ConnectorError, match="unreachable.*influxdb.url"):
        _connector(f"http://127.0.0.1:{_free_port()}", "x").query("SELECT * FROM cpu")


def test_auth_user_password_and_wrong_password(
    tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
) -> None:
    password, wrong = secrets.token_hex(12), secrets.token_hex(12)
    with influxd_server(tmp_path_factory.mktemp("influxd-auth"), auth=True, row_limit=ROW_LIMIT) as url:
        r = httpx.post(
            f"{url}/query",
            data={"q": f"CREATE USER \"sherlog\" WITH PASSWORD '{password}' WITH ALL PRIVILEGES"},
            timeout=10,
        )
        assert r.status_code == 200 and "error" not in r.text, r.text
        creds = ("sherlog", password)
        _create_db(url, "secured", auth=creds)
        _write(url, "secured", [_line(*p) for p in _points()[:3]], auth=creds)
        q = 'SELECT "p99" FROM "http_latency" GROUP BY *'

        (series,) = _connector(url, "secured", token=f"sherlog:{password}").query(q)
        assert series.labels["host"] == "web-1" and len(series.values) == 3

        caplog.set_level(logging.DEBUG)
        for token in (f"sherlog:{wrong}", None):
            with pytest.raises(ConnectorError, match=r"HTTP 401.*influxdb\.token") as err:
                _connector(url, "secured", token=token).query(q)
            texts = [str(err.value), repr(err.value), str(err.value.__cause__), caplog.text]
            assert not any(secret in text for text in texts for secret in (password, wrong))
        assert "HTTP 401" in str(err.value)
