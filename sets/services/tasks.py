"""Subtasks (SPEC §9): add, update, complete, reorder, delete; each audited on the ticket."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sets.domain import tasks as rules
from sets.domain.actor import Actor
from sets.domain.collaboration import can_collaborate, ensure_can_collaborate
from sets.domain.enums import EventKind
from sets.domain.errors import Forbidden, NotFound, ValidationFailed
from sets.models import Ticket, TicketTask
from sets.repositories.collaboration import CollaborationRepository
from sets.services.collaboration import commit, load_ticket
from sets.services.uow import UnitOfWork


class TaskService:
    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory

    async def _assignee(self, uow: UnitOfWork, assignee_id: int | None) -> int | None:
        if assignee_id is None:
            return None
        user = await uow.users.get(assignee_id)
        if user is None:
            raise NotFound("assignee not found", field="assigneeId")
        if not user.active or not user.role.is_staff:
            raise ValidationFailed("tasks go to active staff only", field="assigneeId")
        return user.id

    async def _task(self, uow: UnitOfWork, actor: Actor, task_id: int) -> tuple[TicketTask, Ticket]:
        repo = CollaborationRepository(uow.session)
        task = await repo.task(task_id)
        if task is None or not actor.is_staff:
            raise NotFound("task not found", field="taskId")
        try:
            ticket = await load_ticket(uow, actor, task.ticket_id)
        except NotFound as exc:
            raise NotFound("task not found", field="taskId") from exc
        await uow.session.refresh(task)  # as of the lock
        if task.deleted_at is not None:
            raise NotFound("task not found", field="taskId")
        return task, ticket

    async def add(
        self,
        actor: Actor,
        ticket_id: int,
        *,
        title: str,
        assignee_id: int | None = None,
        due_at: datetime | None = None,
    ) -> TicketTask:
        title = rules.task_title(title)
        if actor.user_id is None:
            raise ValidationFailed("tasks are added by people", field="title")
        async with self._uow() as uow:
            ticket = await load_ticket(uow, actor, ticket_id)
            ensure_can_collaborate(actor, ticket, "add tasks")
            repo = CollaborationRepository(uow.session)
            existing = (await repo.tasks_for([ticket.id]))[ticket.id]
            if len(existing) >= rules.MAX_TASKS_PER_TICKET:
                raise ValidationFailed(
                    f"a ticket has at most {rules.MAX_TASKS_PER_TICKET} tasks", field="ticketId"
                )
            now = uow.clock.now()
            task = TicketTask(
                ticket_id=ticket.id,
                title=title,
                position=max((t.position for t in existing), default=0) + 1,
                assignee_id=await self._assignee(uow, assignee_id),
                due_at=due_at,
                created_by=actor.user_id,
                created_at=now,
                updated_at=now,
            )
            repo.add(task)
            await uow.session.flush()
            ticket.updated_at = now
            uow.record(
                ticket,
                EventKind.TASK_ADDED,
                actor.user_id,
                {
                    "taskId": task.id,
                    "title": title,
                    "assigneeId": task.assignee_id,
                    "dueAt": due_at.isoformat() if due_at else None,
                },
                internal=True,
            )
            await commit(uow)
            return task

    async def update(
        self,
        actor: Actor,
        task_id: int,
        *,
        title: str | None = None,
        assignee_id: int | None = None,
        clear_assignee: bool = False,
        due_at: datetime | None = None,
        clear_due_at: bool = False,
    ) -> TicketTask:
        if title is not None:
            title = rules.task_title(title)
        async with self._uow() as uow:
            task, ticket = await self._task(uow, actor, task_id)
            ensure_can_collaborate(actor, ticket, "change tasks")
            changes: dict[str, Any] = {}
            if title is not None and title != task.title:
                changes["title"] = {"from": task.title, "to": title}
                task.title = title
            new_assignee = task.assignee_id
            if clear_assignee:
                new_assignee = None
            elif assignee_id is not None:
                new_assignee = await self._assignee(uow, assignee_id)
            if new_assignee != task.assignee_id:
                changes["assigneeId"] = {"from": task.assignee_id, "to": new_assignee}
                task.assignee_id = new_assignee
            new_due = None if clear_due_at else (due_at if due_at is not None else task.due_at)
            if new_due != task.due_at:
                changes["dueAt"] = {
                    "from": task.due_at.isoformat() if task.due_at else None,
                    "to": new_due.isoformat() if new_due else None,
                }
                task.due_at = new_due
            if not changes:
                raise ValidationFailed("nothing to change", field="taskId")
            now = uow.clock.now()
            task.updated_at = ticket.updated_at = now
            uow.record(
                ticket,
                EventKind.TASK_UPDATED,
                actor.user_id,
                {"taskId": task.id, "changes": changes},
                internal=True,
            )
            await commit(uow)
            return task

    async def set_done(self, actor: Actor, task_id: int, *, done: bool) -> TicketTask:
        """Complete (or reopen) a task: its assignee, or staff of the ticket's team."""
        async with self._uow() as uow:
            task, ticket = await self._task(uow, actor, task_id)
            if task.assignee_id != actor.user_id and not can_collaborate(actor, ticket):
                raise Forbidden(
                    "only the task's assignee or staff of the ticket's team may do that",
                    field="taskId",
                )
            if (task.done_at is not None) == done:
                state = "done" if done else "open"
                raise ValidationFailed(f"the task is already {state}", field="taskId")
            now = uow.clock.now()
            task.done_at = now if done else None
            task.done_by = actor.user_id if done else None
            task.updated_at = ticket.updated_at = now
            uow.record(
                ticket,
                EventKind.TASK_COMPLETED if done else EventKind.TASK_REOPENED,
                actor.user_id,
                {"taskId": task.id, "title": task.title},
                internal=True,
            )
            await commit(uow)
            return task

    async def reorder(self, actor: Actor, ticket_id: int, task_ids: list[int]) -> list[TicketTask]:
        async with self._uow() as uow:
            ticket = await load_ticket(uow, actor, ticket_id)
            ensure_can_collaborate(actor, ticket, "reorder tasks")
            repo = CollaborationRepository(uow.session)
            current = (await repo.tasks_for([ticket.id]))[ticket.id]
            order = rules.new_order([t.id for t in current], task_ids)
            by_id = {t.id: t for t in current}
            if order == [t.id for t in current]:
                raise ValidationFailed("the tasks are already in that order", field="taskIds")
            now = uow.clock.now()
            for position, tid in enumerate(order, start=1):
                by_id[tid].position = position
                by_id[tid].updated_at = now
            ticket.updated_at = now
            uow.record(
                ticket,
                EventKind.TASKS_REORDERED,
                actor.user_id,
                {"from": [t.id for t in current], "to": order},
                internal=True,
            )
            await commit(uow)
            return [by_id[tid] for tid in order]

    async def delete(self, actor: Actor, task_id: int) -> TicketTask:
        """Soft delete: the row stays, with `deleted_at`."""
        async with self._uow() as uow:
            task, ticket = await self._task(uow, actor, task_id)
            ensure_can_collaborate(actor, ticket, "delete tasks")
            now = uow.clock.now()
            task.deleted_at = task.updated_at = ticket.updated_at = now
            uow.record(
                ticket,
                EventKind.TASK_DELETED,
                actor.user_id,
                {"taskId": task.id, "title": task.title},
                internal=True,
            )
            await commit(uow)
            return task
