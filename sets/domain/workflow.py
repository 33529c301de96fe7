"""The ticket state machine (SPEC §2) as a table, not as branches."""

from __future__ import annotations

from dataclasses import dataclass

from sets.domain.actor import Actor
from sets.domain.enums import TicketStatus as S
from sets.domain.errors import Forbidden, InvalidTransition, TicketClosed, ValidationFailed
from sets.domain.permissions import Relation as R
from sets.domain.permissions import ensure_can_view, relations
from sets.domain.tickets import TicketFacts

_WORKERS = frozenset({R.ASSIGNEE, R.TEAM_MANAGER, R.ADMIN})


@dataclass(frozen=True, slots=True)
class Rule:
    who: frozenset[R]
    reason_required_for: frozenset[R] = frozenset()
    needs_resolution: bool = False
    reopens: bool = False


TRANSITIONS: dict[tuple[S, S], Rule] = {
    (S.TODO, S.IN_PROGRESS): Rule(_WORKERS),
    (S.PENDING, S.IN_PROGRESS): Rule(_WORKERS),
    (S.BLOCKED, S.IN_PROGRESS): Rule(_WORKERS),
    (S.IN_PROGRESS, S.PENDING): Rule(_WORKERS),
    (S.IN_PROGRESS, S.BLOCKED): Rule(_WORKERS),
    (S.IN_PROGRESS, S.RESOLVED): Rule(_WORKERS, needs_resolution=True),
    (S.RESOLVED, S.CLOSED): Rule(frozenset({R.REQUESTER, R.TEAM_MANAGER, R.ADMIN})),
    (S.RESOLVED, S.IN_PROGRESS): Rule(
        frozenset({R.REQUESTER, *_WORKERS}),
        reason_required_for=frozenset({R.REQUESTER}),
        reopens=True,
    ),
    (S.NEW, S.CLOSED): Rule(
        frozenset({R.REQUESTER, R.TEAM_MANAGER, R.ADMIN}),
        reason_required_for=frozenset({R.REQUESTER, R.TEAM_MANAGER, R.ADMIN}),
    ),
    (S.TODO, S.CLOSED): Rule(
        frozenset({R.REQUESTER, R.TEAM_MANAGER, R.ADMIN}),
        reason_required_for=frozenset({R.REQUESTER, R.TEAM_MANAGER, R.ADMIN}),
    ),
}


def ensure_open(ticket: TicketFacts) -> None:
    if ticket.status is S.CLOSED:
        raise TicketClosed()


def check_transition(
    actor: Actor,
    ticket: TicketFacts,
    to: S,
    *,
    reason: str | None = None,
    resolution: str | None = None,
) -> Rule:
    """Return the rule that allows the move, or raise the error that explains the refusal."""
    ensure_can_view(actor, ticket)
    ensure_open(ticket)
    if ticket.status is S.NEW and to is S.TODO:
        raise InvalidTransition("assign the ticket to move it to TODO", field="to")
    rule = TRANSITIONS.get((ticket.status, to))
    if rule is None:
        raise InvalidTransition(f"a ticket cannot go from {ticket.status} to {to}", field="to")
    held = relations(actor, ticket) if not actor.is_system else frozenset({R.ADMIN})
    allowed = held & rule.who
    if not allowed:
        raise Forbidden(f"you may not move this ticket from {ticket.status} to {to}")
    if allowed <= rule.reason_required_for and not (reason and reason.strip()):
        raise ValidationFailed("a reason is required for this change", field="reason")
    if rule.needs_resolution and not (resolution and resolution.strip()):
        raise ValidationFailed("resolving needs a resolution note", field="resolution")
    return rule


def allowed_targets(actor: Actor, ticket: TicketFacts) -> list[S]:
    """Statuses this actor could move the ticket to now (reasons aside), for UIs."""
    if ticket.status is S.CLOSED:
        return []
    held = relations(actor, ticket)
    return [
        to for (frm, to), rule in TRANSITIONS.items() if frm is ticket.status and held & rule.who
    ]
