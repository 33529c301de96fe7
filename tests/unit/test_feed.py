"""The replay-then-live seam of `realtime.feed`, on the in-memory bus and a list-backed store
(a fake of the database), step by step and deterministic."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence

import pytest

from sets.realtime.bus import InMemoryBus, Subscription
from sets.realtime.feed import FeedSource, SeenIds, live_feed

TOPIC = "ticket-events"


class Store:
    """Committed row ids, visible ones only returned, like the service queries."""

    def __init__(self, bus: InMemoryBus, committed: Sequence[int] = ()) -> None:
        self.bus = bus
        self.committed: set[int] = set(committed)
        self.hidden: set[int] = set()
        self.on_read: list[int] = []  # ids to commit (and publish) right before the next read

    async def commit(self, pk: int, *, publish: bool = True) -> None:
        self.committed.add(pk)
        if publish:
            await self.bus.publish(TOPIC, {"id": pk})

    async def after(self, after_id: int, limit: int) -> Sequence[int]:
        while self.on_read:
            await self.commit(self.on_read.pop(0))
        rows = sorted(pk for pk in self.committed - self.hidden if pk > after_id)
        return rows[:limit]

    async def by_ids(self, ids: list[int]) -> Sequence[int]:
        return sorted(pk for pk in ids if pk in self.committed - self.hidden)

    async def latest_id(self) -> int:
        return max(self.committed, default=0)

    def source(self) -> FeedSource[int]:
        return FeedSource(self.after, self.by_ids, self.latest_id, lambda pk: pk)


async def take(feed: AsyncGenerator[int, None], count: int) -> list[int]:
    async with asyncio.timeout(2):
        return [await anext(feed) for _ in range(count)]


async def test_replay_then_live_with_commits_during_the_replay_sent_once_each() -> None:
    bus = InMemoryBus()
    store = Store(bus, committed=range(1, 251))
    # Committed (and published) while the replay's first page is being read: they are
    # both in the database and waiting on the bus.
    store.on_read = [251, 252]
    feed = live_feed(bus, TOPIC, store.source(), after=3, page=100)
    got = await take(feed, 249)
    await store.commit(253)
    got += await take(feed, 1)
    assert got == list(range(4, 254))
    await feed.aclose()
    assert bus.subscriber_count(TOPIC) == 0


async def test_without_a_cursor_only_what_comes_after_subscribing() -> None:
    bus = InMemoryBus()
    store = Store(bus, committed=[1, 2])
    feed = live_feed(bus, TOPIC, store.source(), after=None)
    first = asyncio.ensure_future(anext(feed))
    await asyncio.sleep(0.01)
    await store.commit(3)
    assert await asyncio.wait_for(first, 2) == 3
    await feed.aclose()


async def test_ids_committed_out_of_order_are_all_delivered() -> None:
    """Concurrent transactions commit out of id order: 12 may be published before 11."""
    bus = InMemoryBus()
    store = Store(bus, committed=[10])
    feed = live_feed(bus, TOPIC, store.source(), after=10)
    pending = asyncio.ensure_future(take(feed, 2))
    await asyncio.sleep(0.01)
    await store.commit(12)
    await asyncio.sleep(0.01)
    await store.commit(11)
    assert await pending == [12, 11]
    await feed.aclose()


async def test_a_resync_recovers_what_the_bus_lost_without_repeating_anything() -> None:
    bus = InMemoryBus()
    store = Store(bus, committed=[1])
    subscriptions: list[Subscription] = []
    feed = live_feed(bus, TOPIC, store.source(), after=1, on_subscribed=subscriptions.append)
    pending = asyncio.ensure_future(take(feed, 1))
    await asyncio.sleep(0.01)
    await store.commit(2)
    await store.commit(3, publish=False)  # lost: published while the bus was away
    assert await pending == [2]
    pending = asyncio.ensure_future(take(feed, 2))
    await store.commit(4, publish=False)
    subscriptions[0].request_resync()  # what the Redis bus does after a reconnect
    assert await pending == [3, 4]
    await feed.aclose()


async def test_rows_the_caller_may_not_see_are_skipped_and_not_offered_again() -> None:
    bus = InMemoryBus()
    store = Store(bus)
    store.hidden = {2}
    subscriptions: list[Subscription] = []
    feed = live_feed(bus, TOPIC, store.source(), after=0, on_subscribed=subscriptions.append)
    pending = asyncio.ensure_future(take(feed, 2))
    await asyncio.sleep(0.01)
    for pk in (1, 2, 3):
        await store.commit(pk)
    assert await pending == [1, 3]
    store.hidden = set()  # becomes visible later: a resync must agree with the live path
    subscriptions[0].request_resync()
    await store.commit(4)
    assert await take(feed, 1) == [4]
    await feed.aclose()


async def test_a_guard_that_refuses_ends_the_feed() -> None:
    bus = InMemoryBus()
    store = Store(bus)
    calls = 0

    async def guard() -> float:
        nonlocal calls
        calls += 1
        if calls > 2:
            raise PermissionError("token expired")
        return 0.01

    feed = live_feed(bus, TOPIC, store.source(), after=None, guard=guard)
    with pytest.raises(PermissionError):
        await take(feed, 1)
    assert bus.subscriber_count(TOPIC) == 0


def test_seen_ids_stay_few_however_long_the_feed_lives() -> None:
    now = [0.0]
    seen = SeenIds(100, grace=60, now=lambda: now[0])
    for pk in range(101, 1101):
        now[0] += 1.0
        seen.add(pk)
        seen.settle()
    assert 1100 in seen and 101 in seen and 100 in seen
    assert 1101 not in seen
    assert len(seen) <= 61  # about a minute of ids above the floor
    assert seen.floor >= 1100 - 61
