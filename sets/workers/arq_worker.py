"""`sets worker`: the jobs under arq against SETS_REDIS_URL, with cron schedules and arq's
health-check key (read it with `arq --check`)."""

from __future__ import annotations

from typing import Any

from arq.connections import RedisSettings
from arq.cron import cron
from arq.worker import func

from sets.config import ConfigError, Settings
from sets.services.container import Services, build_services
from sets.services.notifications_queue import DELIVER_JOB, ArqQueue, arq_queue_name
from sets.workers import jobs


def worker_settings(
    settings: Settings, *, services: Services | None = None, queue_name: str | None = None
) -> dict[str, Any]:
    """arq settings; pass `services` to share an existing container (tests do). The queue
    lives under SETS_REDIS_PREFIX, like the event bus's channels."""
    if not settings.redis_url:
        raise ConfigError(
            "`sets worker` needs SETS_REDIS_URL (without Redis, `sets serve` runs "
            "the jobs in-process)"
        )
    queue = queue_name or arq_queue_name(settings.redis_prefix)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["services"] = services or build_services(settings)
        # The rescue job enqueues over this worker's own connection, onto its own queue.
        ctx["delivery_queue"] = ArqQueue(
            pool=ctx["redis"], queue_name=queue, job_prefix=settings.redis_prefix
        )

    async def shutdown(ctx: dict[str, Any]) -> None:
        if services is None and "services" in ctx:
            await ctx["services"].close()

    return {
        "functions": [
            jobs.sla_sweep,
            jobs.auto_close,
            func(
                jobs.deliver_notification,
                name=DELIVER_JOB,
                # No result kept: the rescue job may enqueue the same job id again at once.
                keep_result=0,
                # The delivery service counts attempts itself (and stops at the maximum);
                # arq's own limit only has to leave room for shutdown re-runs.
                max_tries=settings.notify_max_attempts + 5,
                timeout=settings.notify_lease_seconds,
            ),
            jobs.rescue_notifications,
        ],
        "cron_jobs": [
            # Several workers may run: `unique` gives each tick one job id, and the jobs are
            # idempotent anyway (row locks and re-checks per ticket).
            cron(jobs.sla_sweep, second=0, run_at_startup=True, unique=True),
            cron(jobs.auto_close, minute=set(range(0, 60, 5)), second=30, run_at_startup=True),
            cron(jobs.rescue_notifications, second=20, run_at_startup=True, unique=True),
        ],
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": queue,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "health_check_interval": 60,
        "job_timeout": 300,
        "keep_result": 60,
    }
