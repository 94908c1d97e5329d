"""``sherlog metrics score FILE.csv`` and ``sherlog predict``.

``score`` streams a ``timestamp,value`` CSV (or ``-`` for stdin) through the online detector and
prints one line per row as it goes (``--json``: ``{"timestamp", "value", "score"}``); each score uses
only the rows before it. The default profile is the configuration measured on NAB
(``OnlineParams.default()`` = ``nab()``); ``--profile gated`` also asks for a large deviation.
``predict`` forecasts when a series reaches its limit: on a CSV file given on the command line,
or, without a file, once over the watches configured in ``prediction.watches``.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer

from bot.cli.common import console, friendly_errors
from bot.domain.errors import ConfigError, InputError

app = typer.Typer(help="Metric anomaly scoring.", no_args_is_help=True)

WHOLE_FILE_BYTES = 64 * 1024 * 1024  # a regular file up to this size is scored at once


@app.command("score")
@friendly_errors
def score(
    file: Annotated[Path, typer.Argument(help="CSV with columns timestamp,value ('-' for stdin).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per row.")] = False,
    profile: Annotated[
        str,
        typer.Option(
            help="'default' (alias 'nab'): the configuration measured on the NAB benchmark (bench.nab): how rare"
            " the deviation is in the series' own past, plus a detector of new value sequences; a spike that"
            " recurs at the same time every day is not news; one alarm per incident; alarm when the score"
            " reaches 0.995. 'gated': a score needs a large deviation too, so the records of plain noise stay"
            " low; fewer, later alarms."
        ),
    ] = "default",
) -> None:
    """Score every row causally (0 = normal, 1 = surely anomalous).

    A regular file is read whole and scored at once; stdin, a pipe or a file over 64 MB row by row.
    Same numbers either way: each score uses only the rows before it.
    A bad row stops the run after the rows before it were printed.
    """
    import numpy as np

    from detectors.metrics.csv_series import iter_rows
    from detectors.metrics.online import OnlineDetector, OnlineParams, score_series

    profiles = {"default": OnlineParams.default, "nab": OnlineParams.nab, "gated": OnlineParams.gated}
    if profile not in profiles:
        raise InputError(f"unknown --profile {profile!r}: use one of {', '.join(profiles)}")
    params = profiles[profile]()
    out = sys.stdout

    def emit(ts: datetime, value: float, s: float) -> None:
        if as_json:
            row = {
                "timestamp": ts.isoformat(),
                "value": value if value == value else None,
                "score": round(s, 6),
            }
            out.write(json.dumps(row) + "\n")
        else:
            out.write(f"{ts.isoformat()}\t{value:g}\t{s:.4f}\n")

    try:
        stream = sys.stdin if str(file) == "-" else file.open(newline="", encoding="utf-8")
        info = os.fstat(stream.fileno()) if stream is not sys.stdin else None
    except OSError as e:
        raise InputError(f"cannot read {file}: {e.strerror}") from e
    if info is None or not stat.S_ISREG(info.st_mode) or info.st_size > WHOLE_FILE_BYTES:
        # stdin, a pipe (it may never end) or a very large file: row by row, printed as they come
        detector = OnlineDetector(params)
        with contextlib.ExitStack() as stack:
            if stream is not sys.stdin:
                stack.enter_context(stream)
            for ts, value in iter_rows(stream, source=str(file)):
                emit(ts, value, detector.update(value, ts.timestamp()))
                out.flush()
        return
    rows: list[tuple[datetime, float]] = []
    error: InputError | None = None
    with stream:
        try:
            rows.extend(iter_rows(stream, source=str(file)))
        except InputError as e:
            error = e
    if rows:
        values = np.array([v for _, v in rows], dtype=np.float64)
        scores = score_series(values, timestamps=np.array([t.timestamp() for t, _ in rows]), params=params)
        for (ts, value), s in zip(rows, scores.tolist(), strict=True):
            emit(ts, value, s)
    out.flush()
    if error is not None:
        raise error


@friendly_errors
def predict(
    file: Annotated[
        Path | None,
        typer.Argument(help="CSV with columns timestamp,value; omit to run the configured watches."),
    ] = None,
    limit: Annotated[
        float | None, typer.Option(help="Value at which the resource is exhausted (default: from the name).")
    ] = None,
    direction: Annotated[
        str | None, typer.Option(help="'up' (fills towards the limit) or 'down' (drains towards it).")
    ] = None,
    check: Annotated[str, typer.Option(help="exhaustion, expiry or burn_rate.")] = "exhaustion",
    slo: Annotated[float | None, typer.Option(help="SLO for burn_rate, e.g. 0.999.")] = None,
    metric: Annotated[str | None, typer.Option(help="Metric name (default: the file name).")] = None,
    service: Annotated[str, typer.Option(help="Service the series belongs to.")] = "unknown",
    horizon_hours: Annotated[
        float | None, typer.Option(help="Warn when the limit is due within this many hours.")
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(help="Evaluation time (ISO-8601); default: the file's last row, or the clock."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per warning.")] = False,
    config: Annotated[Path | None, typer.Option(help="Sherlog YAML config.")] = None,
) -> None:
    """Forecast exhaustion / expiry / error-budget burn and print early warnings."""
    from bot.pipeline.early_warning import CsvSource, EarlyWarningJob, PrometheusSource
    from config.settings import WatchSettings, load_settings
    from detectors.metrics.csv_series import parse_ts, read_series_csv

    settings = load_settings(config)
    pred = settings.prediction
    if horizon_hours is not None:
        pred = pred.model_copy(update={"horizon_hours": horizon_hours})
    clock_now = parse_ts(now) if now else None
    source: CsvSource | PrometheusSource
    if file is not None:
        if check not in ("exhaustion", "expiry", "burn_rate"):
            raise InputError("--check must be exhaustion, expiry or burn_rate")
        if direction not in (None, "up", "down"):
            raise InputError("--direction must be up or down")
        chk: Literal["exhaustion", "expiry", "burn_rate"] = check  # type: ignore[assignment]
        watch = WatchSettings(
            name=metric or file.stem,
            service=service,
            csv=file,
            metric=metric or file.stem,
            check=chk,
            limit=limit,
            direction=direction,  # type: ignore[arg-type]  # checked above
            slo=slo,
        )
        pred = pred.model_copy(update={"watches": [watch], "lookback_hours": 24.0 * 365})
        if clock_now is None:
            series = read_series_csv(file, metric=watch.metric)
            if not series.timestamps:
                raise InputError(f"{file} has no rows")
            clock_now = series.timestamps[-1]
        source = CsvSource()
    else:
        if not pred.watches:
            raise ConfigError(
                "no watches configured: add prediction.watches to the config, or give a CSV file"
            )
        csv_only = all(w.csv is not None for w in pred.watches)
        if csv_only:
            source = CsvSource()
        else:
            from connectors.prometheus.client import PrometheusConnector

            source = PrometheusSource(PrometheusConnector(settings=settings.prometheus), step=pred.step)
    warnings: list[object] = []
    fixed_now = clock_now or datetime.now(UTC)
    job = EarlyWarningJob(settings=pred, source=source, on_warning=warnings.append, clock=lambda: fixed_now)
    posted = job.run_once()
    if as_json:
        for w in posted:
            sys.stdout.write(w.model_dump_json() + "\n")
        return
    if not posted:
        console.print(f"no limit is due within {pred.horizon_hours:g} h")
        return
    for w in posted:
        console.print(f"[bold]{w.severity.value.upper()}[/] {w.title}\n  {w.summary}", highlight=False)
