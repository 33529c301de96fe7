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
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("sets.realtime")

DEFAULT_QUEUE_SIZE = 1000


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
        self._wakeup = asyncio.Event()
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
        self._wakeup.set()
        return True

    def request_resync(self) -> None:
        if self._closed is None:
            self._resync = True
            self._wakeup.set()

    def close(self, reason: str) -> None:
        if self._closed is not None:
            return
        self._closed = reason
        self._items.clear()
        self._wakeup.set()
        for callback in self._on_close:
            try:
                callback(reason)
            except Exception:  # one broken callback must not stop the bus's fan-out
                log.exception("subscription close callback failed")

    async def next(self, *, within: float | None = None, max_items: int = 100) -> Delivery | None:
        """Wait for messages or a resync request; None when `within` seconds pass first.
        Raises SubscriptionClosed once the bus has closed the subscription."""
        if not self._items and not self._resync and self._closed is None:
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), within)
            except TimeoutError:
                return None
        if self._closed is not None:
            raise SubscriptionClosed(self._closed)
        count = min(max_items, len(self._items))
        messages = [self._items.popleft() for _ in range(count)]
        resync, self._resync = self._resync, False
        return Delivery(messages, resync)


class EventBus(Protocol):
    async def publish(self, topic: str, message: dict[str, Any]) -> None: ...

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[Subscription]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class LocalHub:
    """Fan-out to this process's subscribers, by topic."""

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.queue_size = queue_size
        self._subscribers: dict[str, set[Subscription]] = {}

    def dispatch(self, topic: str, message: dict[str, Any]) -> None:
        for subscription in list(self._subscribers.get(topic, ())):
            if not subscription.offer(message):
                self._discard(subscription)

    def resync_all(self) -> None:
        for subscriptions in self._subscribers.values():
            for subscription in subscriptions:
                subscription.request_resync()

    def close_all(self, reason: str) -> None:
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

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.hub.close_all("the server is shutting down")

    def subscriber_count(self, topic: str | None = None) -> int:
        return self.hub.subscriber_count(topic)
