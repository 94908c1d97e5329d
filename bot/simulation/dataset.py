"""Datasets of evidence bundles with train/test splits.

A case is a scenario (the fault kind) with parameters (world, culprit service, difficulty) and a
seed. Splits are by family: a (kind, world, culprit service) family and all its difficulties belong to
one split, chosen by a fixed digest of the family's names (not by the dataset's seed), so the families held
out at a test fraction are held out in every dataset made with that fraction or a larger one, whatever its
seed: a model trained on one dataset's train split never saw a family of another dataset's test split (at a
test fraction no larger than the training one). Deterministic for a seed; case folders have opaque names
(``case-00042``) so a folder name never tells the kind. ``manifest.jsonl`` lists every case.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.domain.errors import InputError
from bot.domain.vocabulary import ALL_KINDS
from bot.simulation.bundle import generate_bundle
from bot.simulation.faults import CATALOG
from bot.simulation.scenario import DIFFICULTIES, VENDORS, candidates
from bot.simulation.world import WORLDS, build_world

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Case:
    name: str
    split: str
    kind: str
    world: str
    service: str
    difficulty: str
    vendor: str
    seed: int

    @property
    def group(self) -> tuple[str, str, str, str]:
        return (self.kind, self.world, self.service, self.difficulty)

    @property
    def family(self) -> tuple[str, str, str]:
        """What a split holds whole: the kind, world and culprit service (every difficulty of them)."""
        return (self.kind, self.world, self.service)


def _family_order(kind: str, family: tuple[str, str]) -> str:
    """A family's place in the held-out order: a digest of its names, the same for every seed and dataset."""
    return hashlib.sha256(f"sherlog-family:{kind}/{family[0]}/{family[1]}".encode()).hexdigest()


def held_out_families(kind: str, test_fraction: float) -> list[tuple[str, str]]:
    """The (world, service) families of ``kind`` in the test split at ``test_fraction``: the first ones in the
    fixed digest order, at least one and never all; a larger fraction holds out a superset."""
    families = sorted({(w, s) for w in sorted(WORLDS) for s in candidates(CATALOG[kind], build_world(w))},
                      key=lambda f: _family_order(kind, f))
    n_test = min(len(families) - 1, max(1, round(len(families) * test_fraction)))
    return sorted(families[:n_test])


def split_groups(*, seed: int, test_fraction: float, kinds: tuple[str, ...] = ALL_KINDS,
                 difficulties: tuple[str, ...] = DIFFICULTIES) -> dict[str, dict[str, list[tuple[str, str, str]]]]:
    """kind -> split -> [(world, service, difficulty)]; every kind has families in both splits.

    Splits are by family (``held_out_families``) and do not depend on ``seed`` (kept so callers may pass it):
    no test family ever appears in the training split of a dataset of another seed at the same fraction.
    """
    del seed
    out: dict[str, dict[str, list[tuple[str, str, str]]]] = {}
    for kind in kinds:
        families = sorted({(w, s) for w in sorted(WORLDS) for s in candidates(CATALOG[kind], build_world(w))})
        test = set(held_out_families(kind, test_fraction))
        out[kind] = {"test": [(w, s, d) for w, s in families if (w, s) in test for d in difficulties],
                     "train": [(w, s, d) for w, s in families if (w, s) not in test for d in difficulties]}
    return out


def plan_dataset(*, n: int, seed: int, test_fraction: float = 0.3, kinds: tuple[str, ...] = ALL_KINDS,
                 difficulties: tuple[str, ...] = DIFFICULTIES) -> list[Case]:
    """The cases of a dataset, balanced over kinds, without writing anything."""
    if not 0.0 < test_fraction < 1.0:
        raise InputError(f"test_fraction must be between 0 and 1, not {test_fraction}")
    unknown = [k for k in kinds if k not in CATALOG]
    if unknown:
        raise InputError(f"unknown kinds: {', '.join(unknown)}")
    groups = split_groups(seed=seed, test_fraction=test_fraction, kinds=kinds, difficulties=difficulties)
    rng = random.Random(f"dataset:{seed}")
    order = list(kinds)
    rng.shuffle(order)
    cases: list[Case] = []
    for i in range(n):
        kind = order[i % len(order)]
        split = "test" if rng.random() < test_fraction else "train"
        world, service, difficulty = rng.choice(groups[kind][split])
        cases.append(Case(name=f"case-{i:05d}", split=split, kind=kind, world=world, service=service,
                          difficulty=difficulty, vendor=rng.choice(VENDORS), seed=rng.randrange(1, 2**31)))
    return cases


def _write_case(args: tuple[str, Case, bool]) -> str:
    out_dir, case, history = args
    generate_bundle(Path(out_dir) / case.split / case.name, kind=case.kind, service=case.service, seed=case.seed,
                    difficulty=case.difficulty, vendor=case.vendor, world=case.world, history=history)
    return case.name


def generate_dataset(out_dir: str | Path, n: int = 1000, seed: int = 0, test_fraction: float = 0.3, *,
                     kinds: tuple[str, ...] = ALL_KINDS, difficulties: tuple[str, ...] = DIFFICULTIES,
                     workers: int = 1, history: bool = True, splits: tuple[str, ...] = ("train", "test")) -> Path:
    """Write ``n`` bundles under ``out_dir/train/<case>/`` and ``out_dir/test/<case>/`` plus a manifest.

    ``splits`` limits which splits are written (the plan, hence every case, stays the same);
    ``history=False`` leaves out the bundles' history folders.
    """
    root = Path(out_dir)
    cases = plan_dataset(n=n, seed=seed, test_fraction=test_fraction, kinds=kinds, difficulties=difficulties)
    for split in splits:
        (root / split).mkdir(parents=True, exist_ok=True)
    jobs = [(str(root), case, history) for case in cases if case.split in splits]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_write_case, jobs, chunksize=8))
    else:
        for job in jobs:
            _write_case(job)
    with (root / "manifest.jsonl").open("w", encoding="utf-8") as fh:
        for case in cases:
            fh.write(json.dumps(asdict(case)) + "\n")
    log.info("dataset written", extra={"path": str(root), "cases": n, "seed": seed})
    return root


def read_manifest(root: str | Path) -> list[Case]:
    path = Path(root) / "manifest.jsonl"
    if not path.is_file():
        raise InputError(f"{path} is missing: is {root} a dataset written by `sherlog simulate dataset`?")
    return [Case(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
