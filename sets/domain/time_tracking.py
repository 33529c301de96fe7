"""Time spent on tickets (SPEC §9): a running timer per person, or minutes logged by hand."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sets.domain import validation
from sets.domain.errors import ValidationFailed

MAX_MINUTES = 24 * 60  # one entry covers at most a day
NOTE_MAX = 2_000
MAX_BACKDATE = timedelta(days=366)


def timer_minutes(started_at: datetime, stopped_at: datetime) -> int:
    """A stopped timer counts every begun minute (a timer that ran 0 s counts 0)."""
    seconds = max(0.0, (stopped_at - started_at).total_seconds())
    return min(MAX_MINUTES, math.ceil(seconds / 60))


def minutes(value: int) -> int:
    if not 1 <= value <= MAX_MINUTES:
        raise ValidationFailed(f"minutes must be between 1 and {MAX_MINUTES}", field="minutes")
    return value


def note(value: str | None) -> str | None:
    return validation.optional_text(value, field="note", max_len=NOTE_MAX)


def spent_at(value: datetime | None, now: datetime) -> datetime:
    if value is None:
        return now
    if value.tzinfo is None:
        raise ValidationFailed("spentAt needs a time zone", field="spentAt")
    if value > now:
        raise ValidationFailed("spentAt is in the future", field="spentAt")
    if value < now - MAX_BACKDATE:
        raise ValidationFailed("spentAt is more than a year ago", field="spentAt")
    return value
