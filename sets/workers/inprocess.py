"""Without Redis, `sets serve` runs the same jobs on a timer in its own event loop, so the
embedded default escalates and auto-closes on its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sets.services.container import Services
from sets.workers import jobs

log = logging.getLogger("sets.jobs")


class InProcessRunner:
    def __init__(self, services: Services, *, interval_seconds: float) -> None:
        self._ctx = {"services": services}
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None
        self.runs = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="sets-inprocess-jobs")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self) -> None:
        await jobs.sla_sweep(self._ctx)
        await jobs.auto_close(self._ctx)
        self.runs += 1

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                # Logged and retried next tick: the jobs are idempotent.
                log.exception("in-process jobs failed")
            await asyncio.sleep(self._interval)
