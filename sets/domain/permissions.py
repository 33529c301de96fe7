"""Who may see and do what to a ticket (SPEC §1): one policy for every entry point."""

from __future__ import annotations

from enum import StrEnum

from sets.domain.actor import Actor
from sets.domain.enums import Role
from sets.domain.errors import Forbidden, NotFound
from sets.domain.tickets import TicketFacts


class Relation(StrEnum):
    """How an actor stands to one ticket; transition rules are written in these terms."""

    REQUESTER = "REQUESTER"
    ASSIGNEE = "ASSIGNEE"
    TEAM_MANAGER = "TEAM_MANAGER"
    ADMIN = "ADMIN"


def relations(actor: Actor, ticket: TicketFacts) -> frozenset[Relation]:
    found: set[Relation] = set()
    if actor.is_admin:
        found.add(Relation.ADMIN)
    if actor.user_id is not None and actor.user_id == ticket.requester_id:
        found.add(Relation.REQUESTER)
    if actor.is_staff and actor.user_id is not None and actor.user_id == ticket.assignee_id:
        found.add(Relation.ASSIGNEE)
    if actor.role is Role.MANAGER and ticket.team_id in actor.team_ids:
        found.add(Relation.TEAM_MANAGER)
    return frozenset(found)


def can_view(actor: Actor, ticket: TicketFacts) -> bool:
    if actor.is_admin or actor.user_id == ticket.requester_id:
        return True
    if not actor.is_staff:
        return False
    if actor.user_id == ticket.assignee_id or ticket.team_id in actor.team_ids:
        return True
    # A third-party team sees only what is routed to it; internal staff see every queue.
    return not actor.is_external_only


def ensure_can_view(actor: Actor, ticket: TicketFacts) -> None:
    # Not FORBIDDEN: a ticket one may not see must not reveal that it exists.
    if not can_view(actor, ticket):
        raise NotFound("ticket not found", field="ticketId")


def can_see_internal(actor: Actor) -> bool:
    return actor.is_staff


def can_work(actor: Actor, ticket: TicketFacts) -> bool:
    """Edit fields, change priority, escalate: the owner of the work or those above them."""
    return bool(
        relations(actor, ticket) & {Relation.ASSIGNEE, Relation.TEAM_MANAGER, Relation.ADMIN}
    )


def ensure_can_work(actor: Actor, ticket: TicketFacts, what: str) -> None:
    ensure_can_view(actor, ticket)
    if not can_work(actor, ticket):
        raise Forbidden(f"only the assignee, a manager of the team or an admin may {what}")


def ensure_can_edit(actor: Actor, ticket: TicketFacts) -> None:
    """Requesters may correct their own ticket's text while it is open; staff as for work."""
    ensure_can_view(actor, ticket)
    if actor.user_id == ticket.requester_id and ticket.status.is_open:
        return
    if not can_work(actor, ticket):
        raise Forbidden("you may not edit this ticket")


def ensure_can_comment(actor: Actor, ticket: TicketFacts, *, internal: bool) -> None:
    ensure_can_view(actor, ticket)
    if internal and not can_see_internal(actor):
        raise Forbidden("only staff may write internal notes", field="internal")


def ensure_can_assign(
    actor: Actor,
    ticket: TicketFacts,
    *,
    assignee_id: int | None,
    target_team_id: int | None,
) -> None:
    """Agents take tickets of their teams; managers assign within their teams; admins anyone."""
    ensure_can_view(actor, ticket)
    if actor.is_admin:
        return
    if not actor.is_staff:
        raise Forbidden("requesters cannot assign tickets")
    own_teams = actor.team_ids
    if ticket.team_id is not None and ticket.team_id not in own_teams:
        raise Forbidden("the ticket belongs to a team you are not in", field="ticketId")
    if target_team_id is not None and target_team_id not in own_teams:
        raise Forbidden("you can only route tickets to your own teams", field="teamId")
    if actor.role is Role.AGENT and assignee_id is not None and assignee_id != actor.user_id:
        raise Forbidden("agents can only assign tickets to themselves", field="assigneeId")


def ensure_can_unassign(actor: Actor, ticket: TicketFacts) -> None:
    ensure_can_view(actor, ticket)
    if not can_work(actor, ticket):
        raise Forbidden("only the assignee, a manager of the team or an admin may unassign")


def ensure_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("admins only")


def ensure_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden("staff only")
