"""Admin operations: people, skills, teams, categories and priority rules (SPEC §1, §3, §9)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from sets.domain import assignment, permissions, validation
from sets.domain.actor import Actor
from sets.domain.enums import Priority, Role
from sets.domain.errors import Conflict, NotFound, ValidationFailed
from sets.domain.priority import parse_keywords
from sets.models import Category, PriorityRule, Team, TeamMembership, User
from sets.repositories.assignment import AssignmentRepository
from sets.services.auth import revoke_refresh_tokens
from sets.services.passwords import hash_password
from sets.services.uow import UnitOfWork


class AdminService:
    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory

    async def create_user(
        self,
        actor: Actor,
        *,
        email: str,
        name: str,
        role: Role,
        password: str,
        username: str | None = None,
    ) -> User:
        permissions.ensure_admin(actor)
        email = validation.email(email)
        name = validation.text(name, field="name", max_len=validation.NAME_MAX)
        chosen = validation.username(username) if username is not None else None
        password = validation.password(password)
        async with self._uow() as uow:
            if await uow.users.by_email(email) is not None:
                raise Conflict("a user with that email exists", field="email")
            if chosen is not None:
                if await uow.users.by_username(chosen) is not None:
                    raise Conflict("that username is taken", field="username")
                handle = chosen
            else:
                handle = await self._free_username(uow, validation.username_from_email(email))
            now = uow.clock.now()
            user = User(
                email=email,
                username=handle,
                name=name,
                role=role,
                active=True,
                token_version=1,
                password_hash=hash_password(password),
                created_at=now,
                updated_at=now,
            )
            uow.users.add(user)
            await self._flush(uow, "a user with that email or username exists", "email")
            await uow.commit()
            return user

    @staticmethod
    async def _free_username(uow: UnitOfWork, base: str) -> str:
        """`base`, or `base2`, `base3`... when another domain's user has the same local part."""
        candidate, n = base, 1
        while await uow.users.by_username(candidate) is not None:
            n += 1
            candidate = f"{base}{n}"
        return candidate

    async def update_user(
        self,
        actor: Actor,
        user_id: int,
        *,
        name: str | None = None,
        role: Role | None = None,
        active: bool | None = None,
        password: str | None = None,
    ) -> User:
        permissions.ensure_admin(actor)
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFound("user not found", field="userId")
            revoke = False
            if name is not None:
                user.name = validation.text(name, field="name", max_len=validation.NAME_MAX)
            if role is not None and role is not user.role:
                if user.id == actor.user_id:
                    raise ValidationFailed("you cannot change your own role", field="role")
                user.role = role
                revoke = True
            if active is not None and active != user.active:
                if user.id == actor.user_id and not active:
                    raise ValidationFailed("you cannot deactivate yourself", field="active")
                user.active = active
                revoke = revoke or not active
            if password is not None:
                user.password_hash = hash_password(validation.password(password))
                revoke = True
            if revoke:
                # Every token issued before now stops working on its next use.
                user.token_version += 1
                await revoke_refresh_tokens(uow.session, user.id, uow.clock)
            user.updated_at = uow.clock.now()
            await uow.commit()
            return user

    async def set_user_skills(self, actor: Actor, user_id: int, skills: list[str]) -> User:
        """Replace a staff member's skills (what auto-assignment matches) with `skills`."""
        permissions.ensure_admin(actor)
        wanted = assignment.skills(skills)
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFound("user not found", field="userId")
            if wanted and not user.role.is_staff:
                raise ValidationFailed("only staff have skills", field="userId")
            now = uow.clock.now()
            await AssignmentRepository(uow.session).replace_skills(user.id, wanted, now)
            user.updated_at = now
            await uow.commit()
            return user

    async def create_team(
        self,
        actor: Actor,
        *,
        name: str,
        tier: int = 1,
        external: bool = False,
        auto_assign: bool = False,
    ) -> Team:
        permissions.ensure_admin(actor)
        name = validation.text(name, field="name", max_len=validation.NAME_MAX)
        if tier not in (1, 2, 3):
            raise ValidationFailed("tier is 1, 2 or 3", field="tier")
        _check_team_auto_assign(external, auto_assign, external_changed=False)
        async with self._uow() as uow:
            if await uow.teams.by_name(name) is not None:
                raise Conflict("a team with that name exists", field="name")
            team = Team(
                name=name,
                tier=tier,
                external=external,
                auto_assign=auto_assign,
                created_at=uow.clock.now(),
            )
            uow.teams.add(team)
            await self._flush(uow, "a team with that name exists", "name")
            await uow.commit()
            return team

    async def update_team(
        self,
        actor: Actor,
        team_id: int,
        *,
        name: str | None = None,
        tier: int | None = None,
        external: bool | None = None,
        auto_assign: bool | None = None,
    ) -> Team:
        permissions.ensure_admin(actor)
        async with self._uow() as uow:
            team = await uow.teams.get(team_id)
            if team is None:
                raise NotFound("team not found", field="teamId")
            _check_team_auto_assign(
                team.external if external is None else external,
                team.auto_assign if auto_assign is None else auto_assign,
                external_changed=external is not None and auto_assign is None,
            )
            if name is not None:
                team.name = validation.text(name, field="name", max_len=validation.NAME_MAX)
            if tier is not None:
                if tier not in (1, 2, 3):
                    raise ValidationFailed("tier is 1, 2 or 3", field="tier")
                team.tier = tier
            if external is not None:
                team.external = external
            if auto_assign is not None:
                team.auto_assign = auto_assign
            await self._flush(uow, "a team with that name exists", "name")
            await uow.commit()
            return team

    async def set_membership(
        self, actor: Actor, *, team_id: int, user_id: int, member: bool
    ) -> Team:
        permissions.ensure_admin(actor)
        async with self._uow() as uow:
            team = await uow.teams.get(team_id)
            if team is None:
                raise NotFound("team not found", field="teamId")
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFound("user not found", field="userId")
            if member and not user.role.is_staff:
                raise ValidationFailed("only staff can join teams", field="userId")
            existing = await uow.teams.membership(team_id, user_id)
            if member and existing is None:
                uow.teams.add(
                    TeamMembership(team_id=team_id, user_id=user_id, created_at=uow.clock.now())
                )
            elif not member and existing is not None:
                await uow.teams.remove_membership(existing)
            await uow.commit()
            return team

    async def save_category(
        self,
        actor: Actor,
        *,
        category_id: int | None = None,
        name: str | None = None,
        description: str | None = None,
        default_priority: Priority | None = None,
        clear_default_priority: bool = False,
        team_id: int | None = None,
        external_team_id: int | None = None,
        is_default: bool | None = None,
        required_skill: str | None = None,
        clear_required_skill: bool = False,
        auto_assign: bool | None = None,
    ) -> Category:
        permissions.ensure_admin(actor)
        skill = (
            assignment.skill(required_skill, field="requiredSkill")
            if required_skill is not None
            else None
        )
        async with self._uow() as uow:
            if category_id is None:
                category = Category(
                    name=validation.text(name, field="name", max_len=validation.NAME_MAX),
                    description="",
                    is_default=False,
                    created_at=uow.clock.now(),
                )
                uow.catalog.add(category)
            else:
                found = await uow.catalog.category(category_id)
                if found is None:
                    raise NotFound("category not found", field="categoryId")
                category = found
                if name is not None:
                    category.name = validation.text(name, field="name", max_len=validation.NAME_MAX)
            if description is not None:
                category.description = validation.text(
                    description,
                    field="description",
                    max_len=validation.DESCRIPTION_MAX,
                    required=False,
                )
            if default_priority is not None:
                category.default_priority = default_priority.value
            elif clear_default_priority:
                category.default_priority = None
            for field, value in (("teamId", team_id), ("externalTeamId", external_team_id)):
                if value is not None and await uow.teams.get(value) is None:
                    raise NotFound("team not found", field=field)
            if team_id is not None:
                category.team_id = team_id
            if external_team_id is not None:
                category.external_team_id = external_team_id
            if skill is not None:
                category.required_skill = skill
            elif clear_required_skill:
                category.required_skill = None
            if auto_assign is not None:
                category.auto_assign = auto_assign
            if category.auto_assign and (auto_assign is not None or team_id is not None):
                await self._check_category_auto_assign(uow, category)
            await uow.session.flush()
            if is_default:
                # Exactly one default: clear the others in the same transaction.
                await uow.session.execute(
                    update(Category).where(Category.id != category.id).values(is_default=False)
                )
                category.is_default = True
            elif is_default is False:
                category.is_default = False
            await uow.commit()
            return category

    async def delete_category(self, actor: Actor, category_id: int) -> Category:
        permissions.ensure_admin(actor)
        async with self._uow() as uow:
            category = await uow.catalog.category(category_id)
            if category is None:
                raise NotFound("category not found", field="categoryId")
            category.deleted_at = uow.clock.now()
            category.is_default = False
            await uow.commit()
            return category

    async def save_priority_rule(
        self,
        actor: Actor,
        *,
        rule_id: int | None = None,
        name: str | None = None,
        position: int | None = None,
        priority: Priority | None = None,
        category_id: int | None = None,
        clear_category: bool = False,
        keywords: list[str] | None = None,
    ) -> PriorityRule:
        permissions.ensure_admin(actor)
        async with self._uow() as uow:
            if rule_id is None:
                if priority is None:
                    raise ValidationFailed("a rule needs a priority", field="priority")
                rule = PriorityRule(
                    name=validation.text(name, field="name", max_len=validation.NAME_MAX),
                    position=position if position is not None else 100,
                    priority=priority.value,
                    keywords="",
                    created_at=uow.clock.now(),
                )
                uow.catalog.add(rule)
            else:
                found = await uow.catalog.priority_rule(rule_id)
                if found is None:
                    raise NotFound("priority rule not found", field="ruleId")
                rule = found
                if name is not None:
                    rule.name = validation.text(name, field="name", max_len=validation.NAME_MAX)
                if position is not None:
                    rule.position = position
                if priority is not None:
                    rule.priority = priority.value
            if category_id is not None:
                if await uow.catalog.category(category_id) is None:
                    raise NotFound("category not found", field="categoryId")
                rule.category_id = category_id
            elif clear_category:
                rule.category_id = None
            if keywords is not None:
                rule.keywords = ",".join(parse_keywords(keywords))
            if rule.category_id is None and not rule.keywords:
                raise ValidationFailed(
                    "a rule needs a category, keywords or both", field="keywords"
                )
            await uow.commit()
            return rule

    async def delete_priority_rule(self, actor: Actor, rule_id: int) -> PriorityRule:
        permissions.ensure_admin(actor)
        async with self._uow() as uow:
            rule = await uow.catalog.priority_rule(rule_id)
            if rule is None:
                raise NotFound("priority rule not found", field="ruleId")
            rule.deleted_at = uow.clock.now()
            await uow.commit()
            return rule

    @staticmethod
    async def _check_category_auto_assign(uow: UnitOfWork, category: Category) -> None:
        """Auto-assignment picks from the team the category routes to: it needs an internal one."""
        team = await uow.teams.get(category.team_id) if category.team_id is not None else None
        if team is None:
            raise ValidationFailed(
                "auto-assignment needs a team to route to: set teamId", field="autoAssign"
            )
        if team.external:
            raise ValidationFailed(
                "a third-party team's queue is never auto-assigned", field="autoAssign"
            )

    @staticmethod
    async def _flush(uow: UnitOfWork, message: str, field: str) -> None:
        try:
            await uow.session.flush()
        except IntegrityError as exc:
            raise Conflict(message, field=field) from exc


def _check_team_auto_assign(external: bool, auto_assign: bool, *, external_changed: bool) -> None:
    if external and auto_assign:
        raise ValidationFailed(
            "a third-party team's queue is never auto-assigned",
            field="external" if external_changed else "autoAssign",
        )
