"""Publish-after-commit bus: the interface, the local fan-out and the in-memory flavour.

A bus message is a small JSON-safe dict naming what changed (an event id, a ticket id);
subscribers read the rows themselves through the service layer, so the bus never decides who
may see what. Messages are hints: a subscriber that may have missed some (after a Redis
reconnect) is told to `resync` from the database instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("sets.realtime")

DEFAULT_QUEUE_SIZE = 1000
# Subscribers woken at once by a gated fan-out (see LocalHub._offer_in_steps).
WAKE_STEP = 128


class SubscriptionClosed(Exception):
    """The bus dropped this subscriber; `reason` says why (e.g. it fell too far behind)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Delivery:
    """What a subscriber gets in one wake-up: queued messages, oldest first, and whether the
    bus may have lost messages since the last delivery (read the database to catch up)."""

    messages: list[dict[str, Any]]
    resync: bool


class Subscription:
    """One local subscriber's bounded inbox. The bus never blocks on it: a full inbox closes
    the subscription (with a reason) rather than stalling the other subscribers."""

    def __init__(self, topic: str, limit: int) -> None:
        self.topic = topic
        self._limit = limit
        self._items: deque[dict[str, Any]] = deque()
        self._resync = False
        self._closed: str | None = None
        # The consumer's wake-up, while it waits: a bare future and a timer handle, not
        # `asyncio.wait_for` (which costs a task per wait, per subscriber, per event).
        self._waiter: asyncio.Future[None] | None = None
        self._on_close: list[Callable[[str], None]] = []
        # Messages this subscriber would skip anyway do not take room in its inbox: unrelated
        # traffic must not get a filtered subscriber closed as a slow consumer.
        self.accept: Callable[[dict[str, Any]], bool] | None = None

    @property
    def closed_reason(self) -> str | None:
        return self._closed

    @property
    def pending(self) -> int:
        return len(self._items)

    def on_close(self, callback: Callable[[str], None]) -> None:
        """Run `callback(reason)` when the bus closes this subscription: it fires at once,
        even while the consumer is busy (e.g. blocked writing to a slow socket)."""
        self._on_close.append(callback)

    def offer(self, message: dict[str, Any]) -> bool:
        if self._closed is not None:
            return False
        if self.accept is not None and not self.accept(message):
            return True
        if len(self._items) >= self._limit:
            self.close(f"slow consumer: more than {self._limit} undelivered messages")
            return False
        self._items.append(message)
        self._wake()
        return True

    def request_resync(self) -> None:
        if self._closed is None:
            self._resync = True
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def close(self, reason: str) -> None:
        if self._closed is not None:
            return
        self._closed = reason
        self._items.clear()
        self._wake()
        for callback in self._on_close:
            try:
                callback(reason)
            except Exception:  # one broken callback must not stop the bus's fan-out
                log.exception("subscription close callback failed")

    async def next(self, *, within: float | None = None, max_items: int = 100) -> Delivery | None:
        """Wait for messages or a resync request; None when `within` seconds pass first.
        Raises SubscriptionClosed once the bus has closed the subscription."""
        if not self._items and not self._resync and self._closed is None:
            if within is not None and within <= 0:
                return None
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = None if within is None else loop.call_later(within, _expire, waiter)
            try:
                await waiter
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()
            if not self._items and not self._resync and self._closed is None:
                return None
        if self._closed is not None:
            raise SubscriptionClosed(self._closed)
        count = min(max_items, len(self._items))
        messages = [self._items.popleft() for _ in range(count)]
        resync, self._resync = self._resync, False
        return Delivery(messages, resync)


Gate = Callable[[list[dict[str, Any]]], Awaitable[None]]


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def topic_family(topic: str) -> str:
    """Topics whose messages carry ids of the same table: `notifications.42` and
    `notifications.7` are both "notifications"."""
    return topic.partition(".")[0]


class _Watermark:
    """The highest row id of one topic family this process knows to be committed: a read of
    the database, then every id the bus delivered since that read started."""

    __slots__ = ("observed", "reading", "value")

    def __init__(self) -> None:
        self.value: int | None = None
        self.observed = 0
        self.reading: asyncio.Future[int] | None = None

    def observe(self, pk: int) -> None:
        if self.value is not None:
            if pk > self.value:
                self.value = pk
        elif pk > self.observed:
            self.observed = pk


