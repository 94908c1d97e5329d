"""The casebook's postmortem half (``bench/casebook/cases/pm-*``): every bundle loads cleanly, its truth
speaks the shared vocabulary, and the set is spread over companies and categories as agreed.

The cases are hand-written evidence modelled on public postmortems; their truth was fixed before any
analysis ran on them. These tests guard the data's shape, never Sherlog's answers on it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.domain.vocabulary import CATEGORY_OF_KIND
from bot.pipeline.bundle import load_bundle

CASES_DIR = Path(__file__).resolve().parents[2] / "bench" / "casebook" / "cases"
CASES = sorted((p for p in CASES_DIR.glob("pm-*") if p.is_dir()), key=lambda p: int(p.name.split("-")[1]))
CASE_NAME = re.compile(r"^pm-(?P<n>\d{2,3})-[a-z0-9]+(?:-[a-z0-9]+)*$")

MIN_CASES = 475
MIN_COMPANIES = 40
# 2 of the first 49 cases, 3 of 73 after the second batch (pm-50..73) and of 99 after the third (pm-74..99)
MAX_CASES_PER_COMPANY = 3

# The brief's minimum coverage: (label, categories counted, minimum cases).
COVERAGE = [
    ("network", {"network"}, 5),
    ("storage", {"storage"}, 4),
    ("database", {"database"}, 6),
    ("tls", {"tls"}, 3),
    ("dns", {"dns"}, 3),
    ("capacity", {"capacity"}, 3),
    ("kernel/hardware", {"hardware"}, 4),
    ("security", {"security"}, 3),
    ("deploy/config/flag", {"deploy"}, 6),
    ("dependency/rate limits", {"dependency"}, 3),
    ("application", {"application"}, 3),
    ("memory/cpu", {"memory", "cpu"}, 3),
]


def _truth(case: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((case / "truth.json").read_text(encoding="utf-8"))
    return data


def company_of(modelled_on: str) -> str:
    """``"Slack, 'Slack's Outage on January 4th 2021', https://..."`` -> ``"slack"``; a parenthesised
    alias (``"Mailchimp (Mandrill)"``) is dropped so one company is one name."""
    head = modelled_on.split(",", 1)[0]
    return re.sub(r"\s*\(.*?\)", "", head).strip().lower()


def _evidence_text(case: Path) -> str:
    parts = [p.stem for p in (case / "logs").glob("*.log")] + [p.name for p in (case / "metrics").glob("*")]
    for name in ("events.jsonl", "topology.json"):
        if (case / name).is_file():
            parts.append((case / name).read_text(encoding="utf-8"))
    parts += [p.read_text(encoding="utf-8", errors="replace") for p in (case / "logs").glob("*.log")]
    return "\n".join(parts).lower()


def test_there_are_enough_cases_with_well_formed_names() -> None:
    assert len(CASES) >= MIN_CASES
    numbers = []
    for case in CASES:
        match = CASE_NAME.match(case.name)
        assert match, f"{case.name}: expected pm-NN-<slug>"
        numbers.append(int(match["n"]))
    missing = set(range(1, max(numbers) + 1)) - set(numbers)
    assert len(numbers) == len(set(numbers)) and not missing, (
        f"case numbers must run 01..N without gaps (missing {sorted(missing)})")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_loads_without_problems(case: Path) -> None:
    context, report = load_bundle(case)
    assert report.problems == []
    assert report.truth is not None
    assert context.incident.alerts, "alert.json must hold at least one alert"
    assert context.logs and context.metrics and context.events and context.topology
    for series in context.metrics:
        assert len(series.timestamps) == len(series.values) >= 60, f"{series.service}.{series.metric}: too short"
    for doc in context.history:
        assert doc.title and doc.text.strip(), f"{case.name}: history document without title or body"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_truth_speaks_the_vocabulary(case: Path) -> None:
    truth = _truth(case)
    kind = truth["root_cause_kind"]
    assert kind in CATEGORY_OF_KIND, f"{kind!r} is not a vocabulary kind"
    assert truth["category"] == CATEGORY_OF_KIND[kind].value
    assert truth["source"] == "postmortem"
    assert truth["root_cause_service"].strip()
    assert len(truth["keywords"]) >= 3
    assert len(truth["modelled_on"]) > 20 and len(truth["notes"]) > 80


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_split_alternates_in_writing_order(case: Path) -> None:
    number = int(case.name.split("-")[1])
    assert _truth(case)["split"] == ("dev" if number % 2 else "test")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_evidence_names_the_root_cause_service(case: Path) -> None:
    assert _truth(case)["root_cause_service"].lower() in _evidence_text(case)


def test_companies_are_many_and_none_dominates() -> None:
    counts = Counter(company_of(_truth(case)["modelled_on"]) for case in CASES)
    assert len(counts) >= MIN_COMPANIES, sorted(counts)
    crowded = {name: n for name, n in counts.items() if n > MAX_CASES_PER_COMPANY}
    assert crowded == {}


def test_company_of_reads_the_leading_name() -> None:
    assert company_of("Mailchimp (Mandrill), 'What we learned', https://x") == "mailchimp"
    assert company_of("Amazon Web Services, 'Summary of ...'") == "amazon web services"


@pytest.mark.parametrize(("label", "categories", "minimum"), COVERAGE, ids=[row[0] for row in COVERAGE])
def test_category_coverage(label: str, categories: set[str], minimum: int) -> None:
    found = sum(1 for case in CASES if _truth(case)["category"] in categories)
    assert found >= minimum, f"{label}: {found} cases, want at least {minimum}"


def test_alert_shapes_vary_across_vendors() -> None:
    vendors: Counter[str] = Counter()
    for case in CASES:
        context, _ = load_bundle(case)
        vendors[context.incident.alerts[0].source] += 1
    assert set(vendors) >= {"alertmanager", "grafana", "pagerduty", "opsgenie", "datadog", "generic"}, vendors


TABLE = CASES_DIR.parent / "POSTMORTEM_CASES.md"
TABLE_ROW = re.compile(r"^\| (?P<case>pm-\d{2,3}-[a-z0-9-]+) \| [^|]+ \| (?P<category>[a-z]+) \| "
                       r"`(?P<service>[^`]+)` / `(?P<kind>[a-z_]+)` \| (?P<split>dev|test) \|$", re.MULTILINE)


def test_the_table_lists_every_case_with_its_truth() -> None:
    rows = {m["case"]: m for m in TABLE_ROW.finditer(TABLE.read_text(encoding="utf-8"))}
    assert sorted(rows) == sorted(case.name for case in CASES)
    for case in CASES:
        truth, row = _truth(case), rows[case.name]
        assert (row["category"], row["service"], row["kind"], row["split"]) == (
            truth["category"], truth["root_cause_service"], truth["root_cause_kind"], truth["split"]), case.name


@pytest.mark.parametrize("case", [c for c in CASES if int(c.name.split("-")[1]) >= 196], ids=lambda c: c.name)
def test_later_cases_record_changes_or_notes_beside_the_incident(case: Path) -> None:
    """From the ninth batch on, each bundle's events carry at least one change or note (the cause or a red herring)."""
    kinds = {json.loads(line)["kind"] for line in (case / "events.jsonl").read_text(encoding="utf-8").splitlines() if line}
    assert kinds & {"deploy", "config", "flag", "scale", "maintenance", "note"}, case.name


