"""Saved searches: a name for a `tickets` search, personal or shared with a team.

The filter is stored exactly as the API took it (camelCase keys, global ids, enum names,
ISO instants): `filter` hands it back as JSON a client can pass straight to
`tickets(filter: …)`, and `tickets` on a saved search runs it for the caller now.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.utils.str_converters import to_camel_case

from sets.domain.errors import DomainError, ValidationFailed
from sets.models import SavedSearch as SavedSearchRow
from sets.schema.context import Info
from sets.schema.errors import UserError, coded_error
from sets.schema.ids import from_global_id, to_global_id
from sets.schema.tickets import (
    OrderDirection,
    TicketConnection,
    TicketFilter,
    TicketOrder,
    TicketOrderField,
    attempt,
    optional_pk,
    ticket_connection,
    to_query,
)
from sets.schema.types import Team, User


def encode_filter(value: TicketFilter | None) -> dict[str, Any]:
    """The filter as GraphQL variables would carry it; unset fields are left out."""
    if value is None:
        return {}
    found: dict[str, Any] = {}
    for field in dataclasses.fields(value):
        item = getattr(value, field.name)
        if item is not None:
            found[to_camel_case(field.name)] = _encode(item)
    return found


def _encode(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def decode_filter(data: dict[str, Any]) -> TicketFilter:
    """Back into a TicketFilter; keys of fields that no longer exist are ignored."""
    hints = typing.get_type_hints(TicketFilter)
    names = {to_camel_case(f.name): f.name for f in dataclasses.fields(TicketFilter)}
    values: dict[str, Any] = {}
    try:
        for key, raw in data.items():
            if key in names:
                values[names[key]] = _decode(hints[names[key]], raw)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            f"the saved filter no longer applies ({exc}); save the search again", field="filter"
        ) from exc
    return TicketFilter(**values)


def _decode(hint: Any, raw: Any) -> Any:
    if raw is None:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in args if a is not type(None)]
        return _decode(inner, raw)
    if origin is list:
        if not isinstance(raw, list):
            raise TypeError(f"expected a list, got {raw!r}")
        return [_decode(args[0], item) for item in raw]
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(raw)
    if hint is datetime:
        return datetime.fromisoformat(raw)
    if hint is bool and not isinstance(raw, bool):
        raise TypeError(f"expected true or false, got {raw!r}")
    return raw


@strawberry.type
class SavedSearchOrder:
    field: TicketOrderField
    direction: OrderDirection


@strawberry.type(description="A named ticket search: yours, or shared with one of your teams.")
class SavedSearch:
    id: strawberry.ID
    row: strawberry.Private[SavedSearchRow]
    name: str
    search: str | None
    filter: JSON = strawberry.field(
        description="The TicketFilter as saved, usable as the `filter` argument of `tickets`."
    )
    order_by: SavedSearchOrder | None
    shared: bool = strawberry.field(description="Shared with `team`, rather than personal.")
    created_at: datetime

    @classmethod
    def from_row(cls, row: SavedSearchRow) -> SavedSearch:
        order = None
        if row.order_field is not None:
            order = SavedSearchOrder(
                field=TicketOrderField(row.order_field),
                direction=OrderDirection(row.order_direction or OrderDirection.DESC.value),
            )
        return cls(
            id=strawberry.ID(to_global_id("SavedSearch", row.id)),
            row=row,
            name=row.name,
            search=row.search,
            filter=dict(row.filter or {}),
            order_by=order,
            shared=row.team_id is not None,
            created_at=row.created_at,
        )

    @strawberry.field
    async def owner(self, info: Info) -> User | None:
        found = await info.context.loaders.users.load(self.row.owner_id)
        return User.from_row(found) if found else None

    @strawberry.field
    async def team(self, info: Info) -> Team | None:
        if self.row.team_id is None:
            return None
        found = await info.context.loaders.teams.load(self.row.team_id)
        return Team.from_row(found) if found else None

    @strawberry.field(description="Runs the search now, as the caller sees tickets.")
    async def tickets(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> TicketConnection:
        actor = await info.context.actor()
        order = None
        if self.order_by is not None:
            order = TicketOrder(field=self.order_by.field, direction=self.order_by.direction)
        try:
            query = to_query(decode_filter(self.row.filter), order, actor.user_id, self.search)
            return await ticket_connection(info, query, first=first, after=after)
        except DomainError as exc:
            raise coded_error(exc) from exc


@strawberry.input
class CreateSavedSearchInput:
    name: str
    search: str | None = None
    filter: TicketFilter | None = None
    order_by: TicketOrder | None = strawberry.field(
        default=None, description="Unset: by relevance when searching, else newest first."
    )
    team_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Share the view with this team (its managers and admins only); "
        "unset: a personal view.",
    )


@strawberry.input
class DeleteSavedSearchInput:
    id: strawberry.ID


@strawberry.type
class SavedSearchPayload:
    saved_search: SavedSearch | None
    user_errors: list[UserError]


@strawberry.type
class DeleteSavedSearchPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class SavedSearchQueries:
    @strawberry.field(
        description="Your saved searches, then those shared with your teams (admins: all "
        "shared ones), by name."
    )
    async def saved_searches(self, info: Info) -> list[SavedSearch]:
        actor = await info.context.actor()
        rows = await info.context.services.saved_searches.visible(actor)
        return [SavedSearch.from_row(r) for r in rows]

    @strawberry.field
    async def saved_search(self, info: Info, id: strawberry.ID) -> SavedSearch | None:
        actor = await info.context.actor()
        try:
            pk = from_global_id(id, "SavedSearch")
            return SavedSearch.from_row(await info.context.services.saved_searches.get(actor, pk))
        except DomainError as exc:
            raise coded_error(exc) from exc


@strawberry.type
class SavedSearchMutations:
    @strawberry.mutation(description="Save a search under a name, for yourself or a team.")
    async def create_saved_search(
        self, info: Info, input: CreateSavedSearchInput
    ) -> SavedSearchPayload:
        actor = await info.context.actor()
        svc = info.context.services.saved_searches

        async def work() -> SavedSearchRow:
            # Checked as a search would check it: ids well formed and of the right type.
            to_query(input.filter, input.order_by, actor.user_id, input.search)
            order = input.order_by
            return await svc.create(
                actor,
                name=input.name,
                search=input.search,
                filter=encode_filter(input.filter),
                order_field=order.field.value if order else None,
                order_direction=order.direction.value if order else None,
                team_id=optional_pk(input.team_id, "Team", "teamId"),
            )

        row, errors = await attempt(work)
        return SavedSearchPayload(
            saved_search=SavedSearch.from_row(row) if row is not None else None,
            user_errors=errors,
        )

    @strawberry.mutation(description="Delete a view: your own, or a team's if you manage it.")
    async def delete_saved_search(
        self, info: Info, input: DeleteSavedSearchInput
    ) -> DeleteSavedSearchPayload:
        actor = await info.context.actor()
        svc = info.context.services.saved_searches

        async def work() -> SavedSearchRow:
            return await svc.delete(actor, from_global_id(input.id, "SavedSearch"))

        row, errors = await attempt(work)
        return DeleteSavedSearchPayload(
            deleted_id=input.id if row is not None else None, user_errors=errors
        )
