"""Delivering outbox rows on both databases: simulated channels (files), a real SMTP server
(aiosmtpd) and a real Slack webhook (Starlette over HTTP) on loopback, retries with backoff,
claims that keep two workers from sending one row, a worker dying between the send and the
SENT mark, the rescue job, the in-process runner and the live in-app push."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import update

from sets.config import Settings
from sets.domain.clock import FixedClock
from sets.domain.notifications import Channel, NotifyEvent
from sets.models import Notification
from sets.notify import Outgoing, Receipt
from sets.notify.channels import Sender
from sets.realtime import notifications_topic
from sets.services import outbox
from sets.services.container import Services
from sets.services.notifications import Change
from sets.services.notifications_delivery import Result
from sets.services.notifications_queue import DeliveryJob, LocalQueue
from sets.workers.inprocess import InProcessRunner
from tests.integration.notif_support import last_id, row, rows_since
from tests.integration.support import Demo
from tests.notif_servers import SlackHook, SmtpSink, closed_port, slack_webhook, smtp_server


class WorkerDied(BaseException):
    """The process stops here: nothing after this line runs (not even `except Exception`)."""


class DiesAfterSending:
    """A sender whose worker dies right after the receiver accepted the message."""

    def __init__(self, inner: Sender, deaths: int = 1) -> None:
        self.inner = inner
        self.deaths = deaths
        self.sent = 0

    async def send(self, msg: Outgoing) -> Receipt:
        receipt = await self.inner.send(msg)
        self.sent += 1
        if self.deaths > 0:
            self.deaths -= 1
            raise WorkerDied
        return receipt


@pytest.fixture(autouse=True)
async def no_backlog(demo: Demo) -> None:
    """The demo data's own notifications count as delivered: each test sees only its own."""
    async with demo.services.db.writer() as session, session.begin():
        await session.execute(
            update(Notification).where(Notification.status == "PENDING").values(status="SENT")
        )


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with smtp_server() as sink:
        yield sink


async def commented(demo: Demo, body: str = "Is the display showing E-42?") -> list[Notification]:
    """The assignee's public reply on the demo's first ticket: Rita's rows (in-app, email)."""
    since = await last_id(demo.services)
    await demo.services.tickets.add_comment(demo.agent, 1, body=body)
    rows = await rows_since(demo.services, since)
    assert {r.recipient_id for r in rows} == {demo.rita.user_id}
    return rows


def only(rows: list[Notification], channel: str) -> Notification:
    [found] = [r for r in rows if r.channel == channel]
    return found


class TestSimulated:
    async def test_email_is_rendered_to_an_eml_file(self, demo: Demo, settings: Settings) -> None:
        mail = only(await commented(demo), "EMAIL")
        outcome = await demo.services.deliveries.deliver(mail.id)
        assert (outcome.result, outcome.attempts) == (Result.SENT, 1)
        path = settings.data_dir / "mail" / f"{mail.id}.eml"
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert parsed["To"] == "Rita Requester <requester@example.com>"
        assert parsed["Subject"] == mail.subject and mail.subject.startswith("[SETS-1] ")
        assert parsed["Message-ID"].startswith(f"<sets.notification.{mail.id}.")
        stored = await row(demo.services, mail.id)
        assert (stored.status, stored.attempts, stored.claim_token) == ("SENT", 1, None)
        assert stored.sent_at is not None
        assert stored.payload["delivery"] == {
            "target": str(path),
            "simulated": True,
            "messageId": parsed["Message-ID"],
        }
        # Delivered is delivered: a second job (at-least-once execution) does nothing.
        again = await demo.services.deliveries.deliver(mail.id)
        assert (again.result, again.detail) == (Result.SKIPPED, "already SENT")
        assert (await row(demo.services, mail.id)).attempts == 1

    async def test_slack_and_sms_payloads_are_recorded(
        self, demo: Demo, settings: Settings
    ) -> None:
        await demo.services.notifications.update_preferences(
            demo.agent, [Change(NotifyEvent.ASSIGNED, Channel.SMS, True)]
        )
        since = await last_id(demo.services)
        await demo.services.tickets.assign(demo.manager, 2, assignee_id=demo.agent.user_id)
        rows = await rows_since(demo.services, since)
        for channel in ("SLACK", "SMS"):
            outcome = await demo.services.deliveries.deliver(only(rows, channel).id)
            assert outcome.result is Result.SENT
        slack_file = settings.data_dir / "slack" / f"{only(rows, 'SLACK').id}.json"
        slack = json.loads(slack_file.read_text())
        assert slack["recipient"]["username"] == "agent"
        assert [b["type"] for b in slack["payload"]["blocks"]] == ["header", "section", "context"]
        assert "Assigned to you" in slack["payload"]["text"]
        sms = json.loads((settings.data_dir / "sms" / f"{only(rows, 'SMS').id}.json").read_text())
        assert sms["to"]["username"] == "agent" and sms["text"].startswith("[SETS-2] ")

    async def test_nothing_goes_out_to_a_user_deactivated_meanwhile(self, demo: Demo) -> None:
        mail = only(await commented(demo), "EMAIL")
        await demo.services.admin.update_user(demo.admin, demo.rita.user_id, active=False)
        outcome = await demo.services.deliveries.deliver(mail.id)
        assert outcome.result is Result.FAILED
        stored = await row(demo.services, mail.id)
        assert (stored.status, stored.last_error) == (
            "FAILED",
            "the recipient has been deactivated",
        )

    async def test_in_app_rows_need_no_delivery(self, demo: Demo) -> None:
        in_app = only(await commented(demo), "IN_APP")
        outcome = await demo.services.deliveries.deliver(in_app.id)
        assert outcome.result is Result.SKIPPED


