"""Throughput of parse + mask + mine + count, one core, Sherlog vs Drain3 on the same lines.

The stream: the eight loghub-2k systems' lines with every digit re-drawn at random (so raw lines do
not repeat), plus one line in 50 carrying a never-seen word (so masked forms keep appearing, as user
names and host names do). Each system's lines go through its loghub header format, in batches of
1,000-2,048 lines as ``sherlog logs mine`` streams them. Two Sherlog rows:

- ``sherlog``: ``TemplateMiner.add_lines`` (what the CLI runs): a line whose shape (digit runs read
  as 0) was seen before costs one regex pass and a lookup; new shapes are split, masked and mined;
- ``sherlog no-cache``: every line's header is split off first (``HeaderFormat.contents``), then
  ``add_many`` (messages cached by shape). No timestamp conversion in either.

Drain3's time covers ``add_log_message`` on the already-split message only (its header split is free).
The three runs are interleaved in ``--rounds`` slices so that they share the machine's load.

A second phase streams ``--memory-lines`` lines through Sherlog alone and prints the process RSS at
checkpoints: memory grows while the bounded caches fill, then stays flat.

    .venv/bin/python -m bench.log_throughput [--lines 1000000] [--memory-lines 10000000]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import random
import resource
import string
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from operator import itemgetter
from pathlib import Path

from bench.loghub import DEFAULT_DATA, HEADERS
from detectors.logs.formats import HeaderFormat
from detectors.logs.miner import TemplateMiner


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * resource.getpagesize() / 1e6
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def _word(i: int) -> str:
    letters = string.ascii_lowercase
    out = []
    i += 26**3
    while i:
        i, r = divmod(i, 26)
        out.append(letters[r])
    return "".join(out)


def build_pool(data: Path, *, per_system: int, seed: int = 7) -> dict[str, list[str]]:
    rng = random.Random(seed)
    digits = "0123456789"
    pool: dict[str, list[str]] = {}
    for system in HEADERS:
        raw = (data / system / f"{system}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
        lines = []
        for i in range(per_system):
            line = raw[i % len(raw)]
            lines.append("".join(rng.choice(digits) if ch.isdigit() else ch for ch in line))
        pool[system] = lines
    return pool


def stream(pool: dict[str, list[str]], total: int) -> Iterator[tuple[str, str]]:
    """(system, line) pairs: blocks of 1,000 lines per system in turn, a new word every 50th line."""
    systems = list(pool)
    cursors = dict.fromkeys(systems, 0)
    n = 0
    for system in itertools.cycle(systems):
        lines = pool[system]
        for _ in range(1000):
            if n >= total:
                return
            line = lines[cursors[system] % len(lines)]
            cursors[system] += 1
            if n % 50 == 0:
                line = f"{line} {_word(n)}"
            yield system, line
            n += 1


BATCH = 2048


class SherlogRun:
    """Sherlog's pipeline, fed slice by slice (state carries over between slices)."""

    def __init__(self, formats: dict[str, HeaderFormat], *, line_shapes: bool = True) -> None:
        self.formats = formats
        self.line_shapes = line_shapes
        self.miners = {s: TemplateMiner() for s in formats}
        self.counts: Counter[int] = Counter()

    def feed(self, items: Iterable[tuple[str, str]], checkpoints: tuple[int, ...] = (),
             done: int = 0) -> tuple[int, float, list[tuple[int, float]]]:
        rss: list[tuple[int, float]] = []
        marks = iter(sorted(checkpoints))
        mark = next(marks, None)
        n = 0
        t0 = time.perf_counter()
        for system, group in itertools.groupby(items, key=itemgetter(0)):
            lines = list(map(itemgetter(1), group))
            for start in range(0, len(lines), BATCH):
                batch = lines[start:start + BATCH]
                if self.line_shapes:
                    ids = self.miners[system].add_lines(batch, self.formats[system].contents)
                else:
                    ids = self.miners[system].add_many(self.formats[system].contents(batch))
                self.counts.update(ids)
                n += len(batch)
                if mark is not None and done + n >= mark:
                    rss.append((done + n, _rss_mb()))
                    mark = next(marks, None)
        return n, time.perf_counter() - t0, rss


