"""A resumable live feed: replay from the database, then follow the bus, with no gap and no
duplicate (SPEC §8, §16).

The feed subscribes to the bus *before* it reads the database, so anything committed during
the replay waits in the subscription; it remembers which row ids it has handled, so the seam
(and every resync after a bus reconnect) skips what was already sent. Ids are the database's
autoincrement keys: concurrent transactions may commit out of id order, which is why handled
ids are remembered as a set above a floor rather than as one high-water mark.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sets.realtime.bus import EventBus

Row = TypeVar("Row")

PAGE = 100
GRACE_SECONDS = 60.0


class SeenIds:
    """The ids a feed has handled: every id up to `floor`, plus a set above it.

    The floor follows the highest handled id with a delay of `grace` seconds, on the
    assumption that no transaction holding an id stays uncommitted longer than that; so the
    set holds about `grace` seconds of ids, however long the feed lives."""

    def __init__(
        self,
        floor: int,
        *,
        grace: float = GRACE_SECONDS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.floor = floor
        self._above: set[int] = set()
        self._grace = grace
        self._now = now
        self._marks: deque[tuple[float, int]] = deque()
        self._top = floor

    def __contains__(self, pk: int) -> bool:
        return pk <= self.floor or pk in self._above

    def __len__(self) -> int:
        return len(self._above)

    def add(self, pk: int) -> None:
        if pk > self.floor:
            self._above.add(pk)
            if pk > self._top:
                self._top = pk
                self._marks.append((self._now(), pk))

    def settle(self) -> None:
        """Raise the floor to what was the top `grace` seconds ago; forget ids below it."""
        horizon = self._now() - self._grace
        floor = self.floor
        while self._marks and self._marks[0][0] <= horizon:
            floor = max(floor, self._marks.popleft()[1])
        if floor > self.floor:
            self.floor = floor
            self._above = {pk for pk in self._above if pk > floor}


@dataclass(frozen=True)
class FeedSource(Generic[Row]):
    """How a feed reads the database. Every reader applies the subscriber's authorization
    and filters (they are service-layer calls), and returns rows in ascending id order."""

    after: Callable[[int, int], Awaitable[Sequence[Row]]]  # (after_id, limit)
    by_ids: Callable[[list[int]], Awaitable[Sequence[Row]]]
    latest_id: Callable[[], Awaitable[int]]
    row_id: Callable[[Row], int]


Guard = Callable[[], Awaitable[float | None]]


async def live_feed(
    bus: EventBus,
    topic: str,
    source: FeedSource[Row],
    *,
    after: int | None,
    accept: Callable[[dict[str, Any]], bool] = lambda _m: True,
    guard: Guard | None = None,
    on_subscribed: Callable[[Any], None] | None = None,
    page: int = PAGE,
    grace: float = GRACE_SECONDS,
) -> AsyncGenerator[Row, None]:
    """Rows after id `after` (or, without it, from now on), then every new one, in order.

    `accept` pre-filters bus messages (each has an "id") without touching the database.
    `guard` runs after each wait, before anything is read or delivered: it raises to end the
    feed (an expired token) and returns how long the next wait may last. Raises
    SubscriptionClosed if the bus drops the subscriber (slow consumer)."""
    async with bus.subscribe(topic) as subscription:
        subscription.accept = accept
        if on_subscribed is not None:
            on_subscribed(subscription)
        # Without a cursor: from the newest id the bus knows of (one shared read per process).
        floor = after if after is not None else await bus.latest_id(topic, source.latest_id)
        seen = SeenIds(floor, grace=grace)
        if after is not None:
            async for row in _catch_up(source, seen, page, guard):
                yield row
        wait = await guard() if guard is not None else None
        while True:
            delivery = await subscription.next(within=wait, max_items=page)
            # Before anything is read or delivered, and timing the next wait: still allowed?
            if guard is not None:
                wait = await guard()
            if delivery is None:
                continue
            if delivery.resync:
                async for row in _catch_up(source, seen, page, guard):
                    yield row
            wanted = sorted(
                {
                    pk
                    for message in delivery.messages
                    if isinstance(pk := message.get("id"), int)
                    and pk not in seen
                    and accept(message)
                }
            )
            if not wanted:
                continue
            rows = await source.by_ids(wanted)
            # Handled, whether or not the caller may see them: a resync must agree with this.
            for pk in wanted:
                seen.add(pk)
            for row in rows:
                yield row
            seen.settle()


async def _catch_up(
    source: FeedSource[Row], seen: SeenIds, page: int, guard: Guard | None
) -> AsyncIterator[Row]:
    cursor = seen.floor
    while True:
        if guard is not None:
            await guard()
        rows = await source.after(cursor, page)
        for row in rows:
            pk = source.row_id(row)
            cursor = max(cursor, pk)
            if pk not in seen:
                seen.add(pk)
                yield row
        if len(rows) < page:
            return
