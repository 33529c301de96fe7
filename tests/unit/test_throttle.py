from datetime import UTC, datetime, timedelta

from sets.domain.throttle import LOCKOUT, MAX_FAILURES, after_failure, is_locked

NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)


def test_lock_starts_at_the_limit_and_resets_the_count() -> None:
    failures, until = 0, None
    for _ in range(MAX_FAILURES - 1):
        failures, until = after_failure(failures, NOW)
        assert until is None
    failures, until = after_failure(failures, NOW)
    assert (failures, until) == (0, NOW + LOCKOUT)


def test_lock_expires() -> None:
    until = NOW + LOCKOUT
    assert is_locked(until, NOW)
    assert not is_locked(until, until)
    assert not is_locked(None, NOW)
    assert is_locked(until, until - timedelta(seconds=1))
