"""Ticket queries and workflow mutations: translation to the ticket services, no rules here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

import strawberry
from strawberry.file_uploads import Upload

from sets.domain.enums import Priority, TicketStatus, Urgency
from sets.domain.errors import DomainError
from sets.domain.tickets import parse_ticket_key, ticket_key
from sets.repositories.tickets import RELEVANCE, TicketQuery
from sets.schema.context import Info
from sets.schema.errors import UserError, coded_error, user_errors
from sets.schema.ids import from_global_id, parse_global_id, ticket_pk
from sets.schema.pagination import page_size, ticket_after, ticket_cursor
from sets.schema.prefetch import prefetch_tickets
from sets.schema.types import Comment, PageInfo, Ticket
from sets.schema.uploads import received_files

T = TypeVar("T")


async def attempt(work: Callable[[], Awaitable[T]]) -> tuple[T | None, list[UserError]]:
    """Run a mutation's service call; expected refusals become userErrors."""
    try:
        return await work(), []
    except DomainError as exc:
        return None, user_errors(exc)


def optional_pk(value: strawberry.ID | None, type_name: str, field: str) -> int | None:
    return None if value is None else from_global_id(value, type_name, field=field)


@strawberry.enum
class TicketOrderField(Enum):
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    PRIORITY = "PRIORITY"
    RESOLUTION_DUE_AT = "RESOLUTION_DUE_AT"
    RELEVANCE = strawberry.enum_value(
        "RELEVANCE",
        description="Best match to `search` first (the direction is ignored); the default "
        "when searching. Without `search` it falls back to CREATED_AT.",
    )


@strawberry.enum
class OrderDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input
class TicketOrder:
    field: TicketOrderField = TicketOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC


@strawberry.input(description="All given conditions must hold; lists match any of their values.")
class TicketFilter:
    statuses: list[TicketStatus] | None = None
    priorities: list[Priority] | None = None
    category_ids: list[strawberry.ID] | None = None
    team_ids: list[strawberry.ID] | None = None
    assignee_ids: list[strawberry.ID] | None = None
    requester_ids: list[strawberry.ID] | None = None
    unassigned: bool | None = None
    assigned_to_me: bool | None = None
    open: bool | None = strawberry.field(
        default=None, description="true: not RESOLVED/CLOSED; false: only those."
    )
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    resolved_after: datetime | None = None
    resolved_before: datetime | None = None
    escalated: bool | None = strawberry.field(
        default=None, description="true: escalated (level 1 or more); false: never escalated."
    )
    breached: bool | None = strawberry.field(
        default=None,
        description="true: the first-response or the resolution target was breached; "
        "false: neither.",
    )


@strawberry.type
class TicketEdge:
    cursor: str
    node: Ticket


@strawberry.type
class TicketConnection:
    edges: list[TicketEdge]
    nodes: list[Ticket]
    page_info: PageInfo
    total: strawberry.Private[int | None]
    query: strawberry.Private[TicketQuery]

    @strawberry.field(description="Tickets matching the filter that the caller may see.")
    async def total_count(self, info: Info) -> int:
        if self.total is not None:
            return self.total
        actor = await info.context.actor()
        return await info.context.services.reads.count_tickets(actor, self.query)


def _ids(values: list[strawberry.ID] | None, type_name: str, field: str) -> list[int]:
    return [from_global_id(v, type_name, field=field) for v in values or ()]


def _search_text(search: str | None) -> str | None:
    """The search box also takes a ticket's Relay id, as its key."""
    text = (search or "").strip()
    try:
        type_name, pk = parse_global_id(text)
    except DomainError:
        return text or None
    return ticket_key(pk) if type_name == "Ticket" else text


def to_query(
    filter: TicketFilter | None, order: TicketOrder | None, me: int | None, search: str | None
) -> TicketQuery:
    f = filter or TicketFilter()
    text = _search_text(search)
    # Searching ranks by relevance unless an order is asked for; relevance needs a search.
    field, descending = TicketOrderField.CREATED_AT, True
    if order is not None:
        field, descending = order.field, order.direction is OrderDirection.DESC
    elif text:
        field = TicketOrderField.RELEVANCE
    if field is TicketOrderField.RELEVANCE and not text:
        field = TicketOrderField.CREATED_AT
    assignees = _ids(f.assignee_ids, "User", "filter.assigneeIds")
    if f.assigned_to_me and me is not None:
        assignees.append(me)
    return TicketQuery(
        statuses=list(f.statuses or ()),
        open=f.open,
        priorities=list(f.priorities or ()),
        category_ids=_ids(f.category_ids, "Category", "filter.categoryIds"),
        team_ids=_ids(f.team_ids, "Team", "filter.teamIds"),
        assignee_ids=assignees,
        requester_ids=_ids(f.requester_ids, "User", "filter.requesterIds"),
        unassigned=f.unassigned,
        created_after=f.created_after,
        created_before=f.created_before,
        updated_after=f.updated_after,
        updated_before=f.updated_before,
        resolved_after=f.resolved_after,
        resolved_before=f.resolved_before,
        escalated=f.escalated,
        breached=f.breached,
        order_field=field.value,
        descending=descending,
        search=text,
    )


