"""Delivering one outbox row: claim it, send it through its channel, record the outcome.

Guarantees (docs/notifications.md):
- A row is sent only under a claim: a committed conditional update that requires PENDING, no
  live claim by another worker and attempts left, and counts the attempt. So two workers never
  send the same row at once, a SENT or FAILED row is never sent again, and a row is sent at
  most `max_attempts` times whatever crashes in between.
- A send runs under a timeout of half the claim's lease, so by the time the lease runs out
  and another worker may claim the row, the first attempt has finished or been abandoned.
- A worker that dies after the receiver accepted the message but before SENT is committed
  leaves a claimed PENDING row; after the lease the rescue job enqueues it again and it is
  re-sent (same Message-ID, same file name). That window, a single row update, is the only
  way a receiver gets a copy twice. Delivery is at-least-once, bounded by `max_attempts`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sets.config import Settings
from sets.domain.clock import Clock
from sets.domain.notifications import Channel, retry_delay
from sets.domain.tickets import ticket_key
from sets.models import Notification, User
from sets.notify import Channels, DeliveryError, Outgoing, Receipt, Recipient
from sets.repositories.notifications import FAILED, SENT, NotificationRepository
from sets.services.notifications_queue import DeliveryJob, DeliveryQueue

log = logging.getLogger("sets.notify")

ERROR_MAX = 2000
RESCUE_BATCH = 500


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 5
    backoff_seconds: float = 30.0
    backoff_cap_seconds: float = 3600.0
    lease_seconds: float = 300.0
    rescue_after_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            max_attempts=settings.notify_max_attempts,
            backoff_seconds=settings.notify_backoff_seconds,
            lease_seconds=float(settings.notify_lease_seconds),
        )


class Result(StrEnum):
    SENT = "SENT"
    FAILED = "FAILED"
    RETRY = "RETRY"  # a transient failure: try again in `retry_in` seconds
    SKIPPED = "SKIPPED"  # not ours to send (already sent, failed, held, or gone)


@dataclass(frozen=True)
class Outcome:
    result: Result
    notification_id: int
    attempts: int = 0
    retry_in: float | None = None
    detail: str = ""

    def line(self) -> str:
        text = f"notification {self.notification_id}: {self.result.value}"
        if self.attempts:
            text += f" (attempt {self.attempts})"
        return f"{text} {self.detail}".rstrip()


def outgoing(row: Notification, user: User) -> Outgoing:
    return Outgoing(
        notification_id=row.id,
        channel=Channel(row.channel),
        event=row.event,
        subject=row.subject,
        body=row.body,
        recipient=Recipient(user.id, user.name, user.email, user.username),
        created_at=row.created_at,
        ticket_id=row.ticket_id,
        ticket_key=ticket_key(row.ticket_id) if row.ticket_id is not None else None,
        payload=dict(row.payload),
    )


class DeliveryService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        channels: Channels,
        policy: DeliveryPolicy,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.channels = channels
        self.policy = policy

    async def deliver(self, notification_id: int) -> Outcome:
        token = uuid.uuid4().hex
        now = self._clock.now()
        policy = self.policy
        async with self._sessions() as session, session.begin():
            repo = NotificationRepository(session)
            claimed = await repo.claim(
                notification_id,
                token=token,
                now=now,
                until=now + timedelta(seconds=policy.lease_seconds),
                max_attempts=policy.max_attempts,
            )
            row = await repo.get(notification_id)
            user = await session.get(User, row.recipient_id) if row is not None else None
        if row is None or user is None:
            return Outcome(Result.SKIPPED, notification_id, detail="no such notification")
        if not claimed:
            return Outcome(Result.SKIPPED, notification_id, row.attempts, detail=_why_not(row))
        if not user.active:
            # Deactivated since the row was written: nothing more goes out to them.
            return await self._failed(row, token, "the recipient has been deactivated", False, None)
        try:
            async with asyncio.timeout(policy.lease_seconds / 2):
                receipt = await self.channels.send(outgoing(row, user))
        except DeliveryError as exc:
            return await self._failed(row, token, exc.message, exc.transient, exc.retry_after)
        except TimeoutError:
            return await self._failed(row, token, "the send timed out", True, None)
        except Exception as exc:
            # A bug or an unexpected library error: logged, retried like a transient failure
            # (a template bug then ends FAILED after max_attempts, with the error recorded).
            log.exception("sending notification %s failed unexpectedly", row.id)
            return await self._failed(row, token, f"{exc.__class__.__name__}: {exc}", True, None)
        return await self._sent(row, token, receipt)

    async def _sent(self, row: Notification, token: str, receipt: Receipt) -> Outcome:
        async with self._sessions() as session, session.begin():
            kept = await NotificationRepository(session).finish(
                row.id,
                token=token,
                status=SENT,
                sent_at=self._clock.now(),
                payload={**row.payload, "delivery": receipt.as_dict()},
            )
        if not kept:
            # Our lease ran out mid-send (a stalled process) and another worker took the row.
            log.warning("notification %s sent, but its claim had been taken over", row.id)
        return Outcome(Result.SENT, row.id, row.attempts, detail=receipt.target)

    async def _failed(
        self,
        row: Notification,
        token: str,
        error: str,
        transient: bool,
        retry_after: float | None,
    ) -> Outcome:
        error = error[:ERROR_MAX]
        policy = self.policy
        final = not transient or row.attempts >= policy.max_attempts
        delay = max(
            retry_after or 0.0,
            retry_delay(row.attempts, base=policy.backoff_seconds, cap=policy.backoff_cap_seconds),
        )
        values: dict[str, object] = {"last_error": error}
        if final:
            values["status"] = FAILED
        else:
            values["next_attempt_at"] = self._clock.now() + timedelta(seconds=delay)
        async with self._sessions() as session, session.begin():
            await NotificationRepository(session).finish(row.id, token=token, **values)
        if final:
            log.warning("notification %s failed for good: %s", row.id, error)
            return Outcome(Result.FAILED, row.id, row.attempts, detail=error)
        log.info(
            "notification %s: attempt %d failed (%s); retry in %.1fs",
            row.id,
            row.attempts,
            error,
            delay,
        )
        return Outcome(Result.RETRY, row.id, row.attempts, retry_in=delay, detail=error)

    async def rescue(self, queue: DeliveryQueue) -> int:
        """Enqueue again every PENDING row over a minute past due (never enqueued, lost with
        Redis or a crashed worker, or a retry whose job vanished); fail rows whose last
        allowed attempt died unfinished. Returns how many rows were enqueued."""
        now = self._clock.now()
        policy = self.policy
        async with self._sessions() as session, session.begin():
            repo = NotificationRepository(session)
            gave_up = await repo.give_up_exhausted(now=now, max_attempts=policy.max_attempts)
        if gave_up:
            log.warning("%d notifications failed: their last attempt never finished", gave_up)
        due_before = now - timedelta(seconds=policy.rescue_after_seconds)
        enqueued, after_id = 0, 0
        while True:
            async with self._sessions() as session:
                batch = await NotificationRepository(session).overdue(
                    due_before=due_before,
                    now=now,
                    max_attempts=policy.max_attempts,
                    after_id=after_id,
                    limit=RESCUE_BATCH,
                )
            for notification_id, attempts in batch:
                await queue.enqueue(DeliveryJob(notification_id, attempts))
                enqueued += 1
            if len(batch) < RESCUE_BATCH:
                return enqueued
            after_id = batch[-1][0]


def _why_not(row: Notification) -> str:
    if row.status != "PENDING":
        return f"already {row.status}"
    if row.channel == Channel.IN_APP:
        return "in-app notifications are delivered when written"
    if row.claim_token is not None:
        return "another worker holds it"
    return "no attempts left"
