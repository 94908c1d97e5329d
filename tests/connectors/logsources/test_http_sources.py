import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.domain.errors import ConnectorError
from connectors.elasticsearch.logs import ElasticsearchLogSource
from connectors.logsources.base import LogQuery, fetch_service_logs
from connectors.loki.logs import LokiLogSource
from connectors.splunk.logs import SplunkLogSource
from tests.connectors.logsources.standin import Reply, Request, serve

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
QUERY = LogQuery("checkout", T0 - timedelta(minutes=30), T0 + timedelta(minutes=5))


def _ns(ts: datetime) -> str:
    return str(int(ts.timestamp() * 1e9))


def loki_handler(entries: list[tuple[datetime, str, str]]):  # type: ignore[no-untyped-def]
    """Loki's query_range: streams per label set, `limit` entries from `start` forward."""

    def handle(req: Request) -> Reply:
        assert req.path == "/loki/api/v1/query_range"
        q = {k: v[0] for k, v in req.query.items()}
        assert q["direction"] == "forward"
        start, end, limit = int(q["start"]), int(q["end"]), int(q["limit"])
        chosen = [e for e in sorted(entries) if start <= int(_ns(e[0])) <= end][:limit]
        streams: dict[str, list[list[str]]] = {}
        for ts, pod, line in chosen:
            streams.setdefault(pod, []).append([_ns(ts), line])
        return Reply(body={"status": "success", "data": {"resultType": "streams", "result": [
            {"stream": {"app": "checkout", "pod": pod}, "values": values} for pod, values in streams.items()]}})

    return handle


async def test_loki_pages_forward_merges_streams_and_stamps_lines() -> None:
    entries = [(T0 - timedelta(minutes=10 - i), f"pod-{i % 2}", f"line {i}") for i in range(5)]
    entries.append((T0 - timedelta(hours=2), "pod-0", "too old"))
    entries.append((T0, "pod-1", '{"level":"error","msg":"json stays as is"}'))
    with serve(loki_handler(entries)) as (url, seen):
        async with httpx.AsyncClient() as client:
            source = LokiLogSource(base_url=url, client=client, page_size=2)
            lines = await source.fetch(QUERY)
    assert lines[:2] == ["2024-05-01T11:50:00Z line 0", "2024-05-01T11:51:00Z line 1"]
    assert [line.split(" ", 1)[1] for line in lines[:5]] == [f"line {i}" for i in range(5)]
    assert lines[5] == '{"level":"error","msg":"json stays as is"}'
    assert "too old" not in " ".join(lines)
    assert len(seen) >= 3  # paged
    assert seen[0].query["query"] == ['{app="checkout"}']


async def test_loki_error_and_unreachable_become_connector_errors() -> None:
    with serve(lambda req: Reply(400, "parse error at line 1")) as (url, _):
        async with httpx.AsyncClient() as client:
            with pytest.raises(ConnectorError, match="HTTP 400"):
                await LokiLogSource(base_url=url, client=client).fetch(QUERY)
    async with httpx.AsyncClient() as client:
        lines, notes = await fetch_service_logs([LokiLogSource(base_url="http://127.0.0.1:9", client=client)], QUERY)
    assert lines == [] and "unreachable" in notes[0]


def splunk_handler(token: str):  # type: ignore[no-untyped-def]
    def handle(req: Request) -> Reply:
        assert req.method == "POST" and req.path == "/services/search/jobs/export"
        if req.headers.get("authorization") != f"Bearer {token}":
            return Reply(401, '{"messages":[{"type":"WARN","text":"call not properly authenticated"}]}')
        form = {k: v[0] for k, v in req.form().items()}
        assert form["output_mode"] == "json"
        assert 'service="checkout"' in form["search"]
        assert form["earliest_time"] == "2024-05-01T11:30:00Z"
        rows = [
            {"preview": True, "result": {"_raw": "preview row", "_time": "2024-05-01T11:40:00.000+00:00"}},
            {"preview": False, "result": {"_raw": "ERROR pool exhausted", "_time": "2024-05-01T11:41:00.000+00:00"}},
            {"preview": False, "result": {"_raw": "2024-05-01 11:42:00 WARN slow", "_time": "1714563720"}},
            {"preview": False, "messages": [{"type": "INFO", "text": "done"}]},
        ]
        return Reply(body="\n".join(json.dumps(r) for r in rows) + "\n")

    return handle


async def test_splunk_export_streams_results_and_skips_previews() -> None:
    with serve(splunk_handler("s3cret")) as (url, _):
        async with httpx.AsyncClient() as client:
            lines = await SplunkLogSource(base_url=url, client=client, token="s3cret").fetch(QUERY)
            with pytest.raises(ConnectorError, match="token"):
                await SplunkLogSource(base_url=url, client=client, token="wrong").fetch(QUERY)
    assert lines == ["2024-05-01T11:41:00Z ERROR pool exhausted", "2024-05-01 11:42:00 WARN slow"]


def es_handler(docs: list[dict[str, object]]):  # type: ignore[no-untyped-def]
    """Elasticsearch's _search with sort + search_after (answers carry the product header the client checks)."""

    def handle(req: Request) -> Reply:
        assert req.path == "/logs-*/_search"
        body = req.json()
        filters = body["query"]["bool"]["filter"]
        service = filters[0]["term"]["service.name"]
        rng = filters[1]["range"]["@timestamp"]
        chosen = [d for d in docs if d["service"]["name"] == service and rng["gte"] <= d["@timestamp"] <= rng["lte"]]  # type: ignore[index,operator]
        chosen.sort(key=lambda d: str(d["@timestamp"]))
        after = body.get("search_after")
        hits = [{"_index": "logs-a", "_id": str(i), "_source": d, "sort": [d["@timestamp"], i]}
                for i, d in enumerate(chosen)]
        if after:
            hits = [h for h in hits if h["sort"] > after]
        hits = hits[: body["size"]]
        return Reply(body={"took": 1, "timed_out": False, "hits": {"total": {"value": len(chosen), "relation": "eq"},
                                                                   "hits": hits}},
                     headers={"X-Elastic-Product": "Elasticsearch"})

    return handle


async def test_elasticsearch_with_the_official_client() -> None:
    from elasticsearch import Elasticsearch

    docs = [{"@timestamp": f"2024-05-01T11:4{i}:00Z", "service": {"name": "checkout"}, "log": {"level": "error"},
             "message": f"payment failed {i}"} for i in range(5)]
    docs.append({"@timestamp": "2024-05-01T11:45:00Z", "service": {"name": "other"}, "message": "not ours"})
    with serve(es_handler(docs)) as (url, seen):
        client = Elasticsearch(url)
        source = ElasticsearchLogSource(client=client)
        import connectors.elasticsearch.logs as es_module

        lines = await source.fetch(LogQuery(QUERY.service, QUERY.start, QUERY.end, limit=4))
        client.close()
    parsed = [json.loads(line) for line in lines]
    assert [p["msg"] for p in parsed] == [f"payment failed {i}" for i in range(4)]
    assert parsed[0] == {"ts": "2024-05-01T11:40:00Z", "level": "error", "service": "checkout", "msg": "payment failed 0"}
    assert es_module.PAGE >= 4 and len(seen) == 1