@strawberry.type
class TicketQueries:
    @strawberry.field(description="A ticket by its Relay id.")
    async def ticket(self, info: Info, id: strawberry.ID) -> Ticket | None:
        actor = await info.context.actor()
        try:
            pk = ticket_pk(id, field="id")
            return Ticket.from_row(await info.context.services.reads.ticket(actor, pk))
        except DomainError as exc:
            raise coded_error(exc) from exc

    @strawberry.field(description='A ticket by its human key, e.g. "SETS-42".')
    async def ticket_by_key(self, info: Info, key: str) -> Ticket | None:
        actor = await info.context.actor()
        pk = parse_ticket_key(key)
        if pk is None:
            raise coded_error(DomainError(f"{key!r} is not a ticket key", field="key"))
        try:
            return Ticket.from_row(await info.context.services.reads.ticket(actor, pk))
        except DomainError as exc:
            raise coded_error(exc) from exc

    @strawberry.field(
        description="Tickets the caller may see, newest first by default. `search` takes a "
        "key (SETS-42), a ticket number, or words: full-text over the title, the description "
        "and the comments (internal notes for staff only), best match first unless `orderBy` "
        "says otherwise. Every word must occur; words of 3+ characters also match as the "
        "start of a longer word."
    )
    async def tickets(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: TicketFilter | None = None,
        order_by: TicketOrder | None = None,
        search: str | None = None,
    ) -> TicketConnection:
        actor = await info.context.actor()
        try:
            query = to_query(filter, order_by, actor.user_id, search)
            return await ticket_connection(info, query, first=first, after=after)
        except DomainError as exc:
            raise coded_error(exc) from exc


async def ticket_connection(
    info: Info, query: TicketQuery, *, first: int | None, after: str | None
) -> TicketConnection:
    """One page of `query` for the caller (also what a saved search runs)."""
    actor = await info.context.actor()
    services = info.context.services
    size = page_size(first)
    keys: list[Any]
    if query.order_field == RELEVANCE:
        page, keys = await services.search.ranked(
            actor, query, first=size, after=ticket_after(after)
        )
    else:
        page = await services.reads.tickets(actor, query, first=size, after=ticket_after(after))
        keys = [_order_value(t, query.order_field.lower()) for t in page.items]
    nodes = [Ticket.from_row(t) for t in page.items]
    await prefetch_tickets(info, nodes)
    edges = [
        TicketEdge(cursor=ticket_cursor(key, node.row.id), node=node)
        for node, key in zip(nodes, keys, strict=True)
    ]
    return TicketConnection(
        edges=edges,
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total=page.total,
        query=query,
    )


def _order_value(ticket: Any, column: str) -> Any:
    value = getattr(ticket, column)
    return value.value if isinstance(value, Enum) else value


@strawberry.input
class CreateTicketInput:
    title: str
    description: str
    category_id: strawberry.ID | None = None
    urgency: Urgency | None = None
    attachments: list[Upload] | None = strawberry.field(
        default=None,
        description="Files, as multipart/form-data parts (GraphQL multipart request spec).",
    )


@strawberry.input
class UpdateTicketInput:
    ticket_id: strawberry.ID
    title: str | None = None
    description: str | None = None
    category_id: strawberry.ID | None = None
    expected_version: int | None = None


@strawberry.input
class AssignTicketInput:
    ticket_id: strawberry.ID
    assignee_id: strawberry.ID | None = None
    team_id: strawberry.ID | None = None
    reason: str | None = strawberry.field(
        default=None, description="Required to take a ticket from its current assignee."
    )
    expected_version: int | None = None


@strawberry.input
class UnassignTicketInput:
    ticket_id: strawberry.ID
    reason: str | None = None


@strawberry.input
class TransitionTicketInput:
    ticket_id: strawberry.ID
    to: TicketStatus
    reason: str | None = None
    resolution: str | None = strawberry.field(
        default=None, description="Required when resolving: what fixed it."
    )
    expected_version: int | None = None
    force: bool = strawberry.field(
        default=False,
        description="When resolving: resolve although subtasks are open (a manager of the "
        "team or an admin; audited). Never overrides an unresolved blocking ticket.",
    )


@strawberry.input
class ChangePriorityInput:
    ticket_id: strawberry.ID
    priority: Priority
    reason: str


@strawberry.input
class EscalateTicketInput:
    ticket_id: strawberry.ID
    reason: str


@strawberry.input
class AddCommentInput:
    ticket_id: strawberry.ID
    body: str
    internal: bool = strawberry.field(
        default=False, description="An internal note: never shown to the requester."
    )
    parent_id: strawberry.ID | None = None
    attachments: list[Upload] | None = strawberry.field(
        default=None,
        description="Files, as multipart/form-data parts (GraphQL multipart request spec).",
    )


