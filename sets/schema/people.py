"""Sign-in, users and teams."""

from __future__ import annotations

import strawberry

from sets.domain.enums import Role
from sets.domain.errors import DomainError
from sets.schema.context import Info
from sets.schema.errors import UserError, coded_error
from sets.schema.ids import from_global_id, to_global_id
from sets.schema.pagination import page_size
from sets.schema.tickets import attempt
from sets.schema.types import PageInfo, Team, User
from sets.services.auth import TokenPair


@strawberry.type
class UserEdge:
    cursor: str
    node: User


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[User]:
        return [e.node for e in self.edges]


@strawberry.type
class PeopleQueries:
    @strawberry.field(description="The signed-in user.")
    async def me(self, info: Info) -> User:
        return User.from_row((await info.context.principal()).user)

    @strawberry.field(description="Staff only: users, oldest first, optionally by role.")
    async def users(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        role: Role | None = None,
    ) -> UserConnection:
        actor = await info.context.actor()
        try:
            size = page_size(first)
            after_id = from_global_id(after, "User", field="after") if after else None
            page = await info.context.services.reads.users(
                actor, role=role, after_id=after_id, first=size
            )
        except DomainError as exc:
            raise coded_error(exc) from exc
        edges = [
            UserEdge(cursor=to_global_id("User", u.id), node=User.from_row(u)) for u in page.items
        ]
        return UserConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=page.total or 0,
        )

    @strawberry.field
    async def teams(self, info: Info) -> list[Team]:
        await info.context.actor()
        return [Team.from_row(t) for t in await info.context.services.reads.teams()]


@strawberry.input
class LoginInput:
    email: str
    password: str
    otp: str | None = strawberry.field(default=None, description="TOTP code, when enrolled.")


@strawberry.type
class LoginPayload:
    access_token: str | None
    refresh_token: str | None
    user: User | None
    user_errors: list[UserError]


@strawberry.input
class RefreshTokenInput:
    refresh_token: str


@strawberry.type
class RefreshTokenPayload:
    access_token: str | None
    refresh_token: str | None
    user_errors: list[UserError]


@strawberry.input
class CreateUserInput:
    email: str
    name: str
    role: Role
    password: str
    username: str | None = None


@strawberry.input
class UpdateUserInput:
    user_id: strawberry.ID
    name: str | None = None
    role: Role | None = None
    active: bool | None = None
    password: str | None = strawberry.field(
        default=None, description="Setting it signs the user out everywhere."
    )


@strawberry.input(description="Replaces the user's skills; `[]` clears them.")
class SetUserSkillsInput:
    user_id: strawberry.ID
    skills: list[str] = strawberry.field(
        description="Lowercase slugs (`Network Printers` is stored as `network-printers`)."
    )


@strawberry.type
class UserPayload:
    user: User | None
    user_errors: list[UserError]


@strawberry.input
class CreateTeamInput:
    name: str
    tier: int = 1
    external: bool = strawberry.field(
        default=False, description="A third-party team: sees only what is routed to it."
    )
    auto_assign: bool = strawberry.field(
        default=False, description="Assign new tickets routed here automatically (internal only)."
    )


@strawberry.input
class UpdateTeamInput:
    team_id: strawberry.ID
    name: str | None = None
    tier: int | None = None
    external: bool | None = None
    auto_assign: bool | None = None


@strawberry.input
class SetTeamMembershipInput:
    team_id: strawberry.ID
    user_id: strawberry.ID
    member: bool = True


@strawberry.type
class TeamPayload:
    team: Team | None
    user_errors: list[UserError]


def _login_payload(pair: TokenPair | None, errors: list[UserError]) -> LoginPayload:
    if pair is None:
        return LoginPayload(access_token=None, refresh_token=None, user=None, user_errors=errors)
    return LoginPayload(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        user=User.from_row(pair.user),
        user_errors=[],
    )


