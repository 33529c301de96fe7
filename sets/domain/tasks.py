"""Subtasks of a ticket, and what they mean for resolving it (SPEC §2)."""

from __future__ import annotations

from collections.abc import Sequence

from sets.domain import validation
from sets.domain.actor import Actor
from sets.domain.errors import Forbidden, InvalidTransition, ValidationFailed
from sets.domain.permissions import Relation, relations
from sets.domain.tickets import TicketFacts, ticket_key

TITLE_MAX = 200
MAX_TASKS_PER_TICKET = 100


def task_title(value: str | None) -> str:
    return validation.text(value, field="title", max_len=TITLE_MAX)


def new_order(current: Sequence[int], wanted: Sequence[int]) -> list[int]:
    """The ids of a ticket's live tasks in the wanted order: every one exactly once."""
    if len(set(wanted)) != len(wanted):
        raise ValidationFailed("a task is listed twice", field="taskIds")
    if set(wanted) != set(current):
        raise ValidationFailed("list every task of the ticket exactly once", field="taskIds")
    return list(wanted)


def may_force(actor: Actor, ticket: TicketFacts) -> bool:
    """Resolving over open tasks is a manager's (or an admin's) call."""
    return actor.is_system or bool(
        relations(actor, ticket) & {Relation.TEAM_MANAGER, Relation.ADMIN}
    )


def check_open_tasks(
    actor: Actor, ticket_id: int, ticket: TicketFacts, open_tasks: int, *, force: bool
) -> bool:
    """Whether resolving goes ahead over open tasks (True: forced over some), or the refusal."""
    if open_tasks == 0:
        return False
    key = ticket_key(ticket_id)
    if not force:
        raise InvalidTransition(
            f"{key} has {open_tasks} open task(s): complete them first, "
            "or a manager may resolve with force",
            field="force",
        )
    if not may_force(actor, ticket):
        raise Forbidden(
            "only a manager of the team or an admin may resolve over open tasks", field="force"
        )
    return True
