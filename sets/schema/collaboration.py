"""Collaboration over GraphQL (issue 7): tasks, links, time tracking, CSAT, and resolving
with `force`. Translation only: the rules live in the services and sets.domain."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import strawberry

from sets.domain.enums import TicketStatus
from sets.domain.links import LinkKind
from sets.models import Ticket as TicketRow
from sets.models import TicketLink as LinkRow
from sets.models import TicketRating as RatingRow
from sets.models import TicketTask as TaskRow
from sets.models import TimeEntry as TimeEntryRow
from sets.schema.collaboration_loaders import collaboration_loaders
from sets.schema.context import Info
from sets.schema.errors import UserError
from sets.schema.ids import from_global_id, ticket_pk, to_global_id
from sets.schema.tickets import TicketPayload, attempt, optional_pk
from sets.schema.types import Node, Ticket, User

strawberry.enum(
    LinkKind,
    description="BLOCKS: the `from` ticket must be resolved before `to` can be. RELATES_TO: "
    "see also. DUPLICATES: `from` duplicates `to` and is closed, pointing at it.",
)


async def _user(info: Info, pk: int | None) -> User | None:
    if pk is None:
        return None
    row = await info.context.loaders.users.load(pk)
    return User.from_row(row) if row else None


async def _ticket(info: Info, pk: int) -> Ticket | None:
    row = await info.context.loaders.tickets.load(pk)
    return Ticket.from_row(row) if row else None


@strawberry.type(description="A subtask of a ticket (staff only).")
class Task(Node):
    id: strawberry.ID
    row: strawberry.Private[TaskRow]
    title: str
    position: int
    done: bool
    done_at: datetime | None
    due_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: TaskRow) -> Task:
        return cls(
            id=strawberry.ID(to_global_id("Task", row.id)),
            row=row,
            title=row.title,
            position=row.position,
            done=row.done_at is not None,
            done_at=row.done_at,
            due_at=row.due_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field
    async def assignee(self, info: Info) -> User | None:
        return await _user(info, self.row.assignee_id)

    @strawberry.field
    async def done_by(self, info: Info) -> User | None:
        return await _user(info, self.row.done_by)


@strawberry.type(description="A link between two tickets; both ends are tickets you may see.")
class TicketLink(Node):
    id: strawberry.ID
    row: strawberry.Private[LinkRow]
    kind: LinkKind
    created_at: datetime

    @classmethod
    def from_row(cls, row: LinkRow) -> TicketLink:
        return cls(
            id=strawberry.ID(to_global_id("TicketLink", row.id)),
            row=row,
            kind=LinkKind(row.kind),
            created_at=row.created_at,
        )

    @strawberry.field
    async def from_ticket(self, info: Info) -> Ticket | None:
        return await _ticket(info, self.row.from_ticket_id)

    @strawberry.field
    async def to_ticket(self, info: Info) -> Ticket | None:
        return await _ticket(info, self.row.to_ticket_id)

    @strawberry.field
    async def created_by(self, info: Info) -> User | None:
        return await _user(info, self.row.created_by)


@strawberry.type(
    description="Time spent on a ticket: a timer (running while `minutes` is null) or "
    "logged by hand."
)
class TimeEntry(Node):
    id: strawberry.ID
    row: strawberry.Private[TimeEntryRow]
    minutes: int | None
    running: bool
    started_at: datetime | None
    spent_at: datetime
    note: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: TimeEntryRow) -> TimeEntry:
        return cls(
            id=strawberry.ID(to_global_id("TimeEntry", row.id)),
            row=row,
            minutes=row.minutes,
            running=row.running,
            started_at=row.started_at,
            spent_at=row.spent_at,
            note=row.note,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field
    async def user(self, info: Info) -> User | None:
        return await _user(info, self.row.user_id)

    @strawberry.field
    async def ticket(self, info: Info) -> Ticket | None:
        return await _ticket(info, self.row.ticket_id)


@strawberry.type(description="The requester's satisfaction rating (CSAT) of a ticket.")
class TicketRating:
    id: strawberry.ID
    row: strawberry.Private[RatingRow]
    score: int
    comment: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: RatingRow) -> TicketRating:
        return cls(
            id=strawberry.ID(to_global_id("TicketRating", row.id)),
            row=row,
            score=row.score,
            comment=row.comment,
            created_at=row.created_at,
        )

    @strawberry.field
    async def rater(self, info: Info) -> User | None:
        return await _user(info, self.row.rater_id)


# Ticket fields (declared on sets.schema.types.Ticket, resolved here).


async def ticket_tasks(info: Info, ticket: TicketRow) -> list[Task]:
    return [Task.from_row(r) for r in await collaboration_loaders(info).tasks.load(ticket.id)]


async def ticket_links(info: Info, ticket: TicketRow) -> list[TicketLink]:
    rows = await collaboration_loaders(info).links.load(ticket.id)
    return [TicketLink.from_row(r) for r in rows]


async def ticket_time_entries(info: Info, ticket: TicketRow) -> list[TimeEntry]:
    rows = await collaboration_loaders(info).time_entries.load(ticket.id)
    return [TimeEntry.from_row(r) for r in rows]


async def ticket_minutes(info: Info, ticket: TicketRow) -> int | None:
    return await collaboration_loaders(info).minutes.load(ticket.id)


async def ticket_rating(info: Info, ticket: TicketRow) -> TicketRating | None:
    row = await collaboration_loaders(info).ratings.load(ticket.id)
    return TicketRating.from_row(row) if row is not None else None


# Inputs and payloads.


@strawberry.input
class AddTaskInput:
    ticket_id: strawberry.ID
    title: str
    assignee_id: strawberry.ID | None = None
    due_at: datetime | None = None


@strawberry.input
class UpdateTaskInput:
    task_id: strawberry.ID
    title: str | None = None
    assignee_id: strawberry.ID | None = None
    clear_assignee: bool = False
    due_at: datetime | None = None
    clear_due_at: bool = False


@strawberry.input
class CompleteTaskInput:
    task_id: strawberry.ID
    done: bool = strawberry.field(default=True, description="false reopens the task.")


@strawberry.input
class ReorderTasksInput:
    ticket_id: strawberry.ID
    task_ids: list[strawberry.ID] = strawberry.field(
        description="Every live task of the ticket, once each, in the new order."
    )


@strawberry.input
class DeleteTaskInput:
    task_id: strawberry.ID


@strawberry.input
class LinkTicketsInput:
    from_ticket_id: strawberry.ID
    to_ticket_id: strawberry.ID
    kind: LinkKind


@strawberry.input
class UnlinkTicketsInput:
    link_id: strawberry.ID


@strawberry.input
class StartTimerInput:
    ticket_id: strawberry.ID


@strawberry.input
class LogTimeInput:
    ticket_id: strawberry.ID
    minutes: int
    note: str | None = None
    spent_at: datetime | None = strawberry.field(default=None, description="Default: now.")


@strawberry.input
class UpdateTimeEntryInput:
    entry_id: strawberry.ID
    minutes: int | None = None
    note: str | None = None
    spent_at: datetime | None = None


@strawberry.input
class DeleteTimeEntryInput:
    entry_id: strawberry.ID


@strawberry.input
class RateTicketInput:
    ticket_id: strawberry.ID
    score: int = strawberry.field(description="1 (poor) to 5 (excellent).")
    comment: str | None = None


@strawberry.input
class ResolveTicketInput:
    ticket_id: strawberry.ID
    resolution: str
    force: bool = strawberry.field(
        default=False,
        description="Resolve although tasks are open (a manager of the team or an admin). "
        "Never overrides an unresolved blocking ticket.",
    )
    expected_version: int | None = None


@strawberry.type
class TaskPayload:
    task: Task | None
    user_errors: list[UserError]


@strawberry.type
class TasksPayload:
    tasks: list[Task] | None
    user_errors: list[UserError]


@strawberry.type
class LinkPayload:
    link: TicketLink | None
    user_errors: list[UserError]


@strawberry.type
class TimeEntryPayload:
    time_entry: TimeEntry | None
    user_errors: list[UserError]


@strawberry.type
class RatingPayload:
    rating: TicketRating | None
    user_errors: list[UserError]


def _task(result: tuple[TaskRow | None, list[UserError]]) -> TaskPayload:
    row, errors = result
    return TaskPayload(task=Task.from_row(row) if row else None, user_errors=errors)


def _entry(result: tuple[TimeEntryRow | None, list[UserError]]) -> TimeEntryPayload:
    row, errors = result
    return TimeEntryPayload(time_entry=TimeEntry.from_row(row) if row else None, user_errors=errors)


async def _run(work: Callable[[], Awaitable[Any]]) -> tuple[Any, list[UserError]]:
    return await attempt(work)


@strawberry.type
class CollaborationQueries:
    @strawberry.field(description="Your running timer, if any (staff).")
    async def my_running_timer(self, info: Info) -> TimeEntry | None:
        actor = await info.context.actor()
        row = await info.context.services.collaboration.running_timer(actor)
        return TimeEntry.from_row(row) if row else None


@strawberry.type
class CollaborationMutations:
    @strawberry.mutation(description="Add a subtask (staff of the ticket's team).")
    async def add_task(self, info: Info, input: AddTaskInput) -> TaskPayload:
        actor = await info.context.actor()
        svc = info.context.services.tasks
        return _task(
            await _run(
                lambda: svc.add(
                    actor,
                    ticket_pk(input.ticket_id),
                    title=input.title,
                    assignee_id=optional_pk(input.assignee_id, "User", "assigneeId"),
                    due_at=input.due_at,
                )
            )
        )

    @strawberry.mutation
    async def update_task(self, info: Info, input: UpdateTaskInput) -> TaskPayload:
        actor = await info.context.actor()
        svc = info.context.services.tasks
        return _task(
            await _run(
                lambda: svc.update(
                    actor,
                    from_global_id(input.task_id, "Task", field="taskId"),
                    title=input.title,
                    assignee_id=optional_pk(input.assignee_id, "User", "assigneeId"),
                    clear_assignee=input.clear_assignee,
                    due_at=input.due_at,
                    clear_due_at=input.clear_due_at,
                )
            )
        )

    @strawberry.mutation(description="Mark a task done (or, with done: false, open again).")
    async def complete_task(self, info: Info, input: CompleteTaskInput) -> TaskPayload:
        actor = await info.context.actor()
        svc = info.context.services.tasks
        return _task(
            await _run(
                lambda: svc.set_done(
                    actor, from_global_id(input.task_id, "Task", field="taskId"), done=input.done
                )
            )
        )

    @strawberry.mutation
    async def reorder_tasks(self, info: Info, input: ReorderTasksInput) -> TasksPayload:
        actor = await info.context.actor()
        svc = info.context.services.tasks
        rows, errors = await _run(
            lambda: svc.reorder(
                actor,
                ticket_pk(input.ticket_id),
                [from_global_id(t, "Task", field="taskIds") for t in input.task_ids],
            )
        )
        tasks = [Task.from_row(r) for r in rows] if rows is not None else None
        return TasksPayload(tasks=tasks, user_errors=errors)

    @strawberry.mutation(description="Delete a task (soft delete, audited).")
    async def delete_task(self, info: Info, input: DeleteTaskInput) -> TaskPayload:
        actor = await info.context.actor()
        svc = info.context.services.tasks
        return _task(
            await _run(
                lambda: svc.delete(actor, from_global_id(input.task_id, "Task", field="taskId"))
            )
        )

    @strawberry.mutation(description="Link two tickets; DUPLICATES closes `from`.")
    async def link_tickets(self, info: Info, input: LinkTicketsInput) -> LinkPayload:
        actor = await info.context.actor()
        svc = info.context.services.links

        async def work() -> LinkRow:
            link, _ = await svc.link(
                actor,
                ticket_pk(input.from_ticket_id, field="fromTicketId"),
                ticket_pk(input.to_ticket_id, field="toTicketId"),
                input.kind,
            )
            return link

        row, errors = await _run(work)
        return LinkPayload(link=TicketLink.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(description="Remove a link (soft delete, audited).")
    async def unlink_tickets(self, info: Info, input: UnlinkTicketsInput) -> LinkPayload:
        actor = await info.context.actor()
        svc = info.context.services.links
        row, errors = await _run(
            lambda: svc.unlink(actor, from_global_id(input.link_id, "TicketLink", field="linkId"))
        )
        return LinkPayload(link=TicketLink.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(description="Start your timer on a ticket; stops any other of yours.")
    async def start_timer(self, info: Info, input: StartTimerInput) -> TimeEntryPayload:
        actor = await info.context.actor()
        svc = info.context.services.time
        return _entry(await _run(lambda: svc.start_timer(actor, ticket_pk(input.ticket_id))))

    @strawberry.mutation(description="Stop your running timer.")
    async def stop_timer(self, info: Info) -> TimeEntryPayload:
        actor = await info.context.actor()
        svc = info.context.services.time
        return _entry(await _run(lambda: svc.stop_timer(actor)))

    @strawberry.mutation(description="Log minutes spent on a ticket.")
    async def log_time(self, info: Info, input: LogTimeInput) -> TimeEntryPayload:
        actor = await info.context.actor()
        svc = info.context.services.time
        return _entry(
            await _run(
                lambda: svc.log(
                    actor,
                    ticket_pk(input.ticket_id),
                    minutes=input.minutes,
                    note=input.note,
                    spent_at=input.spent_at,
                )
            )
        )

    @strawberry.mutation(description="Edit one of your own time entries.")
    async def update_time_entry(self, info: Info, input: UpdateTimeEntryInput) -> TimeEntryPayload:
        actor = await info.context.actor()
        svc = info.context.services.time
        return _entry(
            await _run(
                lambda: svc.update(
                    actor,
                    from_global_id(input.entry_id, "TimeEntry", field="entryId"),
                    minutes=input.minutes,
                    note=input.note,
                    spent_at=input.spent_at,
                )
            )
        )

    @strawberry.mutation(description="Delete one of your own time entries (soft delete).")
    async def delete_time_entry(self, info: Info, input: DeleteTimeEntryInput) -> TimeEntryPayload:
        actor = await info.context.actor()
        svc = info.context.services.time
        return _entry(
            await _run(
                lambda: svc.delete(
                    actor, from_global_id(input.entry_id, "TimeEntry", field="entryId")
                )
            )
        )

    @strawberry.mutation(description="Rate your resolved or closed ticket, once (CSAT).")
    async def rate_ticket(self, info: Info, input: RateTicketInput) -> RatingPayload:
        actor = await info.context.actor()
        svc = info.context.services.csat
        row, errors = await _run(
            lambda: svc.rate(
                actor, ticket_pk(input.ticket_id), score=input.score, comment=input.comment
            )
        )
        return RatingPayload(rating=TicketRating.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(
        description="Resolve a ticket (as transitionTicket to RESOLVED), with `force` for a "
        "manager to resolve over open tasks."
    )
    async def resolve_ticket(self, info: Info, input: ResolveTicketInput) -> TicketPayload:
        actor = await info.context.actor()
        svc = info.context.services.tickets
        row, errors = await _run(
            lambda: svc.transition(
                actor,
                ticket_pk(input.ticket_id),
                TicketStatus.RESOLVED,
                resolution=input.resolution,
                expected_version=input.expected_version,
                force=input.force,
            )
        )
        return TicketPayload(ticket=Ticket.from_row(row) if row else None, user_errors=errors)
