"""Delivery under a real arq worker on real Redis, on both databases: the job enqueued after
commit sends mail to a real SMTP server and posts to a real Slack webhook (which fails twice:
arq retries with the backoff the delivery chose); and with Redis unreachable at commit time,
the rescue job of a worker started later delivers what was never enqueued."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest
from arq.worker import Worker
from sqlalchemy import update

from sets.config import Settings
from sets.domain.clock import FixedClock
from sets.models import Notification
from sets.realtime.bus import InMemoryBus
from sets.services.container import Services, build_services
from sets.services.notifications_queue import ArqQueue, DeliveryJob, LocalQueue
from sets.workers.arq_worker import worker_settings
from tests.integration.notif_support import last_id, row, rows_since
from tests.integration.support import Demo
from tests.notif_servers import SlackHook, SmtpSink, closed_port, slack_webhook, smtp_server
from tests.redis_support import require_redis, unique_prefix


@pytest.fixture
async def redis_url() -> str:
    return await require_redis()


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with smtp_server() as sink:
        yield sink


@pytest.fixture
async def hook() -> AsyncIterator[SlackHook]:
    async with slack_webhook(SlackHook(failures=2)) as started:
        yield started


@pytest.fixture
def settings(settings: Settings, smtp: SmtpSink, hook: SlackHook, redis_url: str) -> Settings:
    return replace(
        settings,
        redis_url=redis_url,
        redis_prefix=unique_prefix(),
        smtp_url=smtp.url,
        slack_webhook_url=hook.url,
        notify_backoff_seconds=0.05,
    )


@pytest.fixture(autouse=True)
async def no_backlog(demo: Demo) -> None:
    """The demo data's own notifications count as delivered: each test sees only its own."""
    async with demo.services.db.writer() as session, session.begin():
        await session.execute(
            update(Notification).where(Notification.status == "PENDING").values(status="SENT")
        )


async def run_worker(services: Services) -> Worker:
    """A burst worker sharing `services` (and so the test's clock): it runs until its queue
    is empty, deferred retries included."""
    settings = services.settings
    worker = Worker(
        **worker_settings(settings, services=services),
        burst=True,
        poll_delay=0.02,
        handle_signals=False,
    )
    try:
        await asyncio.wait_for(worker.main(), timeout=60)
    finally:
        await worker.close()
    return worker


async def test_a_real_worker_delivers_mail_and_retries_slack(
    demo: Demo, services: Services, smtp: SmtpSink, hook: SlackHook
) -> None:
    assert isinstance(services.delivery_queue, ArqQueue)
    since = await last_id(services)
    await services.tickets.assign(demo.manager, 2, assignee_id=demo.agent.user_id)
    await services.tickets.add_comment(demo.agent, 2, body="We are on it, Carl.")
    rows = {r.channel: r for r in await rows_since(services, since) if r.channel != "IN_APP"}
    assert set(rows) == {"SLACK", "EMAIL"}  # the agent on Slack, Carl by email

    worker = await run_worker(services)
    assert worker.jobs_failed == 0
    assert worker.jobs_retried == 2

    [mail] = smtp.mails
    assert mail.recipients == ["clinic@example.com"]
    # (Python's parser keeps the space of a header folded right after its colon.)
    assert mail.message["Subject"].strip() == "[SETS-2] New reply from Alex Agent: " + (
        "Card terminal declines every payment"
    )
    assert hook.calls == 3 and len(hook.posts) == 1
    assert hook.posts[0]["text"].startswith("[SETS-2] Assigned to you")
    slack = await row(services, rows["SLACK"].id)
    assert (slack.status, slack.attempts) == ("SENT", 3)
    assert "answered 500" in (slack.last_error or "")
    email = await row(services, rows["EMAIL"].id)
    assert (email.status, email.attempts) == ("SENT", 1)


async def test_redis_down_at_commit_time_the_rescue_job_delivers_later(
    demo: Demo,
    services: Services,
    settings: Settings,
    smtp: SmtpSink,
    clock: FixedClock,
    redis_url: str,
) -> None:
    # The API process's Redis is unreachable when the change commits.
    await services.delivery_queue.close()
    dead = f"redis://127.0.0.1:{closed_port()}/0"
    services.delivery_queue = ArqQueue(dead, queue_name="unused", job_prefix=settings.redis_prefix)
    since = await last_id(services)
    started = asyncio.get_running_loop().time()
    await services.tickets.add_comment(demo.agent, 1, body="Replaced the fuser.")
    assert asyncio.get_running_loop().time() - started < 3  # no waiting on a dead Redis
    [mail] = [r for r in await rows_since(services, since) if r.channel == "EMAIL"]
    assert (await row(services, mail.id)).status == "PENDING"

    # Later a worker (its own process and Redis connection) starts; its rescue job runs at
    # start-up and at every minute.
    clock.advance(timedelta(minutes=2))
    worker_services = build_services(settings, clock=clock, bus=InMemoryBus())
    try:
        worker = await run_worker(worker_services)
    finally:
        await worker_services.close()
    assert worker.jobs_failed == 0
    [got] = smtp.mails
    assert got.recipients == ["requester@example.com"]
    assert got.message["X-SETS-Notification"] == str(mail.id)
    assert (await row(services, mail.id)).status == "SENT"


async def test_enqueueing_twice_runs_one_job(
    demo: Demo, services: Services, settings: Settings, smtp: SmtpSink
) -> None:
    """The rescue job may enqueue a row whose first job still waits: same job id, no-op."""
    await services.delivery_queue.close()
    services.delivery_queue = LocalQueue()  # the commit enqueues nowhere; this test does
    since = await last_id(services)
    await services.tickets.add_comment(demo.agent, 1, body="Twice?")
    [mail] = [r for r in await rows_since(services, since) if r.channel == "EMAIL"]
    main = ArqQueue(
        settings.redis_url,
        queue_name=f"{settings.redis_prefix}queue",
        job_prefix=settings.redis_prefix,
    )
    try:
        await main.enqueue(DeliveryJob(mail.id, 0))
        await main.enqueue(DeliveryJob(mail.id, 0))
        pool = await main._connection()
        assert await pool.zcard(main.queue_name) == 1
    finally:
        await main.close()
    await run_worker(services)
    assert len(smtp.mails) == 1
    assert (await row(services, mail.id)).attempts == 1
