"""Analytics rules (SPEC §9): who sees which teams' figures, and local days in a time zone.

SQLite knows no time zones, so the databases are never asked to convert one. A report
covers whole local days, [start of `first` day, start of the day after `last`), converted to
UTC here; within that window the UTC offset changes only at the zone's transitions, so the
window is cut into segments of constant offset and the local day of an instant `t` is
`floor((epoch(t) + offset) / 86400)` with the offset of its segment: exact for fixed
offsets and for DST zones alike, with integer arithmetic both databases share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sets.domain.actor import Actor
from sets.domain.enums import Role
from sets.domain.errors import Forbidden, ValidationFailed

MAX_DAYS = 366
EPOCH = date(1970, 1, 1)
DAY_SECONDS = 86_400
# Offsets are probed this often for a change; zones change offset at most twice a year.
_PROBE = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class OffsetSegment:
    """Instants before `until` (None: all the rest) have this UTC offset, in seconds."""

    until: datetime | None
    offset: int


@dataclass(frozen=True, slots=True)
class ReportWindow:
    first_day: date
    last_day: date
    time_zone: str
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    segments: tuple[OffsetSegment, ...]

    @property
    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=n) for n in range(count)]


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: "America" is a dir
        raise ValidationFailed(
            f"{name!r} is not an IANA time zone (e.g. Europe/Berlin)", field="timeZone"
        ) from exc


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of a local day, in UTC. Where midnight does not exist (a DST gap
    at 00:00) fold=0 reads it with the offset before the gap: the gap's end, as wanted."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _offset(instant: datetime, tz: ZoneInfo) -> int:
    delta = instant.astimezone(tz).utcoffset()
    assert delta is not None
    return int(delta.total_seconds())


def offset_segments(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[OffsetSegment, ...]:
    """Cut [start, end) where the zone's UTC offset changes (to the second)."""
    segments: list[OffsetSegment] = []
    current = _offset(start, tz)
    probe = start
    while probe < end:
        following = min(probe + _PROBE, end)
        if _offset(following, tz) != current:
            # The change lies in (probe, following]: find its first second.
            low, high = probe, following
            while high - low > timedelta(seconds=1):
                middle = (low + (high - low) / 2).replace(microsecond=0)
                if _offset(middle, tz) == current:
                    low = middle
                else:
                    high = middle
            segments.append(OffsetSegment(until=high, offset=current))
            current = _offset(high, tz)
        probe = following
    segments.append(OffsetSegment(until=None, offset=current))
    return tuple(segments)


def report_window(first_day: date, last_day: date, time_zone: str) -> ReportWindow:
    if last_day < first_day:
        raise ValidationFailed("range.to must not be before range.from", field="range")
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise ValidationFailed(f"a report covers at most {MAX_DAYS} days", field="range")
    tz = zone(time_zone)
    start = day_start(first_day, tz)
    end = day_start(last_day + timedelta(days=1), tz)
    return ReportWindow(
        first_day=first_day,
        last_day=last_day,
        time_zone=time_zone,
        start=start,
        end=end,
        segments=offset_segments(start, end, tz),
    )


def day_number(day: date) -> int:
    return (day - EPOCH).days


def date_of(number: int) -> date:
    return EPOCH + timedelta(days=number)


def local_day(instant: datetime, segments: tuple[OffsetSegment, ...]) -> date:
    """What the databases compute, in Python: for tests and for checking by hand."""
    seconds = int(instant.timestamp())
    for segment in segments:
        if segment.until is None or instant < segment.until:
            return date_of((seconds + segment.offset) // DAY_SECONDS)
    raise AssertionError("the last segment is open-ended")


def analytics_teams(actor: Actor, team_id: int | None) -> frozenset[int] | None:
    """The teams whose tickets a report may cover; None means every ticket.

    SPEC §1 gives analytics to managers (their teams) and admins (all). Agents see their
    own work through the dashboard, not team figures; requesters see no analytics.
    """
    if actor.is_admin:
        return None if team_id is None else frozenset({team_id})
    if actor.role is not Role.MANAGER:
        raise Forbidden("analytics are for managers and admins")
    if team_id is None:
        if not actor.team_ids:
            raise Forbidden("you manage no team")
        return actor.team_ids
    if team_id not in actor.team_ids:
        raise Forbidden("you can only see analytics of your own teams", field="teamId")
    return frozenset({team_id})
