"""Getting committed outbox rows to a deliverer: an arq job per row (with Redis) or an
in-memory queue drained by the in-process runner (without), behind one small interface.

Enqueueing is a hint, never the record: the row in the database is. A lost hint (Redis down
at commit time, a crash between commit and enqueue, a full local queue) only delays the
notification until the rescue job re-enqueues PENDING rows that are overdue."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sets.models import Notification
from sets.realtime.bus import EventBus
from sets.repositories.notifications import IN_APP, PENDING
from sets.services.inapp import publish_in_app

log = logging.getLogger("sets.notify")

DELIVER_JOB = "deliver_notification"


@dataclass(frozen=True)
class DeliveryJob:
    notification_id: int
    attempts: int = 0  # the row's attempts when enqueued: part of the arq job id
    defer_seconds: float = 0.0


class QueueUnavailable(RuntimeError):
    pass


class DeliveryQueue(Protocol):
    async def enqueue(self, job: DeliveryJob) -> None:
        """Raise QueueUnavailable when the job could not be handed over."""

    async def close(self) -> None: ...


def arq_queue_name(redis_prefix: str) -> str:
    return f"{redis_prefix}queue"


class ArqQueue:
    """`deliver_notification(id)` on the arq queue of `sets worker`. The job id names the row
    and its attempt count, so enqueueing the same row twice (after commit and again by the
    rescue job) while the first job waits is a no-op; arq's key space is shared by every
    deployment on a Redis, so ids carry SETS_REDIS_PREFIX as well."""

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        queue_name: str,
        job_prefix: str,
        pool: Any = None,
    ) -> None:
        if redis_url is None and pool is None:
            raise ValueError("give a Redis URL or an arq pool")
        self._url = redis_url
        self._pool = pool
        self._owned = pool is None
        self.queue_name = queue_name
        self.job_prefix = job_prefix

    def job_id(self, job: DeliveryJob) -> str:
        return f"{self.job_prefix}deliver:{job.notification_id}:{job.attempts}"

    async def _connection(self) -> Any:
        if self._pool is None:
            from arq.connections import RedisSettings, create_pool

            assert self._url is not None
            # Fail fast: a request must not wait on a dead Redis; the rescue job catches up.
            settings = dataclasses.replace(
                RedisSettings.from_dsn(self._url), conn_retries=0, conn_timeout=2
            )
            self._pool = await create_pool(settings, default_queue_name=self.queue_name)
        return self._pool

    async def enqueue(self, job: DeliveryJob) -> None:
        try:
            pool = await self._connection()
            await pool.enqueue_job(
                DELIVER_JOB,
                job.notification_id,
                _job_id=self.job_id(job),
                _queue_name=self.queue_name,
                _defer_by=job.defer_seconds or None,
            )
        except Exception as exc:
            await self._drop()
            raise QueueUnavailable(f"could not enqueue on Redis: {exc}") from exc

    async def _drop(self) -> None:
        if self._owned and self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await pool.aclose()
            except Exception:  # already broken; nothing more to release
                log.debug("closing a broken arq pool failed", exc_info=True)

    async def close(self) -> None:
        await self._drop()


class LocalQueue:
    """In-memory jobs for the in-process runner (`sets serve` without Redis). Bounded: when
    full, a job is dropped with a warning and the rescue job finds its row later."""

    def __init__(self, limit: int = 10_000) -> None:
        self._items: asyncio.Queue[DeliveryJob] = asyncio.Queue(limit)
        self._timers: set[asyncio.TimerHandle] = set()

    async def enqueue(self, job: DeliveryJob) -> None:
        if job.defer_seconds > 0:
            loop = asyncio.get_running_loop()
            ready = dataclasses.replace(job, defer_seconds=0.0)
            handle: asyncio.TimerHandle

            def fire() -> None:
                self._timers.discard(handle)
                self._put(ready)

            handle = loop.call_later(job.defer_seconds, fire)
            self._timers.add(handle)
            return
        self._put(job)

    def _put(self, job: DeliveryJob) -> None:
        try:
            self._items.put_nowait(job)
        except asyncio.QueueFull:
            log.warning(
                "local delivery queue full; notification %s waits for the rescue job",
                job.notification_id,
            )

    async def get(self) -> DeliveryJob:
        return await self._items.get()

    def get_nowait(self) -> DeliveryJob | None:
        try:
            return self._items.get_nowait()
        except asyncio.QueueEmpty:
            return None

    @property
    def waiting(self) -> int:
        return self._items.qsize()

    async def close(self) -> None:
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()


class Dispatcher:
    """The unit of work's after-commit hook: in-app rows are pushed live, the others are
    handed to the delivery queue. Never raises: the commit has happened."""

    def __init__(self, bus: EventBus, queue: Callable[[], DeliveryQueue]) -> None:
        self._bus = bus
        self._queue = queue

    async def __call__(self, rows: Sequence[Notification]) -> None:
        in_app = [r for r in rows if r.channel == IN_APP]
        if in_app:
            await publish_in_app(self._bus, in_app)
        queue = self._queue()
        for row in rows:
            if row.channel == IN_APP or row.status != PENDING:
                continue
            try:
                await queue.enqueue(DeliveryJob(row.id, row.attempts))
            except QueueUnavailable as exc:
                # Do not hammer a dead Redis once per row: the rescue job re-enqueues them all.
                log.warning("delivery queue unavailable (%s); the rescue job will retry", exc)
                return
