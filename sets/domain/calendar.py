"""Business-hours calendars (SPEC §4): weekly opening hours in an IANA time zone, minus
holidays. SLA targets count only time inside these hours; the default is round the clock."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sets.domain.errors import ValidationFailed

# Far enough for any real target, and a hard stop for a calendar with almost no hours.
MAX_SEARCH_DAYS = 3 * 366


@dataclass(frozen=True, slots=True)
class Opening:
    """Open from `start` to `end` (wall-clock) on `weekday` (0 = Monday); `end` of 00:00
    means midnight at the end of the day."""

    weekday: int
    start: time
    end: time

    @property
    def ends_at_midnight(self) -> bool:
        return self.end == time(0, 0)


@dataclass(frozen=True)
class BusinessCalendar:
    time_zone: str = "UTC"
    openings: tuple[Opening, ...] = ()
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def always_open(self) -> bool:
        return not self.openings

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def _intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals (UTC) in time order, from the day `start` falls on, onwards."""
        zone = self.zone
        day = start.astimezone(zone).date()
        by_day: dict[int, list[Opening]] = {}
        for opening in self.openings:
            by_day.setdefault(opening.weekday, []).append(opening)
        for offset in range(MAX_SEARCH_DAYS):
            current = day + timedelta(days=offset)
            if current in self.holidays:
                continue
            for opening in sorted(by_day.get(current.weekday(), ()), key=lambda o: o.start):
                # Wall-clock times become instants in the zone on that date, so a DST change
                # makes that day's opening an hour shorter or longer, as people live it.
                begin = datetime.combine(current, opening.start, zone)
                end_day = current + timedelta(days=1) if opening.ends_at_midnight else current
                end = datetime.combine(end_day, opening.end, zone)
                begin_utc, end_utc = begin.astimezone(UTC), end.astimezone(UTC)
                if end_utc > begin_utc:
                    yield begin_utc, end_utc
        raise ValidationFailed(
            "the business calendar has no open hours within three years", field="calendar"
        )

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant when `duration` of open time has passed since `start`."""
        _aware(start)
        if self.always_open:
            return start + duration
        remaining = duration
        for begin, end in self._intervals(start):
            if end <= start:
                continue
            begin = max(begin, start)
            if remaining <= end - begin:
                # Zero remaining at or before an opening means the opening itself.
                return begin + remaining
            remaining -= end - begin
        raise AssertionError("unreachable: _intervals raises when it runs out")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Open time between two instants (zero when `end` is not after `start`)."""
        _aware(start)
        _aware(end)
        if end <= start:
            return timedelta(0)
        if self.always_open:
            return end - start
        total = timedelta(0)
        for begin, finish in self._intervals(start):
            if begin >= end:
                break
            overlap = min(finish, end) - max(begin, start)
            if overlap > timedelta(0):
                total += overlap
        return total


ALWAYS_OPEN = BusinessCalendar()

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError("instants must be timezone-aware")


def _clock_time(value: str, field_name: str) -> time:
    try:
        hours, minutes = value.split(":")
        if value == "24:00":
            return time(0, 0)
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise ValidationFailed(f"{value!r} is not a time like 09:00", field=field_name) from exc


def calendar_from_dict(data: Mapping[str, object] | None) -> BusinessCalendar:
    """{"timeZone": "Europe/Berlin", "hours": [{"weekday": 0, "start": "09:00", "end":
    "17:00"}], "holidays": ["2026-12-25"]} -> a checked calendar (None: round the clock)."""
    if not data:
        return ALWAYS_OPEN
    zone = str(data.get("timeZone") or "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(f"unknown time zone {zone!r}", field="calendar.timeZone") from exc
    openings = []
    hours = data.get("hours") or []
    assert isinstance(hours, Sequence)
    for item in hours:
        assert isinstance(item, Mapping)
        weekday = int(item["weekday"])
        if not 0 <= weekday <= 6:
            raise ValidationFailed("weekday is 0 (Monday) to 6 (Sunday)", field="calendar.hours")
        start = _clock_time(str(item["start"]), "calendar.hours")
        end = _clock_time(str(item["end"]), "calendar.hours")
        if end != time(0, 0) and end <= start:
            raise ValidationFailed("an opening must end after it starts", field="calendar.hours")
        openings.append(Opening(weekday, start, end))
    _check_no_overlap(openings)
    holidays = data.get("holidays") or []
    assert isinstance(holidays, Sequence)
    try:
        days = frozenset(date.fromisoformat(str(d)) for d in holidays)
    except ValueError as exc:
        raise ValidationFailed("holidays are dates like 2026-12-25", field="calendar") from exc
    if hours and not openings:
        raise ValidationFailed("a calendar needs open hours", field="calendar.hours")
    return BusinessCalendar(zone, tuple(openings), days)


def _check_no_overlap(openings: list[Opening]) -> None:
    for weekday in range(7):
        spans = sorted(
            (o.start, time.max if o.ends_at_midnight else o.end)
            for o in openings
            if o.weekday == weekday
        )
        for (_, end), (start, _) in pairwise(spans):
            if start < end:
                raise ValidationFailed(
                    f"openings overlap on {WEEKDAYS[weekday]}", field="calendar.hours"
                )


def calendar_to_dict(calendar: BusinessCalendar) -> dict[str, object] | None:
    if calendar.always_open:
        return None
    return {
        "timeZone": calendar.time_zone,
        "hours": [
            {
                "weekday": o.weekday,
                "start": o.start.strftime("%H:%M"),
                "end": "24:00" if o.ends_at_midnight else o.end.strftime("%H:%M"),
            }
            for o in calendar.openings
        ],
        "holidays": sorted(d.isoformat() for d in calendar.holidays),
    }
