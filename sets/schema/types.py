"""GraphQL object types. Leaves are plain attributes copied from the row (cheap to resolve);
only relations are async, and every one of them goes through a DataLoader."""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from sets.domain import permissions, workflow
from sets.domain.enums import Priority, Role, TicketStatus, Urgency
from sets.domain.notifications import mentioned_usernames
from sets.domain.priority import parse_keywords
from sets.domain.tickets import ticket_key
from sets.models import Category as CategoryRow
from sets.models import Comment as CommentRow
from sets.models import PriorityRule as PriorityRuleRow
from sets.models import Team as TeamRow
from sets.models import Ticket as TicketRow
from sets.models import User as UserRow
from sets.repositories.tickets import EventRecord as EventRow
from sets.schema.context import Info
from sets.schema.execution import ahead, computed
from sets.schema.ids import encode_cursor, to_global_id
from sets.schema.loaders import CommentWindow, EventWindow
from sets.schema.pagination import comment_after, event_window, page_size
from sets.schema.skills import skills_loader

if TYPE_CHECKING:
    from sets.schema.attachments import Attachment
    from sets.schema.collaboration import Task, TicketLink, TicketRating, TimeEntry

_COLLAB = "sets.schema.collaboration"  # issue 7's Ticket fields resolve there (lazily)


def _collab() -> Any:
    return importlib.import_module(_COLLAB)


_FILES = "sets.schema.attachments"  # Ticket/Comment attachments resolve there (lazily)


def _files() -> Any:
    return importlib.import_module(_FILES)


strawberry.enum(Role, description="What a user may do (SPEC §1).")
strawberry.enum(TicketStatus, description="Where a ticket is in its lifecycle.")
strawberry.enum(Priority, description="P1 is the most urgent.")
strawberry.enum(Urgency, description="What the requester suggests; rules may override it.")


