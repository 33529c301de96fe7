"""The per-process parts of fan-out, deterministic and in memory: one replay floor read shared
by every new subscription (`LocalHub.latest_id`), gates that prepare a batch once before the
subscribers wake, the inbox wait, and shared results (`schema.live_frames.SharedResults`)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sets.realtime.bus import InMemoryBus, LocalHub, Subscription
from sets.realtime.feed import FeedSource, live_feed
from sets.schema.live_frames import SharedResults

TOPIC = "ticket-events"


class Reads:
    """A database's newest id, counting reads; `gate` holds a read until released."""

    def __init__(self, latest: int) -> None:
        self.latest = latest
        self.calls = 0
        self.gate: asyncio.Event | None = None

    async def read(self) -> int:
        self.calls += 1
        seen = self.latest
        if self.gate is not None:
            await self.gate.wait()
        return seen


async def test_concurrent_subscriptions_share_one_read_then_follow_the_bus() -> None:
    hub = LocalHub()
    reads = Reads(latest=10)
    reads.gate = asyncio.Event()
    waiting = [asyncio.ensure_future(hub.latest_id(TOPIC, reads.read)) for _ in range(50)]
    await asyncio.sleep(0)
    # Published while the read runs: counted, although the read did not see it.
    hub.dispatch(TOPIC, {"id": 12})
    reads.gate.set()
    assert set(await asyncio.gather(*waiting)) == {12}
    assert reads.calls == 1
    hub.dispatch(TOPIC, {"id": 15})
    hub.dispatch(TOPIC, {"id": 14})  # out of order: the floor never goes down
    assert await hub.latest_id(TOPIC, reads.read) == 15
    assert reads.calls == 1
    # notifications.<user> topics share one floor (one table), apart from ticket events.
    assert await hub.latest_id("notifications.7", Reads(3).read) == 3
    hub.dispatch("notifications.9", {"id": 4})
    assert await hub.latest_id("notifications.7", Reads(0).read) == 4


async def test_a_hub_that_may_have_missed_messages_reads_again() -> None:
    hub = LocalHub()
    reads = Reads(latest=5)
    assert await hub.latest_id(TOPIC, reads.read) == 5
    reads.latest = 8  # committed while the link was down: never dispatched here
    hub.forget_latest()
    assert await hub.latest_id(TOPIC, reads.read) == 8
    hub.listening = False  # not hearing everything: no shared value at all
    reads.latest = 9
    assert await hub.latest_id(TOPIC, reads.read) == 9
    assert await hub.latest_id(TOPIC, reads.read) == 9
    assert reads.calls == 4


async def test_a_failed_read_is_not_kept() -> None:
    hub = LocalHub()

    async def broken() -> int:
        raise OSError("database away")

    with pytest.raises(OSError):
        await hub.latest_id(TOPIC, broken)
    assert await hub.latest_id(TOPIC, Reads(7).read) == 7


async def test_a_feed_without_cursor_starts_at_the_shared_floor() -> None:
    bus = InMemoryBus()
    committed = [1, 2, 3]
    reads = Reads(latest=3)

    async def after(after_id: int, limit: int) -> list[int]:
        return [pk for pk in committed if pk > after_id][:limit]

    async def by_ids(ids: list[int]) -> list[int]:
        return sorted(pk for pk in ids if pk in committed)

    source = FeedSource(after, by_ids, reads.read, lambda pk: pk)
    feeds = [live_feed(bus, TOPIC, source, after=None) for _ in range(5)]
    pending = [asyncio.ensure_future(anext(feed)) for feed in feeds]
    await asyncio.sleep(0.01)
    committed.append(4)
    await bus.publish(TOPIC, {"id": 4})
    assert [await asyncio.wait_for(p, 2) for p in pending] == [4] * 5
    assert reads.calls == 1
    for feed in feeds:
        await feed.aclose()


async def test_a_gate_prepares_each_batch_once_before_any_subscriber_sees_it() -> None:
    hub = LocalHub()
    prepared: list[list[int]] = []
    release = asyncio.Event()

    async def prepare(messages: list[dict[str, Any]]) -> None:
        prepared.append([m["id"] for m in messages])
        await release.wait()

    hub.gate(TOPIC, prepare)
    async with hub.subscribe(TOPIC) as first, hub.subscribe(TOPIC) as second:
        hub.dispatch(TOPIC, {"id": 1})
        await asyncio.sleep(0)
        hub.dispatch(TOPIC, {"id": 2})  # arrives while the first batch is prepared
        hub.dispatch(TOPIC, {"id": 3})
        assert first.pending == second.pending == 0
        release.set()
        for subscription in (first, second):
            got = await _take(subscription, 3)
            assert got == [1, 2, 3]
    assert prepared == [[1], [2, 3]]


async def test_a_failing_gate_still_delivers() -> None:
    hub = LocalHub()

    async def prepare(_messages: list[dict[str, Any]]) -> None:
        raise RuntimeError("database away")

    hub.gate(TOPIC, prepare)
    async with hub.subscribe(TOPIC) as subscription:
        hub.dispatch(TOPIC, {"id": 1})
        assert await _take(subscription, 1) == [1]


async def test_waiting_for_messages_times_out_wakes_up_and_closes() -> None:
    subscription = Subscription(TOPIC, limit=2)
    assert await subscription.next(within=0.01) is None
    assert await subscription.next(within=0) is None
    waiting = asyncio.ensure_future(subscription.next(within=5))
    await asyncio.sleep(0)
    subscription.offer({"id": 1})
    delivery = await asyncio.wait_for(waiting, 1)
    assert delivery is not None and delivery.messages == [{"id": 1}]
    waiting = asyncio.ensure_future(subscription.next())
    await asyncio.sleep(0)
    subscription.close("going away")
    with pytest.raises(Exception, match="going away"):
        await asyncio.wait_for(waiting, 1)


async def _take(subscription: Subscription, count: int) -> list[int]:
    got: list[int] = []
    async with asyncio.timeout(2):
        while len(got) < count:
            delivery = await subscription.next(max_items=count - len(got))
            assert delivery is not None
            got += [m["id"] for m in delivery.messages]
    return got


async def test_shared_results_are_computed_once_and_kept_briefly() -> None:
    now = [0.0]
    shared = SharedResults(ttl=2.0, limit=3, now=lambda: now[0])
    first, mine = shared.claim(("event", 1))
    again, others = shared.claim(("event", 1))
    assert mine and not others and again is first
    first.set_result(b"{}")
    now[0] = 2.5  # older than a fan-out: computed again, against the current state
    fresh, mine = shared.claim(("event", 1))
    assert mine and fresh is not first
    for n in range(2, 6):
        shared.claim(("event", n))
    assert len(shared) <= 3
