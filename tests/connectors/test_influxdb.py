"""InfluxDB 1.x and 2.x answers (documented formats) through httpx.MockTransport."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import httpx
import pytest

from bot.domain.errors import ConnectorError, PayloadError
from config.settings import InfluxDBSettings
from connectors.influxdb import InfluxDBConnector, parse_flux_csv, parse_influxql_json

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
        settings=InfluxDBSettings(url="http://influx.test", token="s3cret", org="ops"), client=client
    )
    out = conn.query('from(bucket:"m") |> range(start:-1h)')
    assert len(out) == 3
    req = seen[0]
    assert req.method == "POST" and req.url.path == "/api/v2/query" and req.url.params["org"] == "ops"
    assert req.headers["Content-Type"] == "application/vnd.flux" and req.content.startswith(b"from(")
    bad = InfluxDBConnector(
        settings=InfluxDBSettings(url="http://influx.test", token="nope", org="ops"), client=client
    )
    with pytest.raises(ConnectorError, match="influxdb.token"):
        bad.query("x")


def test_connector_v1_and_unreachable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["db"] == "telegraf" and request.url.params["epoch"] == "s"
        return httpx.Response(200, json=V1)

    client = httpx.Client(base_url="http://influx.test", transport=httpx.MockTransport(handler))
    conn = InfluxDBConnector(
        settings=InfluxDBSettings(url="http://x", version=1, database="telegraf"), client=client
    )
    assert conn.query("SELECT mean(usage) FROM cpu")[0].metric == "cpu"

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
