"""``sherlog logs``: mine templates from a log file and find anomaly signals, streaming.

Both commands read the file line by line (``-`` reads stdin), so files larger than memory work.

    sherlog logs mine app.log --json
    sherlog logs mine HDFS.log --header '<Date> <Time> <Pid> <Level> <Component>: <Content>' --json
    sherlog logs signals today.log --baseline last_week.log --json
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, TextIO

import typer

from bot.cli.common import console, friendly_errors
from bot.domain.errors import InputError
from detectors.logs.formats import HeaderFormat, LineFormat
from detectors.logs.miner import TemplateMiner
from detectors.logs.parsing import clean, detect_format, parse_lines, resolve_format
from detectors.logs.persistence import JsonFileMinerStore
from detectors.logs.signals import LogComparison, baseline_cut, detect_service_signals
from detectors.logs.timestamps import parse_timestamp

app = typer.Typer(help="Mine log templates and find log anomaly signals (streams files of any size).",
                  no_args_is_help=True)

BATCH = 2048
FileArg = Annotated[str, typer.Argument(help="Log file to read, or - for stdin.")]
FormatOpt = Annotated[str | None, typer.Option("--format", help="Line format: auto (default), json, logfmt, "
                      "syslog5424, syslog3164, klog, access, apache_error, nginx_error, generic, plain.")]
HeaderOpt = Annotated[str | None, typer.Option("--header", help="Header spec: a regex with named groups "
                      "(the message in (?P<Content>...)) or loghub notation '<Date> <Time> <Level>: <Content>'.")]


@contextmanager
def _open(path: str) -> Iterator[TextIO]:
    if path == "-":
        yield sys.stdin
        return
    file = Path(path)
    if not file.is_file():
        raise InputError(f"log file {path} does not exist (give a path, or - for stdin)")
    with file.open(encoding="utf-8", errors="replace", newline="") as fh:
        yield fh


def _format(stream: Iterator[str], fmt_name: str | None, header: str | None) -> tuple[LineFormat, Iterator[str]]:
    fmt = resolve_format(fmt_name, header)
    if fmt is not None:
        return fmt, stream
    head = list(itertools.islice(stream, 200))
    return detect_format(head), itertools.chain(head, stream)


def _messages(fmt: LineFormat, lines: list[str]) -> list[str]:
    if isinstance(fmt, HeaderFormat):
        return fmt.contents([clean(x) for x in lines])
    out = []
    for raw in lines:
        text = clean(raw)
        try:
            parsed = fmt.parse(text)
        except Exception:
            parsed = None
        out.append(parsed.message if parsed is not None else text.strip())
    return out


@app.command("mine")
@friendly_errors
def mine(
    file: FileArg,
    fmt_name: FormatOpt = None,
    header: HeaderOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per input line.")] = False,
    state: Annotated[Path | None, typer.Option(help="JSON snapshot of the miner: loaded first, saved after, "
                                               "so template ids stay the same across runs.")] = None,
    top: Annotated[int, typer.Option(help="Templates to list without --json.")] = 30,
) -> None:
    """Mine templates: with --json, print {"line", "template_id", "template"} for every line."""
    miner = TemplateMiner(store=JsonFileMinerStore(state) if state else None)
    out = sys.stdout
    with _open(file) as fh:
        fmt, stream = _format(iter(fh), fmt_name, header)
        line_no = 0
        while True:
            batch = list(itertools.islice(stream, BATCH))
            if not batch:
                break
            if isinstance(fmt, HeaderFormat):
                ids = miner.add_lines([clean(x) for x in batch], fmt.contents)
            else:
                ids = miner.add_many(_messages(fmt, batch))
            if as_json:
                clusters = miner.clusters
                rows = []
                for cid in ids:
                    line_no += 1
                    cluster = clusters.get(cid)
                    rows.append(json.dumps({"line": line_no, "template_id": cid,
                                            "template": cluster.template if cluster else None}))
                out.write("\n".join(rows) + "\n")
            else:
                line_no += len(ids)
    miner.save()
    if not as_json:
        ranked = sorted(miner.clusters.values(), key=lambda c: c.size, reverse=True)
        console.print(f"{line_no:,} lines, {len(ranked):,} templates (format: {fmt.name})")
        for cluster in ranked[:top]:
            console.print(f"{cluster.size:>10,}  [bold]{cluster.id:>6}[/]  {cluster.template}", highlight=False,
                          markup=True, soft_wrap=True)


@app.command("signals")
@friendly_errors
def signals(
    file: FileArg,
    baseline: Annotated[Path | None, typer.Option(help="A log file of a normal period to compare against.")] = None,
    service: Annotated[str, typer.Option(help="Service name to put on the signals.")] = "",
    alert_time: Annotated[str | None, typer.Option(help="Alert time (ISO-8601); without --baseline, lines "
                                                  "well before it are the baseline.")] = None,
    fmt_name: FormatOpt = None,
    header: HeaderOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the signals as JSON lines.")] = False,
) -> None:
    """Anomaly signals of FILE against --baseline FILE (or the part well before --alert-time)."""
    name = service or (Path(file).stem if file != "-" else "stdin")
    when = _alert_time(alert_time)
    comparison: LogComparison | None = LogComparison(name)
    fmt = resolve_format(fmt_name, header)
    if baseline is not None and comparison is not None:
        with _open(str(baseline)) as fh:
            for event in parse_lines(fh, fmt=fmt, service=name):
                comparison.add_baseline(event)
        with _open(file) as fh:
            for event in parse_lines(fh, fmt=fmt, service=name):
                comparison.add_current(event)
    elif file == "-":  # stdin cannot be read twice: the in-memory path
        found = detect_service_signals(name, sys.stdin.read().splitlines(), alert_time=when)
        comparison = None
    elif comparison is not None:
        _stream_split(comparison, file, fmt, when)
    if comparison is not None:
        found = comparison.signals()
    if as_json:
        for sig in found:
            sys.stdout.write(sig.model_dump_json() + "\n")
        return
    if not found:
        console.print("no log signals: the file looks like its baseline")
        return
    for sig in found:
        console.print(f"[bold]{sig.score:.2f}[/] {sig.detector:<17} {sig.kind or '-':<26} {sig.title}",
                      highlight=False, soft_wrap=True)
        for ev in sig.evidence[:3]:
            console.print(f"      {ev.id}: {ev.summary}", highlight=False, markup=False, soft_wrap=True)


def _stream_split(comparison: LogComparison, file: str, fmt: LineFormat | None, when: datetime | None) -> None:
    """Without a baseline file: events before ``baseline_cut`` (by time) are the baseline, else the first half."""
    cut: datetime | None = None
    half: int | None = None
    if when is None:
        with _open(file) as fh:
            half = sum(1 for _ in parse_lines(fh, fmt=fmt)) // 2
    with _open(file) as fh:
        in_base = True
        for i, event in enumerate(parse_lines(fh, fmt=fmt, service=comparison.service)):
            if half is not None:
                in_base = i < half
            elif event.ts is not None:
                if cut is None:
                    cut = baseline_cut(event.ts, when)  # type: ignore[arg-type]
                in_base = event.ts < cut
            if in_base:
                comparison.add_baseline(event)
            else:
                comparison.add_current(event)


def _alert_time(text: str | None) -> datetime | None:
    if not text:
        return None
    when = parse_timestamp(text)
    if when is None:
        raise InputError(f"--alert-time {text!r} is not a timestamp; use ISO-8601 such as 2024-05-01T12:00:00Z")
    return when

