from __future__ import annotations

from datetime import timedelta

import numpy as np

from bot.domain.models import MetricSeries
from detectors.metrics.rank import RankParams, rank_metric_causes, score_series_at, series_key
from tests.detectors.metrics.metric_factories import T0, noisy, series

ALERT = T0 + timedelta(minutes=30)


def _world(seed: int = 0) -> list:
    db = noisy(40, 20, 1, seed)
    db[28:] += 200  # the database slows down first
    api = noisy(40, 100, 3, seed + 1)
    api[29:] += 250  # its caller follows
    web = noisy(40, 150, 3, seed + 2)
    web[29:] += 240
    ok = noisy(40, 50, 2, seed + 3)
    return [
        series("db", "query_latency_ms", db),
        series("api", "latency_p95_ms", api),
        series("web", "latency_p95_ms", web),
        series("cache", "latency_p95_ms", ok),
    ]


def test_origin_ranks_first_with_topology_and_victims_are_marked() -> None:
    ranked = rank_metric_causes(
        _world(), alert_time=ALERT, topology={"web": ["api"], "api": ["db"]}, alert_metric="latency_p95_ms"
    )
    assert ranked[0].service == "db"
    assert ranked[-1].service == "cache"
    by = {c.service: c for c in ranked}
    assert by["api"].victim_of == ["db"]
    assert by["db"].change_time is not None and by["db"].change_time <= ALERT
    assert 0.9 < by["db"].score < 1


def test_alerting_family_first_availability_drop_beats_latency_noise() -> None:
    avail = np.full(40, 100.0)
    avail[29:] = 96.5
    lat = noisy(40, 0.02, 0.001, 9)
    lat[29:] *= 1.6
    ranked = rank_metric_causes(
        [series("search", "availability_average", avail), series("s3", "latency_p99", lat)],
        alert_time=ALERT,
        alert_metric="availability",
    )
    assert [c.service for c in ranked][:1] == ["search"]


def test_baseline_history_tames_heavy_tailed_series() -> None:
    rng = np.random.default_rng(4)
    history = np.where(rng.random(2000) < 0.01, 5.0, 1.0) + rng.normal(0, 0.01, 2000)  # usual rare spikes
    spiky = np.full(40, 1.0)
    spiky[30] = 5.0  # one of its usual spikes
    s = series("ssm", "latency_p90", spiky)
    without = rank_metric_causes([s], alert_time=ALERT)
    with_hist = rank_metric_causes([s], alert_time=ALERT, baseline={series_key(s): history})
    assert without[0].score > 0.9
    assert with_hist[0].score < 0.5


def test_proxies_are_lowered() -> None:
    y = noisy(40, 10, 0.5, 5)
    y[29:] += 50
    ranked = rank_metric_causes(
        [series("search.elb.amazonaws.com_remote", "latency_ms", y), series("search", "latency_ms", y * 0.9)],
        alert_time=ALERT,
    )
    assert ranked[0].service == "search"


def test_sparse_and_empty_series() -> None:
    assert rank_metric_causes([series("a", "latency_ms", [])], alert_time=ALERT) == []
    assert rank_metric_causes([series("a", "latency_ms", [1.0])], alert_time=ALERT) == []


def test_a_series_seen_rarely_in_history_does_not_outrank_a_well_observed_cause() -> None:
    # the well-observed service errors a little; a rarely used dependency's latency (10 of 600
    # history points, so its spread is unknown) jumps far above its few past values
    avail = np.full(40, 100.0)
    avail[29:] = 99.8
    rare = np.full(40, np.nan)
    rare[29:] = 0.7
    rare_hist = np.full(600, np.nan)
    rare_hist[::60] = 0.12 + noisy(10, 0, 0.001, 5)
    ser = [series("search", "availability_average", avail), series("s3", "latency_p99", rare)]
    ser[1] = ser[1].model_copy(
        update={
            "timestamps": [t for t, v in zip(ser[1].timestamps, rare, strict=True) if v == v],
            "values": [v for v in rare if v == v],
        }
    )
    base = {series_key(ser[0]): np.full(600, 100.0), series_key(ser[1]): rare_hist}
    off = rank_metric_causes(
        ser, alert_time=ALERT, baseline=base, alert_metric="availability", params=RankParams(sparse_k=0.0)
    )
    on = rank_metric_causes(ser, alert_time=ALERT, baseline=base, alert_metric="availability")
    assert off[0].service == "s3"  # without the coverage weight the sparse series wins
    assert on[0].service == "search"