@strawberry.type
class TicketPayload:
    ticket: Ticket | None
    user_errors: list[UserError]


@strawberry.type
class CommentPayload:
    comment: Comment | None
    ticket: Ticket | None
    user_errors: list[UserError]


def _ticket_payload(result: tuple[Any, list[UserError]]) -> TicketPayload:
    row, errors = result
    return TicketPayload(
        ticket=Ticket.from_row(row) if row is not None else None, user_errors=errors
    )


@strawberry.type
class TicketMutations:
    @strawberry.mutation(description="Open a ticket; priority and team come from the rules.")
    async def create_ticket(self, info: Info, input: CreateTicketInput) -> TicketPayload:
        actor = await info.context.actor()
        svc = info.context.services.tickets

        async def work() -> Any:
            async with received_files(info, input.attachments) as files:
                return await svc.create(
                    actor,
                    title=input.title,
                    description=input.description,
                    category_id=optional_pk(input.category_id, "Category", "categoryId"),
                    urgency=input.urgency,
                    attachments=files,
                )

        return _ticket_payload(await attempt(work))

    @strawberry.mutation
    async def update_ticket(self, info: Info, input: UpdateTicketInput) -> TicketPayload:
        actor = await info.context.actor()
        svc = info.context.services.tickets
        return _ticket_payload(
            await attempt(
                lambda: svc.update(
                    actor,
                    ticket_pk(input.ticket_id),
                    title=input.title,
                    description=input.description,
                    category_id=optional_pk(input.category_id, "Category", "categoryId"),
                    expected_version=input.expected_version,
                )
            )
        )

    @strawberry.mutation(description="Assign to a person and/or route to a team.")
    async def assign_ticket(self, info: Info, input: AssignTicketInput) -> TicketPayload:
        actor = await info.context.actor()
        svc = info.context.services.tickets
        return _ticket_payload(
            await attempt(
                lambda: svc.assign(
                    actor,
                    ticket_pk(input.ticket_id),
                    assignee_id=optional_pk(input.assignee_id, "User", "assigneeId"),
                    team_id=optional_pk(input.team_id, "Team", "teamId"),
                    reason=input.reason,
                    expected_version=input.expected_version,
                )
            )
        )

    @strawberry.mutation
    async def unassign_ticket(self, info: Info, input: UnassignTicketInput) -> TicketPayload:
        actor = await info.context.actor()
        svc = info.context.services.tickets
        return _ticket_payload(
            await attempt(
                lambda: svc.unassign(actor, ticket_pk(input.ticket_id), reason=input.reason)
            )
        )

    @strawberry.mutation(description="Move a ticket along its lifecycle (SPEC §2).")
    async def transition_ticket(self, info: Info, input: TransitionTicketInput) -> TicketPayload:
        actor = await info.context.actor()
        svc = info.context.services.tickets
        return _ticket_payload(
            await attempt(
                lambda: svc.transition(
                    actor,
                    ticket_pk(input.ticket_id),
                    input.to,
                    reason=input.reason,
                    resolution=input.resolution,
                    expected_version=input.expected_version,
                    force=input.force,
                )
            )
        )

    @strawberry.mutation(description="Override the priority; the SLA due times follow.")
    async def change_priority(self, info: Info, input: ChangePriorityInput) -> TicketPayload:
        actor = await info.context.actor()
        svc = info.context.services.tickets
        return _ticket_payload(
            await attempt(
                lambda: svc.change_priority(
                    actor, ticket_pk(input.ticket_id), input.priority, reason=input.reason
                )
            )
        )

    @strawberry.mutation(description="Raise the escalation level by one (at most 3).")
    async def escalate_ticket(self, info: Info, input: EscalateTicketInput) -> TicketPayload:
        actor = await info.context.actor()
        svc = info.context.services.tickets
        return _ticket_payload(
            await attempt(
                lambda: svc.escalate(actor, ticket_pk(input.ticket_id), reason=input.reason)
            )
        )

    @strawberry.mutation(description="Reply publicly or add an internal note.")
    async def add_comment(self, info: Info, input: AddCommentInput) -> CommentPayload:
        actor = await info.context.actor()
        ctx = info.context

        async def work() -> tuple[Any, Any]:
            pk = ticket_pk(input.ticket_id)
            async with received_files(info, input.attachments) as files:
                comment = await ctx.services.tickets.add_comment(
                    actor,
                    pk,
                    body=input.body,
                    internal=input.internal,
                    parent_id=optional_pk(input.parent_id, "Comment", "parentId"),
                    attachments=files,
                )
            return comment, await ctx.services.reads.ticket(actor, pk)

        result, errors = await attempt(work)
        if result is None:
            return CommentPayload(comment=None, ticket=None, user_errors=errors)
        comment, ticket = result
        return CommentPayload(
            comment=Comment.from_row(comment), ticket=Ticket.from_row(ticket), user_errors=[]
        )