TENTH_BATCH = [c for c in CASES if int(c.name.split("-")[1]) >= 216]


@pytest.mark.parametrize("case", TENTH_BATCH, ids=lambda c: c.name)
def test_tenth_batch_bundles_are_varied_and_carry_a_red_herring_change(case: Path) -> None:
    """From the tenth batch on: logs of at least three components, at least two metric series, and a change or note
    on a component other than the truth's (a red herring beside the cause)."""
    context, _ = load_bundle(case)
    assert len(context.logs) >= 3, case.name
    assert len(context.metrics) >= 2, case.name
    truth = _truth(case)["root_cause_service"]
    others = [json.loads(line) for line in (case / "events.jsonl").read_text(encoding="utf-8").splitlines() if line]
    assert any(e["service"] != truth for e in others), case.name


def test_tenth_batch_holds_both_metric_shapes_and_several_alert_vendors() -> None:
    shapes = {p.suffix for case in TENTH_BATCH for p in (case / "metrics").iterdir()}
    assert shapes >= {".csv", ".json"}
    vendors = {load_bundle(case)[0].incident.alerts[0].source for case in TENTH_BATCH}
    assert len(vendors) >= 5, vendors


ELEVENTH_BATCH = [c for c in CASES if int(c.name.split("-")[1]) >= 236]


