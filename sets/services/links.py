"""Links between tickets (SPEC §9): BLOCKS (acyclic; gates resolving), RELATES_TO, and
DUPLICATES, which closes the duplicate with a reference to the original."""

from __future__ import annotations

from collections.abc import Callable

from sets.domain import links as rules
from sets.domain import permissions, workflow
from sets.domain.actor import Actor
from sets.domain.collaboration import can_collaborate, ensure_can_collaborate
from sets.domain.enums import EventKind, TicketStatus
from sets.domain.errors import Conflict, Forbidden, NotFound, TicketClosed
from sets.domain.links import LinkKind
from sets.domain.tickets import ticket_key
from sets.models import Ticket, TicketLink
from sets.repositories.collaboration import CollaborationRepository
from sets.services import notifications_triggers, sla
from sets.services.collaboration import commit, lock_in_order
from sets.services.uow import UnitOfWork


class LinkService:
    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory

    async def link(
        self, actor: Actor, from_id: int, to_id: int, kind: LinkKind
    ) -> tuple[TicketLink, Ticket]:
        """Link `from` to `to`; returns the link and the `from` ticket as it is now."""
        rules.check_endpoints(from_id, to_id)
        async with self._uow() as uow:
            locked = await lock_in_order(uow, [from_id, to_id])
            source, target = locked[from_id], locked[to_id]
            if source is None or not permissions.can_view(actor, source):
                raise NotFound("ticket not found", field="fromTicketId")
            if target is None or not permissions.can_view(actor, target):
                raise NotFound("ticket not found", field="toTicketId")
            workflow.ensure_open(source)
            ensure_can_collaborate(actor, source, "link tickets")
            if kind is LinkKind.BLOCKS and target.status is TicketStatus.CLOSED:
                raise TicketClosed("a closed ticket cannot be blocked", field="toTicketId")
            repo = CollaborationRepository(uow.session)
            if await repo.existing_link(from_id, to_id, kind.value) is not None:
                raise Conflict(
                    f"{ticket_key(from_id)} is already linked that way to {ticket_key(to_id)}",
                    field="toTicketId",
                )
            if kind is LinkKind.BLOCKS:
                rules.ensure_acyclic(from_id, to_id, await repo.blocks_reachable_from(to_id))
            now = uow.clock.now()
            link = TicketLink(
                from_ticket_id=from_id,
                to_ticket_id=to_id,
                kind=kind.value,
                created_by=actor.user_id,
                created_at=now,
            )
            repo.add(link)
            await uow.session.flush()
            for ticket, other, end in ((source, to_id, "from"), (target, from_id, "to")):
                if ticket.status is not TicketStatus.CLOSED:
                    ticket.updated_at = now
                    uow.record(
                        ticket,
                        EventKind.LINKED,
                        actor.user_id,
                        {"linkId": link.id, "kind": kind.value, "end": end, "otherId": other},
                        internal=True,
                    )
            if kind is LinkKind.DUPLICATES:
                await self._close_duplicate(uow, actor, source, target)
            await commit(uow)
            return link, source

    async def _close_duplicate(
        self, uow: UnitOfWork, actor: Actor, duplicate: Ticket, original: Ticket
    ) -> None:
        now = uow.clock.now()
        previous = duplicate.status
        duplicate.status = TicketStatus.CLOSED
        duplicate.closed_at = now
        reason = f"duplicate of {ticket_key(original.id)}"
        event = uow.record(
            duplicate,
            EventKind.STATUS_CHANGED,
            actor.user_id,
            {
                "from": previous.value,
                "to": TicketStatus.CLOSED.value,
                "reason": reason,
                "duplicateOf": original.id,
            },
        )
        await sla.status_changed(uow.catalog, duplicate, previous, now)
        await notifications_triggers.status_changed(uow, duplicate, event, actor, previous=previous)

    async def unlink(self, actor: Actor, link_id: int) -> TicketLink:
        """Soft delete; audited on each end that is not closed. Unlinking never reopens a
        closed duplicate."""
        async with self._uow() as uow:
            repo = CollaborationRepository(uow.session)
            found = await repo.link(link_id)
            if found is None or not actor.is_staff:
                raise NotFound("link not found", field="linkId")
            locked = await lock_in_order(uow, [found.from_ticket_id, found.to_ticket_id])
            ends = [locked[found.from_ticket_id], locked[found.to_ticket_id]]
            if any(t is None or not permissions.can_view(actor, t) for t in ends):
                raise NotFound("link not found", field="linkId")
            await uow.session.refresh(found)
            if found.deleted_at is not None:
                raise NotFound("link not found", field="linkId")
            tickets = [t for t in ends if t is not None]
            open_ends = [t for t in tickets if t.status is not TicketStatus.CLOSED]
            if not open_ends:
                raise TicketClosed("both linked tickets are closed", field="linkId")
            if not any(can_collaborate(actor, t) for t in open_ends):
                raise Forbidden("only staff of a linked ticket's team may unlink", field="linkId")
            now = uow.clock.now()
            found.deleted_at = now
            found.deleted_by = actor.user_id
            for ticket in open_ends:
                ticket.updated_at = now
                uow.record(
                    ticket,
                    EventKind.UNLINKED,
                    actor.user_id,
                    {
                        "linkId": found.id,
                        "kind": found.kind,
                        "fromId": found.from_ticket_id,
                        "toId": found.to_ticket_id,
                    },
                    internal=True,
                )
            await commit(uow)
            return found
