"""`sets worker` as a process on PostgreSQL + Redis escalates overdue tickets on its own."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from sets.domain.enums import Priority
from sets.repositories.tickets import TicketQuery
from sets.services.container import Services
from tests.helpers import actor_of
from tests.redis_support import require_redis, unique_prefix

pytestmark = pytest.mark.e2e


@pytest.fixture
def backend() -> str:
    return "postgresql"


async def test_sets_worker_sweeps_at_start_and_escalates(
    services: Services, db_url: str, tmp_path: Path
) -> None:
    redis_url = await require_redis()
    # The demo tickets were made on 2026-01-05: by the wall clock the P1 one is long overdue.
    admin = await actor_of(services, "admin@example.com")
    page = await services.reads.tickets(
        admin, TicketQuery(priorities=[Priority.P1]), first=5, after=None
    )
    [p1] = page.items
    assert p1.escalation_level == 0
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "SETS_DATABASE_URL": db_url,
        "SETS_REDIS_URL": redis_url,
        "SETS_REDIS_PREFIX": unique_prefix(),
        "SETS_DATA_DIR": str(tmp_path / "data"),  # the notifications it delivers
    }
    with log.open("wb") as out:
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sets.cli", "worker", env=env, stdout=out, stderr=out
        )
    try:
        level = 0
        for _ in range(150):
            assert worker.returncode is None, log.read_text()
            level = (await services.reads.ticket(admin, p1.id)).escalation_level
            if level == 3:
                break
            await asyncio.sleep(0.2)
        assert level == 3, log.read_text()
        check = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sets.cli", "worker", "--check", env=env
        )
        assert await asyncio.wait_for(check.wait(), timeout=30) == 0
    finally:
        worker.terminate()
        await asyncio.wait_for(worker.wait(), timeout=15)
    assert "sla sweep:" in log.read_text()
