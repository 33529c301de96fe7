"""Limits on what people type."""

from __future__ import annotations

import pytest

from sets.domain import validation as v
from sets.domain.errors import ErrorCode, ValidationFailed


def test_text_trims() -> None:
    assert v.text("  Printer on fire \n", field="title", max_len=200) == "Printer on fire"


@pytest.mark.parametrize("blank", [None, "", "   ", "\n\t "])
def test_required_text_must_not_be_blank(blank: str | None) -> None:
    with pytest.raises(ValidationFailed) as caught:
        v.text(blank, field="title", max_len=200)
    assert caught.value.field == "title"
    assert caught.value.code is ErrorCode.VALIDATION


def test_optional_text() -> None:
    assert v.text(None, field="reason", max_len=10, required=False) == ""
    assert v.optional_text("   ", field="reason", max_len=10) is None
    assert v.optional_text(None, field="reason", max_len=10) is None
    assert v.optional_text(" why ", field="reason", max_len=10) == "why"
    with pytest.raises(ValidationFailed) as caught:
        v.optional_text("x" * 11, field="reason", max_len=10)
    assert caught.value.field == "reason"


def test_text_length_limit_is_inclusive_and_counted_after_trimming() -> None:
    assert v.text("x" * 200, field="title", max_len=v.TITLE_MAX) == "x" * 200
    assert v.text("  " + "x" * 200 + "  ", field="title", max_len=v.TITLE_MAX) == "x" * 200
    with pytest.raises(ValidationFailed) as caught:
        v.text("x" * 201, field="title", max_len=v.TITLE_MAX)
    assert caught.value.field == "title"
    assert "200" in caught.value.message


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Ana@Example.COM", "ana@example.com"),
        ("  bob.smith+sets@mail.clinic.org ", "bob.smith+sets@mail.clinic.org"),
    ],
)
def test_valid_email_is_normalised(raw: str, clean: str) -> None:
    assert v.email(raw) == clean


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ana",
        "ana@",
        "@example.com",
        "ana@example",
        "ana@@example.com",
        "ana smith@example.com",
        "ana@exa mple.com",
        "ana@example.com\nbcc@evil.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_invalid_email(raw: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        v.email(raw)
    assert caught.value.field == "email"


def test_email_length_limit() -> None:
    longest = "a@" + "b" * 248 + ".com"
    assert len(longest) == 254
    assert v.email(longest) == longest


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("ab", "ab"),
        ("Ana.Smith", "ana.smith"),
        (" j_doe-2 ", "j_doe-2"),
        ("0day", "0day"),
        ("a" * 40, "a" * 40),
    ],
)
def test_valid_username(raw: str, clean: str) -> None:
    assert v.username(raw) == clean


@pytest.mark.parametrize(
    "raw", ["", "a", "a" * 41, "-ana", ".ana", "_ana", "ana smith", "ana@x", "anä", "ana\nbob"]
)
def test_invalid_username(raw: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        v.username(raw)
    assert caught.value.field == "username"


def test_password_length() -> None:
    assert v.password("12345678") == "12345678"
    # Kept exactly as typed: spaces are characters of the password, not padding.
    assert v.password(" secret phrase ") == " secret phrase "
    with pytest.raises(ValidationFailed) as caught:
        v.password("1234567")
    assert caught.value.field == "password"


@pytest.mark.parametrize(
    ("address", "handle"),
    [
        ("rita@example.com", "rita"),
        ("o'neil+it@example.com", "oneil.it"),
        ("p@x.com", "userp"),
        (".__@x.com", "user"),
        ("Émile.Zola@x.com", "mile.zola"),
    ],
)
def test_username_from_email_is_always_valid(address: str, handle: str) -> None:
    from sets.domain.validation import username, username_from_email

    assert username_from_email(address) == handle
    assert username(username_from_email(address)) == handle
