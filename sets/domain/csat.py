"""Customer satisfaction (SPEC §9): the requester rates a resolved or closed ticket once."""

from __future__ import annotations

from sets.domain import validation
from sets.domain.actor import Actor
from sets.domain.enums import TicketStatus
from sets.domain.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from sets.domain.permissions import can_view
from sets.domain.tickets import TicketFacts

COMMENT_MAX = 2_000
RATEABLE = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})


def score(value: int) -> int:
    if not 1 <= value <= 5:
        raise ValidationFailed("the score is 1 (poor) to 5 (excellent)", field="score")
    return value


def comment(value: str | None) -> str | None:
    return validation.optional_text(value, field="comment", max_len=COMMENT_MAX)


def check_can_rate(actor: Actor, ticket: TicketFacts, *, already_rated: bool) -> None:
    if not can_view(actor, ticket):
        raise NotFound("ticket not found", field="ticketId")
    if actor.user_id is None or actor.user_id != ticket.requester_id:
        raise Forbidden("only the requester rates a ticket", field="ticketId")
    if ticket.status not in RATEABLE:
        raise InvalidTransition("a ticket is rated once it is resolved or closed", field="ticketId")
    if already_rated:
        raise Conflict("you have already rated this ticket", field="ticketId")


def can_see_rating(actor: Actor, ticket: TicketFacts) -> bool:
    return actor.is_staff or actor.user_id == ticket.requester_id
