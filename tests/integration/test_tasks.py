"""Subtasks and the resolve gate (issue 7) on both databases."""

from __future__ import annotations

from datetime import timedelta

from sets.domain.enums import EventKind, TicketStatus
from sets.domain.errors import ErrorCode
from tests.integration.collab_support import in_progress, snapshot
from tests.integration.support import Demo, raises_domain


async def test_add_update_complete_reorder_delete(demo: Demo) -> None:
    tasks = demo.services.tasks
    tid = await in_progress(demo)
    due = demo.services.clock.now() + timedelta(days=1)
    a = await tasks.add(demo.agent, tid, title="Order toner", assignee_id=demo.manager.user_id)
    b = await tasks.add(demo.agent, tid, title="Call vendor", due_at=due)
    c = await tasks.add(demo.manager, tid, title="Test print")
    assert [a.position, b.position, c.position] == [1, 2, 3]
    assert b.due_at == due and a.assignee_id == demo.manager.user_id

    updated = await tasks.update(demo.agent, b.id, title="Call the vendor", clear_due_at=True)
    assert (updated.title, updated.due_at) == ("Call the vendor", None)

    # The task's assignee may complete it, and so may any staff of the team.
    done = await tasks.set_done(demo.manager, a.id, done=True)
    assert done.done_at == demo.services.clock.now() and done.done_by == demo.manager.user_id
    await tasks.set_done(demo.agent, a.id, done=False)

    order = await tasks.reorder(demo.agent, tid, [c.id, a.id, b.id])
    assert [t.id for t in order] == [c.id, a.id, b.id]
    listed = (await demo.services.collaboration.tasks(demo.agent, [tid]))[tid]
    assert [t.id for t in listed] == [c.id, a.id, b.id]

    await tasks.delete(demo.agent, c.id)
    listed = (await demo.services.collaboration.tasks(demo.agent, [tid]))[tid]
    assert [t.id for t in listed] == [a.id, b.id]
    # Requesters never see tasks, nor their (internal) events.
    assert (await demo.services.collaboration.tasks(demo.rita, [tid]))[tid] == []
    kinds = await demo.kinds(tid)
    for kind in (
        EventKind.TASK_ADDED,
        EventKind.TASK_UPDATED,
        EventKind.TASK_COMPLETED,
        EventKind.TASK_REOPENED,
        EventKind.TASKS_REORDERED,
        EventKind.TASK_DELETED,
    ):
        assert kind in kinds
    assert not {e.kind for e in await demo.events(tid, demo.rita)} & {"TASK_ADDED"}


async def test_task_refusals_change_nothing(demo: Demo) -> None:
    tasks = demo.services.tasks
    tid = await in_progress(demo)
    task = await tasks.add(demo.agent, tid, title="Order toner")
    other = await in_progress(demo, "Another")
    other_task = await tasks.add(demo.agent, other, title="Elsewhere")
    before = await snapshot(demo)
    cases = [
        (ErrorCode.VALIDATION, "title", tasks.add(demo.agent, tid, title="  ")),
        (ErrorCode.NOT_FOUND, "ticketId", tasks.add(demo.carl, tid, title="x")),
        (ErrorCode.FORBIDDEN, "ticketId", tasks.add(demo.rita, tid, title="x")),
        # Senior Support's manager sees the ticket but is not on its team.
        (ErrorCode.FORBIDDEN, "ticketId", tasks.add(demo.senior, tid, title="x")),
        (
            ErrorCode.NOT_FOUND,
            "assigneeId",
            tasks.add(demo.agent, tid, title="x", assignee_id=9999),
        ),
        (
            ErrorCode.VALIDATION,
            "assigneeId",
            tasks.add(demo.agent, tid, title="x", assignee_id=demo.rita.user_id),
        ),
        (ErrorCode.NOT_FOUND, "taskId", tasks.set_done(demo.rita, task.id, done=True)),
        (ErrorCode.NOT_FOUND, "taskId", tasks.set_done(demo.agent, 98765, done=True)),
        (ErrorCode.VALIDATION, "taskId", tasks.set_done(demo.agent, task.id, done=False)),
        (ErrorCode.FORBIDDEN, "taskId", tasks.set_done(demo.senior, task.id, done=True)),
        (ErrorCode.VALIDATION, "taskId", tasks.update(demo.agent, task.id)),
        (ErrorCode.VALIDATION, "taskIds", tasks.reorder(demo.agent, tid, [task.id, task.id])),
        (ErrorCode.VALIDATION, "taskIds", tasks.reorder(demo.agent, tid, [other_task.id])),
        (ErrorCode.VALIDATION, "taskIds", tasks.reorder(demo.agent, tid, [task.id])),
    ]
    for code, field, call in cases:
        with raises_domain(code, field):
            await call
    assert await snapshot(demo) == before


async def test_closed_ticket_tasks_are_frozen(demo: Demo) -> None:
    tickets, tasks = demo.services.tickets, demo.services.tasks
    ticket = await tickets.create(demo.rita, title="Withdrawn", description="Never mind.")
    task = await tasks.add(demo.manager, ticket.id, title="Check")
    await tickets.transition(demo.rita, ticket.id, TicketStatus.CLOSED, reason="fixed itself")
    before = await snapshot(demo)
    for call in (
        tasks.add(demo.manager, ticket.id, title="More"),
        tasks.set_done(demo.manager, task.id, done=True),
        tasks.delete(demo.manager, task.id),
    ):
        with raises_domain(ErrorCode.TICKET_CLOSED):
            await call
    assert await snapshot(demo) == before


async def test_open_tasks_block_resolving_unless_a_manager_forces(demo: Demo) -> None:
    tickets, tasks = demo.services.tickets, demo.services.tasks
    tid = await in_progress(demo)
    task = await tasks.add(demo.agent, tid, title="Order toner")
    await tasks.add(demo.agent, tid, title="Done already")
    done_id = (await demo.services.collaboration.tasks(demo.agent, [tid]))[tid][1].id
    await tasks.set_done(demo.agent, done_id, done=True)
    before = await snapshot(demo)
    with raises_domain(ErrorCode.INVALID_TRANSITION, "force") as refused:
        await tickets.transition(demo.agent, tid, TicketStatus.RESOLVED, resolution="Fixed.")
    assert "1 open task" in refused.value.message
    # The assignee (an agent) may not force it.
    with raises_domain(ErrorCode.FORBIDDEN, "force"):
        await tickets.transition(
            demo.agent, tid, TicketStatus.RESOLVED, resolution="Fixed.", force=True
        )
    assert await snapshot(demo) == before

    forced = await tickets.transition(
        demo.manager, tid, TicketStatus.RESOLVED, resolution="Fixed.", force=True
    )
    assert forced.status is TicketStatus.RESOLVED
    events = await demo.events(tid)
    assert [e.kind for e in events[-2:]] == ["RESOLVED_OVER_OPEN_TASKS", "STATUS_CHANGED"]
    assert events[-2].data == {"openTasks": 1, "forced": True} and events[-2].internal

    # Reopened, then with every task done, the assignee resolves without force.
    await tickets.transition(demo.agent, tid, TicketStatus.IN_PROGRESS)
    await tasks.set_done(demo.agent, task.id, done=True)
    again = await tickets.transition(demo.agent, tid, TicketStatus.RESOLVED, resolution="Ok.")
    assert again.status is TicketStatus.RESOLVED
    assert (await demo.kinds(tid))[-1] == "STATUS_CHANGED"