def test_eleventh_batch_is_complete_and_balanced() -> None:
    """pm-236..255: twenty cases, ten dev and ten test, over at least twelve companies and six kinds."""
    assert len(ELEVENTH_BATCH) >= 20
    splits = Counter(_truth(case)["split"] for case in ELEVENTH_BATCH[:20])
    assert splits == {"dev": 10, "test": 10}
    assert len({company_of(_truth(case)["modelled_on"]) for case in ELEVENTH_BATCH[:20]}) >= 12
    assert len({_truth(case)["root_cause_kind"] for case in ELEVENTH_BATCH[:20]}) >= 6


TWELFTH_BATCH = [c for c in CASES if 256 <= int(c.name.split("-")[1]) <= 275]


def test_twelfth_batch_is_complete_and_balanced() -> None:
    """pm-256..275: twenty cases, ten dev and ten test, over at least fifteen companies and seven kinds, aimed at
    the infrastructure classes (network, hardware, DNS, TLS, security) with a storage and a provider case."""
    assert len(TWELFTH_BATCH) == 20
    truths = [_truth(case) for case in TWELFTH_BATCH]
    assert Counter(t["split"] for t in truths) == {"dev": 10, "test": 10}
    assert len({company_of(t["modelled_on"]) for t in truths}) >= 15
    assert len({t["root_cause_kind"] for t in truths}) >= 7
    categories = Counter(t["category"] for t in truths)
    for category in ("network", "hardware", "dns", "tls", "security", "storage", "dependency"):
        assert categories[category] >= 1, category


def test_twelfth_batch_varies_its_evidence_formats() -> None:
    """The batch's logs come in several shapes (syslog with hosts, ISO-stamped journal lines, JSON objects, device
    messages), so the cases test reading formats, not our past vocabulary."""
    shapes: Counter[str] = Counter()
    for case in TWELFTH_BATCH:
        for path in (case / "logs").glob("*.log"):
            first = path.read_text(encoding="utf-8").splitlines()[0]
            if first.startswith("{"):
                shapes["json"] += 1
            elif re.match(r"^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \S+ ", first):
                shapes["syslog"] += 1
            elif re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4} \S+ \S+: ", first):
                shapes["journal"] += 1
            else:
                shapes["other"] += 1
    assert shapes["json"] >= 3 and shapes["syslog"] >= 3 and shapes["journal"] >= 2 and shapes["other"] >= 3, shapes


def _number(case: Path) -> int:
    return int(case.name.split("-")[1])


def _batch_truths(first: int, last: int, *, min_companies: int, new_after: int | None = None) -> list[dict[str, Any]]:
    """The shape every batch of twenty shares: pm-first..last all present, ten dev and ten test, at least
    ``min_companies`` companies (none of which a case up to pm-``new_after`` used, when given), alerts from at least
    five vendors. Returns the batch's truths for the batch's own checks."""
    batch = [c for c in CASES if first <= _number(c) <= last]
    assert [_number(c) for c in batch] == list(range(first, last + 1))
    truths = [_truth(case) for case in batch]
    assert Counter(t["split"] for t in truths) == {"dev": 10, "test": 10}
    companies = {company_of(t["modelled_on"]) for t in truths}
    assert len(companies) >= min_companies, companies
    if new_after is not None:
        earlier = {company_of(_truth(c)["modelled_on"]) for c in CASES if _number(c) <= new_after}
        assert companies.isdisjoint(earlier), companies & earlier
    assert len({load_bundle(case)[0].incident.alerts[0].source for case in batch}) >= 5
    return truths


