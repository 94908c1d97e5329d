import random
from pathlib import Path

import pytest

from bench.loghub import grouping_accuracy, load_system
from bot.domain.errors import InputError
from detectors.logs import JsonFileMinerStore, MemoryMinerStore, TemplateMiner


def test_lines_differing_in_numbers_share_a_template() -> None:
    miner = TemplateMiner()
    a = miner.add("Received block blk_123 of size 67108864 from 10.0.0.1")
    b = miner.add("Received block blk_987 of size 12 from 10.0.0.2")
    assert a.cluster_id == b.cluster_id
    assert a.is_new and not b.is_new
    assert b.template == "Received block <*> of size <*> from <*>"


def test_a_word_becomes_a_variable_only_when_many_values_appear() -> None:
    miner = TemplateMiner()
    x = miner.add("stored as values in memory")
    y = miner.add("stored as bytes in memory")
    assert x.cluster_id != y.cluster_id  # two values: still two templates
    users = [miner.add(f"session opened for user {u}") for u in ("alice", "bob", "carol", "dave")]
    final = {miner.resolve(u.cluster_id) for u in users}
    assert len(final) == 1
    assert miner.clusters[final.pop()].template == "session opened for user <*>"


def test_capitalised_states_stay_constants() -> None:
    miner = TemplateMiner()
    ids = {miner.resolve(miner.add(f"VM {state} (Lifecycle Event)").cluster_id)
           for state in ("Started", "Stopped", "Paused", "Resumed", "Started")}
    assert len(ids) == 4


def test_empty_value_is_the_same_variable() -> None:
    miner = TemplateMiner()
    a = miner.add("connection from 1.2.3.4 (host-7.example.com) at noon")
    b = miner.add("connection from 1.2.3.5 () at noon")
    assert miner.resolve(a.cluster_id) == miner.resolve(b.cluster_id)


def test_add_many_agrees_with_add() -> None:
    rng = random.Random(5)
    words = ["alpha", "beta", "gamma", "delta", "eps"]
    lines = [f"job {rng.randint(1, 99)} {rng.choice(['started', 'finished', 'failed'])} on {rng.choice(words)}"
             for _ in range(500)]
    one = TemplateMiner()
    single = [one.add(line).cluster_id for line in lines]
    single = [one.resolve(i) for i in single]
    many = TemplateMiner()
    batched = []
    for start in range(0, len(lines), 64):
        batched.extend(many.add_many(lines[start:start + 64]))
    batched = [many.resolve(i) for i in batched]
    assert grouping_accuracy([str(s) for s in single], batched) == 1.0
    assert sum(c.size for c in many.clusters.values()) == len(lines)


@pytest.mark.parametrize("store_kind", ["memory", "file"])
def test_template_ids_survive_a_restart(store_kind: str, tmp_path: Path) -> None:
    store = MemoryMinerStore() if store_kind == "memory" else JsonFileMinerStore(tmp_path / "miner.json")
    first = TemplateMiner(store=store)
    ids = [first.add(m).cluster_id for m in ("disk /dev/sda1 is 91% full", "user 7 logged in", "cache miss")]
    first.save()
    second = TemplateMiner(store=store)
    assert second.add("disk /dev/sdb2 is 99% full").cluster_id == ids[0]
    assert second.add("user 8 logged in").cluster_id == ids[1]
    new = second.add("brand new message")
    assert new.is_new and new.cluster_id not in ids


def test_corrupt_snapshot_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "miner.json"
    path.write_text("{broken")
    with pytest.raises(InputError, match="delete it"):
        TemplateMiner(store=JsonFileMinerStore(path))


def test_memory_is_bounded() -> None:
    miner = TemplateMiner(max_clusters=50, cache_size=100)
    for i in range(2000):
        miner.add(f"event {'x' * (i % 7)}{chr(97 + i % 26)}{chr(97 + (i // 26) % 26)} Code{chr(65 + i % 26)} done")
    assert len(miner.clusters) <= 50
    assert len(miner._cache) <= 100


@pytest.mark.data
def test_loghub_hdfs_grouping(shared_data: Path) -> None:
    contents, truth = load_system(shared_data / "loghub-2k", "HDFS")
    miner = TemplateMiner()
    predicted = [miner.resolve(miner.add(c).cluster_id) for c in contents]
    assert grouping_accuracy(truth, predicted) >= 0.97


def test_line_shape_cache_gives_the_same_grouping_as_splitting_every_line() -> None:
    from detectors.logs.formats import HeaderFormat

    fmt = HeaderFormat("<Date> <Time> <Level> <Component>: <Content>")
    rng = random.Random(11)
    lines = [f"2024-01-0{rng.randint(1, 9)} 10:0{rng.randint(0, 9)}:00 {rng.choice(['INFO', 'WARN'])} "
             f"{rng.choice(['db.Pool', 'web.Api'])}: {rng.choice(['served', 'failed'])} request {rng.randint(1, 999)} "
             f"for {rng.choice(['ann', 'bob', 'cid', 'dan'])}" for _ in range(600)]
    lines.append("a line the header does not fit 42")
    by_lines, by_messages = TemplateMiner(), TemplateMiner()
    a = by_lines.add_lines(lines, fmt.contents)
    b = by_messages.add_many(fmt.contents(lines))
    a = [by_lines.resolve(i) for i in a]
    b = [by_messages.resolve(i) for i in b]
    assert grouping_accuracy([str(x) for x in b], a) == 1.0
    assert sorted(c.template for c in by_lines.clusters.values()) == sorted(
        c.template for c in by_messages.clusters.values())
