"""The event bus that carries committed changes to live subscribers."""

from __future__ import annotations

from sets.realtime.bus import DEFAULT_QUEUE_SIZE, EventBus, InMemoryBus


def notifications_topic(user_id: int) -> str:
    """In-app notifications travel on one topic per recipient."""
    return f"notifications.{user_id}"


def build_bus(
    redis_url: str | None, *, prefix: str = "sets:", queue_size: int = DEFAULT_QUEUE_SIZE
) -> EventBus:
    """Redis pub/sub when a URL is configured (several processes), else in memory."""
    if redis_url:
        from sets.realtime.redis_bus import RedisBus

        return RedisBus(redis_url, prefix=prefix, queue_size=queue_size)
    return InMemoryBus(queue_size=queue_size)