def _assert_red_herrings(first: int, last: int) -> None:
    """Every bundle of pm-first..last has a change or note on a component other than the truth's (a red herring)."""
    for case in (c for c in CASES if first <= _number(c) <= last):
        truth = _truth(case)
        events = [json.loads(line) for line in (case / "events.jsonl").read_text(encoding="utf-8").splitlines() if line]
        assert any(e["service"] != truth["root_cause_service"] for e in events), case.name


def test_thirteenth_batch_is_complete_balanced_and_new() -> None:
    """pm-276..295: twenty cases, ten dev and ten test, over at least twelve companies none of which an earlier batch
    (pm-01..255) used, at least eight kinds, and alerts from at least five vendors."""
    truths = _batch_truths(276, 295, min_companies=12, new_after=255)
    assert len({t["root_cause_kind"] for t in truths}) >= 8


def test_fourteenth_batch_is_complete_balanced_and_on_platform_services() -> None:
    """pm-296..315: twenty cases, ten dev and ten test, over at least eighteen companies, at least eight kinds, alerts
    from at least five vendors, every bundle with a change or note on a component other than the truth's (a red
    herring), aimed at platform services (storage, brokers, caches, search, balancers and CDNs, providers)."""
    truths = _batch_truths(296, 315, min_companies=18)
    assert len({t["root_cause_kind"] for t in truths}) >= 8
    categories = Counter(t["category"] for t in truths)
    for category in ("storage", "memory", "deploy", "dependency", "network"):
        assert categories[category] >= 1, category


def test_fifteenth_batch_is_complete_balanced_and_new() -> None:
    """pm-316..335: twenty cases, ten dev and ten test, aimed at application and data failures (migrations, autoscaling,
    reconnect storms, queues, leaks, credentials), over at least fifteen companies none of which an earlier batch
    (pm-01..295) used, at least eight kinds, and alerts from at least five vendors."""
    truths = _batch_truths(316, 335, min_companies=15, new_after=295)
    assert len({t["root_cause_kind"] for t in truths}) >= 8


def test_sixteenth_batch_is_complete_balanced_and_spread_over_categories() -> None:
    """pm-336..355: twenty cases, ten dev and ten test, spread over failure families (route hijacks, registrars and
    DNSSEC, OCSP, power, cooling and switches, storage corruption, account takeover and abuse, launches), over at least
    eighteen companies none of which an earlier batch (pm-01..335) used, at least eight categories, and alerts from at
    least five vendors."""
    truths = _batch_truths(336, 355, min_companies=18, new_after=335)
    assert len({t["category"] for t in truths}) >= 8


def test_seventeenth_batch_is_complete_balanced_and_beneath_the_application() -> None:
    """pm-356..375: twenty cases, ten dev and ten test, aimed at the infrastructure beneath the application (storage
    controllers and drives, power and cooling, switches, routers and fabrics, storage clusters, hypervisors), over at
    least fifteen companies none of which an earlier batch (pm-01..355) used, alerts from at least five vendors, most
    of the truths on an infrastructure component (hardware, network or storage, or a change of one), and every bundle
    with a change or note on a component other than the truth's (a red herring)."""
    truths = _batch_truths(356, 375, min_companies=15, new_after=355)
    categories = Counter(t["category"] for t in truths)
    assert categories["hardware"] >= 8 and categories["network"] >= 1 and categories["memory"] >= 1, categories
    assert len({t["root_cause_kind"] for t in truths}) >= 6
    _assert_red_herrings(356, 375)


def test_eighteenth_batch_is_new_and_aimed_at_services_and_data() -> None:
    """pm-376..395: twenty cases, ten dev and ten test, over at least fifteen companies none of which an earlier
    batch (pm-01..355) used, alerts from at least five vendors, aimed at services and data (databases, TLS, DNS,
    capacity, releases, third-party providers): each of those six families holds at least one case, and the batch
    spreads over at least eight kinds."""
    truths = _batch_truths(376, 395, min_companies=15, new_after=355)
    categories = Counter(t["category"] for t in truths)
    for category in ("database", "tls", "dns", "capacity", "deploy", "dependency"):
        assert categories[category] >= 1, category
    assert len({t["root_cause_kind"] for t in truths}) >= 8


