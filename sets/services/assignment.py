"""Skill-based auto-assignment of new tickets (issue 7, SPEC §9).

`auto_assign` runs inside TicketService.create's unit of work, after the CREATED event: when
the ticket's category or its team has auto-assignment on, the team's member with the
category's required skill and the fewest open tickets gets it (ties round-robin, see
sets.domain.assignment). The assignment is what a manual one is — ASSIGNED event, NEW → TODO,
the same notifications — but by the system (actor null) with `data.auto`, the reason and the
skill. When nobody qualifies the ticket stays unassigned in the team queue and an internal
AUTO_ASSIGN_SKIPPED event (actor null) records why.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sets.domain.actor import Actor
from sets.domain.assignment import AUTO_ASSIGN_SKIPPED, Candidate, Choice, choose_assignee
from sets.domain.enums import EventKind, TicketStatus
from sets.domain.tickets import ticket_key
from sets.models import Team, Ticket, TicketEvent
from sets.repositories.assignment import AssignmentRepository
from sets.services import notifications_triggers
from sets.services.uow import UnitOfWork

log = logging.getLogger("sets.assignment")


async def auto_assign(uow: UnitOfWork, ticket: Ticket) -> TicketEvent | None:
    """Assign a just-created ticket if its queue asks for it; the event written, or None
    when auto-assignment is off for it."""
    if ticket.team_id is None or ticket.assignee_id is not None:
        return None
    category = (
        await uow.catalog.category(ticket.category_id) if ticket.category_id is not None else None
    )
    team = await uow.teams.get(ticket.team_id)
    if team is None or not ((category is not None and category.auto_assign) or team.auto_assign):
        return None
    repo = AssignmentRepository(uow.session)
    # Locked and re-read: the cursor and the loads below are those after any concurrent
    # creation in this team has committed.
    locked = await repo.lock_team(team.id)
    if locked is None:
        return None
    team = locked
    skill = category.required_skill if category is not None else None
    choice = await _choose(repo, team, skill)
    data = {"auto": True, "reason": choice.reason, "skill": skill}
    if choice.user_id is None:
        log.info("%s stays in team %s's queue: %s", ticket_key(ticket.id), team.id, choice.reason)
        return uow.record(
            ticket, AUTO_ASSIGN_SKIPPED, None, {**data, "teamId": team.id}, internal=True
        )
    ticket.assignee_id = choice.user_id
    ticket.updated_at = uow.clock.now()
    team.auto_assign_last_user_id = choice.user_id
    event = uow.record(
        ticket,
        EventKind.ASSIGNED,
        None,
        {
            "from": None,
            "to": choice.user_id,
            "fromTeam": team.id,
            "toTeam": team.id,
            "transfer": False,
            **data,
        },
    )
    if ticket.status is TicketStatus.NEW:  # as a manual assignment does
        ticket.status = TicketStatus.TODO
        uow.record(
            ticket,
            EventKind.STATUS_CHANGED,
            None,
            {"from": TicketStatus.NEW.value, "to": TicketStatus.TODO.value, "reason": None},
        )
    # Last: notifying flushes, and the ticket is final now.
    await notifications_triggers.assigned(
        uow, ticket, event, Actor.system(), previous_assignee=None, previous_team=team.id
    )
    return event


async def _choose(repo: AssignmentRepository, team: Team, skill: str | None) -> Choice:
    if team.external:
        return Choice(None, "a third-party team's queue is never auto-assigned")
    loads = await repo.member_loads(team.id)
    skills = await repo.skills_of([m.user_id for m in loads])
    candidates = [
        Candidate(
            user_id=m.user_id,
            active=m.active,
            role=m.role,
            in_team=True,
            skills=frozenset(skills.get(m.user_id, ())),
            open_tickets=m.open_tickets,
        )
        for m in loads
    ]
    return choose_assignee(
        candidates, required_skill=skill, last_user_id=team.auto_assign_last_user_id
    )


class AssignmentReads:
    """Batched reads for the API (User.skills)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def skills_of_users(self, actor: Actor, user_ids: Sequence[int]) -> dict[int, list[str]]:
        """Staff only (routing data): anyone else learns nothing."""
        if not actor.is_staff or not user_ids:
            return {}
        async with self._sessions() as session:
            return await AssignmentRepository(session).skills_of(user_ids)