@strawberry.interface(description="An object with a global id, fetchable with `node(id)`.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class User(Node):
    id: strawberry.ID
    pk: strawberry.Private[int]
    email_address: strawberry.Private[str]
    username: str
    name: str
    role: Role
    active: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        return cls(
            id=strawberry.ID(to_global_id("User", row.id)),
            pk=row.id,
            email_address=row.email,
            username=row.username,
            name=row.name,
            role=row.role,
            active=row.active,
            created_at=row.created_at,
        )

    @strawberry.field(description="Shown to staff and to the user themself only.")
    def email(self, info: Info) -> str | None:
        actor = info.context.known_actor
        if actor is not None and (actor.is_staff or actor.user_id == self.pk):
            return self.email_address
        return None

    @strawberry.field
    async def teams(self, info: Info) -> list[Team]:
        loaders = info.context.loaders
        ids = await loaders.team_ids_of_user.load(self.pk)
        rows = await loaders.teams.load_many(ids)
        return [Team.from_row(r) for r in rows if r is not None]

    @strawberry.field(
        description="Skills auto-assignment matches (admin-managed; staff only, empty otherwise)."
    )
    async def skills(self, info: Info) -> list[str]:
        actor = info.context.known_actor
        if actor is None or not actor.is_staff:
            return []
        return await skills_loader(info).load(self.pk)


@strawberry.type
class Team(Node):
    id: strawberry.ID
    pk: strawberry.Private[int]
    name: str
    tier: int
    external: bool
    auto_assign: bool = strawberry.field(
        description="New tickets routed here go to a member automatically (skill, load)."
    )

    @classmethod
    def from_row(cls, row: TeamRow) -> Team:
        return cls(
            id=strawberry.ID(to_global_id("Team", row.id)),
            pk=row.id,
            name=row.name,
            tier=row.tier,
            external=row.external,
            auto_assign=row.auto_assign,
        )

    @strawberry.field(description="Members of the team (staff only; empty for requesters).")
    async def members(self, info: Info) -> list[User]:
        actor = info.context.known_actor
        if actor is None or not actor.is_staff:
            return []
        loaders = info.context.loaders
        ids = await loaders.member_ids.load(self.pk)
        rows = await loaders.users.load_many(ids)
        return [User.from_row(r) for r in rows if r is not None]


@strawberry.type
class Category(Node):
    id: strawberry.ID
    pk: strawberry.Private[int]
    team_pk: strawberry.Private[int | None]
    external_team_pk: strawberry.Private[int | None]
    name: str
    description: str
    default_priority: Priority | None
    is_default: bool
    required_skill: str | None = strawberry.field(
        description="The skill an auto-assigned ticket's assignee needs; null: any member."
    )
    auto_assign: bool = strawberry.field(
        description="New tickets here go to a member of its team automatically."
    )

    @classmethod
    def from_row(cls, row: CategoryRow) -> Category:
        return cls(
            id=strawberry.ID(to_global_id("Category", row.id)),
            pk=row.id,
            team_pk=row.team_id,
            external_team_pk=row.external_team_id,
            name=row.name,
            description=row.description,
            default_priority=Priority(row.default_priority) if row.default_priority else None,
            is_default=row.is_default,
            required_skill=row.required_skill,
            auto_assign=row.auto_assign,
        )

    @strawberry.field(description="The team new tickets in this category are routed to.")
    async def team(self, info: Info) -> Team | None:
        return await _team(info, self.team_pk)

    @strawberry.field(description="The third-party team that handles escalations (level 3).")
    async def external_team(self, info: Info) -> Team | None:
        return await _team(info, self.external_team_pk)


async def _team(info: Info, pk: int | None) -> Team | None:
    if pk is None:
        return None
    row = await info.context.loaders.teams.load(pk)
    return Team.from_row(row) if row else None


async def _category(info: Info, pk: int | None) -> Category | None:
    if pk is None:
        return None
    row = await info.context.loaders.categories.load(pk)
    return Category.from_row(row) if row else None


async def _required_user(info: Info, pk: int) -> User:
    user = await _user(info, pk)
    assert user is not None  # a foreign key guarantees it
    return user


async def _user(info: Info, pk: int | None) -> User | None:
    if pk is None:
        return None
    row = await info.context.loaders.users.load(pk)
    return User.from_row(row) if row else None


@strawberry.type(description="Service-level targets and how the ticket stands against them.")
class TicketSla:
    first_response_due_at: datetime
    resolution_due_at: datetime
    first_responded_at: datetime | None
    first_response_breached: bool
    resolution_breached: bool
    paused: bool


@strawberry.type
class Ticket(Node):
    id: strawberry.ID
    row: strawberry.Private[TicketRow]
    # Relations loaded ahead for a whole page (sets.schema.prefetch); empty otherwise.
    prefetched: strawberry.Private[dict[Any, Any]]
    key: str
    title: str
    description: str
    status: TicketStatus
    priority: Priority
    urgency: Urgency | None
    version: int
    escalation_level: int
    reopen_count: int
    resolution: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    sla: TicketSla

    @classmethod
    def from_row(cls, row: TicketRow) -> Ticket:
        return cls(
            id=strawberry.ID(to_global_id("Ticket", row.id)),
            row=row,
            prefetched={},
            key=ticket_key(row.id),
            title=row.title,
            description=row.description,
            status=row.status,
            priority=row.priority,
            urgency=Urgency(row.urgency) if row.urgency else None,
            version=row.version,
            escalation_level=row.escalation_level,
            reopen_count=row.reopen_count,
            resolution=row.resolution,
            created_at=row.created_at,
            updated_at=row.updated_at,
            resolved_at=row.resolved_at,
            closed_at=row.closed_at,
            sla=TicketSla(
                first_response_due_at=row.first_response_due_at,
                resolution_due_at=row.resolution_due_at,
                first_responded_at=row.first_responded_at,
                first_response_breached=row.first_response_breached,
                resolution_breached=row.resolution_breached,
                paused=row.status is TicketStatus.PENDING,
            ),
        )

    # Relation fields are sync: a value loaded ahead (sets.schema.prefetch: already a GraphQL
    # object, or None) is returned as is, and the executor may take it without calling the
    # resolver (`ahead`); otherwise the returned coroutine (a DataLoader call) is awaited.
    def _ahead(self, key: str, load: Any) -> Any:
        """The value loaded ahead, else the loader's coroutine."""
        if key in self.prefetched:
            return self.prefetched[key]
        return load()

    @strawberry.field
    @ahead("requester")
    def requester(self, info: Info) -> User:
        return self._ahead("requester", lambda: _required_user(info, self.row.requester_id))  # type: ignore[no-any-return]

    @strawberry.field
    @ahead("assignee")
    def assignee(self, info: Info) -> User | None:
        return self._ahead("assignee", lambda: _user(info, self.row.assignee_id))  # type: ignore[no-any-return]

    @strawberry.field
    @ahead("team")
    def team(self, info: Info) -> Team | None:
        return self._ahead("team", lambda: _team(info, self.row.team_id))  # type: ignore[no-any-return]

    @strawberry.field
    @ahead("category")
    def category(self, info: Info) -> Category | None:
        return self._ahead("category", lambda: _category(info, self.row.category_id))  # type: ignore[no-any-return]

    @strawberry.field(description="Statuses the caller may move this ticket to now.")
    def allowed_transitions(self, info: Info) -> list[TicketStatus]:
        actor = info.context.known_actor
        return workflow.allowed_targets(actor, self.row) if actor else []

    @strawberry.field(description="Internal-only fields hidden: is the caller staff on it?")
    def can_work(self, info: Info) -> bool:
        actor = info.context.known_actor
        return actor is not None and permissions.can_work(actor, self.row)

    @strawberry.field(
        description="The audit trail, oldest first. `first/after` pages forward; "
        "`last/before` gives the most recent ones. Internal events are shown to staff only."
    )
    def events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> TicketEventConnection:
        window = event_window(first=first, after=after, last=last, before=before)
        found = self.prefetched.get(("events", window))
        if found is not None:
            rows, actors = found
            return _event_page(self.row.id, rows, window, after, before, actors)
        return self._load_events(info, window, after, before)  # type: ignore[return-value]

    async def _load_events(
        self, info: Info, window: EventWindow, after: str | None, before: str | None
    ) -> TicketEventConnection:
        rows = await info.context.loaders.events(window).load(self.row.id)
        return _event_page(self.row.id, rows, window, after, before, None)

    @strawberry.field(description="Subtasks in order (staff only; empty for requesters).")
    async def tasks(self, info: Info) -> list[Annotated[Task, strawberry.lazy(_COLLAB)]]:
        return await _collab().ticket_tasks(info, self.row)  # type: ignore[no-any-return]

    @strawberry.field(description="Links to and from tickets the caller may also see.")
    async def links(self, info: Info) -> list[Annotated[TicketLink, strawberry.lazy(_COLLAB)]]:
        return await _collab().ticket_links(info, self.row)  # type: ignore[no-any-return]

    @strawberry.field(description="Total minutes logged (staff only; null for requesters).")
    async def time_spent_minutes(self, info: Info) -> int | None:
        return await _collab().ticket_minutes(info, self.row)  # type: ignore[no-any-return]

    @strawberry.field(description="Time entries, oldest first (staff only).")
    async def time_entries(
        self, info: Info
    ) -> list[Annotated[TimeEntry, strawberry.lazy(_COLLAB)]]:
        return await _collab().ticket_time_entries(info, self.row)  # type: ignore[no-any-return]

    @strawberry.field(description="The requester's CSAT rating (staff and the requester).")
    async def rating(self, info: Info) -> Annotated[TicketRating, strawberry.lazy(_COLLAB)] | None:
        return await _collab().ticket_rating(info, self.row)  # type: ignore[no-any-return]

    @strawberry.field(
        description="Files on the ticket and on its comments, oldest first; those of internal "
        "notes for staff only."
    )
    async def attachments(self, info: Info) -> list[Annotated[Attachment, strawberry.lazy(_FILES)]]:
        return await _files().ticket_attachments(info, self.row)  # type: ignore[no-any-return]

    @strawberry.field(description="Conversation, oldest first; internal notes for staff only.")
    async def comments(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> CommentConnection:
        size = page_size(first)
        window = CommentWindow(after_id=comment_after(after), limit=size + 1)
        rows = await info.context.loaders.comments(window).load(self.row.id)
        edges = [
            CommentEdge(cursor=encode_cursor({"c": r.id}), node=Comment.from_row(r))
            for r in rows[:size]
        ]
        return CommentConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > size,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            ticket_pk=self.row.id,
        )


def _event_page(
    ticket_pk: int,
    rows: list[EventRow],
    window: EventWindow,
    after: str | None,
    before: str | None,
    actors: dict[int, User] | None,
) -> TicketEventConnection:
    size = window.limit - 1
    more = len(rows) > size
    if window.newest_first:
        # The newest `size` events, still listed oldest first.
        rows = rows[len(rows) - size :] if more else rows
        has_next, has_previous = before is not None, more
    else:
        rows = rows[:size]
        has_next, has_previous = more, after is not None
    return TicketEventConnection(
        nodes=[TicketEvent.from_row(r, actors) for r in rows],
        has_next=has_next,
        has_previous=has_previous,
        ticket_pk=ticket_pk,
    )


@computed
def _event_id(self: TicketEvent) -> strawberry.ID:
    return strawberry.ID(to_global_id("TicketEvent", self.row.id))


@computed
def _event_cursor(self: TicketEvent) -> str:
    return event_cursor(self.row)


@computed
def _edge_cursor(self: TicketEventEdge) -> str:
    return event_cursor(self.node.row)


def event_cursor(row: EventRow) -> str:
    # Carries the global event id too, so a subscription can resume from it.
    return encode_cursor({"e": row.id, "s": row.seq, "t": row.ticket_id})


@strawberry.type(description="One entry of a ticket's append-only, hash-chained audit trail.")
class TicketEvent(Node):
    # `id` and `cursor` are computed when asked for (most lists do not select them).
    id: strawberry.ID = strawberry.field(resolver=_event_id)
    row: strawberry.Private[EventRow]
    pk: strawberry.Private[int]
    ticket_pk: strawberry.Private[int]
    actor_pk: strawberry.Private[int | None]
    # {"actor": User or None} when loaded ahead with the page; empty otherwise.
    prefetched: strawberry.Private[dict[str, Any]]
    cursor: str = strawberry.field(resolver=_event_cursor)
    seq: int
    kind: str
    internal: bool
    data: JSON
    created_at: datetime
    from_value: str | None = strawberry.field(
        name="from", description="The value before, for changes that have one."
    )
    to_value: str | None = strawberry.field(name="to", description="The value after.")

    @classmethod
    def from_row(cls, row: EventRow, actors: dict[int, User] | None = None) -> TicketEvent:
        """`actors`: the users loaded ahead, by id (None: the actor field loads its own)."""
        data: dict[str, Any] = row.data or {}
        actor_pk = row.actor_id
        return cls(
            row=row,
            pk=row.id,
            ticket_pk=row.ticket_id,
            actor_pk=actor_pk,
            prefetched={}
            if actors is None
            else {"actor": actors.get(actor_pk) if actor_pk else None},
            seq=row.seq,
            kind=row.kind,
            internal=row.internal,
            data=data,
            created_at=row.created_at,
            from_value=_text(data.get("from")),
            to_value=_text(data.get("to")),
        )

    @strawberry.field(description="Who did it; null for the system (SLA sweeps, automation).")
    @ahead("actor")
    def actor(self, info: Info) -> User | None:
        if "actor" in self.prefetched:
            return self.prefetched["actor"]  # type: ignore[no-any-return]
        return _user(info, self.actor_pk)  # type: ignore[return-value]

    @strawberry.field
    async def ticket(self, info: Info) -> Ticket | None:
        row = await info.context.loaders.tickets.load(self.ticket_pk)
        return Ticket.from_row(row) if row else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@strawberry.type
class Comment(Node):
    id: strawberry.ID
    pk: strawberry.Private[int]
    author_pk: strawberry.Private[int]
    ticket_pk: strawberry.Private[int]
    parent_id: strawberry.ID | None
    body: str
    internal: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: CommentRow) -> Comment:
        return cls(
            id=strawberry.ID(to_global_id("Comment", row.id)),
            pk=row.id,
            author_pk=row.author_id,
            ticket_pk=row.ticket_id,
            parent_id=(
                strawberry.ID(to_global_id("Comment", row.parent_id)) if row.parent_id else None
            ),
            body=row.body,
            internal=row.internal,
            created_at=row.created_at,
        )

    @strawberry.field
    async def author(self, info: Info) -> User | None:
        return await _user(info, self.author_pk)

    @strawberry.field(
        description="The users its `@username` mentions name, in order of first mention "
        "(names that match nobody are left out)."
    )
    async def mentions(self, info: Info) -> list[User]:
        names = mentioned_usernames(self.body)
        rows = await info.context.loaders.users_by_name.load_many(names)
        return [User.from_row(r) for r in rows if r is not None]

    @strawberry.field(description="Files attached to this comment, oldest first.")
    async def attachments(self, info: Info) -> list[Annotated[Attachment, strawberry.lazy(_FILES)]]:
        return await _files().comment_attachments(info, self.pk)  # type: ignore[no-any-return]

    @strawberry.field
    async def ticket(self, info: Info) -> Ticket | None:
        row = await info.context.loaders.tickets.load(self.ticket_pk)
        return Ticket.from_row(row) if row else None


