"""What a search box holds: keys, ticket numbers and words (sets.domain.search)."""

from __future__ import annotations

import pytest

from sets.domain.search import (
    MAX_WORD_LENGTH,
    MAX_WORDS,
    SearchTerms,
    matches_prefix,
    parse_search,
    words_of,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SETS-42", SearchTerms(ticket_id=42)),
        ("  sets-7 ", SearchTerms(ticket_id=7)),
        ("42", SearchTerms(ticket_id=42, words=("42",))),
        ("#42", SearchTerms(ticket_id=42, words=("42",))),
        ("SETS-99999999999", SearchTerms()),  # beyond any id: matches nothing
        ("Printer offline", SearchTerms(words=("printer", "offline"))),
        ("E-42", SearchTerms(words=("e", "42"))),
        ("don't   PANIC!!", SearchTerms(words=("don", "t", "panic"))),
        ("printer printer PRINTER", SearchTerms(words=("printer",))),
        ("Müller straße", SearchTerms(words=("müller", "straße"))),
        ("!!! --- ???", SearchTerms()),
        ("foo_bar\x00baz", SearchTerms(words=("foo", "bar", "baz"))),
    ],
)
def test_parse_search(text: str, expected: SearchTerms) -> None:
    assert parse_search(text) == expected


def test_key_alone_names_one_ticket_and_no_words() -> None:
    assert parse_search("SETS-3").only_id
    assert not parse_search("3").only_id
    assert parse_search("...").empty


def test_words_are_bounded() -> None:
    many = " ".join(f"w{n}" for n in range(50))
    assert len(words_of(many)) == MAX_WORDS
    assert words_of("x" * 500) == ("x" * MAX_WORD_LENGTH,)


@pytest.mark.parametrize(
    ("word", "prefix"),
    [("print", True), ("vpn", True), ("e", False), ("ab", False), ("42", False), ("e42", True)],
)
def test_which_words_match_as_prefixes(word: str, prefix: bool) -> None:
    assert matches_prefix(word) is prefix