@strawberry.type
class PeopleMutations:
    @strawberry.mutation(description="Exchange credentials for an access and a refresh token.")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        auth = info.context.services.auth
        pair, errors = await attempt(lambda: auth.login(input.email, input.password, input.otp))
        if pair is not None:
            # The rest of this request (the payload's user fields) runs as the new user.
            info.context.set_token(pair.access_token)
            await info.context.principal()
        return _login_payload(pair, errors)

    @strawberry.mutation(description="Rotate a refresh token; a reused one revokes its family.")
    async def refresh_token(self, info: Info, input: RefreshTokenInput) -> RefreshTokenPayload:
        auth = info.context.services.auth
        pair, errors = await attempt(lambda: auth.refresh(input.refresh_token))
        if pair is None:
            return RefreshTokenPayload(access_token=None, refresh_token=None, user_errors=errors)
        return RefreshTokenPayload(
            access_token=pair.access_token, refresh_token=pair.refresh_token, user_errors=[]
        )

    @strawberry.mutation(description="Admin only.")
    async def create_user(self, info: Info, input: CreateUserInput) -> UserPayload:
        actor = await info.context.actor()
        admin = info.context.services.admin
        user, errors = await attempt(
            lambda: admin.create_user(
                actor,
                email=input.email,
                name=input.name,
                role=input.role,
                password=input.password,
                username=input.username,
            )
        )
        return UserPayload(user=User.from_row(user) if user else None, user_errors=errors)

    @strawberry.mutation(description="Admin only. Deactivating signs the user out at once.")
    async def update_user(self, info: Info, input: UpdateUserInput) -> UserPayload:
        actor = await info.context.actor()
        admin = info.context.services.admin
        user, errors = await attempt(
            lambda: admin.update_user(
                actor,
                from_global_id(input.user_id, "User", field="userId"),
                name=input.name,
                role=input.role,
                active=input.active,
                password=input.password,
            )
        )
        return UserPayload(user=User.from_row(user) if user else None, user_errors=errors)

    @strawberry.mutation(description="Admin only: the skills auto-assignment matches.")
    async def set_user_skills(self, info: Info, input: SetUserSkillsInput) -> UserPayload:
        actor = await info.context.actor()
        admin = info.context.services.admin
        user, errors = await attempt(
            lambda: admin.set_user_skills(
                actor, from_global_id(input.user_id, "User", field="userId"), input.skills
            )
        )
        return UserPayload(user=User.from_row(user) if user else None, user_errors=errors)

    @strawberry.mutation(description="Admin only.")
    async def create_team(self, info: Info, input: CreateTeamInput) -> TeamPayload:
        actor = await info.context.actor()
        admin = info.context.services.admin
        team, errors = await attempt(
            lambda: admin.create_team(
                actor,
                name=input.name,
                tier=input.tier,
                external=input.external,
                auto_assign=input.auto_assign,
            )
        )
        return TeamPayload(team=Team.from_row(team) if team else None, user_errors=errors)

    @strawberry.mutation(description="Admin only.")
    async def update_team(self, info: Info, input: UpdateTeamInput) -> TeamPayload:
        actor = await info.context.actor()
        admin = info.context.services.admin
        team, errors = await attempt(
            lambda: admin.update_team(
                actor,
                from_global_id(input.team_id, "Team", field="teamId"),
                name=input.name,
                tier=input.tier,
                external=input.external,
                auto_assign=input.auto_assign,
            )
        )
        return TeamPayload(team=Team.from_row(team) if team else None, user_errors=errors)

    @strawberry.mutation(description="Admin only: add a user to a team or remove them.")
    async def set_team_membership(self, info: Info, input: SetTeamMembershipInput) -> TeamPayload:
        actor = await info.context.actor()
        admin = info.context.services.admin
        team, errors = await attempt(
            lambda: admin.set_membership(
                actor,
                team_id=from_global_id(input.team_id, "Team", field="teamId"),
                user_id=from_global_id(input.user_id, "User", field="userId"),
                member=input.member,
            )
        )
        return TeamPayload(team=Team.from_row(team) if team else None, user_errors=errors)
