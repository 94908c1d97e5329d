"""The redaction table against the detect-secrets project's own rule set (issue 17).

detect-secrets' detectors, minus its entropy ones (too many false positives on log lines), scan the labelled
corpus of ``bench.resilience`` (``secrets_corpus``): every value they flag must be gone from our redaction of
that line, and every one of their credential detectors must flag some corpus line (so the corpus reaches the
whole rule set, and a detector added upstream shows up here). Our redaction of ordinary log lines must stay
under 1% false positives.
"""

from __future__ import annotations

import pytest
from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.core.scan import scan_line
from detect_secrets.settings import transient_settings

from bench.resilience.secrets_corpus import ordinary_lines, secret_corpus
from bot.reasoning.redact import redact, secret_shapes

ENTROPY = {
    "Base64HighEntropyString",
    "HexHighEntropyString",
}  # excluded: they flag ids and hashes in log lines
PERSONAL = {"IPPublicDetector"}  # personal data, not a credential: our ``ipv4`` shape redacts every address


def _detectors() -> list[str]:
    return sorted(
        cls.__name__
        for cls in get_mapping_from_secret_type_to_class().values()
        if cls.__name__ not in ENTROPY
    )


@pytest.fixture(scope="module")
def findings() -> list[tuple[str, str, str, str]]:
    """(corpus label, line, detector's secret type, flagged value) for every detect-secrets finding."""
    out: list[tuple[str, str, str, str]] = []
    with transient_settings({"plugins_used": [{"name": name} for name in _detectors()]}):
        for label, line, _secret in secret_corpus():
            out.extend((label, line, found.type, found.secret_value or "") for found in scan_line(line))
    return out


def test_the_rule_set_is_the_one_this_test_was_written_for() -> None:
    # a detector added or renamed upstream must be looked at here (and given corpus lines), not missed
    assert _detectors() == [
        "AWSKeyDetector",
        "ArtifactoryDetector",
        "AzureStorageKeyDetector",
        "BasicAuthDetector",
        "CloudantDetector",
        "DiscordBotTokenDetector",
        "GitHubTokenDetector",
        "GitLabTokenDetector",
        "IPPublicDetector",
        "IbmCloudIamDetector",
        "IbmCosHmacDetector",
        "JwtTokenDetector",
        "KeywordDetector",
        "MailchimpDetector",
        "NpmDetector",
        "OpenAIDetector",
        "PrivateKeyDetector",
        "PypiTokenDetector",
        "SendGridDetector",
        "SlackDetector",
        "SoftlayerDetector",
        "SquareOAuthDetector",
        "StripeDetector",
        "TelegramBotTokenDetector",
        "TwilioKeyDetector",
    ]


def test_every_credential_detector_flags_some_corpus_line(findings: list[tuple[str, str, str, str]]) -> None:
    types = {cls.__name__: cls.secret_type for cls in get_mapping_from_secret_type_to_class().values()}
    flagged = {kind for _, _, kind, _ in findings}
    unreached = [name for name in _detectors() if name not in PERSONAL and types[name] not in flagged]
    assert unreached == [], f"no corpus line in the format of: {unreached}"


def test_every_value_detect_secrets_flags_is_redacted(findings: list[tuple[str, str, str, str]]) -> None:
    assert findings
    leaks = sorted(
        {
            (label, kind, value[:24])
            for label, line, kind, value in findings
            if value and value in redact(line)
        }
    )
    assert leaks == [], f"{len(leaks)} values flagged by detect-secrets survive our redaction: {leaks[:10]}"


def test_ordinary_log_lines_stay_under_one_percent_false_positives() -> None:
    names = {shape.name for shape in secret_shapes()}
    lines = ordinary_lines()
    wrong = [line for line in lines if any(f"[REDACTED:{name}]" in redact(line) for name in names)]
    assert len(wrong) / len(lines) < 0.01, wrong[:5]
