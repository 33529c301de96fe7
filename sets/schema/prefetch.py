"""Look-ahead for ticket lists: what the query selects under `edges.node` / `nodes` is loaded
for the whole page before resolution (one statement per kind, in one session), and
handed to the tickets as GraphQL objects (one per row, shared), so their relation fields
resolve synchronously, or are not called at all (sets.schema.execution's `ahead`). graphql-core
pays a task and a gather for every async field; on a 50-ticket dashboard that was most of the
time. Event actors are loaded with the users when the events' nodes select `actor`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from sets.domain.errors import DomainError
from sets.schema.context import Info
from sets.schema.loaders import EventWindow
from sets.schema.pagination import event_window
from sets.schema.types import Category, Team, User

RELATIONS = ("requester", "assignee", "category", "team", "events")


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from _fields(selection.selections)


def _children(fields: Iterable[SelectedField], name: str) -> list[SelectedField]:
    return [c for f in fields if f.name == name for c in _fields(f.selections)]


def node_fields(connection: SelectedField) -> list[SelectedField]:
    """What is selected on each ticket of a connection (through edges.node and nodes)."""
    top = list(_fields(connection.selections))
    return _children(_children(top, "edges"), "node") + _children(top, "nodes")


def _event_window(fields: Sequence[SelectedField]) -> EventWindow | None:
    """The one events page asked for; none when absent or asked for twice differently."""
    windows = set()
    for field in fields:
        if field.name == "events":
            args = field.arguments
            try:
                windows.add(
                    event_window(
                        first=_int(args.get("first")),
                        after=args.get("after"),
                        last=_int(args.get("last")),
                        before=args.get("before"),
                    )
                )
            except (DomainError, ValueError):
                return None  # the resolver reports it, with its field
    return windows.pop() if len(windows) == 1 else None


def _int(value: Any) -> int | None:
    # Literal arguments arrive as their source text; variables as values.
    return None if value is None else int(value)


async def prefetch_tickets(info: Info, tickets: Sequence[Any]) -> None:
    """Fill `ticket.prefetched` for the relations this query selects."""
    if not tickets or not info.selected_fields:
        return
    fields = node_fields(info.selected_fields[0])
    names = {f.name for f in fields}
    if not names & set(RELATIONS):
        return
    loaders = info.context.loaders
    rows = [t.row for t in tickets]
    window = _event_window(fields) if "events" in names else None
    event_nodes = [n for f in fields if f.name == "events" for n in node_fields(f)]
    want_actors = window is not None and any(f.name == "actor" for f in event_nodes)

    user_ids: set[int] = set()
    if "requester" in names:
        user_ids |= {r.requester_id for r in rows}
    if "assignee" in names:
        user_ids |= {r.assignee_id for r in rows if r.assignee_id is not None}
    related = await info.context.services.reads.related(
        await info.context.actor(),
        ticket_ids=[r.id for r in rows],
        events=window,
        category_ids=sorted({r.category_id for r in rows if r.category_id})
        if "category" in names
        else [],
        team_ids=sorted({r.team_id for r in rows if r.team_id}) if "team" in names else [],
        user_ids=sorted(user_ids),
        event_actors=want_actors,
    )
    # The request's loaders answer later lookups of the same rows without a statement.
    loaders.users.prime_many(related.users)
    loaders.categories.prime_many(related.categories)
    loaders.teams.prime_many(related.teams)
    if window is not None:
        loaders.events(window).prime_many({r.id: related.events.get(r.id, []) for r in rows})
    # One GraphQL object per row, shared by every ticket (and event) that refers to it.
    by_user = {pk: User.from_row(u) for pk, u in related.users.items()}
    by_category = {pk: Category.from_row(c) for pk, c in related.categories.items()}
    by_team = {pk: Team.from_row(t) for pk, t in related.teams.items()}
    for ticket in tickets:
        row = ticket.row
        found: dict[Any, Any] = {}
        if "requester" in names and row.requester_id in by_user:
            found["requester"] = by_user[row.requester_id]
        if "assignee" in names:
            found["assignee"] = by_user.get(row.assignee_id) if row.assignee_id else None
        if "category" in names:
            found["category"] = by_category.get(row.category_id) if row.category_id else None
        if "team" in names:
            found["team"] = by_team.get(row.team_id) if row.team_id else None
        if window is not None:
            found[("events", window)] = (
                related.events.get(row.id, []),
                by_user if want_actors else None,
            )
        ticket.prefetched = found
