"""Template grouping accuracy on loghub-2k (8 systems, corrected templates), Sherlog vs Drain3.

Grouping accuracy (GA): the share of lines whose predicted group holds exactly the same lines as
their ground-truth group. Each system's header is split with loghub's published header format
(the same for both miners); both miners see only the ``Content`` part. One Sherlog configuration is
used for every system. Drain3 runs with its default configuration (``sim_th`` 0.4, depth 4, no masking).

    .venv/bin/python -m bench.loghub [--data ../shared/data/loghub-2k]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import defaultdict
from collections.abc import Hashable, Sequence
from pathlib import Path

from detectors.logs.formats import HeaderFormat
from detectors.logs.miner import TemplateMiner

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "loghub-2k"

# loghub's published header formats (loghub-2.0 benchmark settings)
HEADERS: dict[str, str] = {
    "HDFS": "<Date> <Time> <Pid> <Level> <Component>: <Content>",
    "Hadoop": r"<Date> <Time> <Level> \[<Process>\] <Component>: <Content>",
    "Spark": "<Date> <Time> <Level> <Component>: <Content>",
    "Zookeeper": r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>",
    "BGL": "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>",
    "Linux": r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>",
    "Apache": r"\[<Time>\] \[<Level>\] <Content>",
    "OpenStack": r"<Logrecord> <Date> <Time> <Pid> <Level> <Component> \[<ADDR>\] <Content>",
}
# Drain's per-system parameters in the loghub benchmark (similarity threshold, depth)
DRAIN_PARAMS: dict[str, tuple[float, int]] = {
    "HDFS": (0.5, 4), "Hadoop": (0.5, 4), "Spark": (0.5, 4), "Zookeeper": (0.5, 4), "BGL": (0.5, 4),
    "Linux": (0.39, 6), "Apache": (0.5, 4), "OpenStack": (0.5, 5),
}
TUNED_ON = ("HDFS", "Hadoop", "Spark", "Zookeeper")


def grouping_accuracy(truth: Sequence[str], predicted: Sequence[Hashable]) -> float:
    """Share of lines whose predicted group equals their ground-truth group exactly."""
    by_pred: dict[Hashable, list[int]] = defaultdict(list)
    by_truth: dict[str, set[int]] = defaultdict(set)
    for i, (t, p) in enumerate(zip(truth, predicted, strict=True)):
        by_pred[p].append(i)
        by_truth[t].add(i)
    correct = 0
    for members in by_pred.values():
        group = by_truth[truth[members[0]]]
        if len(group) == len(members) and all(m in group for m in members):
            correct += len(members)
    return correct / len(truth) if truth else 0.0


def load_system(data: Path, system: str) -> tuple[list[str], list[str]]:
    """(contents, ground-truth template per line) of one system."""
    fmt = HeaderFormat(HEADERS[system])
    raw = (data / system / f"{system}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
    contents = []
    for line in raw:
        parsed = fmt.parse(line.strip())
        contents.append(parsed.message if parsed else line.strip())
    with (data / system / f"{system}_2k.log_structured_corrected.csv").open(encoding="utf-8", newline="") as fh:
        truth = [row["EventTemplate"] for row in csv.DictReader(fh)]
    if len(truth) != len(contents):
        raise SystemExit(f"{system}: {len(contents)} lines but {len(truth)} labels")
    return contents, truth


def run_sherlog(contents: list[str]) -> list[int]:
    miner = TemplateMiner()
    ids = [miner.add(c).cluster_id for c in contents]
    return [miner.resolve(i) for i in ids]  # ids as they stand at the end of the stream


# Drain3's usual masking setup (IPs, hex, numbers), as its documentation's example configures it
DRAIN3_MASKS = (
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
)


def run_drain3(contents: list[str], *, masked: bool = False, params: tuple[float, int] | None = None) -> list[int]:
    import logging

    from drain3 import TemplateMiner as Drain3Miner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    logging.getLogger("drain3").setLevel(logging.WARNING)
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    if masked:
        config.masking_instructions = [MaskingInstruction(p, name) for p, name in DRAIN3_MASKS]
    if params is not None:
        config.drain_sim_th, config.drain_depth = params
    miner = Drain3Miner(config=config)
    return [miner.add_log_message(c)["cluster_id"] for c in contents]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--systems", nargs="*", default=list(HEADERS))
    args = parser.parse_args()
    rows = []
    for system in args.systems:
        contents, truth = load_system(args.data, system)
        t0 = time.perf_counter()
        ours = grouping_accuracy(truth, run_sherlog(contents))
        t1 = time.perf_counter()
        drain = grouping_accuracy(truth, run_drain3(contents))
        drain_masked = grouping_accuracy(truth, run_drain3(contents, masked=True))
        drain_tuned = grouping_accuracy(truth, run_drain3(contents, masked=True, params=DRAIN_PARAMS[system]))
        rows.append((system, ours, drain, (t1 - t0) * 1000, drain_masked, drain_tuned))
    print(f"{'system':<11} {'sherlog GA':>10} {'drain3 GA':>10} {'drain3+mask':>11} {'d3 per-sys':>10} {'sherlog ms':>10}")
    for system, ours, drain, ms, drain_masked, drain_tuned in rows:
        mark = "*" if system in TUNED_ON else " "
        print(f"{system:<10}{mark} {ours:>10.3f} {drain:>10.3f} {drain_masked:>11.3f} {drain_tuned:>10.3f} {ms:>10.1f}")
    avg_ours = sum(r[1] for r in rows) / len(rows)
    avg_drain = sum(r[2] for r in rows) / len(rows)
    avg_masked = sum(r[4] for r in rows) / len(rows)
    avg_tuned = sum(r[5] for r in rows) / len(rows)
    print(f"{'average':<11} {avg_ours:>10.3f} {avg_drain:>10.3f} {avg_masked:>11.3f} {avg_tuned:>10.3f}")
    print("drain3 = defaults; +mask = IP/hex/number masks; per-sys = masks + loghub's per-system sim/depth")
    print("* = systems the configuration was tuned on (the masking and merge rules were also checked")
    print("    against errors seen on Linux and OpenStack, so those two are not strictly held out)")
    print(json.dumps({
        "sherlog_ga_avg": round(avg_ours, 4), "drain3_ga_avg": round(avg_drain, 4),
        "drain3_masked_ga_avg": round(avg_masked, 4), "drain3_per_system_ga_avg": round(avg_tuned, 4),
        "sherlog_ga_min": round(min(r[1] for r in rows), 4),
        "sherlog_ga": {r[0]: round(r[1], 4) for r in rows}, "drain3_ga": {r[0]: round(r[2], 4) for r in rows},
    }))


if __name__ == "__main__":
    main()