class TestSmtp:
    @pytest.fixture
    def settings(self, settings: Settings, smtp: SmtpSink) -> Settings:
        return replace(
            settings, smtp_url=smtp.url, mail_from="SETS Helpdesk <helpdesk@sets.example>"
        )

    async def test_mail_reaches_the_smtp_server(self, demo: Demo, smtp: SmtpSink) -> None:
        mail = only(await commented(demo, "Line one\n\nLine <two> & three"), "EMAIL")
        outcome = await demo.services.deliveries.deliver(mail.id)
        assert outcome.result is Result.SENT
        [got] = smtp.mails
        assert got.sender == "helpdesk@sets.example"
        assert got.recipients == ["requester@example.com"]
        message = got.message
        assert message["From"] == "SETS Helpdesk <helpdesk@sets.example>"
        assert message["To"] == "Rita Requester <requester@example.com>"
        assert message["Subject"] == mail.subject
        assert message["Subject"].startswith("[SETS-1] New reply from Alex Agent")
        assert got.message_id == f"<sets.notification.{mail.id}.20260105090000@sets.example>"
        assert message["References"] == "<sets.ticket.1@sets.example>"
        assert message["Auto-Submitted"] == "auto-generated"
        assert message.get_content_type() == "multipart/alternative"
        plain, html = message.get_body(("plain",)), message.get_body(("html",))
        assert plain is not None and html is not None
        assert "Line <two> & three" in plain.get_content()
        assert "Line &lt;two&gt; &amp; three" in html.get_content()
        stored = await row(demo.services, mail.id)
        assert stored.payload["delivery"]["target"] == smtp.url
        assert stored.payload["delivery"]["simulated"] is False

    async def test_a_refused_address_fails_at_once(self, demo: Demo, smtp: SmtpSink) -> None:
        smtp.refuse["requester@example.com"] = "550 5.1.1 No such mailbox"
        mail = only(await commented(demo), "EMAIL")
        outcome = await demo.services.deliveries.deliver(mail.id)
        assert outcome.result is Result.FAILED
        stored = await row(demo.services, mail.id)
        assert (stored.status, stored.attempts) == ("FAILED", 1)
        assert "550" in (stored.last_error or "")

    async def test_claims_let_one_of_many_workers_send(self, demo: Demo, smtp: SmtpSink) -> None:
        mail = only(await commented(demo), "EMAIL")
        outcomes = await asyncio.gather(
            *[demo.services.deliveries.deliver(mail.id) for _ in range(6)]
        )
        assert sorted(o.result.value for o in outcomes) == ["SENT"] + ["SKIPPED"] * 5
        assert len(smtp.mails) == 1
        assert (await row(demo.services, mail.id)).attempts == 1

    async def test_a_worker_dying_after_the_send_resends_once_with_the_same_id(
        self, demo: Demo, smtp: SmtpSink, clock: FixedClock
    ) -> None:
        """The hard case: the server accepted the mail, the worker died before SENT was
        committed. The claim keeps everyone off the row until its lease runs out; then the
        rescue job enqueues it, and it is sent again, as the same message (Message-ID)."""
        services = demo.services
        email = services.channels[Channel.EMAIL]
        dying = DiesAfterSending(email)
        services.channels[Channel.EMAIL] = dying
        mail = only(await commented(demo), "EMAIL")
        with pytest.raises(WorkerDied):
            await services.deliveries.deliver(mail.id)
        assert len(smtp.mails) == 1
        stuck = await row(services, mail.id)
        assert (stuck.status, stuck.attempts) == ("PENDING", 1)
        assert stuck.claimed_until == clock.now() + timedelta(seconds=300)

        queue = LocalQueue()
        clock.advance(timedelta(seconds=299))  # overdue, but the claim is still live
        assert await services.deliveries.rescue(queue) == 0
        assert (await services.deliveries.deliver(mail.id)).result is Result.SKIPPED
        clock.advance(timedelta(seconds=1))
        assert await services.deliveries.rescue(queue) == 1
        job = queue.get_nowait()
        assert job == DeliveryJob(mail.id, 1)
        assert (await services.deliveries.deliver(job.notification_id)).result is Result.SENT
        assert len(smtp.mails) == 2
        assert smtp.mails[0].message_id == smtp.mails[1].message_id
        assert smtp.mails[0].message.as_bytes() == smtp.mails[1].message.as_bytes()
        done = await row(services, mail.id)
        assert (done.status, done.attempts) == ("SENT", 2)
        clock.advance(timedelta(hours=1))
        assert await services.deliveries.rescue(queue) == 0
        assert (await services.deliveries.deliver(mail.id)).result is Result.SKIPPED
        assert len(smtp.mails) == 2

    async def test_copies_are_bounded_by_max_attempts_whatever_dies(
        self, demo: Demo, smtp: SmtpSink, clock: FixedClock
    ) -> None:
        services = demo.services
        services.channels[Channel.EMAIL] = DiesAfterSending(
            services.channels[Channel.EMAIL],
            deaths=100,
        )
        mail = only(await commented(demo), "EMAIL")
        queue = LocalQueue()
        for _ in range(10):
            with pytest.raises(WorkerDied):
                await services.deliveries.deliver(mail.id)
            clock.advance(timedelta(minutes=10))
            if not await services.deliveries.rescue(queue):
                break
            queue.get_nowait()
        assert len(smtp.mails) == services.deliveries.policy.max_attempts == 5
        failed = await row(services, mail.id)
        assert (failed.status, failed.attempts) == ("FAILED", 5)
        assert "last attempt stopped without an outcome" in (failed.last_error or "")


