"""Priority on creation (SPEC §3, §16 "explicit policy order")."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sets.domain.enums import Priority, Urgency
from sets.domain.priority import (
    PriorityChoice,
    PriorityRuleSpec,
    choose_priority,
    parse_keywords,
    rule_matches,
)

PAYMENT, HARDWARE = 1, 2


def choose(
    rules: list[PriorityRuleSpec],
    *,
    category_id: int | None = None,
    title: str = "Something is wrong",
    description: str = "",
    category_default: Priority | None = None,
    urgency: Urgency | None = None,
) -> PriorityChoice:
    return choose_priority(
        rules,
        category_id=category_id,
        title=title,
        description=description,
        category_default=category_default,
        urgency=urgency,
    )


def test_lowest_position_wins_regardless_of_id_and_order() -> None:
    late = PriorityRuleSpec(id=1, position=20, priority=Priority.P4)
    early = PriorityRuleSpec(id=2, position=10, priority=Priority.P1)
    for rules in ([late, early], [early, late]):
        assert choose(rules) == PriorityChoice(Priority.P1, "rule", 2)


def test_equal_positions_fall_back_to_the_lower_id() -> None:
    a = PriorityRuleSpec(id=7, position=5, priority=Priority.P2)
    b = PriorityRuleSpec(id=3, position=5, priority=Priority.P4)
    assert choose([a, b]).rule_id == 3
    assert choose([b, a]).rule_id == 3


def test_a_non_matching_earlier_rule_is_skipped() -> None:
    payment = PriorityRuleSpec(id=1, position=1, priority=Priority.P1, category_id=PAYMENT)
    outage = PriorityRuleSpec(id=2, position=2, priority=Priority.P2, keywords=("outage",))
    choice = choose([payment, outage], category_id=HARDWARE, title="Outage in the lab")
    assert choice == PriorityChoice(Priority.P2, "rule", 2)


def test_category_rule() -> None:
    payment = PriorityRuleSpec(id=1, position=1, priority=Priority.P1, category_id=PAYMENT)
    assert choose([payment], category_id=PAYMENT) == PriorityChoice(Priority.P1, "rule", 1)
    assert choose([payment], category_id=HARDWARE).source == "default"
    assert choose([payment], category_id=None).source == "default"


@pytest.mark.parametrize(
    ("title", "description", "matches"),
    [
        ("Outage!", "", True),
        ("Total OUTAGE", "", True),
        ("help", "we have an outage since 9:00", True),
        ("pre-outage checks", "", True),
        ("(outage)", "", True),
        ("outages all week", "", False),
        ("blackoutage", "", False),
        ("outage_2", "", False),
        ("", "", False),
    ],
)
def test_keyword_rule_matches_whole_words_in_title_or_description(
    title: str, description: str, matches: bool
) -> None:
    rule = PriorityRuleSpec(id=1, position=1, priority=Priority.P1, keywords=("outage",))
    choice = choose([rule], title=title, description=description)
    assert (choice.source == "rule") is matches


def test_keyword_rule_matches_any_of_its_keywords() -> None:
    rule = PriorityRuleSpec(id=1, position=1, priority=Priority.P1, keywords=("outage", " VPN "))
    assert choose([rule], title="vpn down").source == "rule"
    assert choose([rule], title="printer jam").source == "default"


def test_keywords_are_literal_text_not_patterns() -> None:
    cpp = PriorityRuleSpec(id=1, position=1, priority=Priority.P2, keywords=("c++",))
    assert choose([cpp], title="c++ build broken").source == "rule"
    assert choose([cpp], title="c build broken").source == "default"
    dot = PriorityRuleSpec(id=2, position=1, priority=Priority.P2, keywords=("a.b",))
    assert choose([dot], title="axb").source == "default"


def test_multi_word_keyword_does_not_span_title_and_description() -> None:
    rule = PriorityRuleSpec(id=1, position=1, priority=Priority.P1, keywords=("disk full",))
    assert choose([rule], title="Disk full on srv1").source == "rule"
    assert choose([rule], title="disk", description="full").source == "default"


def test_rule_with_category_and_keywords_needs_both() -> None:
    rule = PriorityRuleSpec(
        id=1, position=1, priority=Priority.P1, category_id=PAYMENT, keywords=("refund",)
    )
    assert choose([rule], category_id=PAYMENT, title="Refund failed").source == "rule"
    assert choose([rule], category_id=PAYMENT, title="Invoice wrong").source == "default"
    assert choose([rule], category_id=HARDWARE, title="Refund failed").source == "default"


def test_rule_matches_is_given_lowercased_text() -> None:
    rule = PriorityRuleSpec(id=1, position=1, priority=Priority.P1, keywords=("Outage",))
    assert rule_matches(rule, category_id=None, text="an outage")


def test_fallbacks_in_order() -> None:
    no_match = [PriorityRuleSpec(id=1, position=1, priority=Priority.P1, category_id=PAYMENT)]
    assert choose(no_match, category_default=Priority.P2, urgency=Urgency.LOW) == PriorityChoice(
        Priority.P2, "category"
    )
    assert choose(no_match, urgency=Urgency.LOW) == PriorityChoice(Priority.P4, "urgency")
    assert choose(no_match) == PriorityChoice(Priority.P3, "default")
    assert choose([]) == PriorityChoice(Priority.P3, "default")


def test_a_matching_rule_beats_category_default_and_urgency() -> None:
    rule = PriorityRuleSpec(id=9, position=1, priority=Priority.P4, keywords=("question",))
    choice = choose(
        [rule], title="a question", category_default=Priority.P1, urgency=Urgency.CRITICAL
    )
    assert choice == PriorityChoice(Priority.P4, "rule", 9)


@pytest.mark.parametrize(
    ("urgency", "priority"),
    [
        (Urgency.CRITICAL, Priority.P1),
        (Urgency.HIGH, Priority.P2),
        (Urgency.NORMAL, Priority.P3),
        (Urgency.LOW, Priority.P4),
    ],
)
def test_urgency_maps_onto_priority(urgency: Urgency, priority: Priority) -> None:
    assert choose([], urgency=urgency) == PriorityChoice(priority, "urgency")


def test_parse_keywords() -> None:
    assert parse_keywords("Outage, outage ,, VPN,  ,vpn , Down") == ("outage", "vpn", "down")
    assert parse_keywords(["  A ", "b", "a", ""]) == ("a", "b")
    assert parse_keywords("") == ()


# --- the choice does not depend on the order rules arrive in --------------------------------

WORDS = ["outage", "vpn", "printer", "refund", "slow"]

rule_lists = st.lists(
    st.builds(
        PriorityRuleSpec,
        id=st.integers(1, 10_000),
        position=st.integers(0, 5),
        priority=st.sampled_from(Priority),
        category_id=st.sampled_from([None, PAYMENT, HARDWARE]),
        keywords=st.lists(st.sampled_from(WORDS), max_size=2, unique=True).map(tuple),
    ),
    max_size=8,
    unique_by=lambda r: r.id,
)


@given(
    rules_and_shuffled=rule_lists.flatmap(lambda rs: st.tuples(st.just(rs), st.permutations(rs))),
    category_id=st.sampled_from([None, PAYMENT, HARDWARE]),
    words=st.lists(st.sampled_from([*WORDS, "hello", "world"]), max_size=5),
)
def test_choice_is_the_first_match_by_position_whatever_the_input_order(
    rules_and_shuffled: tuple[list[PriorityRuleSpec], list[PriorityRuleSpec]],
    category_id: int | None,
    words: list[str],
) -> None:
    rules, shuffled = rules_and_shuffled
    title = " ".join(words)

    # An independent oracle: plain set membership on whole words.
    def matches(r: PriorityRuleSpec) -> bool:
        in_category = r.category_id is None or r.category_id == category_id
        return in_category and (not r.keywords or any(k in words for k in r.keywords))

    candidates = [r for r in rules if matches(r)]
    expected = (
        PriorityChoice(Priority.P3, "default")
        if not candidates
        else (lambda w: PriorityChoice(w.priority, "rule", w.id))(
            min(candidates, key=lambda r: (r.position, r.id))
        )
    )
    assert choose(rules, category_id=category_id, title=title) == expected
    assert choose(shuffled, category_id=category_id, title=title) == expected
