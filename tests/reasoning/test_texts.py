from __future__ import annotations

import pytest

import prompts
from bot.domain import Analysis, ChangeEvent, Severity
from bot.reasoning import categorize, rank, recommend, summarize
from bot.reasoning.redact import redact
from bot.reasoning.summary import answer_from_template
from bot.reasoning.taxonomy import TaxonomyClassifier

from .factories import at, context, runbook, signal, similar


@pytest.mark.parametrize("secret,leak", [
    ("password=hunter22", "hunter22"),
    ("Authorization: Bearer abcdefghijklmnop1234", "abcdefghijklmnop1234"),
    ("postgres://app:s3cretpw@db:5432/app", "s3cretpw"),
    ("key AKIAABCDEFGHIJKLMNOP used", "AKIAABCDEFGHIJKLMNOP"),
    ("mail bob.smith@example.org now", "bob.smith@example.org"),
    ("client 10.1.2.3 refused", "10.1.2.3"),
    ("token xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"),
    ('{"api_key": "zzz-123-yyy"}', "zzz-123-yyy"),
])
def test_redaction_removes_secrets_and_personal_data(secret: str, leak: str) -> None:
    out = redact(f"ERROR something {secret} happened")
    assert leak not in out and "[REDACTED:" in out
    assert out.startswith("ERROR something")


def test_redaction_keeps_ordinary_log_text() -> None:
    line = "GET /api/orders 503 in 1203 ms: connection pool exhausted (size 20)"
    assert redact(line) == line


def test_categorize_follows_the_confident_hypothesis_and_falls_back_to_alert_words() -> None:
    sigs = [signal("logs", "db", "db_connection_exhaustion", 0.9, 1)]
    result = rank(context=context(), signals=sigs, similar=[], runbooks=[])
    cat = categorize(context=context(), signals=sigs, hypotheses=result.hypotheses)
    top = result.hypotheses[0]
    # the category takes the confidence of the hypotheses in it: at least the top's (a lone log signal is a weak
    # answer on the first-contact map, below 0.3)
    assert (top.service, top.kind) == ("db", "db_connection_exhaustion")
    assert cat.label == "database" and cat.confidence >= top.confidence > 0.1
    cat2 = categorize(context=context(title="Disk full on node-3: no space left on device"), signals=[], hypotheses=[])
    assert cat2.label == "storage" and 0 < cat2.confidence <= 0.5
    assert categorize(context=context(title="Something odd"), signals=[], hypotheses=[]).label == "unknown"


def test_recommendations_use_runbooks_incidents_and_kind_checks_ranked_and_deduplicated() -> None:
    sigs = [signal("logs", "db", "db_connection_exhaustion", 0.9, 1)]
    rb = runbook("db_connection_exhaustion", ["db"], text="1. Check the pool size\n2. Check the pool size\n- Restart the pgbouncer")
    sim = similar("db", "db_connection_exhaustion", 0.8, resolution="Raised max pool from 20 to 50")
    result = rank(context=context(), signals=sigs, similar=[sim], runbooks=[(rb, 0.8)])
    recs = recommend(hypotheses=result.hypotheses, runbooks=[(rb, 0.8)], similar=[sim])
    texts = [r.text for r in recs]
    assert texts.count("Check the pool size") == 1
    assert {r.source for r in recs} >= {"runbook", "incident", "kind-check"}
    assert any(r.url == rb.url for r in recs) and any(r.url == sim.url for r in recs)
    assert any("pool size" in t and "max_connections" in t for t in texts)
    assert any("slow or long-running queries" in t for t in texts)
    assert [r.score for r in recs] == sorted((r.score for r in recs), reverse=True)


def test_summary_and_template_answers_speak_from_the_evidence() -> None:
    ctx = context(events=[ChangeEvent(ts=at(-4), kind="deploy", service="checkout", text="v9 rollout")])
    ctx.incident.severity = Severity.CRITICAL
    sigs = [signal("logs", "db", "db_connection_exhaustion", 0.9, 1)]
    result = rank(context=ctx, signals=sigs, similar=[], runbooks=[])
    analysis = Analysis(incident_id=ctx.incident.id, hypotheses=result.hypotheses, enough_evidence=result.enough_evidence,
                        signals=sigs)
    analysis.category = categorize(context=ctx, signals=sigs, hypotheses=result.hypotheses)
    text = summarize(context=ctx, analysis=analysis)
    top = result.hypotheses[0]
    # a confident answer names the kind; a weak lead (model-dependent confidence) names its title
    assert "critical" in text and (top.kind in text or top.title in text) and "Category: database" in text
    assert top.kind == "db_connection_exhaustion" and top.service == "db"
    weak = Analysis(incident_id="x", enough_evidence=False)
    assert "Not enough evidence" in summarize(context=ctx, analysis=weak)
    assert "v9 rollout" in answer_from_template("what changed in the last hour?", ctx, analysis)
    assert "db_connection_exhaustion" in answer_from_template("why is checkout slow?", ctx, analysis)


def test_prompt_templates_render_and_reject_missing_variables() -> None:
    assert {"system.j2", "analysis.j2", "question.j2", "postmortem.j2"} <= set(prompts.names())
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        prompts.render("question.j2", incident_title="x")


def test_taxonomy_classifier_learns_a_team_multi_label_taxonomy() -> None:
    texts, labels = [], []
    for i in range(12):
        texts.append(f"payment card declined by the acquirer gateway timeout batch {i}")
        labels.append(["payments"])
        texts.append(f"search index rebuild lagging shards replica {i}")
        labels.append(["search"])
        texts.append(f"payment gateway and search index both degraded after shards moved {i}")
        labels.append(["payments", "search"])
    clf = TaxonomyClassifier().fit(texts, labels)
    assert clf.labels == ["payments", "search"]
    preds = clf.predict(["the acquirer declined card payment gateway errors",
                         "replica shards of the search index are lagging",
                         "payment gateway errors while search index shards lag"])
    assert preds[0].labels == ["payments"]
    assert preds[1].labels == ["search"]
    assert preds[2].labels == ["payments", "search"]
