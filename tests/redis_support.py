"""Real Redis for the bus tests: the URL, a reachability check that fails with a how-to, and
helpers to find and kill one process's pub/sub connection (never the whole server)."""

from __future__ import annotations

import os
import uuid

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

REDIS_URL = os.environ.get("SETS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_HELP = (
    "Redis is not reachable at {url} ({error}). Start it with\n"
    '  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no\nor point SETS_TEST_REDIS_URL at another server."
)


async def require_redis() -> str:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        pytest.fail(REDIS_HELP.format(url=REDIS_URL, error=exc), pytrace=False)
    finally:
        await client.aclose()
    return REDIS_URL


def unique_prefix() -> str:
    """A channel prefix of its own per test, so concurrent runs never hear each other."""
    return f"sets-test-{uuid.uuid4().hex[:12]}:"


async def pubsub_clients(prefix: str) -> list[dict[str, str]]:
    """The pub/sub connections of every bus using `prefix` (named `sets-bus:<prefix>:<pid>`)."""
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        found = await client.client_list(_type="pubsub")
    finally:
        await client.aclose()
    return [c for c in found if c.get("name", "").startswith(f"sets-bus:{prefix}:")]


async def kill_pubsub(prefix: str) -> int:
    """CLIENT KILL the pub/sub connections of the buses using `prefix`; how many were killed."""
    client = Redis.from_url(REDIS_URL)
    killed = 0
    try:
        for found in await pubsub_clients(prefix):
            killed += int(await client.client_kill_filter(_id=found["id"]))
    finally:
        await client.aclose()
    return killed
