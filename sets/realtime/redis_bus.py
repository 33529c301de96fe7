"""The bus across processes: Redis pub/sub, one subscription per process (SPEC §8, §15).

Each process holds ONE pub/sub connection (a pattern subscription on `<prefix>*`) and fans
messages out in memory to its local subscribers; publishing uses an ordinary pooled
connection. Redis pub/sub is at-most-once, so every reconnect asks the local subscribers to
resync from the database, and messages published while Redis is unreachable are kept (bounded)
and sent once it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import orjson
import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from sets.realtime.bus import DEFAULT_QUEUE_SIZE, Gate, LocalHub, Subscription

log = logging.getLogger("sets.realtime")

DEFAULT_PREFIX = "sets:"


class RedisBus:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        backoff: tuple[float, float] = (0.05, 5.0),
        ping_interval: float = 5.0,
        backlog_size: int = 10_000,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.hub = LocalHub(queue_size)
        self.hub.listening = False  # until the pub/sub connection is up
        # Names the pub/sub connection in CLIENT LIST, so operators (and tests) can find it.
        self.client_name = f"sets-bus:{prefix}:{os.getpid()}"
        self._backoff = backoff
        self._ping_interval = ping_interval
        self._client: redis.Redis | None = None
        self._listener: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._backlog: deque[tuple[str, bytes]] = deque(maxlen=backlog_size)
        self._dropped = 0
        self.reconnects = 0

    # -- publishing -------------------------------------------------------------------------

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        """Never raises: the change is committed, so a Redis outage must not fail the request.
        Subscribers in every process recover anything missed from the database.

        Works without `start()`: a process that only publishes (`sets worker`, the CLI)
        needs no pub/sub connection; it retries what failed on its next publish."""
        channel, payload = self.prefix + topic, orjson.dumps(message)
        if self._listener is not None and (not self._connected.is_set() or self._backlog):
            # Sent by the listener once it is back, behind what already waits (it may be
            # sending that right now): messages leave in the order their changes committed.
            self._keep(channel, payload)
            return
        try:
            client = self._redis()
            if self._backlog and self._listener is None:
                await self._flush_backlog(client)
            await client.publish(channel, payload)
        except (RedisError, OSError) as exc:
            log.warning("redis publish failed (%s); kept for later", exc)
            self._keep(channel, payload)

    def _redis(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis.from_url(
                self.url,
                client_name=self.client_name,
                socket_connect_timeout=2,
                socket_timeout=5,
                socket_keepalive=True,
            )
        return self._client

    def _keep(self, channel: str, payload: bytes) -> None:
        if len(self._backlog) == self._backlog.maxlen:
            self._dropped += 1
        self._backlog.append((channel, payload))

    async def _flush_backlog(self, client: redis.Redis) -> None:
        if self._dropped:
            log.warning("%d bus messages were dropped while Redis was away", self._dropped)
            self._dropped = 0
        while self._backlog:
            channel, payload = self._backlog[0]
            await client.publish(channel, payload)
            self._backlog.popleft()

    # -- subscribing ------------------------------------------------------------------------

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[Subscription]:
        return self.hub.subscribe(topic)

    def subscriber_count(self, topic: str | None = None) -> int:
        return self.hub.subscriber_count(topic)

    async def latest_id(self, topic: str, read: Callable[[], Awaitable[int]]) -> int:
        return await self.hub.latest_id(topic, read)

    def gate(self, topic: str, prepare: Gate) -> None:
        self.hub.gate(topic, prepare)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self) -> None:
        await self._connected.wait()

    async def start(self) -> None:
        if self._listener is not None:
            return
        self._redis()
        self._listener = asyncio.create_task(self._listen(), name="sets-redis-bus")

    async def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        self._connected.clear()
        self._lost()
        self.hub.close_all("the server is shutting down")
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _listen(self) -> None:
        """Hold the one pub/sub connection; on any failure reconnect with capped, jittered
        exponential backoff, and tell local subscribers to resync once back."""
        assert self._client is not None
        initial, cap = self._backoff
        delay = initial
        lost = False
        while True:
            pubsub: Any = self._client.pubsub()
            try:
                await pubsub.psubscribe(self.prefix + "*")
                self._connected.set()
                # From here on every message reaches the hub: its id floors start afresh.
                self.hub.forget_latest()
                self.hub.listening = True
                if lost:
                    self.reconnects += 1
                    log.info("redis bus reconnected; subscribers resync from the database")
                # Whatever was published before this subscription took effect (while the
                # link was down, or before the first connect) is only in the database now.
                self.hub.resync_all()
                await self._flush_backlog(self._client)
                delay = initial
                await self._pump(pubsub)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._connected.clear()
                self._lost()
                lost = True
                log.warning("redis bus connection lost (%s); retrying in %.2fs", exc, delay)
            except Exception:
                # Never let the listener die: subscribers would wait forever.
                self._connected.clear()
                self._lost()
                lost = True
                log.exception("redis bus listener failed; restarting in %.2fs", delay)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(delay * (0.5 + random.random() / 2))
            delay = min(cap, delay * 2)

    def _lost(self) -> None:
        self.hub.listening = False
        self.hub.forget_latest()

    async def _pump(self, pubsub: Any) -> None:
        loop = asyncio.get_running_loop()
        heard = loop.time()
        pinged = heard
        while True:
            message = await pubsub.get_message(timeout=1.0)
            now = loop.time()
            if message is not None:
                heard = now
                if message["type"] == "pmessage":
                    self._deliver(message["channel"], message["data"])
            # A silently dead link (no RST) would never raise: ping, and give up on silence.
            if now - heard > 3 * self._ping_interval:
                raise RedisConnectionError("no answer from redis to pings")
            if now - pinged > self._ping_interval:
                pinged = now
                await pubsub.ping()

    def _deliver(self, channel: bytes | str, data: bytes | str) -> None:
        name = channel.decode() if isinstance(channel, bytes) else channel
        try:
            message = orjson.loads(data)
        except orjson.JSONDecodeError:
            log.warning("ignoring a malformed bus message on %s", name)
            return
        if isinstance(message, dict):
            self.hub.dispatch(name[len(self.prefix) :], message)