def _overloaded_table(table_jump: float, seed: int = 0) -> list:
    # a noisy table slows down; the tight-latency service calling it and that service's caller
    # follow, each by about the table's extra seconds, so their z dwarfs the table's own
    table = noisy(40, 0.3, 0.05, seed)
    table[29:] += table_jump
    search = noisy(40, 0.03, 0.001, seed + 1)
    search[29:] += 10.0
    lister = noisy(40, 0.05, 0.002, seed + 2)
    lister[29:] += 9.0
    return [
        series("table", "latency_p99", table),
        series("search", "latency_p99", search),
        series("lister", "latency_p99", lister),
        series("idle", "latency_p99", noisy(40, 0.1, 0.01, seed + 3)),
    ]


TOPOLOGY = {"lister": ["search"], "search": ["table"]}


def test_a_dependency_whose_slowdown_accounts_for_its_callers_is_the_origin() -> None:
    ser = _overloaded_table(9.5)
    off = rank_metric_causes(
        ser, alert_time=ALERT, topology=TOPOLOGY, alert_metric="latency", params=RankParams(explain_ratio=0.0)
    )
    on = rank_metric_causes(ser, alert_time=ALERT, topology=TOPOLOGY, alert_metric="latency")
    assert off[0].service != "table"  # by z alone the tight callers win
    assert on[0].service == "table"
    by = {c.service: c for c in on}
    assert sorted(by["table"].explains) == ["lister", "search"]
    assert by["search"].victim_of == ["table"]
    assert by["lister"].victim_of == ["search"]
    assert by["table"].z >= by["search"].z


def test_a_dependency_moving_far_less_than_its_caller_explains_nothing() -> None:
    # the table is anomalous too, but 1 s of extra latency cannot account for 10 s at its caller
    ranked = rank_metric_causes(
        _overloaded_table(1.0), alert_time=ALERT, topology=TOPOLOGY, alert_metric="latency"
    )
    by = {c.service: c for c in ranked}
    assert ranked[0].service == "search"
    assert by["table"].explains == []
    assert "table" not in by["search"].victim_of


def test_a_dependency_that_changed_only_later_explains_nothing() -> None:
    ser = _overloaded_table(9.5)
    late = noisy(40, 0.3, 0.05, 0)
    late[32:] += 9.5  # slows down three minutes after its caller
    ser[0] = series("table", "latency_p99", late)
    ranked = rank_metric_causes(ser, alert_time=ALERT, topology=TOPOLOGY, alert_metric="latency")
    assert ranked[0].service != "table"
    assert {c.service: c for c in ranked}["table"].explains == []


def test_an_observation_point_claims_what_it_explains_only_at_its_own_weight() -> None:
    # the caller's only anomalous dependency is a load balancer's view: it explains the caller but
    # its claim is discounted like its own evidence, so the caller's service itself stays in front
    web = noisy(40, 0.2, 0.01, 1)
    web[29:] += 5.0
    lb = noisy(40, 0.1, 0.01, 2)
    lb[29:] += 5.0
    ranked = rank_metric_causes(
        [series("web", "latency_p99", web), series("api.elb_remote", "latency_p99", lb)],
        alert_time=ALERT,
        topology={"web": ["api.elb_remote"]},
        alert_metric="latency",
    )
    by = {c.service: c for c in ranked}
    assert by["api.elb_remote"].explains == ["web"]
    assert by["api.elb_remote"].z < by["web"].z / RankParams().victim_weight


def test_self_loops_and_cycles_in_the_topology_are_harmless() -> None:
    ser = _overloaded_table(9.5)
    alone = rank_metric_causes(ser[:1], alert_time=ALERT, alert_metric="latency")
    looped = rank_metric_causes(
        ser[:1], alert_time=ALERT, topology={"table": ["table"]}, alert_metric="latency"
    )
    assert looped[0].z == alone[0].z and looped[0].victim_of == []
    cyclic = rank_metric_causes(
        ser, alert_time=ALERT, topology={**TOPOLOGY, "table": ["lister"]}, alert_metric="latency"
    )
    assert {c.service for c in cyclic} == {"table", "search", "lister", "idle"}