class EventBus(Protocol):
    async def publish(self, topic: str, message: dict[str, Any]) -> None: ...

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[Subscription]: ...

    async def latest_id(self, topic: str, read: Callable[[], Awaitable[int]]) -> int:
        """The newest row id of `topic`'s family that a new subscriber may treat as already
        handled; `read` asks the database. See `LocalHub.latest_id`."""
        ...

    def gate(self, topic: str, prepare: Gate) -> None:
        """Run `prepare` on `topic`'s messages before subscribers get them (`LocalHub.gate`)."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class LocalHub:
    """Fan-out to this process's subscribers, by topic."""

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.queue_size = queue_size
        self._subscribers: dict[str, set[Subscription]] = {}
        self._marks: dict[str, _Watermark] = {}
        self._reads: set[asyncio.Future[int]] = set()
        self._gates: dict[str, Gate] = {}
        self._held: dict[str, list[dict[str, Any]]] = {}
        self._opening: dict[str, asyncio.Task[None]] = {}
        # Whether every message published from now on reaches `dispatch` (a Redis bus is
        # not while its pub/sub connection is down).
        self.listening = True

    def gate(self, topic: str, prepare: Gate) -> None:
        """Hold `topic`'s messages until `prepare(messages)` has run, once per batch for the
        whole process, before any subscriber wakes: e.g. read the rows they name, so that
        thousands of subscribers find them in memory instead of each waking, asking, sleeping
        until the read is done and waking again. The first gate of a topic stays."""
        self._gates.setdefault(topic, prepare)

    def dispatch(self, topic: str, message: dict[str, Any]) -> None:
        if self._marks:
            mark = self._marks.get(topic_family(topic))
            pk = message.get("id")
            if mark is not None and isinstance(pk, int):
                mark.observe(pk)
        if topic not in self._subscribers:
            return
        prepare = self._gates.get(topic)
        if prepare is None:
            self._offer(topic, message)
            return
        self._held.setdefault(topic, []).append(message)
        if topic not in self._opening:
            self._opening[topic] = asyncio.ensure_future(self._open(topic, prepare))

    async def _open(self, topic: str, prepare: Gate) -> None:
        try:
            while held := self._held.pop(topic, None):
                try:
                    await prepare(held)
                except Exception:  # subscribers read for themselves, as without a gate
                    log.warning("preparing %d bus messages failed", len(held), exc_info=True)
                await self._offer_in_steps(topic, held)
        finally:
            self._opening.pop(topic, None)

    async def _offer_in_steps(self, topic: str, messages: list[dict[str, Any]]) -> None:
        """Offer a batch to the topic's subscribers, WAKE_STEP subscribers at a time: the
        woken ones run before the next step is offered, so a fan-out to thousands does not
        keep thousands of wake-ups (and what they hold) alive at once, which the collector
        would promote and later scan in full."""
        subscribers = list(self._subscribers.get(topic, ()))
        for start in range(0, len(subscribers), WAKE_STEP):
            if start:
                await asyncio.sleep(0)
            for subscription in subscribers[start : start + WAKE_STEP]:
                for message in messages:
                    if not subscription.offer(message):
                        self._discard(subscription)
                        break

    def _offer(self, topic: str, message: dict[str, Any]) -> None:
        subscribers = self._subscribers.get(topic)
        if not subscribers:
            return
        for subscription in list(subscribers):
            if not subscription.offer(message):
                self._discard(subscription)

    async def latest_id(self, topic: str, read: Callable[[], Awaitable[int]]) -> int:
        """A floor for a feed that starts "from now on": the newest id of the topic's family
        read from the database once (`read`, shared by concurrent callers), then raised by
        every id dispatched since that read started, so thousands of subscriptions opening
        at once cost one query, not one each.

        Valid only while this hub hears every message: not `listening` (a Redis bus that is
        reconnecting) every call reads the database, and `forget_latest` (after a
        reconnect) starts over. Like a read per subscription, the value may count an event
        committed just before the subscription; it never exceeds what the database held
        when a read started, plus what the bus delivered."""
        if not self.listening:
            return await read()
        family = topic_family(topic)
        mark = self._marks.get(family)
        if mark is None:
            mark = self._marks[family] = _Watermark()
        if mark.value is not None:
            return mark.value
        if mark.reading is None:
            mark.reading = asyncio.ensure_future(self._read_mark(mark, read))
            self._reads.add(mark.reading)
            mark.reading.add_done_callback(self._reads.discard)
        return await asyncio.shield(mark.reading)

    @staticmethod
    async def _read_mark(mark: _Watermark, read: Callable[[], Awaitable[int]]) -> int:
        try:
            value = max(await read(), mark.observed)
        finally:
            mark.reading = None
        mark.value = value if mark.value is None else max(mark.value, value)
        return mark.value

    def forget_latest(self) -> None:
        """Messages may have been missed: the next `latest_id` reads the database again."""
        self._marks = {}

    def resync_all(self) -> None:
        for subscriptions in self._subscribers.values():
            for subscription in subscriptions:
                subscription.request_resync()

    def close_all(self, reason: str) -> None:
        for task in list(self._opening.values()):
            task.cancel()
        self._held.clear()
        for subscriptions in list(self._subscribers.values()):
            for subscription in list(subscriptions):
                subscription.close(reason)
        self._subscribers.clear()

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(topic, self.queue_size)
        self._subscribers.setdefault(topic, set()).add(subscription)
        try:
            yield subscription
        finally:
            self._discard(subscription)

    def _discard(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.topic)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.topic]

    def subscriber_count(self, topic: str | None = None) -> int:
        if topic is not None:
            return len(self._subscribers.get(topic, ()))
        return sum(len(s) for s in self._subscribers.values())


class InMemoryBus:
    """One process, no broker: publishing is a local fan-out (the embedded default)."""

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.hub = LocalHub(queue_size)

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        self.hub.dispatch(topic, message)

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[Subscription]:
        return self.hub.subscribe(topic)

    async def latest_id(self, topic: str, read: Callable[[], Awaitable[int]]) -> int:
        return await self.hub.latest_id(topic, read)

    def gate(self, topic: str, prepare: Gate) -> None:
        self.hub.gate(topic, prepare)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.hub.close_all("the server is shutting down")

    def subscriber_count(self, topic: str | None = None) -> int:
        return self.hub.subscriber_count(topic)
