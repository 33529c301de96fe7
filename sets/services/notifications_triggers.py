"""Who hears of a ticket change (SPEC §7), called by the ticket use cases inside their unit
of work. Rules common to all: the actor never hears of their own action (except the
requester's receipt for a new ticket); `outbox.notify` drops anyone who may not see the ticket
or, for internal events, anyone but staff; preferences pick the channels."""

from __future__ import annotations

from sets.domain.actor import Actor
from sets.domain.enums import Role, TicketStatus
from sets.domain.notifications import (
    QUIET_FOR_REQUESTER,
    Channel,
    NotifyEvent,
    mentioned_usernames,
    status_event,
    unique,
)
from sets.domain.tickets import ticket_key
from sets.models import Comment, Ticket, TicketEvent
from sets.services import outbox
from sets.services.uow import UnitOfWork

STATUS_WORDS = {
    TicketStatus.NEW: "new",
    TicketStatus.TODO: "to do",
    TicketStatus.IN_PROGRESS: "in progress",
    TicketStatus.PENDING: "waiting for the requester",
    TicketStatus.BLOCKED: "on hold (waiting on a third party)",
    TicketStatus.RESOLVED: "resolved",
    TicketStatus.CLOSED: "closed",
}
EXCERPT = 2000


async def _name(uow: UnitOfWork, user_id: int | None) -> str:
    if user_id is None:
        return "SETS"
    user = await uow.users.get(user_id)
    return user.name if user is not None else "Someone"


async def _managers(uow: UnitOfWork, team_id: int | None) -> list[int]:
    if team_id is None:
        return []
    return await uow.users.active_ids(roles=[Role.MANAGER], team_id=team_id)


def _reason(event: TicketEvent) -> str:
    reason = event.data.get("reason")
    return f"\n\nReason: {reason}" if reason else ""


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


async def created(uow: UnitOfWork, ticket: Ticket, event: TicketEvent, actor: Actor) -> None:
    key = ticket_key(ticket.id)
    team = await uow.teams.get(ticket.team_id) if ticket.team_id is not None else None
    team_name = team.name if team else "the service desk"
    await outbox.notify(
        uow,
        ticket,
        event,
        [ticket.requester_id],
        kind=NotifyEvent.CREATED,
        subject=f"Received: {ticket.title}",
        body=(
            f"We have received your request and filed it as {key}.\n\n"
            f"Title: {ticket.title}\nPriority: {ticket.priority.value} · Team: {team_name}\n\n"
            "We will keep you posted on every change."
        ),
    )
    requester = await _name(uow, ticket.requester_id)
    await outbox.notify(
        uow,
        ticket,
        event,
        await _managers(uow, ticket.team_id),
        kind=NotifyEvent.CREATED,
        subject=f"New {ticket.priority.value} ticket: {ticket.title}",
        body=(
            f"{requester} opened {key} in {team_name}'s queue, priority "
            f"{ticket.priority.value}.\n\n{_excerpt(ticket.description)}"
        ),
        exclude=[actor.user_id],
    )


async def assigned(
    uow: UnitOfWork,
    ticket: Ticket,
    event: TicketEvent,
    actor: Actor,
    *,
    previous_assignee: int | None,
    previous_team: int | None,
) -> None:
    """An assignment, transfer, unassignment or re-routing (ASSIGNED/UNASSIGNED events)."""
    key = ticket_key(ticket.id)
    who = await _name(uow, actor.user_id)
    new = ticket.assignee_id
    if new is not None and new != previous_assignee and new == actor.user_id:
        # Taking a ticket oneself: no inbox entry or mail, but the Slack post still tells
        # the team's channel who has it (the webhook posts to a shared channel).
        await outbox.notify(
            uow,
            ticket,
            event,
            [new],
            kind=NotifyEvent.ASSIGNED,
            only=[Channel.SLACK],
            subject=f"Assigned to you: {ticket.title}",
            body=f"{who} took {key}.\n\n{ticket.title}\nPriority {ticket.priority.value}",
        )
    elif new is not None and new != previous_assignee:
        due = ticket.resolution_due_at.strftime("%Y-%m-%d %H:%M UTC")
        await outbox.notify(
            uow,
            ticket,
            event,
            [new],
            kind=NotifyEvent.ASSIGNED,
            subject=f"Assigned to you: {ticket.title}",
            body=(
                f"{who} assigned {key} to you.\n\n{ticket.title}\n"
                f"Priority {ticket.priority.value} · resolution due {due}{_reason(event)}"
            ),
            exclude=[actor.user_id],
        )
    if previous_assignee is not None and previous_assignee != new:
        where = f"to {await _name(uow, new)}" if new is not None else "back to the team queue"
        await outbox.notify(
            uow,
            ticket,
            event,
            [previous_assignee],
            kind=NotifyEvent.ASSIGNED,
            subject=f"No longer yours: {ticket.title}",
            body=f"{who} moved {key} from you {where}.{_reason(event)}",
            exclude=[actor.user_id],
        )
    if new is None and ticket.team_id is not None and ticket.team_id != previous_team:
        await outbox.notify(
            uow,
            ticket,
            event,
            await _managers(uow, ticket.team_id),
            kind=NotifyEvent.ASSIGNED,
            subject=f"Routed to your team: {ticket.title}",
            body=f"{who} routed {key} to your team's queue.{_reason(event)}",
            exclude=[actor.user_id],
        )


