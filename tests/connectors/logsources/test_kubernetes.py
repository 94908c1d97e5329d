from datetime import UTC, datetime, timedelta

from connectors.kubernetes.logs import KubernetesLogSource, split_log_text
from connectors.logsources.base import LogQuery
from tests.connectors.logsources.standin import Reply, Request, serve

NOW = datetime.now(UTC).replace(microsecond=0)


def _rfc(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.123456789Z")


def k8s_handler(req: Request) -> Reply:
    """The Kubernetes API paths CoreV1Api calls: pod list, pod log, events."""
    if req.path == "/api/v1/namespaces/shop/pods":
        assert req.query["labelSelector"] == ["app=checkout"]
        return Reply(body={"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [{
            "metadata": {"name": "checkout-7d9", "namespace": "shop"},
            "spec": {"containers": [{"name": "app", "image": "shop/checkout:1.2"}]},
            "status": {"containerStatuses": [{"name": "app", "ready": False, "restartCount": 4,
                                              "image": "shop/checkout:1.2", "imageID": "sha256:abc"}]},
        }]})
    if req.path == "/api/v1/namespaces/shop/pods/checkout-7d9/log":
        assert req.query["timestamps"] == ["true"] and req.query["container"] == ["app"]
        if req.query.get("previous") == ["true"]:
            return Reply(body=f"{_rfc(NOW - timedelta(minutes=3))} java.lang.OutOfMemoryError: Java heap space\n",
                         headers={"Content-Type": "text/plain"})
        return Reply(body=(f"{_rfc(NOW - timedelta(hours=3))} ancient line\n"
                           f"{_rfc(NOW - timedelta(minutes=2))} starting checkout\n"
                           f"{_rfc(NOW - timedelta(minutes=1))} 2024-05-01 11:59:00,000 INFO own time kept\n"),
                     headers={"Content-Type": "text/plain"})
    if req.path == "/api/v1/namespaces/shop/events":
        assert req.query["fieldSelector"] == ["involvedObject.name=checkout-7d9"]
        return Reply(body={"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": [{
            "metadata": {"name": "checkout-7d9.1", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "checkout-7d9", "namespace": "shop"},
            "reason": "BackOff", "message": "Back-off restarting failed container app", "type": "Warning",
            "count": 6, "lastTimestamp": (NOW - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }]})
    return Reply(404, {"kind": "Status", "status": "Failure", "code": 404})


async def test_pod_logs_previous_container_and_events() -> None:
    from kubernetes import client

    with serve(k8s_handler) as (url, seen):
        cfg = client.Configuration()
        cfg.host = url
        api = client.CoreV1Api(client.ApiClient(cfg))
        source = KubernetesLogSource(core_api=api, namespace="shop")
        lines = await source.fetch(LogQuery("checkout", NOW - timedelta(minutes=30), NOW + timedelta(minutes=1)))
    text = "\n".join(lines)
    assert "ancient line" not in text
    assert "starting checkout" in text and "OutOfMemoryError" in text
    assert "2024-05-01 11:59:00,000 INFO own time kept" in lines
    event = next(line for line in lines if "BackOff" in line)
    assert event.endswith("pod/checkout-7d9: Back-off restarting failed container app (x6)")
    assert " Warning BackOff " in event
    assert any(r.query.get("previous") == ["true"] for r in seen)


def test_split_log_text_keeps_unstamped_lines_and_filters_by_time() -> None:
    start, end = NOW - timedelta(minutes=5), NOW
    text = f"{_rfc(NOW - timedelta(minutes=1))} hello\nno stamp here\n{_rfc(NOW + timedelta(minutes=1))} later\n"
    out = split_log_text(text, start=start, end=end)
    assert out[0].endswith("Z hello") and out[1] == "no stamp here" and len(out) == 2
