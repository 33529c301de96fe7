"""Who may see and do what to a ticket (SPEC §1)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sets.domain.actor import Actor
from sets.domain.enums import Role
from sets.domain.enums import TicketStatus as S
from sets.domain.errors import Forbidden, NotFound
from sets.domain.permissions import (
    Relation,
    can_view,
    ensure_admin,
    ensure_can_assign,
    ensure_can_comment,
    ensure_can_edit,
    ensure_can_unassign,
    ensure_can_view,
    ensure_can_work,
    ensure_staff,
    relations,
)

TEAM, OTHER_TEAM, VENDOR_TEAM = 10, 20, 30
REQUESTER_ID, ASSIGNEE_ID = 100, 200


@dataclass(frozen=True, slots=True)
class Ticket:
    """Implements the `TicketFacts` protocol."""

    status: S = S.TODO
    requester_id: int = REQUESTER_ID
    assignee_id: int | None = ASSIGNEE_ID
    team_id: int | None = TEAM


REQUESTER = Actor(REQUESTER_ID, Role.REQUESTER)
OTHER_REQUESTER = Actor(101, Role.REQUESTER)
ASSIGNEE = Actor(ASSIGNEE_ID, Role.AGENT, frozenset({TEAM}))
TEAM_AGENT = Actor(201, Role.AGENT, frozenset({TEAM}))
OTHER_TEAM_AGENT = Actor(202, Role.AGENT, frozenset({OTHER_TEAM}))
TEAMLESS_AGENT = Actor(203, Role.AGENT)
TEAM_MANAGER = Actor(300, Role.MANAGER, frozenset({TEAM}))
OTHER_MANAGER = Actor(301, Role.MANAGER, frozenset({OTHER_TEAM}))
ADMIN = Actor(1, Role.ADMIN)
VENDOR = Actor(400, Role.AGENT, frozenset({VENDOR_TEAM}), frozenset({VENDOR_TEAM}))
# In a vendor team and an internal one: internal staff, who see every queue.
MIXED = Actor(401, Role.AGENT, frozenset({VENDOR_TEAM, OTHER_TEAM}), frozenset({VENDOR_TEAM}))


# --- can_view -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "ticket", "visible"),
    [
        pytest.param(ADMIN, Ticket(team_id=None, assignee_id=None), True, id="admin"),
        pytest.param(Actor.system(), Ticket(), True, id="system"),
        pytest.param(REQUESTER, Ticket(), True, id="owner"),
        pytest.param(REQUESTER, Ticket(S.CLOSED), True, id="owner-closed"),
        pytest.param(OTHER_REQUESTER, Ticket(), False, id="other-requester"),
        # A requester that happens to be named assignee (bad data) still must not see it.
        pytest.param(OTHER_REQUESTER, Ticket(assignee_id=101), False, id="requester-as-assignee"),
        pytest.param(ASSIGNEE, Ticket(), True, id="assignee"),
        pytest.param(TEAM_AGENT, Ticket(), True, id="team-agent"),
        pytest.param(OTHER_TEAM_AGENT, Ticket(), True, id="internal-agent-other-team"),
        pytest.param(TEAMLESS_AGENT, Ticket(), True, id="internal-agent-no-team"),
        pytest.param(OTHER_MANAGER, Ticket(), True, id="internal-manager-other-team"),
        pytest.param(VENDOR, Ticket(), False, id="vendor-not-routed"),
        pytest.param(VENDOR, Ticket(team_id=None, assignee_id=None), False, id="vendor-queue"),
        pytest.param(VENDOR, Ticket(team_id=VENDOR_TEAM), True, id="vendor-routed-to-team"),
        pytest.param(VENDOR, Ticket(assignee_id=400), True, id="vendor-assigned"),
        pytest.param(MIXED, Ticket(), True, id="vendor-and-internal-member"),
    ],
)
def test_can_view(actor: Actor, ticket: Ticket, visible: bool) -> None:
    assert can_view(actor, ticket) is visible
    if visible:
        ensure_can_view(actor, ticket)
    else:
        with pytest.raises(NotFound) as caught:
            ensure_can_view(actor, ticket)
        assert caught.value.field == "ticketId"


def test_external_only_is_about_every_team_being_external() -> None:
    assert VENDOR.is_external_only
    assert not MIXED.is_external_only
    assert not TEAMLESS_AGENT.is_external_only


# --- relations ------------------------------------------------------------------------------


def test_relations() -> None:
    ticket = Ticket()
    assert relations(REQUESTER, ticket) == {Relation.REQUESTER}
    assert relations(ASSIGNEE, ticket) == {Relation.ASSIGNEE}
    assert relations(TEAM_AGENT, ticket) == frozenset()
    assert relations(TEAM_MANAGER, ticket) == {Relation.TEAM_MANAGER}
    assert relations(OTHER_MANAGER, ticket) == frozenset()
    assert relations(ADMIN, ticket) == {Relation.ADMIN}
    boss = Actor(ASSIGNEE_ID, Role.MANAGER, frozenset({TEAM}))
    assert relations(boss, ticket) == {Relation.ASSIGNEE, Relation.TEAM_MANAGER}
    # Only staff can hold a ticket; a requester id in assignee_id grants nothing.
    assert relations(OTHER_REQUESTER, Ticket(assignee_id=101)) == frozenset()
    assert relations(TEAM_MANAGER, Ticket(team_id=None)) == frozenset()


# --- ensure_can_assign ----------------------------------------------------------------------

NEW_IN_TEAM = Ticket(S.NEW, assignee_id=None)


@pytest.mark.parametrize(
    ("actor", "ticket", "assignee_id", "team_id"),
    [
        pytest.param(TEAM_AGENT, NEW_IN_TEAM, 201, None, id="agent-takes"),
        pytest.param(TEAM_AGENT, NEW_IN_TEAM, 201, TEAM, id="agent-takes-within-team"),
        pytest.param(TEAM_AGENT, Ticket(), 201, None, id="agent-takes-over"),
        pytest.param(
            TEAM_AGENT, Ticket(S.NEW, assignee_id=None, team_id=None), 201, None, id="no-team"
        ),
        pytest.param(TEAM_MANAGER, NEW_IN_TEAM, 201, None, id="manager-assigns-member"),
        pytest.param(TEAM_MANAGER, Ticket(), 201, TEAM, id="manager-reassigns"),
        pytest.param(ADMIN, NEW_IN_TEAM, 999, OTHER_TEAM, id="admin-anything"),
        pytest.param(ADMIN, Ticket(team_id=OTHER_TEAM), 201, VENDOR_TEAM, id="admin-to-vendor"),
    ],
)
def test_assign_allowed(actor: Actor, ticket: Ticket, assignee_id: int, team_id: int) -> None:
    ensure_can_assign(actor, ticket, assignee_id=assignee_id, target_team_id=team_id)


@pytest.mark.parametrize(
    ("actor", "ticket", "assignee_id", "team_id", "error", "field"),
    [
        pytest.param(
            TEAM_AGENT, NEW_IN_TEAM, 202, None, Forbidden, "assigneeId", id="agent-for-other"
        ),
        pytest.param(
            TEAM_AGENT, NEW_IN_TEAM, 201, OTHER_TEAM, Forbidden, "teamId", id="agent-routes-away"
        ),
        pytest.param(
            TEAM_MANAGER, NEW_IN_TEAM, None, OTHER_TEAM, Forbidden, "teamId", id="manager-routes"
        ),
        pytest.param(
            TEAM_MANAGER, NEW_IN_TEAM, 202, OTHER_TEAM, Forbidden, "teamId", id="manager-to-foreign"
        ),
        pytest.param(
            OTHER_TEAM_AGENT, NEW_IN_TEAM, 202, None, Forbidden, "ticketId", id="foreign-ticket"
        ),
        pytest.param(
            OTHER_MANAGER, NEW_IN_TEAM, 202, None, Forbidden, "ticketId", id="foreign-manager"
        ),
        pytest.param(REQUESTER, NEW_IN_TEAM, 201, None, Forbidden, None, id="owner-requester"),
        pytest.param(REQUESTER, NEW_IN_TEAM, 100, None, Forbidden, None, id="requester-self"),
        pytest.param(OTHER_REQUESTER, NEW_IN_TEAM, 201, None, NotFound, "ticketId", id="stranger"),
        pytest.param(VENDOR, NEW_IN_TEAM, 400, None, NotFound, "ticketId", id="vendor-unrouted"),
    ],
)
def test_assign_refused(
    actor: Actor,
    ticket: Ticket,
    assignee_id: int | None,
    team_id: int | None,
    error: type[Exception],
    field: str | None,
) -> None:
    with pytest.raises(error) as caught:
        ensure_can_assign(actor, ticket, assignee_id=assignee_id, target_team_id=team_id)
    assert type(caught.value) is error
    assert caught.value.field == field


# --- comments, edits, work ------------------------------------------------------------------


def test_requester_cannot_write_internal_notes() -> None:
    with pytest.raises(Forbidden) as caught:
        ensure_can_comment(REQUESTER, Ticket(), internal=True)
    assert caught.value.field == "internal"
    ensure_can_comment(REQUESTER, Ticket(), internal=False)


@pytest.mark.parametrize("actor", [ASSIGNEE, TEAM_AGENT, OTHER_TEAM_AGENT, TEAM_MANAGER, ADMIN])
def test_staff_may_write_internal_notes(actor: Actor) -> None:
    ensure_can_comment(actor, Ticket(), internal=True)
    ensure_can_comment(actor, Ticket(), internal=False)


def test_strangers_cannot_comment() -> None:
    for actor in (OTHER_REQUESTER, VENDOR):
        with pytest.raises(NotFound):
            ensure_can_comment(actor, Ticket(), internal=False)


@pytest.mark.parametrize("status", [S.NEW, S.TODO, S.IN_PROGRESS, S.PENDING, S.BLOCKED])
def test_requester_edits_own_open_ticket(status: S) -> None:
    ensure_can_edit(REQUESTER, Ticket(status))


@pytest.mark.parametrize("status", [S.RESOLVED, S.CLOSED])
def test_requester_cannot_edit_own_finished_ticket(status: S) -> None:
    with pytest.raises(Forbidden):
        ensure_can_edit(REQUESTER, Ticket(status))


def test_who_else_may_edit() -> None:
    for actor in (ASSIGNEE, TEAM_MANAGER, ADMIN):
        ensure_can_edit(actor, Ticket(S.RESOLVED))
    for actor in (TEAM_AGENT, OTHER_MANAGER, OTHER_TEAM_AGENT):
        with pytest.raises(Forbidden):
            ensure_can_edit(actor, Ticket())
    with pytest.raises(NotFound):
        ensure_can_edit(OTHER_REQUESTER, Ticket())


@pytest.mark.parametrize(
    ("actor", "error"),
    [
        (ASSIGNEE, None),
        (TEAM_MANAGER, None),
        (ADMIN, None),
        (TEAM_AGENT, Forbidden),
        (OTHER_MANAGER, Forbidden),
        (REQUESTER, Forbidden),
        (OTHER_REQUESTER, NotFound),
        (VENDOR, NotFound),
    ],
)
def test_work_and_unassign(actor: Actor, error: type[Exception] | None) -> None:
    for check in (
        lambda: ensure_can_work(actor, Ticket(), "change the priority"),
        lambda: ensure_can_unassign(actor, Ticket()),
    ):
        if error is None:
            check()
        else:
            with pytest.raises(error) as caught:
                check()
            assert type(caught.value) is error


def test_admin_and_staff_gates() -> None:
    ensure_admin(ADMIN)
    for actor in (TEAM_MANAGER, TEAM_AGENT, REQUESTER):
        with pytest.raises(Forbidden):
            ensure_admin(actor)
    for actor in (ADMIN, TEAM_MANAGER, TEAM_AGENT):
        ensure_staff(actor)
    with pytest.raises(Forbidden):
        ensure_staff(REQUESTER)
