"""Notification rows: the recipients' inboxes, the delivery claims, preferences."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from sets.models import (
    Notification,
    NotificationDefault,
    NotificationPreference,
    Team,
    TeamMembership,
    User,
)

IN_APP = "IN_APP"
"""The channel of notifications shown (and pushed live) inside SETS itself."""

PENDING, SENT, FAILED = "PENDING", "SENT", "FAILED"

Settings = dict[tuple[str, str], bool]
Membership = list[tuple[int, bool]]  # (team id, external)


@dataclass(frozen=True)
class DeliveryFilter:
    statuses: Sequence[str] = ()
    channels: Sequence[str] = ()
    recipient_id: int | None = None
    ticket_id: int | None = None


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- inbox ------------------------------------------------------------------------------

    async def for_recipient(
        self,
        recipient_id: int,
        *,
        channel: str,
        after_id: int | None = None,
        ids: Sequence[int] | None = None,
        limit: int,
    ) -> list[Notification]:
        """One recipient's notifications on one channel, by ascending id."""
        clauses: list[ColumnElement[bool]] = [
            Notification.recipient_id == recipient_id,
            Notification.channel == channel,
        ]
        if after_id is not None:
            clauses.append(Notification.id > after_id)
        if ids is not None:
            clauses.append(Notification.id.in_(list(ids)))
        rows = await self.session.scalars(
            select(Notification).where(*clauses).order_by(Notification.id).limit(limit)
        )
        return list(rows)

    def _inbox(self, recipient_id: int, unread_only: bool) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = [
            Notification.recipient_id == recipient_id,
            Notification.channel == IN_APP,
        ]
        if unread_only:
            clauses.append(Notification.read_at.is_(None))
        return clauses

    async def inbox(
        self, recipient_id: int, *, unread_only: bool, before_id: int | None, limit: int
    ) -> list[Notification]:
        """Newest first, keyset-paged by id."""
        clauses = self._inbox(recipient_id, unread_only)
        if before_id is not None:
            clauses.append(Notification.id < before_id)
        rows = await self.session.scalars(
            select(Notification).where(*clauses).order_by(Notification.id.desc()).limit(limit)
        )
        return list(rows)

    async def count_inbox(self, recipient_id: int, *, unread_only: bool) -> int:
        query = select(func.count()).select_from(Notification)
        clauses = self._inbox(recipient_id, unread_only)
        return int(await self.session.scalar(query.where(*clauses)) or 0)

    async def mark_read(self, recipient_id: int, ids: Sequence[int] | None, now: datetime) -> int:
        """Mark the recipient's own unread in-app rows (all of them when `ids` is None)."""
        clauses = self._inbox(recipient_id, unread_only=True)
        if ids is not None:
            clauses.append(Notification.id.in_(list(ids)))
        result = await self.session.execute(
            update(Notification)
            .where(*clauses)
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)

    async def latest_id(self) -> int:
        return int(await self.session.scalar(select(func.max(Notification.id))) or 0)

    def add(self, row: Notification) -> None:
        self.session.add(row)

    async def existing_keys(self, keys: Iterable[str]) -> set[str]:
        wanted = list(keys)
        if not wanted:
            return set()
        rows = await self.session.scalars(
            select(Notification.dedupe_key).where(Notification.dedupe_key.in_(wanted))
        )
        return set(rows)

    # -- delivery ---------------------------------------------------------------------------

    async def claim(
        self, notification_id: int, *, token: str, now: datetime, until: datetime, max_attempts: int
    ) -> bool:
        """Take the row for one send attempt: only a PENDING row nobody holds (or whose holder's
        lease ran out) and with attempts left. Counting the attempt here, before the send,
        bounds the sends of one row by `max_attempts` whatever crashes in between."""
        result = await self.session.execute(
            update(Notification)
            .where(
                Notification.id == notification_id,
                Notification.status == PENDING,
                Notification.channel != IN_APP,
                Notification.attempts < max_attempts,
                or_(Notification.claimed_until.is_(None), Notification.claimed_until <= now),
            )
            .values(
                claim_token=token,
                claimed_until=until,
                attempts=Notification.attempts + 1,
                next_attempt_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def get(self, notification_id: int) -> Notification | None:
        return await self.session.get(Notification, notification_id)

    async def finish(self, notification_id: int, *, token: str, **values: Any) -> bool:
        """Record an attempt's outcome, only while still holding its claim."""
        result = await self.session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.claim_token == token)
            .values(claim_token=None, claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def overdue(
        self, *, due_before: datetime, now: datetime, max_attempts: int, after_id: int, limit: int
    ) -> list[tuple[int, int]]:
        """(id, attempts) of PENDING rows due (created or retry time) before `due_before`,
        not held by a live claim, with attempts left: what the rescue job enqueues again."""
        due = func.coalesce(Notification.next_attempt_at, Notification.created_at)
        rows = await self.session.execute(
            select(Notification.id, Notification.attempts)
            .where(
                Notification.status == PENDING,
                Notification.channel != IN_APP,
                Notification.created_at <= due_before,
                due <= due_before,
                Notification.attempts < max_attempts,
                or_(Notification.claimed_until.is_(None), Notification.claimed_until <= now),
                Notification.id > after_id,
            )
            .order_by(Notification.id)
            .limit(limit)
        )
        return [(pk, attempts) for pk, attempts in rows]

    async def give_up_exhausted(self, *, now: datetime, max_attempts: int) -> int:
        """PENDING rows whose last allowed attempt died with its worker (lease expired, no
        outcome recorded) fail: sending again could exceed the bound on sends."""
        result = await self.session.execute(
            update(Notification)
            .where(
                Notification.status == PENDING,
                Notification.channel != IN_APP,
                Notification.attempts >= max_attempts,
                or_(Notification.claimed_until.is_(None), Notification.claimed_until <= now),
            )
            .values(
                status=FAILED,
                claim_token=None,
                claimed_until=None,
                last_error=func.coalesce(Notification.last_error, "")
                + "; gave up: the last attempt stopped without an outcome",
            )
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)

    async def retry_failed(self, notification_id: int) -> bool:
        """A FAILED row gets a fresh set of attempts (an admin's decision)."""
        result = await self.session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.status == FAILED)
            .values(status=PENDING, attempts=0, next_attempt_at=None)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def deliveries(
        self, query: DeliveryFilter, *, before_id: int | None, limit: int
    ) -> list[Notification]:
        clauses = self._delivery_clauses(query)
        if before_id is not None:
            clauses.append(Notification.id < before_id)
        rows = await self.session.scalars(
            select(Notification).where(*clauses).order_by(Notification.id.desc()).limit(limit)
        )
        return list(rows)

    async def count_deliveries(self, query: DeliveryFilter) -> int:
        stmt = select(func.count()).select_from(Notification)
        return int(await self.session.scalar(stmt.where(*self._delivery_clauses(query))) or 0)

    @staticmethod
    def _delivery_clauses(query: DeliveryFilter) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if query.statuses:
            clauses.append(Notification.status.in_(list(query.statuses)))
        if query.channels:
            clauses.append(Notification.channel.in_(list(query.channels)))
        if query.recipient_id is not None:
            clauses.append(Notification.recipient_id == query.recipient_id)
        if query.ticket_id is not None:
            clauses.append(Notification.ticket_id == query.ticket_id)
        return clauses

    # -- recipients and preferences ---------------------------------------------------------

    async def recipients(self, ids: Sequence[int]) -> dict[int, tuple[User, Membership]]:
        """Users with their (team id, external) memberships, in one statement."""
        if not ids:
            return {}
        rows = await self.session.execute(
            select(User, Team.id, Team.external)
            .outerjoin(TeamMembership, TeamMembership.user_id == User.id)
            .outerjoin(Team, (Team.id == TeamMembership.team_id) & Team.deleted_at.is_(None))
            .where(User.id.in_(set(ids)))
        )
        found: dict[int, tuple[User, Membership]] = {}
        for user, team_id, external in rows:
            entry = found.setdefault(user.id, (user, []))
            if team_id is not None:
                entry[1].append((team_id, bool(external)))
        return found

    async def by_usernames(self, names: Sequence[str]) -> list[int]:
        if not names:
            return []
        rows = await self.session.scalars(
            select(User.id).where(User.username.in_(list(names))).order_by(User.id)
        )
        return list(rows)

    async def preferences(self, user_ids: Sequence[int]) -> dict[int, Settings]:
        found: dict[int, Settings] = {uid: {} for uid in user_ids}
        if not user_ids:
            return found
        rows = await self.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id.in_(user_ids))
        )
        for row in rows:
            found[row.user_id][(row.event, row.channel)] = row.enabled
        return found

    async def defaults(self) -> dict[str, Settings]:
        found: dict[str, Settings] = {}
        for row in await self.session.scalars(select(NotificationDefault)):
            found.setdefault(row.audience, {})[(row.event, row.channel)] = row.enabled
        return found

    async def set_preference(
        self, user_id: int, event: str, channel: str, enabled: bool, now: datetime
    ) -> None:
        row = await self.session.scalar(
            select(NotificationPreference).where(
                NotificationPreference.user_id == user_id,
                NotificationPreference.event == event,
                NotificationPreference.channel == channel,
            )
        )
        if row is None:
            self.session.add(
                NotificationPreference(
                    user_id=user_id, event=event, channel=channel, enabled=enabled, updated_at=now
                )
            )
        else:
            row.enabled, row.updated_at = enabled, now

    async def set_default(
        self, audience: str, event: str, channel: str, enabled: bool, now: datetime, by: int | None
    ) -> None:
        row = await self.session.scalar(
            select(NotificationDefault).where(
                NotificationDefault.audience == audience,
                NotificationDefault.event == event,
                NotificationDefault.channel == channel,
            )
        )
        if row is None:
            self.session.add(
                NotificationDefault(
                    audience=audience,
                    event=event,
                    channel=channel,
                    enabled=enabled,
                    updated_at=now,
                    updated_by=by,
                )
            )
        else:
            row.enabled, row.updated_at, row.updated_by = enabled, now, by
