"""The serving process's collector policy (sets.web.collector): survivors of a full collection
are frozen; every `thaw_seconds` they go back to the collector, which then frees the cycles
that died while frozen."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from sets.web.collector import CollectorPolicy


class Node:
    """Something that can sit in a reference cycle and be watched by a weakref."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the suite runs with an ordinary collector


async def _settled() -> None:
    for _ in range(3):  # the callback hands its work to the loop
        await asyncio.sleep(0)


@pytest.mark.usefixtures("thawed")
async def test_survivors_of_a_full_collection_are_frozen_and_thawed_on_schedule() -> None:
    moment = [0.0]
    policy = CollectorPolicy(asyncio.get_running_loop(), thaw_seconds=60, now=lambda: moment[0])
    policy.install()
    try:
        gc.collect(1)  # not a full collection: nothing changes
        await _settled()
        assert gc.get_freeze_count() == 0

        gc.collect()
        await _settled()
        assert gc.get_freeze_count() > 0

        # A cycle that dies while frozen is not freed by full collections meanwhile...
        a, b = Node(), Node()
        a.other, b.other = b, a
        gc.collect()
        await _settled()
        watch = weakref.ref(a)
        del a, b
        gc.collect()
        await _settled()
        assert watch() is not None

        # ...until the thaw: the next full collection frees it, then freezing resumes.
        moment[0] = 61.0
        gc.collect()
        await _settled()
        assert gc.get_freeze_count() == 0
        gc.collect()
        assert watch() is None
        await _settled()
        assert gc.get_freeze_count() > 0
    finally:
        policy.uninstall()
    assert policy._after_collection not in gc.callbacks


@pytest.mark.usefixtures("thawed")
async def test_installing_twice_registers_one_callback() -> None:
    policy = CollectorPolicy(asyncio.get_running_loop())
    policy.install()
    policy.install()
    try:
        assert gc.callbacks.count(policy._after_collection) == 1
    finally:
        policy.uninstall()
        policy.uninstall()
    assert policy._after_collection not in gc.callbacks