async def status_changed(
    uow: UnitOfWork, ticket: Ticket, event: TicketEvent, actor: Actor, *, previous: TicketStatus
) -> None:
    to = ticket.status
    if to in QUIET_FOR_REQUESTER:
        return  # queue bookkeeping (assignment, unassignment): the assignment notices tell
    key = ticket_key(ticket.id)
    who = await _name(uow, actor.user_id)
    body = f"{who} changed {key} from {STATUS_WORDS[previous]} to {STATUS_WORDS[to]}."
    body += _reason(event)
    if to is TicketStatus.RESOLVED and ticket.resolution:
        body += (
            f"\n\nResolution: {ticket.resolution}\n\n"
            "If the problem is not solved, reopen the ticket with a reason; otherwise "
            "confirm it to close it."
        )
    kind = status_event(to)
    subject = {
        NotifyEvent.RESOLVED: f"Resolved: {ticket.title}",
        NotifyEvent.CLOSED: f"Closed: {ticket.title}",
    }.get(kind, f"Now {STATUS_WORDS[to]}: {ticket.title}")
    await outbox.notify(
        uow,
        ticket,
        event,
        [ticket.requester_id, ticket.assignee_id],
        kind=kind,
        subject=subject,
        body=body,
        exclude=[actor.user_id],
    )


async def commented(
    uow: UnitOfWork, ticket: Ticket, event: TicketEvent, actor: Actor, comment: Comment
) -> None:
    key = ticket_key(ticket.id)
    author = await _name(uow, comment.author_id)
    names = mentioned_usernames(comment.body)
    mentioned = await uow.notifications.by_usernames(names)
    what = "an internal note" if comment.internal else "a reply"
    if mentioned:
        await outbox.notify(
            uow,
            ticket,
            event,
            mentioned,
            kind=NotifyEvent.MENTIONED,
            subject=f"{author} mentioned you: {ticket.title}",
            body=f"{author} mentioned you in {what} on {key}:\n\n{_excerpt(comment.body)}",
            exclude=[actor.user_id],
        )
    # An internal note never goes to the requester (outbox.notify enforces it as well).
    others = [ticket.assignee_id] if comment.internal else [ticket.requester_id, ticket.assignee_id]
    if ticket.assignee_id is None and comment.author_id == ticket.requester_id:
        others += await _managers(uow, ticket.team_id)  # nobody owns it yet: tell the team
    label = "Internal note" if comment.internal else "New reply"
    await outbox.notify(
        uow,
        ticket,
        event,
        [r for r in unique(others) if r not in mentioned],
        kind=NotifyEvent.COMMENTED,
        subject=f"{label} from {author}: {ticket.title}",
        body=f"{author} wrote {what} on {key}:\n\n{_excerpt(comment.body)}",
        exclude=[actor.user_id],
    )


async def escalated(uow: UnitOfWork, ticket: Ticket, event: TicketEvent, actor: Actor) -> None:
    """A manual escalation; the SLA sweep notifies its own (sets.services.sweep)."""
    level = ticket.escalation_level
    recipients: list[int | None] = [ticket.assignee_id, *await _managers(uow, ticket.team_id)]
    if level >= 3:
        recipients += await uow.users.active_ids(roles=[Role.ADMIN])
    who = await _name(uow, actor.user_id)
    await outbox.notify(
        uow,
        ticket,
        event,
        recipients,
        kind=NotifyEvent.ESCALATED,
        subject=f"Escalated to level {level}: {ticket.title}",
        body=f"{who} escalated {ticket_key(ticket.id)} to level {level}.{_reason(event)}",
        exclude=[actor.user_id],
    )
