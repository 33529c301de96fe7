"""`sets worker`: the jobs under arq against SETS_REDIS_URL, with cron schedules and arq's
health-check key (read it with `arq --check`)."""

from __future__ import annotations

from typing import Any

from arq.connections import RedisSettings
from arq.cron import cron

from sets.config import ConfigError, Settings
from sets.services.container import Services, build_services
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

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["services"] = services or build_services(settings)

    async def shutdown(ctx: dict[str, Any]) -> None:
        if services is None and "services" in ctx:
            await ctx["services"].close()

    return {
        "functions": [jobs.sla_sweep, jobs.auto_close],
        "cron_jobs": [
            # Several workers may run: `unique` gives each tick one job id, and the jobs are
            # idempotent anyway (row locks and re-checks per ticket).
            cron(jobs.sla_sweep, second=0, run_at_startup=True, unique=True),
            cron(jobs.auto_close, minute=set(range(0, 60, 5)), second=30, run_at_startup=True),
        ],
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": queue_name or f"{settings.redis_prefix}queue",
        "on_startup": startup,
        "on_shutdown": shutdown,
        "health_check_interval": 60,
        "job_timeout": 300,
        "keep_result": 60,
    }
