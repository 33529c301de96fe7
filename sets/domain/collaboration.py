"""Who may work alongside a ticket's owner (SPEC §1): tasks, links and time are kept by the
staff of the ticket's team as well as by its assignee, its team's managers and admins."""

from __future__ import annotations

from sets.domain.actor import Actor
from sets.domain.errors import Forbidden
from sets.domain.permissions import can_work, ensure_can_view
from sets.domain.tickets import TicketFacts


def can_collaborate(actor: Actor, ticket: TicketFacts) -> bool:
    if not actor.is_staff:
        return False
    return can_work(actor, ticket) or (
        ticket.team_id is not None and ticket.team_id in actor.team_ids
    )


def ensure_can_collaborate(actor: Actor, ticket: TicketFacts, what: str) -> None:
    ensure_can_view(actor, ticket)
    if not can_collaborate(actor, ticket):
        raise Forbidden(f"only staff of the ticket's team may {what}", field="ticketId")
