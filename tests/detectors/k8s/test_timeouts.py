"""An ingress timeout lowered below a workload's response time: 504s at the ingress after a change naming a timeout."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain import ChangeEvent
from detectors.kubernetes.timeouts import timeout_cut_signals

ERROR = ('2026/03/04 10:{m:02d}:10 [error] 31#31: *88 upstream timed out (110: Operation timed out) while reading '
         'response header from upstream, client: 10.0.0.9, server: pay.example.com, request: "GET /r HTTP/1.1", '
         'upstream: "http://10.2.0.4:8080/r", host: "pay.example.com"')
ACCESS = ('10.0.0.9 - - [04/Mar/2026:10:{m:02d}:10 +0000] "GET /r HTTP/1.1" {status} 160 "-" "cli/1" 80 3.001 '
          "[billing-statements-8080] [] 10.2.0.4:8080 0 3.001 {status} abc123")


def _change(text: str, minute: int = 0, service: str = "statements") -> ChangeEvent:
    return ChangeEvent(ts=datetime(2026, 3, 4, 10, minute, tzinfo=UTC), kind="config", service=service, text=text)


def _log(minutes: list[int], status: int = 504, with_error: bool = True) -> dict[str, list[str]]:
    lines = [ACCESS.format(m=m, status=status) for m in minutes]
    if with_error:
        lines.append(ERROR.format(m=minutes[0]))
    return {"ingress-nginx": lines}


def test_504s_after_a_change_of_the_workloads_timeout_are_that_change() -> None:
    [signal] = timeout_cut_signals([_change('proxy-read-timeout "60" -> "3"')], _log([5, 6, 7]))
    assert (signal.service, signal.kind, signal.attributes["decisive"]) == ("statements", "config_change", True)
    assert signal.attributes["count"] == 3


def test_a_change_that_names_no_timeout_is_not_read() -> None:
    assert timeout_cut_signals([_change("image 1.2 -> 1.3")], _log([5, 6, 7])) == []


def test_504s_before_the_change_or_too_few_or_without_a_timed_out_upstream_are_not_read() -> None:
    change = [_change('proxy-read-timeout "60" -> "3"', minute=30)]
    assert timeout_cut_signals(change, _log([5, 6, 7])) == []
    assert timeout_cut_signals([_change('proxy-read-timeout "60" -> "3"')], _log([5])) == []
    assert timeout_cut_signals([_change('proxy-read-timeout "60" -> "3"')], _log([5, 6], with_error=False)) == []


def test_504s_of_another_workloads_upstream_are_not_its_change() -> None:
    assert timeout_cut_signals([_change('proxy-read-timeout "60" -> "3"', service="ledger")], _log([5, 6, 7])) == []
