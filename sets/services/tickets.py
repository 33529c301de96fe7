"""Ticket workflow use cases (SPEC §2-3): each one transaction, audited, published."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from sets.domain import permissions, validation, workflow
from sets.domain.actor import Actor
from sets.domain.enums import EventKind, Priority, TicketStatus, Urgency
from sets.domain.errors import Conflict, NotFound, ValidationFailed
from sets.domain.priority import PriorityRuleSpec, choose_priority, parse_keywords
from sets.domain.tickets import ticket_key
from sets.models import Comment, Ticket, TicketEvent, User
from sets.services import assignment, collaboration, notifications_triggers, sla
from sets.services.attachments import Received, attach
from sets.services.uow import UnitOfWork

MAX_ESCALATION_LEVEL = 3


class TicketService:
    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory

    async def _load(
        self, uow: UnitOfWork, actor: Actor, ticket_id: int, expected_version: int | None = None
    ) -> Ticket:
        ticket = await uow.tickets.get(ticket_id, for_update=True)
        if ticket is None:
            raise NotFound("ticket not found", field="ticketId")
        permissions.ensure_can_view(actor, ticket)
        workflow.ensure_open(ticket)
        if expected_version is not None and ticket.version != expected_version:
            raise Conflict(
                f"the ticket changed meanwhile (version {ticket.version}, "
                f"you had {expected_version}); reload and try again",
                field="expectedVersion",
            )
        return ticket

    async def _commit(self, uow: UnitOfWork) -> None:
        try:
            await uow.commit()
        except StaleDataError as exc:
            raise Conflict("the ticket changed meanwhile; reload and try again") from exc

    async def create(
        self,
        actor: Actor,
        *,
        title: str,
        description: str,
        category_id: int | None = None,
        urgency: Urgency | None = None,
        attachments: Received | None = None,
    ) -> Ticket:
        title = validation.text(title, field="title", max_len=validation.TITLE_MAX)
        description = validation.text(
            description, field="description", max_len=validation.DESCRIPTION_MAX
        )
        if actor.user_id is None:
            raise ValidationFailed("tickets are created by people", field="requester")
        async with self._uow() as uow:
            if category_id is not None:
                category = await uow.catalog.category(category_id)
                if category is None:
                    raise NotFound("category not found", field="categoryId")
            else:
                category = await uow.catalog.default_category()
            rules = [
                PriorityRuleSpec(
                    id=r.id,
                    position=r.position,
                    priority=Priority(r.priority),
                    category_id=r.category_id,
                    keywords=parse_keywords(r.keywords),
                )
                for r in await uow.catalog.priority_rules()
            ]
            choice = choose_priority(
                rules,
                category_id=category.id if category else None,
                title=title,
                description=description,
                category_default=(
                    Priority(category.default_priority)
                    if category and category.default_priority
                    else None
                ),
                urgency=urgency,
            )
            now = uow.clock.now()
            ticket = Ticket(
                title=title,
                description=description,
                status=TicketStatus.NEW,
                priority=choice.priority,
                urgency=urgency.value if urgency else None,
                category_id=category.id if category else None,
                requester_id=actor.user_id,
                team_id=category.team_id if category else None,
                created_at=now,
                updated_at=now,
                first_response_due_at=now,
                resolution_due_at=now,
                event_seq=0,
                last_event_hash="0" * 64,
                escalation_level=0,
                sla_stopped_seconds=0,
                first_response_breached=False,
                resolution_warned=False,
                resolution_breached=False,
            )
            await sla.recompute(uow.catalog, ticket)
            uow.tickets.add(ticket)
            await uow.session.flush()
            event = uow.record(
                ticket,
                EventKind.CREATED,
                actor.user_id,
                {
                    "title": title,
                    "status": ticket.status.value,
                    "priority": ticket.priority.value,
                    "prioritySource": choice.source,
                    "priorityRuleId": choice.rule_id,
                    "categoryId": ticket.category_id,
                    "teamId": ticket.team_id,
                },
            )
            await notifications_triggers.created(uow, ticket, event, actor)
            await attach(uow, actor, ticket, attachments)  # staged files: rows, events
            await assignment.auto_assign(uow, ticket)  # when its category or team asks for it
            await self._commit(uow)
            return ticket

    async def update(
        self,
        actor: Actor,
        ticket_id: int,
        *,
        title: str | None = None,
        description: str | None = None,
        category_id: int | None = None,
        expected_version: int | None = None,
    ) -> Ticket:
        changes: dict[str, Any] = {}
        async with self._uow() as uow:
            ticket = await self._load(uow, actor, ticket_id, expected_version)
            permissions.ensure_can_edit(actor, ticket)
            if title is not None:
                title = validation.text(title, field="title", max_len=validation.TITLE_MAX)
                if title != ticket.title:
                    changes["title"] = {"from": ticket.title, "to": title}
                    ticket.title = title
            if description is not None:
                description = validation.text(
                    description, field="description", max_len=validation.DESCRIPTION_MAX
                )
                if description != ticket.description:
                    changes["description"] = {"from": None, "to": None, "changed": True}
                    ticket.description = description
            if category_id is not None and category_id != ticket.category_id:
                if await uow.catalog.category(category_id) is None:
                    raise NotFound("category not found", field="categoryId")
                changes["categoryId"] = {"from": ticket.category_id, "to": category_id}
                ticket.category_id = category_id
            if not changes:
                # Commit (nothing to write) rather than roll back: a rollback expires the
                # ticket, which the caller then could not read once the session is closed.
                await self._commit(uow)
                return ticket
            ticket.updated_at = uow.clock.now()
            uow.record(ticket, EventKind.UPDATED, actor.user_id, {"changes": changes})
            await self._commit(uow)
            return ticket

    async def assign(
        self,
        actor: Actor,
        ticket_id: int,
        *,
        assignee_id: int | None,
        team_id: int | None = None,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> Ticket:
        reason = validation.optional_text(reason, field="reason", max_len=validation.REASON_MAX)
        if assignee_id is None and team_id is None:
            raise ValidationFailed("give an assignee, a team or both", field="assigneeId")
        async with self._uow() as uow:
            ticket = await self._load(uow, actor, ticket_id, expected_version)
            permissions.ensure_can_assign(
                actor, ticket, assignee_id=assignee_id, target_team_id=team_id
            )
            if team_id is not None and await uow.teams.get(team_id) is None:
                raise NotFound("team not found", field="teamId")
            target_team = team_id if team_id is not None else ticket.team_id
            new_assignee: int | None = ticket.assignee_id
            if assignee_id is not None:
                assignee = await uow.users.get(assignee_id)
                if assignee is None:
                    raise NotFound("assignee not found", field="assigneeId")
                target_team = await self._assignee_team(uow, assignee, target_team)
                new_assignee = assignee.id
            elif (
                ticket.assignee_id is not None
                and target_team is not None
                and await uow.teams.membership(target_team, ticket.assignee_id) is None
            ):
                # Rerouting to a team the current owner is not in returns it to that queue.
                new_assignee = None
            if new_assignee == ticket.assignee_id and target_team == ticket.team_id:
                raise ValidationFailed(
                    "the ticket is already assigned that way", field="assigneeId"
                )
            transferring = ticket.assignee_id is not None and new_assignee != ticket.assignee_id
            if transferring and not reason:
                raise Conflict(
                    f"{ticket_key(ticket.id)} is already assigned; give a reason to transfer it",
                    field="reason",
                )
            previous = (ticket.assignee_id, ticket.team_id, ticket.status)
            ticket.assignee_id = new_assignee
            ticket.team_id = target_team
            ticket.updated_at = uow.clock.now()
            event = uow.record(
                ticket,
                EventKind.ASSIGNED if new_assignee is not None else EventKind.UNASSIGNED,
                actor.user_id,
                {
                    "from": previous[0],
                    "to": new_assignee,
                    "fromTeam": previous[1],
                    "toTeam": target_team,
                    "reason": reason,
                    "transfer": transferring,
                },
            )
            if new_assignee is not None and ticket.status is TicketStatus.NEW:
                self._set_status(uow, actor, ticket, TicketStatus.TODO, reason=None)
            elif new_assignee is None:
                self._back_to_queue(uow, actor, ticket)
            # Last, once the ticket is final: notifying flushes, and a flush before further
            # changes would write the ticket (and bump its version) twice.
            await notifications_triggers.assigned(
                uow, ticket, event, actor, previous_assignee=previous[0], previous_team=previous[1]
            )
            await self._commit(uow)
            return ticket

    async def _assignee_team(self, uow: UnitOfWork, assignee: User, target_team: int | None) -> int:
        if not assignee.active or not assignee.role.is_staff:
            raise ValidationFailed("only active staff can be assigned", field="assigneeId")
        teams = (await uow.teams.teams_of_users([assignee.id]))[assignee.id]
        if target_team is None:
            if len(teams) != 1:
                raise ValidationFailed(
                    "the ticket has no team and the assignee is in several (or none): pass teamId",
                    field="teamId",
                )
            return teams[0]
        if target_team not in teams:
            raise ValidationFailed("the assignee is not a member of that team", field="assigneeId")
        return target_team

    async def unassign(self, actor: Actor, ticket_id: int, *, reason: str | None = None) -> Ticket:
        reason = validation.optional_text(reason, field="reason", max_len=validation.REASON_MAX)
        async with self._uow() as uow:
            ticket = await self._load(uow, actor, ticket_id)
            permissions.ensure_can_unassign(actor, ticket)
            if ticket.assignee_id is None:
                raise ValidationFailed("the ticket has no assignee", field="ticketId")
            previous = ticket.assignee_id
            ticket.assignee_id = None
            ticket.updated_at = uow.clock.now()
            event = uow.record(
                ticket,
                EventKind.UNASSIGNED,
                actor.user_id,
                {"from": previous, "to": None, "teamId": ticket.team_id, "reason": reason},
            )
            self._back_to_queue(uow, actor, ticket)
            await notifications_triggers.assigned(
                uow, ticket, event, actor, previous_assignee=previous, previous_team=ticket.team_id
            )
            await self._commit(uow)
            return ticket

    def _back_to_queue(self, uow: UnitOfWork, actor: Actor, ticket: Ticket) -> None:
        if ticket.status is TicketStatus.TODO and not ticket.work_started:
            self._set_status(uow, actor, ticket, TicketStatus.NEW, reason="unassigned")

    def _set_status(
        self,
        uow: UnitOfWork,
        actor: Actor,
        ticket: Ticket,
        to: TicketStatus,
        *,
        reason: str | None,
        resolution: str | None = None,
    ) -> TicketEvent:
        data: dict[str, Any] = {"from": ticket.status.value, "to": to.value, "reason": reason}
        if resolution:
            data["resolution"] = resolution
        ticket.status = to
        return uow.record(ticket, EventKind.STATUS_CHANGED, actor.user_id, data)

    async def transition(
        self,
        actor: Actor,
        ticket_id: int,
        to: TicketStatus,
        *,
        reason: str | None = None,
        resolution: str | None = None,
        expected_version: int | None = None,
        force: bool = False,
    ) -> Ticket:
        reason = validation.optional_text(reason, field="reason", max_len=validation.REASON_MAX)
        resolution = validation.optional_text(
            resolution, field="resolution", max_len=validation.COMMENT_MAX
        )
        async with self._uow() as uow:
            ticket = await self._load(uow, actor, ticket_id, expected_version)
            rule = workflow.check_transition(
                actor, ticket, to, reason=reason, resolution=resolution
            )
            if to is TicketStatus.RESOLVED:  # blockers and open tasks (issue 7)
                await collaboration.ensure_resolvable(uow, actor, ticket, force=force)
            now = uow.clock.now()
            if to is TicketStatus.IN_PROGRESS:
                ticket.work_started = True
            if to is TicketStatus.RESOLVED:
                ticket.resolution = resolution
                ticket.resolved_at = now
            if to is TicketStatus.CLOSED:
                ticket.closed_at = now
            if rule.reopens:
                ticket.reopen_count += 1
                ticket.resolved_at = None
            ticket.updated_at = now
            previous = ticket.status
            event = self._set_status(uow, actor, ticket, to, reason=reason, resolution=resolution)
            await sla.status_changed(uow.catalog, ticket, previous, now)
            await notifications_triggers.status_changed(
                uow, ticket, event, actor, previous=previous
            )
            await self._commit(uow)
            return ticket

    async def change_priority(
        self, actor: Actor, ticket_id: int, priority: Priority, *, reason: str | None
    ) -> Ticket:
        reason = validation.text(reason, field="reason", max_len=validation.REASON_MAX)
        async with self._uow() as uow:
            ticket = await self._load(uow, actor, ticket_id)
            permissions.ensure_can_work(actor, ticket, "change the priority")
            if priority is ticket.priority:
                raise ValidationFailed(f"the priority is already {priority}", field="priority")
            previous = ticket.priority
            ticket.priority = priority
            ticket.updated_at = uow.clock.now()
            await sla.recompute(uow.catalog, ticket)
            uow.record(
                ticket,
                EventKind.PRIORITY_CHANGED,
                actor.user_id,
                {
                    "from": previous.value,
                    "to": priority.value,
                    "reason": reason,
                    "resolutionDueAt": ticket.resolution_due_at.isoformat(),
                },
            )
            await self._commit(uow)
            return ticket

    async def escalate(self, actor: Actor, ticket_id: int, *, reason: str | None) -> Ticket:
        reason = validation.text(reason, field="reason", max_len=validation.REASON_MAX)
        async with self._uow() as uow:
            ticket = await self._load(uow, actor, ticket_id)
            permissions.ensure_can_work(actor, ticket, "escalate it")
            if ticket.escalation_level >= MAX_ESCALATION_LEVEL:
                raise ValidationFailed(
                    "the ticket is already at the highest level", field="ticketId"
                )
            previous = ticket.escalation_level
            ticket.escalation_level += 1
            ticket.updated_at = uow.clock.now()
            event = uow.record(
                ticket,
                EventKind.ESCALATED,
                actor.user_id,
                {
                    "from": previous,
                    "to": ticket.escalation_level,
                    "reason": reason,
                    "manual": True,
                },
            )
            await notifications_triggers.escalated(uow, ticket, event, actor)
            await self._commit(uow)
            return ticket

    async def add_comment(
        self,
        actor: Actor,
        ticket_id: int,
        *,
        body: str,
        internal: bool = False,
        parent_id: int | None = None,
        attachments: Received | None = None,
    ) -> Comment:
        body = validation.text(body, field="body", max_len=validation.COMMENT_MAX)
        if actor.user_id is None:
            raise ValidationFailed("comments are written by people", field="body")
        async with self._uow() as uow:
            ticket = await self._load(uow, actor, ticket_id)
            permissions.ensure_can_comment(actor, ticket, internal=internal)
            if parent_id is not None:
                parent = await uow.tickets.comment(parent_id)
                visible = parent is not None and (
                    not parent.internal or permissions.can_see_internal(actor)
                )
                if parent is None or parent.ticket_id != ticket.id or not visible:
                    raise NotFound("parent comment not found on this ticket", field="parentId")
                if parent.internal and not internal:
                    raise ValidationFailed(
                        "a reply to an internal note must be internal too", field="internal"
                    )
            now = uow.clock.now()
            comment = Comment(
                ticket_id=ticket.id,
                author_id=actor.user_id,
                parent_id=parent_id,
                body=body,
                internal=internal,
                created_at=now,
            )
            uow.tickets.add(comment)
            await uow.session.flush()
            # Only a public reply by staff (not the requester themself) is a first response.
            first_response = (
                not internal
                and actor.is_staff
                and actor.user_id != ticket.requester_id
                and ticket.first_responded_at is None
            )
            if first_response:
                ticket.first_responded_at = now
                await sla.recompute(uow.catalog, ticket)
            ticket.updated_at = now
            event = uow.record(
                ticket,
                EventKind.COMMENTED,
                actor.user_id,
                {
                    "commentId": comment.id,
                    "internal": internal,
                    "parentId": parent_id,
                    "firstResponse": first_response,
                },
                internal=internal,
            )
            await notifications_triggers.commented(uow, ticket, event, actor, comment)
            await attach(uow, actor, ticket, attachments, comment=comment)
            if ticket.status is TicketStatus.PENDING and actor.user_id == ticket.requester_id:
                # The answer the ticket waited for: back to work, SLA clock running again.
                # The comment's own notice tells the assignee; no second one for the status.
                self._set_status(
                    uow,
                    Actor.system(),
                    ticket,
                    TicketStatus.IN_PROGRESS,
                    reason="the requester replied",
                )
                await sla.status_changed(uow.catalog, ticket, TicketStatus.PENDING, now)
            await self._commit(uow)
            return comment