def _after_a_gap(gap_steps: int) -> MetricSeries:
    """Two hours of normal operation, ``gap_steps`` minutes without data, then a window whose level is
    already raised at its first point (another period) and rises further at the alert."""
    history = noisy(120, 1.0, 0.02, 5)
    window = np.array([1.5, 1.5, 1.5, 1.5, 1.55, 1.5, 1.5, 1.5, 2.5, 2.5])
    start = ALERT - timedelta(minutes=8 + gap_steps + 120)
    s = series("db", "latency_p99", np.concatenate([history, window]), start=start)
    stamps = s.timestamps[:120] + [t + timedelta(minutes=gap_steps) for t in s.timestamps[120:]]
    return s.model_copy(update={"timestamps": stamps})


def test_an_excursion_under_way_when_the_data_resumes_is_measured_by_its_growth_only() -> None:
    # laid end to end, the raised level reads as a change at the window's first point; after a gap
    # that point is where the data resumes, the onset is unknown and only the rise at the alert counts
    p = RankParams()
    seamless = score_series_at(_after_a_gap(0), ALERT.timestamp(), None, p)
    resumed = score_series_at(_after_a_gap(60), ALERT.timestamp(), None, p)
    assert seamless is not None and resumed is not None
    _, _, seam_ts, _, _ = seamless
    assert seam_ts < (ALERT - timedelta(minutes=5)).timestamp()  # dated at the seam
    raised = (1.55 - 1.0) / (2.5 - 1.0)
    assert resumed[0] < (1.0 - raised) * seamless[0] + 1e-6  # the raised level is no longer counted
    assert resumed[2] >= (ALERT - timedelta(minutes=2)).timestamp()  # the change is the rise at the alert
    assert RankParams(gap_steps=0).gap_steps == 0 and score_series_at(
        _after_a_gap(60), ALERT.timestamp(), None, RankParams(gap_steps=0))[0] == seamless[0]


def test_a_few_missed_scrapes_are_no_gap() -> None:
    s = _after_a_gap(3)  # three missing points: the excursion is still dated where it began
    found = score_series_at(s, ALERT.timestamp(), None, RankParams())
    assert found is not None and found[2] < (ALERT - timedelta(minutes=5)).timestamp()


def test_a_series_that_stopped_long_before_the_alert_is_not_scored_as_at_the_alert() -> None:
    # its last points (a spike an hour ago) are not the state at the alert, while the others reach it
    gone = noisy(20, 0.2, 0.01, 7)
    gone[-1] = 0.8
    stopped = series("store", "latency_p99", gone, start=ALERT - timedelta(minutes=80))
    live = noisy(40, 0.1, 0.005, 8)
    live[29:] += 0.05
    ranked = rank_metric_causes([stopped, series("web", "latency_p99", live)], alert_time=ALERT,
                                alert_metric="latency")
    assert [c.service for c in ranked] == ["web"]
    # data that all ends before the alert (a bundle cut short) is still read
    early = rank_metric_causes([stopped], alert_time=ALERT, alert_metric="latency")
    assert [c.service for c in early] == ["store"]
    off = rank_metric_causes([stopped, series("web", "latency_p99", live)], alert_time=ALERT,
                             alert_metric="latency", params=RankParams(gap_steps=0))
    assert {c.service for c in off} == {"store", "web"}


def test_timestamps_read_once_by_the_caller_give_the_ranking_reading_them_itself_gives() -> None:
    import random

    from detectors.metrics.prepare import epoch_seconds, prepare

    rng = random.Random(5)
    made = [series("db", "db_connections_in_use", [10.0] * 40 + [95.0] * 20),
            series("api", "http_request_duration_seconds", noisy(60, 0.2, 0.02, 1)),
            series("api", "http_requests_total", np.cumsum(noisy(60, 5.0, 1.0, 2)))]
    shuffled = made[1].model_copy(deep=True)  # out of order and with a duplicate: prepare sorts a copy
    order = list(range(60))
    rng.shuffle(order)
    shuffled.timestamps = [shuffled.timestamps[i] for i in order] + [shuffled.timestamps[0]]
    shuffled.values = [shuffled.values[i] for i in order]  # one timestamp more than values
    everything = [*made, shuffled.model_copy(update={"service": "edge"})]
    at = T0 + timedelta(minutes=45)
    epochs = [epoch_seconds(s) for s in everything]
    kept = [e.copy() for e in epochs]
    given = rank_metric_causes(everything, alert_time=at, epochs=epochs)
    assert given == rank_metric_causes(everything, alert_time=at) and given
    for s, e, before in zip(everything, epochs, kept, strict=True):
        assert np.array_equal(e, before)  # read, never changed
        a, b = prepare(s), prepare(s, epochs=e)
        assert np.array_equal(a.t, b.t) and np.array_equal(a.y, b.y) and a.is_counter == b.is_counter
