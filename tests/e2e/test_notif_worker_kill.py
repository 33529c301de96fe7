"""A `sets worker` killed (SIGKILL) in the middle of an SMTP delivery, on PostgreSQL + Redis:
another worker delivers the mail after the claim's lease, and the SMTP server receives it
exactly once."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from sets.domain.actor import Actor
from sets.domain.enums import Role
from sets.models import Notification
from sets.services.container import Services
from tests.helpers import actor_of
from tests.integration.notif_support import last_id, row, rows_since
from tests.notif_servers import smtp_server
from tests.redis_support import require_redis, unique_prefix

pytestmark = pytest.mark.e2e

LEASE_SECONDS = 3


@pytest.fixture
def backend() -> str:
    return "postgresql"


async def start_worker(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sets.cli", "worker", env=env, stdout=out, stderr=out
        )


async def test_a_worker_killed_mid_delivery_delivers_exactly_once(
    services: Services, db_url: str, tmp_path: Path
) -> None:
    redis_url = await require_redis()
    async with services.db.writer() as session, session.begin():
        # The demo data's own mail counts as delivered: only this test's is in play.
        await session.execute(
            update(Notification).where(Notification.status == "PENDING").values(status="SENT")
        )
    await services.admin.create_user(
        Actor.system(),
        email="kim@example.com",
        name="Kim",
        role=Role.REQUESTER,
        password="kim-password-1",
    )
    kim = await actor_of(services, "kim@example.com")
    since = await last_id(services)
    await services.tickets.create(kim, title="Badge reader broken", description="Door 3.")
    [mail] = [
        r
        for r in await rows_since(services, since)
        if r.recipient_id == kim.user_id and r.channel == "EMAIL"
    ]
    log = tmp_path / "workers.log"
    async with smtp_server() as smtp:
        smtp.stall_once.add("kim@example.com")  # the first delivery hangs in the SMTP dialog
        env = {
            **os.environ,
            "SETS_DATABASE_URL": db_url,
            "SETS_REDIS_URL": redis_url,
            "SETS_REDIS_PREFIX": unique_prefix(),
            "SETS_SMTP_URL": smtp.url,
            "SETS_DATA_DIR": str(tmp_path / "data"),
            "SETS_NOTIFY_LEASE_SECONDS": str(LEASE_SECONDS),
        }
        # The first worker rescues the (never enqueued) row at start-up and starts sending.
        first = await start_worker(env, log)
        try:
            await asyncio.wait_for(smtp.stalled.wait(), timeout=60)
            held = await row(services, mail.id)
            assert (held.status, held.attempts) == ("PENDING", 1), log.read_text()
            assert held.claim_token is not None and held.claimed_until is not None
            first.kill()
            await first.wait()
        finally:
            if first.returncode is None:
                first.kill()
                await first.wait()
        smtp.release.set()
        assert smtp.to("kim@example.com") == []

        # Past the dead worker's lease, a second worker's rescue job takes the row over.
        wait = (held.claimed_until - datetime.now(UTC)).total_seconds() + 0.5
        await asyncio.sleep(max(0.0, wait))
        second = await start_worker(env, log)
        try:
            for _ in range(600):
                assert second.returncode is None, log.read_text()
                if (await row(services, mail.id)).status == "SENT":
                    break
                await asyncio.sleep(0.1)
            done = await row(services, mail.id)
            assert (done.status, done.attempts) == ("SENT", 2), log.read_text()
            await asyncio.sleep(1)  # room for a stray duplicate to show up (none may)
        finally:
            second.terminate()
            await asyncio.wait_for(second.wait(), timeout=15)

    [received] = smtp.to("kim@example.com")
    assert received.message["X-SETS-Notification"] == str(mail.id)
    assert received.message["Subject"].strip().endswith("Received: Badge reader broken")
