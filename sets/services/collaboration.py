"""Shared pieces of the collaboration use cases (issue 7): loading a ticket to work beside
it, the resolve precondition TicketService.transition calls, and the batched reads behind
the Ticket fields (tasks, links, time, rating)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from sets.domain import knowledge, links, permissions, tasks, workflow
from sets.domain.actor import Actor
from sets.domain.enums import EventKind
from sets.domain.errors import Conflict, NotFound
from sets.models import KnowledgeArticle, Ticket, TicketLink, TicketRating, TicketTask, TimeEntry
from sets.repositories.collaboration import CollaborationRepository
from sets.repositories.tickets import TicketRepository
from sets.services.uow import UnitOfWork

# A row that belongs to one ticket (a task, a time entry).
OnTicket = TypeVar("OnTicket", TicketTask, TimeEntry)


async def load_ticket(
    uow: UnitOfWork,
    actor: Actor,
    ticket_id: int,
    *,
    field: str = "ticketId",
    open_only: bool = True,
) -> Ticket:
    """The ticket locked for update, if the actor may see it (NOT_FOUND otherwise)."""
    ticket = await uow.tickets.get(ticket_id, for_update=True)
    if ticket is None or not permissions.can_view(actor, ticket):
        raise NotFound("ticket not found", field=field)
    if open_only:
        workflow.ensure_open(ticket)
    return ticket


async def lock_in_order(uow: UnitOfWork, ticket_ids: Sequence[int]) -> dict[int, Ticket | None]:
    """Lock several tickets in id order, so two writers never wait on each other in turn."""
    return {tid: await uow.tickets.get(tid, for_update=True) for tid in sorted(set(ticket_ids))}


async def commit(uow: UnitOfWork) -> None:
    try:
        await uow.commit()
    except StaleDataError as exc:
        raise Conflict("the ticket changed meanwhile; reload and try again") from exc


async def ensure_resolvable(uow: UnitOfWork, actor: Actor, ticket: Ticket, *, force: bool) -> None:
    """Resolve precondition (SPEC §2): no unresolved BLOCKS-linked ticket, ever; no open task
    unless a manager or admin forces it (audited)."""
    repo = CollaborationRepository(uow.session)
    links.check_blockers(ticket.id, await repo.unresolved_blockers(ticket.id))
    open_tasks = await repo.open_task_count(ticket.id)
    if tasks.check_open_tasks(actor, ticket.id, ticket, open_tasks, force=force):
        uow.record(
            ticket,
            EventKind.RESOLVED_OVER_OPEN_TASKS,
            actor.user_id,
            {"openTasks": open_tasks, "forced": True},
            internal=True,
        )


class CollaborationReads:
    """Batched reads for DataLoaders, filtered by the same visibility rules as tickets."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def tasks(self, actor: Actor, ticket_ids: Sequence[int]) -> dict[int, list[TicketTask]]:
        """Tasks are staff working data: requesters see none."""
        if not actor.is_staff:
            return {tid: [] for tid in ticket_ids}
        async with self._sessions() as session:
            return await CollaborationRepository(session).tasks_for(ticket_ids)

    async def links(self, actor: Actor, ticket_ids: Sequence[int]) -> dict[int, list[TicketLink]]:
        """Links whose other end the caller may see too."""
        async with self._sessions() as session:
            found = await CollaborationRepository(session).links_for(ticket_ids)
            ends = {
                t
                for rows in found.values()
                for r in rows
                for t in (r.from_ticket_id, r.to_ticket_id)
            }
            tickets = await TicketRepository(session).get_many(list(ends))
        visible = {tid for tid, t in tickets.items() if permissions.can_view(actor, t)}
        return {
            tid: [r for r in rows if r.from_ticket_id in visible and r.to_ticket_id in visible]
            for tid, rows in found.items()
        }

    async def time_entries(
        self, actor: Actor, ticket_ids: Sequence[int]
    ) -> dict[int, list[TimeEntry]]:
        if not actor.is_staff:
            return {tid: [] for tid in ticket_ids}
        async with self._sessions() as session:
            return await CollaborationRepository(session).time_entries_for(ticket_ids)

    async def minutes(self, actor: Actor, ticket_ids: Sequence[int]) -> dict[int, int | None]:
        if not actor.is_staff:
            return dict.fromkeys(ticket_ids)
        async with self._sessions() as session:
            return dict(await CollaborationRepository(session).minutes_for(ticket_ids))

    async def ratings(self, actor: Actor, ticket_ids: Sequence[int]) -> dict[int, TicketRating]:
        """For tickets the caller was allowed to load: staff see the rating, a requester
        only their own (the rater is always the requester)."""
        async with self._sessions() as session:
            found = await CollaborationRepository(session).ratings_for(ticket_ids)
        if actor.is_staff:
            return found
        return {tid: r for tid, r in found.items() if r.rater_id == actor.user_id}

    # One object by id, for `node(id)`: what the caller may not see is "not found", exactly as
    # the lists above leave it out.

    async def task(self, actor: Actor, task_id: int) -> TicketTask:
        return await self._staff_item(actor, lambda repo: repo.task(task_id), "task")

    async def link(self, actor: Actor, link_id: int) -> TicketLink:
        async with self._sessions() as session:
            link = await CollaborationRepository(session).link(link_id)
            ends = (
                await TicketRepository(session).get_many([link.from_ticket_id, link.to_ticket_id])
                if link
                else {}
            )
        if link is None or {link.from_ticket_id, link.to_ticket_id} - ends.keys():
            raise NotFound("link not found", field="id")
        if not all(permissions.can_view(actor, t) for t in ends.values()):
            raise NotFound("link not found", field="id")
        return link

    async def time_entry(self, actor: Actor, entry_id: int) -> TimeEntry:
        return await self._staff_item(actor, lambda repo: repo.time_entry(entry_id), "time entry")

    async def article(self, actor: Actor, article_id: int) -> KnowledgeArticle:
        async with self._sessions() as session:
            article = await CollaborationRepository(session).article(article_id)
        if article is None or (not article.published and knowledge.published_only(actor)):
            raise NotFound("article not found", field="id")
        return article

    async def _staff_item(
        self,
        actor: Actor,
        load: Callable[[CollaborationRepository], Awaitable[OnTicket | None]],
        what: str,
    ) -> OnTicket:
        """A task or time entry by id, for staff who may see its ticket; NOT_FOUND for
        anyone else, as for an id that does not exist."""
        async with self._sessions() as session:
            item = await load(CollaborationRepository(session))
            ticket = await TicketRepository(session).get(item.ticket_id) if item else None
        if item is None or not self._staff_view(actor, ticket):
            raise NotFound(f"{what} not found", field="id")
        return item

    @staticmethod
    def _staff_view(actor: Actor, ticket: Ticket | None) -> bool:
        """Tasks and time are staff working data on a ticket the caller may see."""
        return ticket is not None and actor.is_staff and permissions.can_view(actor, ticket)

    async def running_timer(self, actor: Actor) -> TimeEntry | None:
        if actor.user_id is None or not actor.is_staff:
            return None
        async with self._sessions() as session:
            return await CollaborationRepository(session).running_timer(actor.user_id)