def test_nineteenth_batch_is_complete_balanced_and_cross_cutting() -> None:
    """pm-396..415: twenty cases, ten dev and ten test, on the cross-cutting failures an on-call engineer meets
    (identity and secrets, queues and consumers, providers and cloud regions, observability backends, release and
    infrastructure changes, scheduled jobs and time, caches), over at least fifteen companies none of which an
    earlier batch (pm-01..355) used, alerts from at least five vendors, at least six categories and seven kinds, and
    every bundle with a change or note on a component other than the truth's (a red herring)."""
    truths = _batch_truths(396, 415, min_companies=15, new_after=355)
    assert len({t["category"] for t in truths}) >= 6
    assert len({t["root_cause_kind"] for t in truths}) >= 7
    _assert_red_herrings(396, 415)


def test_twentieth_batch_is_new_and_on_data_and_messaging_platforms() -> None:
    """pm-416..435: twenty cases, ten dev and ten test, on data and messaging platforms under real failure
    (ZooKeeper quorum and latency, Kafka brokers and zones, Elasticsearch clusters, Cassandra, PostgreSQL replication
    slots, logical replication, migration locks, object-storage metadata, time servers and the leap second), over at
    least fifteen companies none of which an earlier batch (pm-01..415) used, alerts from at least five vendors, at
    least five categories and eight kinds, most truths on a datastore, broker or storage category, and every bundle
    with a change or note on a component other than the truth's (a red herring)."""
    truths = _batch_truths(416, 435, min_companies=15, new_after=415)
    categories = Counter(t["category"] for t in truths)
    assert len(categories) >= 5, categories
    assert categories["database"] + categories["storage"] >= 10, categories
    assert len({t["root_cause_kind"] for t in truths}) >= 8
    _assert_red_herrings(416, 435)


def test_twenty_second_batch_is_new_and_aimed_at_the_application_and_its_resources() -> None:
    """pm-456..475: twenty cases, ten dev and ten test, on the application and its own resources (memory leaks and
    OOM kills, open-file and local-port limits, thread and connection pools, migrations, jobs and settings that load
    a shared resource, full disks), at least fifteen of their companies new to the casebook (none used up to
    pm-415), alerts from at least five vendors, at least six categories and eight kinds, and every bundle with a
    change or note on a component other than the truth's (a red herring)."""
    truths = _batch_truths(456, 475, min_companies=15)
    earlier = {company_of(_truth(c)["modelled_on"]) for c in CASES if _number(c) <= 415}
    new = {company_of(t["modelled_on"]) for t in truths} - earlier
    assert len(new) >= 15, new
    categories = Counter(t["category"] for t in truths)
    assert len(categories) >= 6 and categories["memory"] >= 3, categories
    assert len({t["root_cause_kind"] for t in truths}) >= 8
    _assert_red_herrings(456, 475)


def test_twenty_first_batch_is_new_and_on_the_path_to_the_user() -> None:
    """pm-436..455: twenty cases, ten dev and ten test, on the edge and the path to the user (certificates and TLS
    settings at balancers and CDNs, balancers and their health checks, DNS, email, SMS and push providers, payment
    providers, authentication services), over at least fifteen companies none of which an earlier batch (pm-01..435)
    used, alerts from at least five vendors, at least six categories and seven kinds, and every bundle with a change
    or note on a component other than the truth's (a red herring)."""
    truths = _batch_truths(436, 455, min_companies=15, new_after=435)
    categories = Counter(t["category"] for t in truths)
    for category in ("tls", "dns", "dependency", "deploy"):
        assert categories[category] >= 1, category
    assert len(categories) >= 6, categories
    assert len({t["root_cause_kind"] for t in truths}) >= 7
    _assert_red_herrings(436, 455)