class Drain3Run:
    """Drain3's ``add_log_message`` on the already-split message of each line."""

    def __init__(self, formats: dict[str, HeaderFormat]) -> None:
        import logging

        from drain3 import TemplateMiner as Drain3Miner
        from drain3.template_miner_config import TemplateMinerConfig

        logging.getLogger("drain3").setLevel(logging.WARNING)
        self.formats = formats
        self.miners = {}
        for s in formats:
            config = TemplateMinerConfig()
            config.profiling_enabled = False
            self.miners[s] = Drain3Miner(config=config)
        self.counts: Counter[int] = Counter()

    def feed(self, items: list[tuple[str, str]]) -> tuple[int, float]:
        contents = []
        for system, line in items:
            content = self.formats[system].content(line)
            contents.append((system, line if content is None else content))
        miners, counts = self.miners, self.counts
        t0 = time.perf_counter()
        for system, content in contents:
            counts[miners[system].add_log_message(content)["cluster_id"]] += 1
        return len(contents), time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--memory-lines", type=int, default=10_000_000, help="0 to skip the memory phase")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved slices of the comparison")
    args = parser.parse_args()
    formats = {s: HeaderFormat(spec) for s, spec in HEADERS.items()}
    pool = build_pool(args.data, per_system=20_000)
    items = list(stream(pool, args.lines))
    gc.collect()
    ours, plain, theirs = SherlogRun(formats), SherlogRun(formats, line_shapes=False), Drain3Run(formats)
    n_ours = n_plain = n_drain = 0
    t_ours = t_plain = t_drain = 0.0
    # interleave slices so that all runs see the same machine load (the box is shared)
    step = max(1, len(items) // args.rounds)
    for start in range(0, len(items), step):
        part = items[start:start + step]
        n, t, _ = ours.feed(part)
        n_ours, t_ours = n_ours + n, t_ours + t
        n, t, _ = plain.feed(part)
        n_plain, t_plain = n_plain + n, t_plain + t
        n, t = theirs.feed(part)
        n_drain, t_drain = n_drain + n, t_drain + t
    ours_lps, plain_lps, drain_lps = n_ours / t_ours, n_plain / t_plain, n_drain / t_drain
    print(f"{'miner':<16} {'lines':>10} {'seconds':>9} {'lines/s':>10}")
    print(f"{'sherlog':<16} {n_ours:>10,} {t_ours:>9.2f} {ours_lps:>10,.0f}   "
          "(parse + mask + mine + count; cached by line shape, as `sherlog logs mine` runs)")
    print(f"{'sherlog no-cache':<16} {n_plain:>10,} {t_plain:>9.2f} {plain_lps:>10,.0f}   "
          "(every line's header split; messages cached by shape)")
    print(f"{'drain3':<16} {n_drain:>10,} {t_drain:>9.2f} {drain_lps:>10,.0f}   (add_log_message only)")
    print(f"ratio sherlog-no-line-cache/drain3: {plain_lps / drain_lps:.2f}x")
    print(f"ratio sherlog/drain3: {ours_lps / drain_lps:.2f}x  ({args.rounds} interleaved slices; templates: "
          f"sherlog {sum(len(m.clusters) for m in ours.miners.values())}, "
          f"drain3 {sum(len(m.drain.clusters) for m in theirs.miners.values())})")
    result: dict[str, object] = {
        "lines": n_ours, "sherlog_lps": round(ours_lps), "drain3_lps": round(drain_lps),
        "ratio": round(ours_lps / drain_lps, 2), "sherlog_no_line_cache_lps": round(plain_lps),
        "ratio_no_line_cache": round(plain_lps / drain_lps, 2),
    }
    del items, ours, plain, theirs
    gc.collect()
    if args.memory_lines:
        total = args.memory_lines
        marks = tuple(sorted({total // 10, total // 4, total // 2, total * 3 // 4, total}))
        n, secs, rss = SherlogRun(formats).feed(stream(pool, total), marks)
        print(f"memory phase: {n:,} lines in {secs:.1f} s ({n / secs:,.0f} lines/s)")
        for at, mb in rss:
            print(f"  after {at:>11,} lines: RSS {mb:8.1f} MB")
        result["memory_lines"] = n
        result["rss_mb"] = {str(at): round(mb, 1) for at, mb in rss}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
