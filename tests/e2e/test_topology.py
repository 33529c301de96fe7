"""The docker-compose topology as plain processes: two `sets serve` and two `sets worker` on
PostgreSQL + Redis. A mutation through API 1 reaches a subscriber on API 2, and a due ticket
escalates exactly once per level, with one outbox row per recipient and channel, while both
workers sweep."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from sets.domain.enums import EventKind, Priority
from sets.models import Notification, TicketEvent
from sets.repositories.tickets import TicketQuery
from sets.services.container import Services
from tests.documents import SUBSCRIBE_EVENTS
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.live import Http, events_until
from tests.e2e.wsclient import TRANSPORT_WS, GraphQLSocket, ws_url
from tests.helpers import actor_of
from tests.redis_support import require_redis, unique_prefix

pytestmark = pytest.mark.e2e


@pytest.fixture
def backend() -> str:
    return "postgresql"


async def test_two_apis_and_two_workers(services: Services, db_url: str, tmp_path: Path) -> None:
    redis_url = await require_redis()
    env = {
        "SETS_REDIS_URL": redis_url,
        "SETS_REDIS_PREFIX": unique_prefix(),
        "SETS_DATA_DIR": str(tmp_path / "data"),  # where the workers' notifications go
    }
    admin = await actor_of(services, "admin@example.com")
    [p1] = (
        await services.reads.tickets(
            admin, TicketQuery(priorities=[Priority.P1]), first=5, after=None
        )
    ).items
    api_1 = start_server(db_url, tmp_path, env=env)
    api_2 = start_server(db_url, tmp_path, env=env)
    workers = []
    try:
        async with Http(api_1.url) as via_1, Http(api_2.url) as via_2:
            agent_on_2 = await via_2.login("agent@example.com")
            rita_on_1 = await via_1.login("requester@example.com")
            socket = await GraphQLSocket.open(
                ws_url(api_2.url), TRANSPORT_WS, {"Authorization": f"Bearer {agent_on_2}"}
            )
            async with socket:
                op = await socket.subscribe(SUBSCRIBE_EVENTS)
                await asyncio.sleep(0.2)
                ticket = await via_1.create_ticket(rita_on_1, "Made through API 1")
                await via_1.rename(rita_on_1, ticket["id"], "seen-on-2")
                saw = await events_until(socket, op, ticket["id"], "seen-on-2")
            assert [e["kind"] for e in saw] == ["CREATED", "UPDATED"]

        # Both workers start at once; each sweeps at start-up (the demo tickets were made on
        # 2026-01-05, so by the wall clock every SLA step of the P1 ticket is due).
        for n in range(2):
            log = (tmp_path / f"worker-{n}.log").open("wb")
            workers.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "sets.cli",
                    "worker",
                    env={**os.environ, "SETS_DATABASE_URL": db_url, **env},
                    stdout=log,
                    stderr=log,
                )
            )
        level = 0
        for _ in range(150):
            level = (await services.reads.ticket(admin, p1.id)).escalation_level
            if level == 3:
                break
            await asyncio.sleep(0.2)
        assert level == 3
        await asyncio.sleep(1)  # let any duplicate attempt show itself
    finally:
        for worker in workers:
            worker.terminate()
            await worker.wait()
        stop_server(api_1)
        stop_server(api_2)

    async with services.db.reader() as session:
        events = list(
            await session.scalars(
                select(TicketEvent).where(
                    TicketEvent.ticket_id == p1.id, TicketEvent.kind == EventKind.ESCALATED
                )
            )
        )
        rows = list(
            await session.execute(
                select(
                    Notification.event_id, Notification.recipient_id, Notification.channel
                ).where(Notification.ticket_id == p1.id)
            )
        )
    assert sorted(e.data["to"] for e in events) == [1, 2, 3]
    assert rows, "escalations notify someone"
    assert max(Counter(rows).values()) == 1  # one row per event, recipient and channel
