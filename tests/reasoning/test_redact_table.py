"""The redaction table (``bot.reasoning.redact.SHAPES``): every row's positive example loses its secret,
every row's negative look-alike stays untouched, and a prompt-like text with many secrets keeps none."""

from __future__ import annotations

import pytest

from bot.reasoning.redact import SHAPES, Shape, redact, secret_shapes


def _id(shape: Shape) -> str:
    return f"{shape.name}:{shape.pattern.pattern[:24]}"


def test_the_table_covers_at_least_sixty_secret_shapes() -> None:
    assert len(secret_shapes()) >= 60


@pytest.mark.parametrize("shape", SHAPES, ids=_id)
def test_positive_example_loses_its_secret(shape: Shape) -> None:
    out = redact(shape.positive)
    assert shape.leak not in out and "[REDACTED:" in out, out


@pytest.mark.parametrize("shape", SHAPES, ids=_id)
def test_negative_example_is_untouched(shape: Shape) -> None:
    assert redact(shape.negative) == shape.negative


@pytest.mark.parametrize("shape", SHAPES, ids=_id)
def test_the_row_itself_catches_its_positive(shape: Shape) -> None:
    assert shape.pattern.search(shape.positive) is not None


@pytest.mark.parametrize("line, leak", [
    ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
    ("DB_PASSWORD=s3cr3t-db", "s3cr3t-db"),
    ("PGPASSWORD=pgpw123", "pgpw123"),
    ("redis://:pw@host:6379", ":pw@"),
    ("dsn postgres://app:p@ssw0rd@db/x", "ssw0rd"),
    ("postgres://app:p@ssw0rd@db/x", "p@ss"),
    ("GET /cb?access_token=abc123xyz", "abc123xyz"),
    ("https://hooks.slack.com/services/T01234567/B01234567/abcdefghijklmnopqrstuvwx", "abcdefghijklmnopqrstuvwx"),
    ('password: "x"', '"x"'),
    ("sk_live_51Habcdefghijklmnopqrst", "51Habcdef"),
    ("AIzaSyA1234567890abcdefghijklmnopqrstuv", "AIzaSyA1234567890"),
    ("github_pat_11AAAAAAA0aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "bbbbbbbb"),
])
def test_the_shapes_the_issue_saw_leak(line: str, leak: str) -> None:
    assert leak not in redact(f"2026-12-06T10:00:00Z ERROR config {line} in use")


def test_redaction_keeps_the_key_and_the_rest_of_the_line() -> None:
    assert redact("start DB_PASSWORD=hunter22 port=5432") == "start DB_PASSWORD=[REDACTED:secret] port=5432"
    assert redact("Authorization: Bearer abcdefghijklmnop1234") == "Authorization: Bearer [REDACTED:bearer]"
    assert redact("postgres://app:p@ssw0rd@db:5432/x") == "postgres://[REDACTED:url_credentials]@db:5432/x"
