"""Job functions: plain async functions over a context holding the services (clock, session
factories, bus). arq calls them with its ctx dict; the in-process runner does the same."""

from __future__ import annotations

import logging
from typing import Any

from sets.services.container import Services

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
