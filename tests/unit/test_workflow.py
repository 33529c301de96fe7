"""The ticket state machine against SPEC §2, for every status pair and every kind of actor.

The expectations come from `SPEC_MOVES` below, written out by hand from the SPEC table, never
from `workflow.TRANSITIONS`: a wrong entry in the code's table shows up as a failing case here.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import NamedTuple

import pytest

from sets.domain.actor import Actor
from sets.domain.enums import Role
from sets.domain.enums import TicketStatus as S
from sets.domain.errors import (
    DomainError,
    ErrorCode,
    Forbidden,
    InvalidTransition,
    NotFound,
    TicketClosed,
    ValidationFailed,
)
from sets.domain.workflow import Rule, allowed_targets, check_transition, ensure_open

TEAM, OTHER_TEAM, EXTERNAL_TEAM = 10, 20, 30
REQUESTER_ID = 100
ASSIGNEE_ID = 200


@dataclass(frozen=True, slots=True)
class Ticket:
    """Implements the `TicketFacts` protocol."""

    status: S
    requester_id: int = REQUESTER_ID
    assignee_id: int | None = ASSIGNEE_ID
    team_id: int | None = TEAM


def ticket_in(status: S) -> Ticket:
    # A NEW ticket is unassigned by definition (SPEC §2); every later one has an owner.
    return Ticket(status, assignee_id=None if status is S.NEW else ASSIGNEE_ID)


ACTORS: dict[str, Actor] = {
    "requester": Actor(REQUESTER_ID, Role.REQUESTER),
    "other_requester": Actor(101, Role.REQUESTER),
    "assignee": Actor(ASSIGNEE_ID, Role.AGENT, frozenset({TEAM})),
    "team_agent": Actor(201, Role.AGENT, frozenset({TEAM})),
    "team_manager": Actor(300, Role.MANAGER, frozenset({TEAM})),
    "other_manager": Actor(301, Role.MANAGER, frozenset({OTHER_TEAM})),
    "admin": Actor(1, Role.ADMIN),
    "external_agent": Actor(
        400, Role.AGENT, frozenset({EXTERNAL_TEAM}), frozenset({EXTERNAL_TEAM})
    ),
}
# Those for whom the ticket does not exist: another customer, and a vendor it is not routed to.
CANNOT_SEE = frozenset({"other_requester", "external_agent"})


class Move(NamedTuple):
    who: frozenset[str]
    reason_for: frozenset[str] = frozenset()
    needs_resolution: bool = False
    reopens: bool = False


WORKERS = frozenset({"assignee", "team_manager", "admin"})
CLOSERS = frozenset({"requester", "team_manager", "admin"})

# SPEC §2, row by row. NEW -> TODO happens only through assignment, so it is not a move here.
SPEC_MOVES: dict[tuple[S, S], Move] = {
    (S.TODO, S.IN_PROGRESS): Move(WORKERS),
    (S.PENDING, S.IN_PROGRESS): Move(WORKERS),
    (S.BLOCKED, S.IN_PROGRESS): Move(WORKERS),
    (S.IN_PROGRESS, S.PENDING): Move(WORKERS),
    (S.IN_PROGRESS, S.BLOCKED): Move(WORKERS),
    (S.IN_PROGRESS, S.RESOLVED): Move(WORKERS, needs_resolution=True),
    # Confirmation by the requester, or closing by a manager/admin; not by the assignee.
    (S.RESOLVED, S.CLOSED): Move(CLOSERS),
    # The table names "requester (with a reason), assignee"; managers and admins may do
    # everything an assignee may on their teams' tickets (SPEC §1), so they may reopen too.
    (S.RESOLVED, S.IN_PROGRESS): Move(
        frozenset({"requester"}) | WORKERS, reason_for=frozenset({"requester"}), reopens=True
    ),
    (S.NEW, S.CLOSED): Move(CLOSERS, reason_for=CLOSERS),
    (S.TODO, S.CLOSED): Move(CLOSERS, reason_for=CLOSERS),
}


def expected_error(name: str, frm: S, to: S) -> type[DomainError] | None:
    if name in CANNOT_SEE:
        return NotFound  # never reveal that the ticket exists, whatever its state
    if frm is S.CLOSED:
        return TicketClosed
    move = SPEC_MOVES.get((frm, to))
    if move is None:
        return InvalidTransition
    if name not in move.who:
        return Forbidden
    return None


ALL_CASES = list(itertools.product(ACTORS, S, S))
ALLOWED_CASES = [c for c in ALL_CASES if expected_error(*c) is None]


def case_id(name: str, frm: S, to: S) -> str:
    return f"{name}:{frm}->{to}"


def test_the_matrix_covers_every_kind_of_outcome() -> None:
    # Guards the table-driven tests below against a table that silently tests nothing.
    outcomes = {expected_error(*c) for c in ALL_CASES}
    assert outcomes == {None, NotFound, TicketClosed, InvalidTransition, Forbidden}
    assert len(ALL_CASES) == len(ACTORS) * len(S) ** 2


@pytest.mark.parametrize(("name", "frm", "to"), ALL_CASES, ids=[case_id(*c) for c in ALL_CASES])
def test_transition_matrix(name: str, frm: S, to: S) -> None:
    actor, ticket = ACTORS[name], ticket_in(frm)
    error = expected_error(name, frm, to)
    if error is None:
        rule = check_transition(actor, ticket, to, reason="customer asked", resolution="fixed")
        move = SPEC_MOVES[(frm, to)]
        assert isinstance(rule, Rule)
        assert rule.reopens is move.reopens
        assert rule.needs_resolution is move.needs_resolution
        return
    with pytest.raises(DomainError) as caught:
        check_transition(actor, ticket, to, reason="customer asked", resolution="fixed")
    # Exact class, not a subclass or a sibling: the API maps each to a different code.
    assert type(caught.value) is error
    if error is NotFound:
        assert caught.value.field == "ticketId"
        assert caught.value.code is ErrorCode.NOT_FOUND
    elif error is InvalidTransition:
        assert caught.value.field == "to"
        assert caught.value.code is ErrorCode.INVALID_TRANSITION
    elif error is TicketClosed:
        assert caught.value.code is ErrorCode.TICKET_CLOSED
    elif error is Forbidden:
        assert caught.value.code is ErrorCode.FORBIDDEN


REASON_CASES = [c for c in ALLOWED_CASES if c[0] in SPEC_MOVES[(c[1], c[2])].reason_for]
NO_REASON_CASES = [c for c in ALLOWED_CASES if c[0] not in SPEC_MOVES[(c[1], c[2])].reason_for]


@pytest.mark.parametrize("blank", [None, "", "   \n\t"])
@pytest.mark.parametrize(
    ("name", "frm", "to"), REASON_CASES, ids=[case_id(*c) for c in REASON_CASES]
)
def test_reason_is_required(name: str, frm: S, to: S, blank: str | None) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_transition(ACTORS[name], ticket_in(frm), to, reason=blank, resolution="fixed")
    assert caught.value.field == "reason"


@pytest.mark.parametrize(
    ("name", "frm", "to"), NO_REASON_CASES, ids=[case_id(*c) for c in NO_REASON_CASES]
)
def test_reason_is_optional_elsewhere(name: str, frm: S, to: S) -> None:
    assert isinstance(
        check_transition(ACTORS[name], ticket_in(frm), to, reason=None, resolution="fixed"), Rule
    )


def test_reason_cases_are_the_ones_the_spec_names() -> None:
    assert {(f, t) for _, f, t in REASON_CASES} == {
        (S.NEW, S.CLOSED),
        (S.TODO, S.CLOSED),
        (S.RESOLVED, S.IN_PROGRESS),
    }
    assert {n for n, f, _ in REASON_CASES if f is S.RESOLVED} == {"requester"}


@pytest.mark.parametrize("blank", [None, "", "  \n"])
@pytest.mark.parametrize("name", sorted(WORKERS))
def test_resolving_needs_a_resolution_note(name: str, blank: str | None) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_transition(
            ACTORS[name], ticket_in(S.IN_PROGRESS), S.RESOLVED, reason="done", resolution=blank
        )
    assert caught.value.field == "resolution"


def test_resolution_note_is_not_asked_for_other_moves() -> None:
    rule = check_transition(ACTORS["assignee"], ticket_in(S.IN_PROGRESS), S.PENDING)
    assert not rule.needs_resolution


def test_assigning_is_the_only_way_from_new_to_todo() -> None:
    for name in ("team_manager", "admin", "team_agent"):
        with pytest.raises(InvalidTransition) as caught:
            check_transition(ACTORS[name], ticket_in(S.NEW), S.TODO, reason="x")
        assert caught.value.field == "to"


def test_a_requester_who_is_also_the_assignee_reopens_without_a_reason() -> None:
    # Staff filing their own ticket: acting as assignee, no reason needed.
    me = Actor(ASSIGNEE_ID, Role.AGENT, frozenset({TEAM}))
    ticket = Ticket(S.RESOLVED, requester_id=ASSIGNEE_ID, assignee_id=ASSIGNEE_ID)
    assert check_transition(me, ticket, S.IN_PROGRESS).reopens


def test_the_system_auto_closes_resolved_tickets() -> None:
    system = Actor.system()
    assert isinstance(check_transition(system, ticket_in(S.RESOLVED), S.CLOSED), Rule)
    with pytest.raises(ValidationFailed) as caught:
        check_transition(system, ticket_in(S.NEW), S.CLOSED)
    assert caught.value.field == "reason"
    with pytest.raises(TicketClosed):
        check_transition(system, ticket_in(S.CLOSED), S.IN_PROGRESS, reason="x")


def test_a_manager_has_no_say_over_a_ticket_without_a_team() -> None:
    ticket = Ticket(S.TODO, team_id=None)
    with pytest.raises(Forbidden):
        check_transition(ACTORS["team_manager"], ticket, S.IN_PROGRESS)
    assert isinstance(check_transition(ACTORS["assignee"], ticket, S.IN_PROGRESS), Rule)


def test_an_external_agent_works_a_ticket_routed_to_their_team() -> None:
    vendor = Actor(400, Role.AGENT, frozenset({EXTERNAL_TEAM}), frozenset({EXTERNAL_TEAM}))
    ticket = Ticket(S.TODO, assignee_id=400, team_id=EXTERNAL_TEAM)
    assert isinstance(check_transition(vendor, ticket, S.IN_PROGRESS), Rule)


def test_ensure_open() -> None:
    for status in S:
        if status is S.CLOSED:
            with pytest.raises(TicketClosed):
                ensure_open(ticket_in(status))
        else:
            ensure_open(ticket_in(status))


def expected_targets(name: str, status: S) -> set[S]:
    if name in CANNOT_SEE or status is S.CLOSED:
        return set()
    return {to for (frm, to), move in SPEC_MOVES.items() if frm is status and name in move.who}


TARGET_CASES = list(itertools.product(ACTORS, S))


@pytest.mark.parametrize(
    ("name", "status"), TARGET_CASES, ids=[f"{n}:{s}" for n, s in TARGET_CASES]
)
def test_allowed_targets(name: str, status: S) -> None:
    targets = allowed_targets(ACTORS[name], ticket_in(status))
    assert len(targets) == len(set(targets))
    assert set(targets) == expected_targets(name, status)


def test_allowed_targets_spot_checks() -> None:
    # A few literal answers, so the helper above is not the only oracle.
    assert set(allowed_targets(ACTORS["assignee"], ticket_in(S.IN_PROGRESS))) == {
        S.PENDING,
        S.BLOCKED,
        S.RESOLVED,
    }
    assert allowed_targets(ACTORS["requester"], ticket_in(S.NEW)) == [S.CLOSED]
    assert set(allowed_targets(ACTORS["requester"], ticket_in(S.RESOLVED))) == {
        S.CLOSED,
        S.IN_PROGRESS,
    }
    assert allowed_targets(ACTORS["assignee"], ticket_in(S.RESOLVED)) == [S.IN_PROGRESS]
    assert allowed_targets(ACTORS["team_agent"], ticket_in(S.IN_PROGRESS)) == []
    assert allowed_targets(ACTORS["admin"], ticket_in(S.CLOSED)) == []
