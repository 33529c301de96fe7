"""Queries behind auto-assignment: a team's members with their load, their skills, and the
team row locked as the round-robin cursor's guard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sets.domain.enums import Role, TicketStatus
from sets.models import Team, TeamMembership, Ticket, User
from sets.models.people import UserSkill

OPEN_STATUSES = [s for s in TicketStatus if s.is_open]


@dataclass(frozen=True, slots=True)
class MemberLoad:
    user_id: int
    active: bool
    role: Role
    open_tickets: int


class AssignmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_team(self, team_id: int) -> Team | None:
        """The team re-read under a row lock, so two tickets created at once pick in turn.
        `FOR NO KEY UPDATE`: inserting a ticket takes a key-share lock on its team (the
        foreign key), which a plain `FOR UPDATE` would wait on — two creators would deadlock.
        SQLite has no row locks; its writers are serialised by BEGIN IMMEDIATE."""
        return await self.session.scalar(
            select(Team)
            .where(Team.id == team_id, Team.deleted_at.is_(None))
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )

    async def member_loads(self, team_id: int) -> list[MemberLoad]:
        """Every member of the team with the number of open tickets assigned to them (in any
        team: it is the person's load), in one statement."""
        open_ticket = and_(
            Ticket.assignee_id == User.id,
            Ticket.status.in_(OPEN_STATUSES),
            Ticket.deleted_at.is_(None),
        )
        rows = await self.session.execute(
            select(User.id, User.active, User.role, func.count(Ticket.id))
            .join(TeamMembership, TeamMembership.user_id == User.id)
            .outerjoin(Ticket, open_ticket)
            .where(TeamMembership.team_id == team_id)
            .group_by(User.id, User.active, User.role)
            .order_by(User.id)
        )
        return [MemberLoad(uid, active, role, int(n)) for uid, active, role, n in rows]

    async def skills_of(self, user_ids: Sequence[int]) -> dict[int, list[str]]:
        if not user_ids:
            return {}
        rows = await self.session.execute(
            select(UserSkill.user_id, UserSkill.skill)
            .where(UserSkill.user_id.in_(set(user_ids)))
            .order_by(UserSkill.user_id, UserSkill.skill)
        )
        found: dict[int, list[str]] = {}
        for user_id, skill in rows:
            found.setdefault(user_id, []).append(skill)
        return found

    async def replace_skills(self, user_id: int, skills: Sequence[str], now: datetime) -> None:
        """Make the user's skills exactly `skills` (normalised by the caller)."""
        current = {
            row.skill: row
            for row in await self.session.scalars(
                select(UserSkill).where(UserSkill.user_id == user_id)
            )
        }
        for name, row in current.items():
            if name not in skills:
                await self.session.delete(row)
        for name in skills:
            if name not in current:
                self.session.add(UserSkill(user_id=user_id, skill=name, created_at=now))
