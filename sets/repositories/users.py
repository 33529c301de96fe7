from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import Select, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sets.domain.enums import Role
from sets.models import Team, TeamMembership, User
from sets.repositories.statements import by_ids


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def claim_otp_step(self, user_id: int, step: int) -> bool:
        """Record `step` as the user's last TOTP step unless it (or a later one) was used:
        one conditional UPDATE, so two sign-ins racing with the same code cannot both win."""
        result = await self.session.execute(
            update(User)
            .where(
                User.id == user_id,
                or_(User.otp_last_step.is_(None), User.otp_last_step < step),
            )
            .values(otp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def get_many(self, ids: Sequence[int]) -> dict[int, User]:
        if not ids:
            return {}
        rows = await self.session.scalars(by_ids(User), {"ids": sorted(set(ids))})
        return {u.id: u for u in rows}

    async def by_email(self, email: str) -> User | None:
        if "\x00" in email:  # never stored; PostgreSQL would reject it as a parameter
            return None
        return await self.session.scalar(select(User).where(User.email == email.lower()))

    async def by_username(self, username: str) -> User | None:
        if "\x00" in username:
            return None
        return await self.session.scalar(select(User).where(User.username == username.lower()))

    async def by_usernames(self, names: Sequence[str]) -> dict[str, User]:
        if not names:
            return {}
        rows = await self.session.scalars(select(User).where(User.username.in_(set(names))))
        return {u.username: u for u in rows}

    async def with_teams(self, user_id: int) -> tuple[User, list[tuple[int, bool]]] | None:
        """The user and their (team id, external) pairs, in one statement."""
        rows = (await self.session.execute(_with_teams(), {"user_id": user_id})).all()
        if not rows:
            return None
        user = rows[0][0]
        return user, [(team_id, external) for _, team_id, external in rows if team_id is not None]

    async def active_ids(self, *, roles: Sequence[Role], team_id: int | None = None) -> list[int]:
        """Active users with one of `roles`, optionally only members of `team_id`."""
        query = select(User.id).where(User.active.is_(True), User.role.in_(list(roles)))
        if team_id is not None:
            query = query.join(TeamMembership, TeamMembership.user_id == User.id).where(
                TeamMembership.team_id == team_id
            )
        return list(await self.session.scalars(query.order_by(User.id)))

    async def page(
        self, *, role: Role | None, after_id: int | None, limit: int
    ) -> tuple[list[User], int]:
        query = select(User, func.count().over().label("total"))
        if role is not None:
            query = query.where(User.role == role)
        if after_id is not None:
            query = query.where(User.id > after_id)
        rows = (await self.session.execute(query.order_by(User.id).limit(limit))).all()
        return [r[0] for r in rows], (rows[0][1] if rows else 0)

    async def count(self, *, role: Role | None) -> int:
        query = select(func.count()).select_from(User)
        if role is not None:
            query = query.where(User.role == role)
        return int(await self.session.scalar(query) or 0)

    def add(self, user: User) -> None:
        self.session.add(user)


class TeamRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, team_id: int) -> Team | None:
        team = await self.session.get(Team, team_id)
        return team if team is not None and team.deleted_at is None else None

    async def get_many(self, ids: Sequence[int]) -> dict[int, Team]:
        if not ids:
            return {}
        rows = await self.session.scalars(by_ids(Team), {"ids": sorted(set(ids))})
        return {t.id: t for t in rows}

    async def all(self) -> list[Team]:
        rows = await self.session.scalars(
            select(Team).where(Team.deleted_at.is_(None)).order_by(Team.tier, Team.name)
        )
        return list(rows)

    async def by_name(self, name: str) -> Team | None:
        return await self.session.scalar(select(Team).where(Team.name == name))

    async def member_ids(self, team_ids: Sequence[int]) -> dict[int, list[int]]:
        if not team_ids:
            return {}
        rows = await self.session.execute(
            select(TeamMembership.team_id, TeamMembership.user_id)
            .where(TeamMembership.team_id.in_(set(team_ids)))
            .order_by(TeamMembership.id)
        )
        found: dict[int, list[int]] = {tid: [] for tid in team_ids}
        for team_id, user_id in rows:
            found[team_id].append(user_id)
        return found

    async def teams_of_users(self, user_ids: Sequence[int]) -> dict[int, list[int]]:
        if not user_ids:
            return {}
        rows = await self.session.execute(
            select(TeamMembership.user_id, TeamMembership.team_id)
            .join(Team, Team.id == TeamMembership.team_id)
            .where(TeamMembership.user_id.in_(set(user_ids)), Team.deleted_at.is_(None))
            .order_by(TeamMembership.id)
        )
        found: dict[int, list[int]] = {uid: [] for uid in user_ids}
        for user_id, team_id in rows:
            found[user_id].append(team_id)
        return found

    async def first_of_tier(self, tier: int) -> Team | None:
        """The oldest internal team of a tier: where tier-2 escalations go by default."""
        return await self.session.scalar(
            select(Team)
            .where(Team.tier == tier, Team.external.is_(False), Team.deleted_at.is_(None))
            .order_by(Team.id)
            .limit(1)
        )

    async def membership(self, team_id: int, user_id: int) -> TeamMembership | None:
        return await self.session.scalar(
            select(TeamMembership).where(
                TeamMembership.team_id == team_id, TeamMembership.user_id == user_id
            )
        )

    def add(self, obj: Team | TeamMembership) -> None:
        self.session.add(obj)

    async def remove_membership(self, membership: TeamMembership) -> None:
        await self.session.delete(membership)


@functools.cache
def _with_teams() -> Select[User, int, bool]:
    # Built once: every authenticated request runs it (see sets.repositories.statements).
    return (
        select(User, Team.id, Team.external)
        .outerjoin(TeamMembership, TeamMembership.user_id == User.id)
        .outerjoin(Team, (Team.id == TeamMembership.team_id) & Team.deleted_at.is_(None))
        .where(User.id == bindparam("user_id"))
    )