@strawberry.type
class TicketEventEdge:
    cursor: str = strawberry.field(resolver=_edge_cursor)
    node: TicketEvent


@strawberry.type
class TicketEventConnection:
    nodes: list[TicketEvent]
    # Edges and page info are made when asked for: a dashboard lists only nodes.
    has_next: strawberry.Private[bool]
    has_previous: strawberry.Private[bool]
    ticket_pk: strawberry.Private[int]

    @strawberry.field
    def edges(self) -> list[TicketEventEdge]:
        return [TicketEventEdge(node=n) for n in self.nodes]

    @strawberry.field
    def page_info(self) -> PageInfo:
        nodes = self.nodes
        return PageInfo(
            has_next_page=self.has_next,
            has_previous_page=self.has_previous,
            start_cursor=event_cursor(nodes[0].row) if nodes else None,
            end_cursor=event_cursor(nodes[-1].row) if nodes else None,
        )

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        return await info.context.loaders.event_counts.load(self.ticket_pk)


@strawberry.type
class CommentEdge:
    cursor: str
    node: Comment


@strawberry.type
class CommentConnection:
    edges: list[CommentEdge]
    page_info: PageInfo
    ticket_pk: strawberry.Private[int]

    @strawberry.field
    def nodes(self) -> list[Comment]:
        return [e.node for e in self.edges]

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        return await info.context.loaders.comment_counts.load(self.ticket_pk)


@strawberry.type
class PriorityRule(Node):
    id: strawberry.ID
    pk: strawberry.Private[int]
    category_pk: strawberry.Private[int | None]
    name: str
    position: int
    priority: Priority
    keywords: list[str]

    @classmethod
    def from_row(cls, row: PriorityRuleRow) -> PriorityRule:
        return cls(
            id=strawberry.ID(to_global_id("PriorityRule", row.id)),
            pk=row.id,
            category_pk=row.category_id,
            name=row.name,
            position=row.position,
            priority=Priority(row.priority),
            keywords=list(parse_keywords(row.keywords)),
        )

    @strawberry.field
    async def category(self, info: Info) -> Category | None:
        if self.category_pk is None:
            return None
        row = await info.context.loaders.categories.load(self.category_pk)
        return Category.from_row(row) if row else None
