"""The event bus, both flavours: in memory and Redis pub/sub on a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import pytest

from sets.realtime import build_bus
from sets.realtime.bus import Delivery, EventBus, InMemoryBus, Subscription, SubscriptionClosed
from sets.realtime.redis_bus import RedisBus
from tests.redis_support import kill_pubsub, pubsub_clients, require_redis, unique_prefix

BusFactory = Callable[..., Awaitable[EventBus]]


@pytest.fixture
async def redis_url() -> str:
    return await require_redis()


@pytest.fixture(params=["memory", "redis"])
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[BusFactory]:
    """Builds started buses of one flavour; Redis ones share a prefix, like processes of one
    deployment, and are stopped afterwards."""
    started: list[EventBus] = []
    prefix = unique_prefix()
    url = await require_redis() if request.param == "redis" else None

    async def make(queue_size: int = 100) -> EventBus:
        bus = build_bus(url, prefix=prefix, queue_size=queue_size)
        await bus.start()
        if isinstance(bus, RedisBus):
            async with asyncio.timeout(5):
                await bus.wait_connected()
        started.append(bus)
        return bus

    yield make
    for bus in started:
        await bus.stop()


async def take(subscription: Subscription, count: int, within: float = 5.0) -> list[Any]:
    """`count` messages, waiting at most `within` seconds in all."""
    got: list[Any] = []
    async with asyncio.timeout(within):
        while len(got) < count:
            delivery = await subscription.next(max_items=count - len(got))
            assert delivery is not None
            got.extend(delivery.messages)
    return got


async def test_fans_out_in_order_to_every_subscriber_of_the_topic(make_bus: BusFactory) -> None:
    bus = await make_bus()
    async with (
        bus.subscribe("ticket-events") as first,
        bus.subscribe("ticket-events") as second,
        bus.subscribe("notifications.7") as other,
    ):
        for n in range(5):
            await bus.publish("ticket-events", {"id": n})
        assert await take(first, 5) == [{"id": n} for n in range(5)]
        assert await take(second, 5) == [{"id": n} for n in range(5)]
        assert await other.next(within=0.2) is None


async def test_leaving_unsubscribes(make_bus: BusFactory) -> None:
    bus = await make_bus()
    async with bus.subscribe("t") as _sub:
        assert bus.subscriber_count("t") == 1  # type: ignore[attr-defined]
    assert bus.subscriber_count("t") == 0  # type: ignore[attr-defined]


async def test_a_slow_consumer_is_dropped_with_a_reason_and_others_keep_going(
    make_bus: BusFactory,
) -> None:
    bus = await make_bus(queue_size=3)
    closed: list[str] = []
    async with bus.subscribe("t") as slow, bus.subscribe("t") as fast:
        slow.on_close(closed.append)
        got: list[Any] = []
        for n in range(10):
            await bus.publish("t", {"id": n})
            got += await take(fast, 1)  # the fast one keeps up, one message at a time
        assert got == [{"id": n} for n in range(10)]
        assert closed == ["slow consumer: more than 3 undelivered messages"]
        with pytest.raises(SubscriptionClosed, match="slow consumer"):
            await slow.next(within=1)
        # Dropped from the fan-out: nothing more is held for it.
        assert bus.subscriber_count("t") == 1  # type: ignore[attr-defined]
        assert slow.pending == 0


async def test_next_returns_none_when_nothing_arrives_in_time() -> None:
    bus = InMemoryBus()
    async with bus.subscribe("t") as sub:
        assert await sub.next(within=0.05) is None
        await bus.publish("t", {"id": 1})
        assert await sub.next(within=0.05) == Delivery([{"id": 1}], resync=False)


async def test_stopping_the_bus_closes_its_subscriptions() -> None:
    bus = InMemoryBus()
    async with bus.subscribe("t") as sub:
        await bus.stop()
        with pytest.raises(SubscriptionClosed, match="shutting down"):
            await sub.next(within=1)


async def test_redis_carries_messages_between_processes_under_one_prefix(
    redis_url: str,
) -> None:
    prefix = unique_prefix()
    api_a, api_b = RedisBus(redis_url, prefix=prefix), RedisBus(redis_url, prefix=prefix)
    stranger = RedisBus(redis_url, prefix=unique_prefix())
    for bus in (api_a, api_b, stranger):
        await bus.start()
    try:
        async with asyncio.timeout(5):
            for bus in (api_a, api_b, stranger):
                await bus.wait_connected()
        async with api_a.subscribe("t") as on_a, stranger.subscribe("t") as elsewhere:
            await api_b.publish("t", {"id": 42, "ticket_id": 1})
            assert await take(on_a, 1) == [{"id": 42, "ticket_id": 1}]
            assert await elsewhere.next(within=0.2) is None
    finally:
        for bus in (api_a, api_b, stranger):
            await bus.stop()


async def test_redis_uses_one_pubsub_connection_per_process_however_many_subscribers(
    redis_url: str,
) -> None:
    prefix = unique_prefix()
    bus = RedisBus(redis_url, prefix=prefix)
    await bus.start()
    try:
        async with asyncio.timeout(5):
            await bus.wait_connected()
        subscriptions = [bus.subscribe(f"topic-{n % 3}") for n in range(25)]
        entered = [await s.__aenter__() for s in subscriptions]
        await bus.publish("topic-1", {"id": 1})
        assert [m["id"] for m in await take(entered[1], 1)] == [1]
        clients = await pubsub_clients(prefix)
        assert len(clients) == 1, clients
        assert clients[0]["psub"] == "1"
        for s in subscriptions:
            await s.__aexit__(None, None, None)
    finally:
        await bus.stop()
    assert await pubsub_clients(prefix) == []


async def test_redis_reconnects_after_its_connection_is_killed_and_asks_for_a_resync(
    redis_url: str,
) -> None:
    prefix = unique_prefix()
    bus = RedisBus(redis_url, prefix=prefix, backoff=(0.02, 0.2))
    publisher = RedisBus(redis_url, prefix=prefix)
    await bus.start()
    await publisher.start()
    try:
        async with asyncio.timeout(5):
            await bus.wait_connected()
            await publisher.wait_connected()
        async with bus.subscribe("t") as sub:
            await publisher.publish("t", {"id": 1})
            assert await take(sub, 1) == [{"id": 1}]
            assert await kill_pubsub(prefix) >= 1
            # The subscriber hears that messages may have been lost...
            async with asyncio.timeout(5):
                while True:
                    delivery = await sub.next()
                    assert delivery is not None
                    if delivery.resync:
                        break
            assert bus.reconnects >= 1
            # ...and live messages flow again on the new connection.
            await publisher.publish("t", {"id": 2})
            assert await take(sub, 1) == [{"id": 2}]
            assert len(await pubsub_clients(prefix)) == 2
    finally:
        await bus.stop()
        await publisher.stop()


async def test_a_publish_only_redis_bus_needs_no_subscription_connection(
    redis_url: str,
) -> None:
    """`sets worker` and the CLI publish without starting a listener."""
    prefix = unique_prefix()
    listener, worker = RedisBus(redis_url, prefix=prefix), RedisBus(redis_url, prefix=prefix)
    await listener.start()
    try:
        async with asyncio.timeout(5):
            await listener.wait_connected()
        async with listener.subscribe("t") as sub:
            await worker.publish("t", {"id": 7})
            assert await take(sub, 1) == [{"id": 7}]
        assert len(await pubsub_clients(prefix)) == 1  # the listener's only
    finally:
        await listener.stop()
        await worker.stop()


async def test_redis_keeps_what_is_published_while_it_is_away_and_sends_it_when_back(
    redis_url: str,
) -> None:
    prefix = unique_prefix()
    listener = RedisBus(redis_url, prefix=prefix)
    # A process whose Redis is unreachable for now...
    away = RedisBus("redis://127.0.0.1:1/0", prefix=prefix, backoff=(0.01, 0.05))
    await listener.start()
    await away.start()
    try:
        async with asyncio.timeout(5):
            await listener.wait_connected()
        async with listener.subscribe("t") as sub:
            await away.publish("t", {"id": 1})  # committed elsewhere: must not raise
            await away.publish("t", {"id": 2})
            assert await sub.next(within=0.2) is None
            # ...until Redis answers at its address again.
            await away.stop()
            away.url = redis_url
            await away.start()
            assert await take(sub, 2) == [{"id": 1}, {"id": 2}]
    finally:
        await listener.stop()
        await away.stop()


async def test_redis_publish_never_fails_a_committed_change_when_redis_is_down() -> None:
    listening = RedisBus("redis://127.0.0.1:1/0", prefix=unique_prefix(), backoff=(0.01, 0.05))
    publish_only = RedisBus("redis://127.0.0.1:1/0", prefix=unique_prefix())
    await listening.start()
    try:
        await listening.publish("t", {"id": 1})  # no exception: kept for later
        await publish_only.publish("t", {"id": 1})  # tried, failed, kept for the next one
        await publish_only.publish("t", {"id": 2})
        assert not listening.connected
    finally:
        await listening.stop()
        await publish_only.stop()


async def test_what_is_published_while_the_backlog_is_sent_waits_its_turn(
    redis_url: str,
) -> None:
    """Just after a reconnect the listener sends what waited while Redis was away; a change
    committed meanwhile must not overtake it (a subscriber would see comment 72 before 71)."""
    prefix = unique_prefix()
    listener, sender = RedisBus(redis_url, prefix=prefix), RedisBus(redis_url, prefix=prefix)
    await listener.start()
    await sender.start()
    try:
        async with asyncio.timeout(5):
            await listener.wait_connected()
            await sender.wait_connected()
        async with listener.subscribe("t") as sub:
            # Connected again, with two older messages still waiting to be sent...
            sender._keep(prefix + "t", orjson.dumps({"id": 1}))
            sender._keep(prefix + "t", orjson.dumps({"id": 2}))
            await sender.publish("t", {"id": 3})  # ...when a new change commits.
            await sender._flush_backlog(sender._redis())
            assert await take(sub, 3) == [{"id": 1}, {"id": 2}, {"id": 3}]
    finally:
        await listener.stop()
        await sender.stop()