class TestRetries:
    @pytest.fixture
    async def hook(self) -> AsyncIterator[SlackHook]:
        async with slack_webhook(SlackHook(failures=2)) as started:
            yield started

    @pytest.fixture
    def settings(self, settings: Settings, hook: SlackHook) -> Settings:
        return replace(
            settings,
            slack_webhook_url=hook.url,
            smtp_url=f"smtp://127.0.0.1:{closed_port()}",
            notify_backoff_seconds=0.01,
        )

    async def test_the_webhook_fails_twice_then_takes_the_message(
        self, demo: Demo, hook: SlackHook, clock: FixedClock
    ) -> None:
        since = await last_id(demo.services)
        await demo.services.tickets.assign(demo.manager, 2, assignee_id=demo.agent.user_id)
        slack = only(await rows_since(demo.services, since), "SLACK")
        deliveries = demo.services.deliveries
        first = await deliveries.deliver(slack.id)
        assert (first.result, first.attempts, first.retry_in) == (Result.RETRY, 1, 0.01)
        waiting = await row(demo.services, slack.id)
        assert waiting.status == "PENDING" and waiting.claim_token is None
        assert waiting.next_attempt_at == clock.now() + timedelta(seconds=0.01)
        assert "answered 500" in (waiting.last_error or "")
        assert "secret-token" not in (waiting.last_error or "")  # the webhook path is a secret
        second = await deliveries.deliver(slack.id)
        assert (second.result, second.retry_in) == (Result.RETRY, 0.02)  # exponential
        third = await deliveries.deliver(slack.id)
        assert (third.result, third.attempts) == (Result.SENT, 3)
        assert hook.calls == 3 and len(hook.posts) == 1
        assert hook.posts[0]["blocks"][0]["type"] == "header"
        assert "Assigned to you" in hook.posts[0]["text"]
        sent = await row(demo.services, slack.id)
        assert (sent.status, sent.attempts) == ("SENT", 3)
        assert sent.payload["delivery"]["simulated"] is False

    async def test_an_unreachable_smtp_server_is_retried_then_fails(self, demo: Demo) -> None:
        mail = only(await commented(demo), "EMAIL")
        results = [await demo.services.deliveries.deliver(mail.id) for _ in range(6)]
        assert [r.result for r in results] == [Result.RETRY] * 4 + [Result.FAILED, Result.SKIPPED]
        assert [r.retry_in for r in results[:4]] == [0.01, 0.02, 0.04, 0.08]
        failed = await row(demo.services, mail.id)
        assert (failed.status, failed.attempts) == ("FAILED", 5)
        assert "unavailable" in (failed.last_error or "")

    async def test_the_in_process_runner_retries_with_backoff(
        self, demo: Demo, services: Services, hook: SlackHook
    ) -> None:
        runner = InProcessRunner(services, interval_seconds=3600)
        runner.start()
        try:
            since = await last_id(demo.services)
            await demo.services.tickets.assign(demo.manager, 2, assignee_id=demo.agent.user_id)
            slack = only(await rows_since(demo.services, since), "SLACK")
            for _ in range(500):
                if (await row(services, slack.id)).status == "SENT":
                    break
                await asyncio.sleep(0.01)
        finally:
            await runner.stop()
        assert (await row(services, slack.id)).attempts == 3
        assert hook.calls == 3


