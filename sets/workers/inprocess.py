"""Without Redis, `sets serve` runs the same jobs in its own event loop: the SLA sweep,
auto-close and the notification rescue on a timer, and notification delivery from the
in-memory queue the unit of work fills after each commit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import TypeVar

from sets.services.container import Services
from sets.services.notifications_delivery import Outcome, Result
from sets.services.notifications_queue import DeliveryJob, LocalQueue
from sets.workers import jobs

log = logging.getLogger("sets.jobs")

DELIVERERS = 4
# On stop, work in flight gets this long to finish: cancelling it inside a transaction could
# leave a SQLite write lock behind in a process that goes on running.
STOP_GRACE_SECONDS = 10.0

T = TypeVar("T")


async def _unless_stopping(work: Awaitable[T]) -> T:
    """Run `work`; if the caller is cancelled meanwhile, let it finish (up to the grace
    period) before the cancellation goes on."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, STOP_GRACE_SECONDS)
        raise


class InProcessRunner:
    def __init__(
        self, services: Services, *, interval_seconds: float, deliverers: int = DELIVERERS
    ) -> None:
        self._services = services
        self._ctx = {"services": services}
        self._interval = interval_seconds
        self._deliverers = deliverers
        self._tasks: list[asyncio.Task[None]] = []
        self.runs = 0

    def start(self, *, run_now: bool = True) -> None:
        """`run_now=False` when the caller has just run the jobs itself."""
        self._tasks.append(asyncio.create_task(self._loop(run_now), name="sets-inprocess-jobs"))
        if isinstance(self._services.delivery_queue, LocalQueue):
            queue = self._services.delivery_queue
            self._tasks += [
                asyncio.create_task(self._deliver_forever(queue), name=f"sets-deliver-{n}")
                for n in range(self._deliverers)
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def run_once(self) -> None:
        await _unless_stopping(jobs.sla_sweep(self._ctx))
        await _unless_stopping(jobs.auto_close(self._ctx))
        await _unless_stopping(jobs.rescue_notifications(self._ctx))
        self.runs += 1

    async def deliver(self, queue: LocalQueue, job: DeliveryJob) -> Outcome:
        outcome = await self._services.deliveries.deliver(job.notification_id)
        if outcome.result is Result.RETRY:
            await queue.enqueue(
                DeliveryJob(job.notification_id, outcome.attempts, outcome.retry_in or 0.0)
            )
        return outcome

    async def drain(self) -> list[Outcome]:
        """Deliver whatever waits in the local queue now (retries come back later); for the
        CLI, which has no long-running loop."""
        queue = self._services.delivery_queue
        outcomes: list[Outcome] = []
        if not isinstance(queue, LocalQueue):
            return outcomes
        while (job := queue.get_nowait()) is not None:
            outcomes.append(await self.deliver(queue, job))
        return outcomes

    async def _deliver_forever(self, queue: LocalQueue) -> None:
        while True:
            job = await queue.get()
            try:
                await _unless_stopping(self.deliver(queue, job))
            except Exception:
                # The row stays PENDING: the rescue job enqueues it again.
                log.exception("delivering notification %s failed", job.notification_id)

    async def _loop(self, run_now: bool) -> None:
        while True:
            if run_now:
                try:
                    await self.run_once()
                except Exception:
                    # Logged and retried next tick: the jobs are idempotent.
                    log.exception("in-process jobs failed")
            run_now = True
            await asyncio.sleep(self._interval)
