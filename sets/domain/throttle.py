"""Sign-in throttling: consecutive failures lock an account for a while."""

from __future__ import annotations

from datetime import datetime, timedelta

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)


def after_failure(failures: int, now: datetime) -> tuple[int, datetime | None]:
    """The new failure count and, when it reaches the limit, the lock's end (count resets)."""
    failures += 1
    if failures >= MAX_FAILURES:
        return 0, now + LOCKOUT
    return failures, None


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and locked_until > now