class TestRescue:
    async def test_only_overdue_unclaimed_rows_are_enqueued(
        self, demo: Demo, clock: FixedClock
    ) -> None:
        deliveries = demo.services.deliveries
        queue = LocalQueue()
        fresh = only(await commented(demo), "EMAIL")
        assert await deliveries.rescue(queue) == 0  # just committed: its job is on the way
        clock.advance(timedelta(seconds=61))
        assert await deliveries.rescue(queue) == 1
        assert queue.get_nowait() == DeliveryJob(fresh.id, 0)
        # A retry that is not yet due is left to its own (deferred) job.
        demo.services.channels[Channel.EMAIL] = _Failing()
        assert (await deliveries.deliver(fresh.id)).result is Result.RETRY
        assert await deliveries.rescue(queue) == 0
        clock.advance(timedelta(seconds=30 + 61))
        assert await deliveries.rescue(queue) == 1
        assert queue.get_nowait() == DeliveryJob(fresh.id, 1)

    async def test_the_in_process_runner_delivers_what_was_never_enqueued(
        self, demo: Demo, services: Services, clock: FixedClock, settings: Settings
    ) -> None:
        mail = only(await commented(demo), "EMAIL")
        assert isinstance(services.delivery_queue, LocalQueue)
        await services.delivery_queue.close()
        services.delivery_queue = LocalQueue()  # the job is lost (as in a crash)
        clock.advance(timedelta(minutes=2))
        runner = InProcessRunner(services, interval_seconds=3600)
        runner.start()
        try:
            for _ in range(500):
                if (await row(services, mail.id)).status == "SENT":
                    break
                await asyncio.sleep(0.01)
        finally:
            await runner.stop()
        assert (settings.data_dir / "mail" / f"{mail.id}.eml").exists()


class _Failing:
    async def send(self, msg: Outgoing) -> Receipt:
        from sets.notify import DeliveryError

        raise DeliveryError("try later", transient=True)


async def test_in_app_rows_are_pushed_live_after_commit_only(demo: Demo) -> None:
    bus = demo.services.bus
    async with bus.subscribe(notifications_topic(demo.rita.user_id)) as inbox:
        rows = await commented(demo)
        delivery = await inbox.next(within=2)
        assert delivery is not None
        assert [m["id"] for m in delivery.messages] == [only(rows, "IN_APP").id]
        # A change that rolls back pushes nothing.
        with pytest.raises(RuntimeError):
            async with demo.services.uow() as uow:
                ticket = await uow.tickets.get(1, for_update=True)
                assert ticket is not None
                event = uow.record(ticket, "COMMENTED", demo.manager.user_id, {})
                written = await outbox.notify(
                    uow,
                    ticket,
                    event,
                    [demo.rita.user_id],
                    kind=NotifyEvent.COMMENTED,
                    subject="never",
                    body="never",
                )
                assert [r.channel for r in written] == ["IN_APP", "EMAIL"]
                raise RuntimeError("rolled back")
        assert await inbox.next(within=0.2) is None


def test_eml_files_are_never_half_written(tmp_path: Path) -> None:
    from sets.notify.message import write_atomically

    target = tmp_path / "mail" / "1.eml"
    write_atomically(target, b"first")
    write_atomically(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["1.eml"]
