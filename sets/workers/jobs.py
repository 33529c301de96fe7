"""Job functions: plain async functions over a context holding the services (clock, session
factories, bus). arq calls them with its ctx dict; the in-process runner does the same."""

from __future__ import annotations

import logging
from typing import Any

from arq import Retry

from sets.services.container import Services
from sets.services.notifications_delivery import Result
from sets.services.notifications_queue import DeliveryQueue

log = logging.getLogger("sets.jobs")


def _services(ctx: dict[str, Any]) -> Services:
    services: Services = ctx["services"]
    return services


async def sla_sweep(ctx: dict[str, Any]) -> str:
    summary = await _services(ctx).sla_sweep.run()
    if summary.examined:
        log.info(summary.line())
    return summary.line()


async def auto_close(ctx: dict[str, Any]) -> int:
    closed = await _services(ctx).auto_close.run()
    if closed:
        log.info("auto-closed %d resolved tickets", closed)
    return closed


async def deliver_notification(ctx: dict[str, Any], notification_id: int) -> str:
    """One outbox row. arq retries only on `Retry`: transient failures raise it with the
    backoff the delivery service chose; everything else ends the job."""
    outcome = await _services(ctx).deliveries.deliver(notification_id)
    if outcome.result is Result.RETRY:
        raise Retry(defer=outcome.retry_in)
    return outcome.line()


async def rescue_notifications(ctx: dict[str, Any]) -> int:
    """Re-enqueue PENDING rows over a minute past due: nothing committed is ever lost to a
    crash between commit and enqueue, or to Redis being down at that moment."""
    services = _services(ctx)
    # Under arq, the worker's own connection and queue (see arq_worker.startup).
    queue: DeliveryQueue = ctx.get("delivery_queue") or services.delivery_queue
    enqueued = await services.deliveries.rescue(queue)
    if enqueued:
        log.info("rescued %d pending notifications", enqueued)
    return enqueued
