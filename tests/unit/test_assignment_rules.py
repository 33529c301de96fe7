"""Auto-assignment choice (SPEC §9, §16 "fair assignment"): skill, load, round-robin ties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sets.domain.assignment import (
    SKILL_MAX,
    SKILLS_PER_USER_MAX,
    Candidate,
    choose_assignee,
    qualifies,
    skill,
    skills,
)
from sets.domain.enums import Role
from sets.domain.errors import ValidationFailed


def member(
    user_id: int,
    *,
    open_tickets: int = 0,
    has: tuple[str, ...] = ("network",),
    active: bool = True,
    role: Role = Role.AGENT,
    in_team: bool = True,
) -> Candidate:
    return Candidate(
        user_id=user_id,
        active=active,
        role=role,
        in_team=in_team,
        skills=frozenset(has),
        open_tickets=open_tickets,
    )


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("network", "network"),
        ("  VPN ", "vpn"),
        ("Network Printers", "network-printers"),
        ("sap_fi", "sap-fi"),
        ("Tier 2  Linux", "tier-2-linux"),
        ("x" * SKILL_MAX, "x" * SKILL_MAX),
    ],
)
def test_skills_are_stored_as_lowercase_slugs(raw: str, stored: str) -> None:
    assert skill(raw) == stored


@pytest.mark.parametrize(
    "raw", ["", "   ", "-vpn", "vpn-", "a--b", "c++", "über", "x" * (SKILL_MAX + 1), "a\x00b"]
)
def test_bad_skill_names_are_refused_on_the_given_field(raw: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        skill(raw, field="requiredSkill")
    assert info.value.field == "requiredSkill"


def test_a_skill_set_is_normalised_deduplicated_and_bounded() -> None:
    assert skills(["VPN", "vpn", " Network ", "sap_fi"]) == ["network", "sap-fi", "vpn"]
    assert skills([]) == []
    with pytest.raises(ValidationFailed) as info:
        skills([f"s{i}" for i in range(SKILLS_PER_USER_MAX + 1)])
    assert info.value.field == "skills"


def test_the_skilled_member_with_the_fewest_open_tickets_is_picked() -> None:
    choice = choose_assignee(
        [
            member(1, open_tickets=0, has=("hardware",)),
            member(2, open_tickets=3),
            member(3, open_tickets=1),
            member(4, open_tickets=2),
        ],
        required_skill="network",
        last_user_id=None,
    )
    assert choice.user_id == 3
    assert (choice.qualified, choice.tied) == (3, 1)
    assert "'network'" in choice.reason and "fewest open tickets (1)" in choice.reason
    assert "round-robin" not in choice.reason


def test_never_inactive_outside_the_team_unskilled_or_not_a_queue_worker() -> None:
    idle = {"open_tickets": 0}
    outsiders = [
        member(1, active=False, **idle),
        member(2, in_team=False, **idle),
        member(3, has=(), **idle),
        member(4, role=Role.REQUESTER, **idle),
        member(5, role=Role.ADMIN, **idle),
    ]
    busy_manager = member(9, role=Role.MANAGER, open_tickets=40)
    choice = choose_assignee([*outsiders, busy_manager], required_skill="network", last_user_id=0)
    assert choice.user_id == 9
    nobody = choose_assignee(outsiders, required_skill="network", last_user_id=None)
    assert nobody.user_id is None
    assert nobody.reason == "no active agent or manager in the team has the skill 'network'"
    assert choose_assignee([], required_skill=None, last_user_id=None).reason == (
        "no active agent or manager in the team"
    )


def test_without_a_required_skill_any_member_qualifies() -> None:
    choice = choose_assignee(
        [member(1, has=(), open_tickets=2), member(2, has=("vpn",), open_tickets=1)],
        required_skill=None,
        last_user_id=None,
    )
    assert choice.user_id == 2
    assert choice.reason.startswith("any skill;")


@pytest.mark.parametrize(
    ("last", "picked"), [(None, 2), (1, 2), (2, 5), (4, 5), (5, 7), (7, 2), (99, 2)]
)
def test_ties_go_round_robin_after_the_last_pick_wrapping_around(
    last: int | None, picked: int
) -> None:
    tied = [member(7), member(2), member(5), member(3, open_tickets=1)]
    choice = choose_assignee(tied, required_skill="network", last_user_id=last)
    assert choice.user_id == picked
    assert choice.tied == 3 and "a tie of 3 broken round-robin" in choice.reason


def test_fewest_open_tickets_beats_the_round_robin_turn() -> None:
    choice = choose_assignee(
        [member(1, open_tickets=2), member(2, open_tickets=1), member(3, open_tickets=2)],
        required_skill="network",
        last_user_id=2,
    )
    assert choice.user_id == 2


candidates = st.lists(
    st.builds(
        Candidate,
        user_id=st.integers(1, 30),
        active=st.booleans(),
        role=st.sampled_from(list(Role)),
        in_team=st.booleans(),
        skills=st.frozensets(st.sampled_from(["network", "vpn", "sap"]), max_size=3),
        open_tickets=st.integers(0, 5),
    ),
    max_size=12,
    unique_by=lambda c: c.user_id,
)


@given(
    candidates,
    st.sampled_from([None, "network", "vpn"]),
    st.one_of(st.none(), st.integers(0, 31)),
)
def test_the_pick_is_qualified_least_loaded_and_next_in_turn(
    found: list[Candidate], required: str | None, last: int | None
) -> None:
    choice = choose_assignee(found, required_skill=required, last_user_id=last)
    qualified = [c for c in found if qualifies(c, required)]
    if not qualified:
        assert choice.user_id is None and choice.reason
        return
    picked = next(c for c in qualified if c.user_id == choice.user_id)
    fewest = min(c.open_tickets for c in qualified)
    assert picked.open_tickets == fewest
    tied = sorted(c.user_id for c in qualified if c.open_tickets == fewest)
    # Next in id order after `last`, cyclically: nobody tied lies strictly between them.
    if last is not None and any(uid > last for uid in tied):
        assert picked.user_id > last
        assert not [uid for uid in tied if last < uid < picked.user_id]
    else:
        assert picked.user_id == tied[0]


@given(st.lists(st.integers(0, 3), min_size=2, max_size=6), st.integers(1, 60))
def test_repeated_picks_even_out_the_load(start: list[int], rounds: int) -> None:
    """Feeding each pick back as load: the least loaded catch up first, and from then on
    nobody is ever more than one ticket ahead of anyone else."""
    load = dict(enumerate(start, start=1))
    last: int | None = None
    for _ in range(rounds):
        found = [member(uid, open_tickets=n) for uid, n in load.items()]
        choice = choose_assignee(found, required_skill="network", last_user_id=last)
        assert choice.user_id is not None
        load[choice.user_id] += 1
        last = choice.user_id
    needed = sum(max(start) - n for n in start)  # tickets to level the start
    if rounds >= needed:
        assert max(load.values()) - min(load.values()) <= 1
    else:
        assert max(load.values()) == max(start)  # nobody above the top before it is level
