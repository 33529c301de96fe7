"""The SLA jobs under a real arq worker on real Redis, and in-process without Redis."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from arq.worker import Worker

from sets.domain.clock import FixedClock
from sets.domain.enums import TicketStatus
from sets.models import Ticket
from sets.services.container import Services
from sets.workers.arq_worker import worker_settings
from sets.workers.inprocess import InProcessRunner
from tests.integration.support import Demo
from tests.redis_support import require_redis


@pytest.fixture
async def redis_url() -> str:
    return await require_redis()


async def due_p1(demo: Demo, clock: FixedClock) -> Ticket:
    """Settle the demo tickets, then make a P1 ticket whose breach is due two hours on."""
    clock.advance(timedelta(days=30))
    await demo.services.sla_sweep.run()
    ticket = await demo.services.tickets.create(
        demo.rita,
        title="Tills down",
        description="All of them.",
        category_id=demo.categories["Payment"],
    )
    await demo.services.tickets.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id)
    await demo.services.tickets.add_comment(demo.agent, ticket.id, body="On it.")
    clock.advance(timedelta(hours=2))
    return ticket


async def test_arq_worker_runs_the_sweep_cron_job(
    demo: Demo, clock: FixedClock, services: Services, redis_url: str
) -> None:
    ticket = await due_p1(demo, clock)
    settings = replace(services.settings, redis_url=redis_url)
    queue = f"sets-test:{uuid.uuid4().hex}"
    worker = Worker(
        **worker_settings(settings, services=services, queue_name=queue),
        burst=True,
        poll_delay=0.05,
        handle_signals=False,
    )
    try:
        await asyncio.wait_for(worker.main(), timeout=30)
    finally:
        await worker.close()
    assert worker.jobs_complete >= 1 and worker.jobs_failed == 0
    stored = await demo.ticket(ticket.id)
    assert (stored.resolution_breached, stored.escalation_level) == (True, 1)


async def test_worker_refuses_to_start_without_redis(services: Services) -> None:
    from sets.config import ConfigError

    with pytest.raises(ConfigError, match="SETS_REDIS_URL"):
        worker_settings(replace(services.settings, redis_url=None))


async def test_in_process_runner_sweeps_and_auto_closes(
    demo: Demo, clock: FixedClock, services: Services
) -> None:
    ticket = await due_p1(demo, clock)
    runner = InProcessRunner(services, interval_seconds=0.01)
    runner.start()
    try:
        # Wait for a whole run (sweep and auto-close), not just the escalation it makes.
        for _ in range(500):
            if runner.runs >= 1:
                break
            await asyncio.sleep(0.01)
    finally:
        await runner.stop()
    assert (await demo.ticket(ticket.id)).escalation_level == 1
    assert runner.runs >= 1
    svc = demo.services.tickets
    await svc.transition(demo.agent, ticket.id, TicketStatus.IN_PROGRESS)
    await svc.transition(demo.agent, ticket.id, TicketStatus.RESOLVED, resolution="Fixed.")
    clock.advance(timedelta(days=3))
    await runner.run_once()
    assert (await demo.ticket(ticket.id)).status is TicketStatus.CLOSED
