"""The garbage collector's policy for a serving process (issue 8: fan-out to thousands of
websockets).

Each open websocket holds a few hundred objects the cyclic collector tracks (protocol state,
tasks, subscription generators). CPython runs a full collection whenever the objects promoted
since the last one reach a quarter of the old ones, and every full collection walks all of
them: with 5 000 subscribers about 450 ms, during which no event is delivered. The objects of
live connections survive collection after collection; walking them again finds nothing.

So after each full collection the survivors are frozen (`gc.freeze`): later full collections
walk only what was made since, and stay short. Frozen objects are still freed when their last
reference goes; only reference cycles among them wait. So every `thaw_seconds` the frozen
objects are returned to the collector, and the next full collection (one long pause, then)
frees the cycles of connections that closed meanwhile before freezing the survivors again.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from typing import Any

# How often the frozen objects go back to the collector (see the module's docstring).
THAW_SECONDS = 900.0


class CollectorPolicy:
    """Freezes the survivors of each full collection; thaws them every `thaw_seconds`."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        thaw_seconds: float = THAW_SECONDS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._loop = loop
        self._thaw_seconds = thaw_seconds
        self._now = now
        self._thawed_at = now()
        self._installed = False

    def install(self) -> None:
        if not self._installed:
            gc.callbacks.append(self._after_collection)
            self._installed = True

    def uninstall(self) -> None:
        if self._installed:
            gc.callbacks.remove(self._after_collection)
            self._installed = False

    def _after_collection(self, phase: str, info: dict[str, Any]) -> None:
        # A callback may run in any thread (the SQLite driver has its own) and inside the
        # collector: the freezing itself is done by the event loop, between callbacks.
        if phase == "stop" and info["generation"] == 2 and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.settle)

    def settle(self) -> None:
        """After a full collection: freeze its survivors, or, once per `thaw_seconds`,
        hand the frozen objects back so the next full collection frees their cycles."""
        if self._now() - self._thawed_at >= self._thaw_seconds:
            self._thawed_at = self._now()
            gc.unfreeze()
        else:
            gc.freeze()
