"""Read side: every query goes through the same visibility rules as the mutations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sets.domain import permissions
from sets.domain.actor import Actor
from sets.domain.audit import ChainBreak, ChainLink, verify_chain
from sets.domain.enums import Role
from sets.domain.errors import NotFound
from sets.models import (
    Category,
    Comment,
    EscalationPolicy,
    Notification,
    PriorityRule,
    SlaPolicy,
    Team,
    Ticket,
    TicketEvent,
    User,
)
from sets.repositories.catalog import CatalogRepository
from sets.repositories.notifications import IN_APP, NotificationRepository
from sets.repositories.tickets import EventQuery, EventRecord, TicketQuery, TicketRepository
from sets.repositories.users import TeamRepository, UserRepository
from sets.services.live import EventSnapshots


@dataclass(frozen=True)
class Page:
    items: list[Any]
    has_next: bool
    total: int | None


@dataclass(frozen=True)
class EventWindow:
    """Which events of each ticket: a page of `limit` after/before a seq, oldest or newest
    first (`ReadService.events`)."""

    after_seq: int | None
    before_seq: int | None
    limit: int
    newest_first: bool


@dataclass(frozen=True)
class Related:
    """What a page of tickets refers to (`ReadService.related`)."""

    events: dict[int, list[EventRecord]]
    categories: dict[int, Category]
    teams: dict[int, Team]
    users: dict[int, User]


class ReadService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self.live = EventSnapshots(sessions)

    async def ticket(self, actor: Actor, ticket_id: int) -> Ticket:
        async with self._sessions() as session:
            ticket = await TicketRepository(session).get(ticket_id)
        if ticket is None:
            raise NotFound("ticket not found", field="id")
        permissions.ensure_can_view(actor, ticket)
        return ticket

    async def tickets_by_id(self, actor: Actor, ids: Sequence[int]) -> dict[int, Ticket]:
        """The visible ones among `ids`; the others are simply absent."""
        async with self._sessions() as session:
            found = await TicketRepository(session).get_many(ids)
        return {pk: t for pk, t in found.items() if permissions.can_view(actor, t)}

    async def tickets(
        self, actor: Actor, query: TicketQuery, *, first: int, after: tuple[Any, int] | None
    ) -> Page:
        async with self._sessions() as session:
            rows, total = await TicketRepository(session).page(
                query, actor, after=after, limit=first + 1
            )
        return Page(rows[:first], len(rows) > first, total)

    async def count_tickets(self, actor: Actor, query: TicketQuery) -> int:
        async with self._sessions() as session:
            return await TicketRepository(session).count(query, actor)

    async def events(
        self,
        actor: Actor,
        ticket_ids: Sequence[int],
        *,
        after_seq: int | None,
        before_seq: int | None,
        limit: int,
        newest_first: bool,
    ) -> dict[int, list[EventRecord]]:
        """For tickets the caller was already allowed to load; internal ones only for staff."""
        window = EventWindow(after_seq, before_seq, limit, newest_first)
        async with self._sessions() as session:
            return await _events_in(session, actor, ticket_ids, window)

    async def related(
        self,
        actor: Actor,
        *,
        ticket_ids: Sequence[int],
        events: EventWindow | None,
        category_ids: Sequence[int],
        team_ids: Sequence[int],
        user_ids: Sequence[int],
        event_actors: bool,
    ) -> Related:
        """For a page of tickets the caller was already allowed to load: their events, and
        the categories, teams and users they refer to (with the events' actors when asked),
        one statement per kind in one session: a session of its own for each cost more than
        its statement."""
        async with self._sessions() as session:
            found_events = (
                await _events_in(session, actor, ticket_ids, events) if events is not None else {}
            )
            categories = await CatalogRepository(session).categories_by_id(category_ids)
            teams = await TeamRepository(session).get_many(team_ids)
            wanted = set(user_ids)
            if event_actors:
                wanted |= {e.actor_id for page in found_events.values() for e in page if e.actor_id}
            users = await UserRepository(session).get_many(sorted(wanted))
        return Related(found_events, categories, teams, users)

    async def count_events(self, actor: Actor, ticket_ids: Sequence[int]) -> dict[int, int]:
        async with self._sessions() as session:
            return await TicketRepository(session).count_events(
                ticket_ids, include_internal=permissions.can_see_internal(actor)
            )

    async def comments(
        self, actor: Actor, ticket_ids: Sequence[int], *, after_id: int | None, limit: int
    ) -> dict[int, list[Comment]]:
        async with self._sessions() as session:
            return await TicketRepository(session).comments_for(
                ticket_ids,
                include_internal=permissions.can_see_internal(actor),
                after_id=after_id,
                limit=limit,
            )

    async def count_comments(self, actor: Actor, ticket_ids: Sequence[int]) -> dict[int, int]:
        async with self._sessions() as session:
            return await TicketRepository(session).count_comments(
                ticket_ids, include_internal=permissions.can_see_internal(actor)
            )

    async def comment(self, actor: Actor, comment_id: int) -> Comment:
        async with self._sessions() as session:
            comment = await TicketRepository(session).comment(comment_id)
            ticket = await TicketRepository(session).get(comment.ticket_id) if comment else None
        if comment is None or ticket is None or not permissions.can_view(actor, ticket):
            raise NotFound("comment not found", field="id")
        if comment.internal and not permissions.can_see_internal(actor):
            raise NotFound("comment not found", field="id")
        return comment

    async def users_by_id(self, ids: Sequence[int]) -> dict[int, User]:
        async with self._sessions() as session:
            return await UserRepository(session).get_many(ids)

    async def users_by_username(self, names: Sequence[str]) -> dict[str, User]:
        async with self._sessions() as session:
            return await UserRepository(session).by_usernames(names)

    async def teams_by_id(self, ids: Sequence[int]) -> dict[int, Team]:
        async with self._sessions() as session:
            return await TeamRepository(session).get_many(ids)

    async def categories_by_id(self, ids: Sequence[int]) -> dict[int, Category]:
        async with self._sessions() as session:
            return await CatalogRepository(session).categories_by_id(ids)

    async def team_members(self, team_ids: Sequence[int]) -> dict[int, list[int]]:
        async with self._sessions() as session:
            return await TeamRepository(session).member_ids(team_ids)

    async def teams_of_users(self, user_ids: Sequence[int]) -> dict[int, list[int]]:
        async with self._sessions() as session:
            return await TeamRepository(session).teams_of_users(user_ids)

    async def user(self, actor: Actor, user_id: int) -> User:
        if not actor.is_staff and actor.user_id != user_id:
            raise NotFound("user not found", field="id")
        async with self._sessions() as session:
            user = await UserRepository(session).get(user_id)
        if user is None:
            raise NotFound("user not found", field="id")
        return user

    async def users(
        self, actor: Actor, *, role: Role | None, after_id: int | None, first: int
    ) -> Page:
        permissions.ensure_staff(actor)
        async with self._sessions() as session:
            repo = UserRepository(session)
            rows, total = await repo.page(role=role, after_id=after_id, limit=first + 1)
            if after_id is not None:
                total = await repo.count(role=role)
        return Page(rows[:first], len(rows) > first, total)

    async def teams(self) -> list[Team]:
        async with self._sessions() as session:
            return await TeamRepository(session).all()

    async def team(self, team_id: int) -> Team:
        async with self._sessions() as session:
            team = await TeamRepository(session).get(team_id)
        if team is None:
            raise NotFound("team not found", field="id")
        return team

    async def categories(self) -> list[Category]:
        async with self._sessions() as session:
            return await CatalogRepository(session).categories()

    async def category(self, category_id: int) -> Category:
        async with self._sessions() as session:
            category = await CatalogRepository(session).category(category_id)
        if category is None:
            raise NotFound("category not found", field="id")
        return category

    async def priority_rules(self, actor: Actor) -> list[PriorityRule]:
        permissions.ensure_staff(actor)
        async with self._sessions() as session:
            return await CatalogRepository(session).priority_rules()

    async def escalation_policies(self, actor: Actor) -> list[EscalationPolicy]:
        permissions.ensure_staff(actor)
        async with self._sessions() as session:
            return await CatalogRepository(session).escalation_policies()

    async def sla_policies(self, actor: Actor) -> list[SlaPolicy]:
        permissions.ensure_staff(actor)
        async with self._sessions() as session:
            return await CatalogRepository(session).sla_policies()

    async def verify_audit_chain(
        self, actor: Actor, ticket_id: int | None = None
    ) -> tuple[int, list[ChainBreak]]:
        permissions.ensure_admin(actor)
        async with self._sessions() as session:
            repo = TicketRepository(session)
            # Heads first: events appended meanwhile then cannot look like a missing tail.
            heads = await repo.chain_heads(ticket_id)
            events = await repo.chain(ticket_id)
        links = [
            ChainLink(
                ticket_id=e.ticket_id,
                seq=e.seq,
                kind=e.kind,
                actor_id=e.actor_id,
                data=e.data,
                created_at=e.created_at,
                prev_hash=e.prev_hash,
                hash=e.hash,
            )
            for e in events
        ]
        return len(links), verify_chain(links, heads)

    async def visible_events(
        self,
        actor: Actor,
        query: EventQuery,
        *,
        after_id: int | None = None,
        ids: Sequence[int] | None = None,
        limit: int = 100,
    ) -> list[TicketEvent]:
        """Events the caller may see, across tickets, by ascending global id: what live
        subscriptions deliver and replay. Same rules as `tickets` and `events` above."""
        async with self._sessions() as session:
            return await TicketRepository(session).visible_events(
                query,
                actor,
                include_internal=permissions.can_see_internal(actor),
                after_id=after_id,
                ids=ids,
                limit=limit,
            )

    async def latest_event_id(self) -> int:
        async with self._sessions() as session:
            return await TicketRepository(session).latest_event_id()

    async def in_app_notifications(
        self,
        actor: Actor,
        *,
        after_id: int | None = None,
        ids: Sequence[int] | None = None,
        limit: int = 100,
    ) -> list[Notification]:
        """The caller's own in-app notifications, by ascending id; nobody reads another's."""
        if actor.user_id is None:
            return []
        async with self._sessions() as session:
            return await NotificationRepository(session).for_recipient(
                actor.user_id, channel=IN_APP, after_id=after_id, ids=ids, limit=limit
            )

    async def latest_notification_id(self) -> int:
        async with self._sessions() as session:
            return await NotificationRepository(session).latest_id()


async def _events_in(
    session: AsyncSession, actor: Actor, ticket_ids: Sequence[int], window: EventWindow
) -> dict[int, list[EventRecord]]:
    """A window of events of each ticket; internal ones only for staff."""
    return await TicketRepository(session).events_for(
        ticket_ids,
        include_internal=permissions.can_see_internal(actor),
        after_seq=window.after_seq,
        before_seq=window.before_seq,
        limit=window.limit,
        newest_first=window.newest_first,
    )
