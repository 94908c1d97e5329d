"""InfluxDB 1.x and 2.x answers (documented formats) through httpx.MockTransport."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from bot.domain.errors import ConnectorError, PayloadError
from config.settings import InfluxDBSettings
from connectors.influxdb.client import (
    InfluxDBConnector,
    parse_flux_csv,
    parse_influxql_chunks,
    parse_influxql_json,
)

FLUX = """#group,false,false,true,true,false,false,true,true,true
#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string
#default,_result,,,,,,,,
,result,table,_start,_stop,_time,_value,_field,_measurement,service
,,0,2026-01-01T00:00:00Z,2026-01-01T01:00:00Z,2026-01-01T00:01:00.123456789Z,0.71,used_percent,disk,db-1
,,0,2026-01-01T00:00:00Z,2026-01-01T01:00:00Z,2026-01-01T00:00:00Z,0.70,used_percent,disk,db-1
,,1,2026-01-01T00:00:00Z,2026-01-01T01:00:00Z,2026-01-01T00:00:00Z,12,used_percent,disk,api

#group,false,false,true,true,false,false,true,true
#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string
#default,_result,,,,,,,
,result,table,_start,_stop,_time,_value,_field,_measurement
,,2,2026-01-01T00:00:00Z,2026-01-01T01:00:00Z,2026-01-01T00:00:00Z,NaN,usage_user,cpu
"""

V1 = {
    "results": [
        {
            "statement_id": 0,
            "series": [
                {
                    "name": "cpu",
                    "tags": {"host": "web-1"},
                    "columns": ["time", "mean"],
                    "values": [[1767225660, 0.5], [1767225600, 0.4]],
                },
                {"name": "mem", "columns": ["time", "used", "free"], "values": [[1767225600, 10, 90]]},
            ],
        }
    ]
}


def test_parse_flux_tables_tags_and_nanoseconds() -> None:
    series = {(s.service, s.metric): s for s in parse_flux_csv(FLUX)}
    assert set(series) == {
        ("db-1", "disk_used_percent"),
        ("api", "disk_used_percent"),
        ("unknown", "cpu_usage_user"),
    }
    db = series[("db-1", "disk_used_percent")]
    assert db.values == [0.70, 0.71] and db.labels == {"service": "db-1"}
    assert db.timestamps[1] == datetime(2026, 1, 1, 0, 1, 0, 123456, tzinfo=UTC)
    assert math.isnan(series[("unknown", "cpu_usage_user")].values[0])


def test_parse_influxql_columns_and_errors() -> None:
    out = parse_influxql_json(V1)
    assert [(s.service, s.metric) for s in out] == [
        ("web-1", "cpu"),
        ("unknown", "mem_used"),
        ("unknown", "mem_free"),
    ]
    assert out[0].values == [0.4, 0.5] and out[0].labels == {"host": "web-1"}
    with pytest.raises(PayloadError, match="database not found"):
        parse_influxql_json({"results": [{"statement_id": 0, "error": "database not found: x"}]})
    with pytest.raises(PayloadError):
        parse_flux_csv(",result,table,foo\n,,0,1\n")


def test_connector_v2_posts_flux_with_token_and_org() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("Authorization") != "Token s3cret":
            return httpx.Response(401, json={"code": "unauthorized", "message": "unauthorized access"})
        return httpx.Response(200, text=FLUX, headers={"Content-Type": "text/csv"})

    client = httpx.Client(base_url="http://influx.test", transport=httpx.MockTransport(handler))
    conn = InfluxDBConnector(
        settings=InfluxDBSettings(url="http://influx.test", token=SecretStr("s3cret"), org="ops"),
        client=client,
    )
    out = conn.query('from(bucket:"m") |> range(start:-1h)')
    assert len(out) == 3
    req = seen[0]
    assert req.method == "POST" and req.url.path == "/api/v2/query" and req.url.params["org"] == "ops"
    assert req.headers["Content-Type"] == "application/vnd.flux" and req.content.startswith(b"from(")
    bad = InfluxDBConnector(
        settings=InfluxDBSettings(url="http://influx.test", token=SecretStr("nope"), org="ops"), client=client
    )
    with pytest.raises(ConnectorError, match="influxdb.token"):
        bad.query("x")


def test_connector_v1_and_unreachable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        assert params["db"] == "telegraf" and params["epoch"] == "u" and params["chunked"] == "true"
        cpu = {
            "name": "cpu",
            "columns": ["time", "mean"],
            "values": [[1767225660_250000, 0.5], [1767225600_000000, 0.4]],
        }
        return httpx.Response(
            200, text=json.dumps({"results": [{"statement_id": 0, "series": [cpu]}]}) + "\n"
        )

    client = httpx.Client(base_url="http://influx.test", transport=httpx.MockTransport(handler))
    conn = InfluxDBConnector(
        settings=InfluxDBSettings(url="http://x", version=1, database="telegraf"), client=client
    )
    (cpu,) = conn.query("SELECT mean(usage) FROM cpu")
    assert cpu.metric == "cpu" and cpu.values == [0.4, 0.5]
    assert cpu.timestamps[1] == datetime(2026, 1, 1, 0, 1, 0, 250000, tzinfo=UTC)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    down = InfluxDBConnector(
        settings=InfluxDBSettings(url="http://x", org="o"),
        client=httpx.Client(base_url="http://x", transport=httpx.MockTransport(refuse)),
    )
    with pytest.raises(ConnectorError, match="unreachable"):
        down.query("x")
    with pytest.raises(ConnectorError, match="influxdb.url"):
        InfluxDBConnector(settings=InfluxDBSettings())


def test_chunked_answer_joins_partial_series_and_splits_string_columns() -> None:
    # the shape influxd 1.x streams with chunked=true: a series cut over two chunks, then the next tag set
    first = {"name": "cpu", "tags": {"host": "a"}, "columns": ["time", "v"], "values": [[2_500_000, 1]]}
    rest = {**first, "values": [[1_000_000, 0.5]]}
    star = {
        "name": "mem",
        "columns": ["time", "host", "service", "used", "free"],
        "values": [[0, "a", "api", 10, None], [0, "b", "db", 20, None], [1_000_001, "a", "api", 11, None]],
    }
    text = "\n".join(
        json.dumps(c)
        for c in (
            {"results": [{"statement_id": 0, "series": [{**first, "partial": True}], "partial": True}]},
            {"results": [{"statement_id": 0, "series": [rest]}]},
            {"results": [{"statement_id": 1, "series": [star]}]},
        )
    )
    out = parse_influxql_chunks(text, epoch="u")
    assert [(s.service, s.metric, s.labels) for s in out] == [
        ("a", "cpu", {"host": "a"}),
        ("api", "mem_used", {"host": "a", "service": "api"}),  # tag columns are labels, never NaN series
        ("db", "mem_used", {"host": "b", "service": "db"}),  # "free" has no value at all: no series
    ]
    assert out[0].values == [0.5, 1.0]
    assert out[0].timestamps == [
        datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC),
        datetime(1970, 1, 1, 0, 0, 2, 500000, tzinfo=UTC),
    ]
    assert out[1].timestamps[1] == datetime(1970, 1, 1, 0, 0, 1, 1, tzinfo=UTC)  # exact microseconds
    assert parse_influxql_json({"results": [{"statement_id": 0, "series": [first]}]}, epoch="ns")[
        0
    ].timestamps == [datetime(1970, 1, 1, 0, 0, 0, 2500, tzinfo=UTC)]
    with pytest.raises(PayloadError, match="line 2 is not JSON"):
        parse_influxql_chunks('{"results": []}\n<html>proxy error</html>')
    with pytest.raises(PayloadError, match="line 1: a result must be an object"):
        parse_influxql_chunks('{"results": [{"series": [1]}]}')
    with pytest.raises(PayloadError, match="unreadable InfluxDB time 'yesterday'"):
        parse_influxql_json(
            {"results": [{"series": [{"columns": ["time", "v"], "values": [["yesterday", 1]]}]}]}
        )
    with pytest.raises(PayloadError, match="statement 1 failed: boom"):
        parse_influxql_chunks(text + '\n{"results": [{"statement_id": 1, "error": "boom"}]}')


def test_connector_v1_basic_auth_and_errors_without_secrets() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params["db"] == "gone":
            return httpx.Response(
                200, text='{"results":[{"statement_id":0,"error":"database not found: gone"}]}\n'
            )
        return httpx.Response(200, text="<html>a proxy page</html>")

    client = httpx.Client(base_url="http://influx.test", transport=httpx.MockTransport(handler))
    settings = InfluxDBSettings(url="http://x", version=1, database="gone", token=SecretStr("admin:s3cret"))
    with pytest.raises(ConnectorError, match=r"database not found: gone \(check influxdb\.database\)") as err:
        InfluxDBConnector(settings=settings, client=client).query("SELECT 1")
    assert seen[0].headers["Authorization"] == "Basic YWRtaW46czNjcmV0"  # base64("admin:s3cret")
    assert "s3cret" not in str(seen[0].url) and "s3cret" not in str(err.value)
    other = settings.model_copy(update={"database": "ok"})
    with pytest.raises(ConnectorError, match="line 1 is not JSON"):
        InfluxDBConnector(settings=other, client=client).query("SELECT 1")

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    in_url = httpx.Client(
        base_url="http://admin:pw-in-url@influx.test", transport=httpx.MockTransport(refuse)
    )
    with pytest.raises(ConnectorError, match=r"http://influx\.test is unreachable") as err:
        InfluxDBConnector(settings=other, client=in_url).query("SELECT 1")
    assert "pw-in-url" not in str(err.value)


def test_a_given_metric_name_keeps_several_columns_or_fields_apart() -> None:
    named = parse_influxql_json(V1, metric="m")
    assert [s.metric for s in named] == ["m", "m_used", "m_free"]
    flux = {(s.service, s.metric) for s in parse_flux_csv(FLUX, metric="m")}
    assert flux == {("db-1", "m_used_percent"), ("api", "m_used_percent"), ("unknown", "m_usage_user")}
    one_field = FLUX.split("\n\n")[0] + "\n"
    assert {s.metric for s in parse_flux_csv(one_field, metric="m")} == {"m"}
