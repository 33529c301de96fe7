"""On SQLite the writers of one process take turns, first come first served, before BEGIN
IMMEDIATE (sets.db.engine.WriterTurns), instead of each retrying in SQLite's busy handler
with growing pauses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.util.concurrency import greenlet_spawn

from sets.db.engine import Database, WriterTurns, create_database


def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
    # SQLite's busy handler off: a writer that finds the write lock taken fails at once
    # ("database is locked"), so any contention between this process's writers shows.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = create_database(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")
    event.listen(database.engine.sync_engine, "connect", _no_busy_wait)
    async with database.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE log (n INTEGER)"))
    try:
        yield database
    finally:
        await database.dispose()


async def test_concurrent_writers_of_one_process_never_contend_for_the_write_lock(
    db: Database,
) -> None:
    entered: list[int] = []

    async def write(n: int) -> None:
        async with db.writer() as session, session.begin():
            await session.execute(text("INSERT INTO log VALUES (:n)"), {"n": n})
            entered.append(n)
            await asyncio.sleep(0.01)  # hold the write lock a while

    await asyncio.gather(*(write(n) for n in range(16)))
    assert sorted(entered) == list(range(16))
    async with db.reader() as session:
        assert (await session.scalar(text("SELECT count(*) FROM log"))) == 16


async def test_turns_are_taken_in_the_order_asked() -> None:
    turns = WriterTurns()
    order: list[int] = []

    def take(n: int, info: dict[str, Any]) -> None:
        turns.take(info)
        order.append(n)

    infos = [{} for _ in range(6)]
    first = asyncio.create_task(greenlet_spawn(take, 0, infos[0]))
    await first
    waiting = [asyncio.create_task(greenlet_spawn(take, n, infos[n])) for n in range(1, 6)]
    await asyncio.sleep(0.01)
    assert order == [0]  # the others wait for the first turn to end
    for n in range(5):
        turns.give_back(infos[n])
        await asyncio.sleep(0.01)
        assert order == list(range(n + 2))
    turns.give_back(infos[5])
    await asyncio.gather(*waiting)
    take_again: dict[str, Any] = {}
    await greenlet_spawn(take, 9, take_again)  # all given back: free at once
    turns.give_back(take_again)


async def test_a_failed_or_rolled_back_writer_ends_its_turn(db: Database) -> None:
    with pytest.raises(Exception, match="no such table"):
        async with db.writer() as session, session.begin():
            await session.execute(text("INSERT INTO missing VALUES (1)"))
    async with db.writer() as session:
        await session.begin()
        await session.execute(text("INSERT INTO log VALUES (1)"))
        await session.rollback()
    # Both turns were given back: the next writer gets in (without waiting: no busy handler).
    async with asyncio.timeout(2):
        async with db.writer() as session, session.begin():
            await session.execute(text("INSERT INTO log VALUES (2)"))
    async with db.reader() as session:
        assert (await session.scalar(text("SELECT sum(n) FROM log"))) == 2


async def test_readers_do_not_take_a_turn(db: Database) -> None:
    async with db.writer() as session, session.begin():
        await session.execute(text("INSERT INTO log VALUES (5)"))
        async with asyncio.timeout(2), db.reader() as reader:  # while the writer holds it
            assert (await reader.scalar(text("SELECT count(*) FROM log"))) == 0


async def test_a_turn_ended_on_another_thread_is_handed_back_on_the_loop() -> None:
    turns = WriterTurns()
    first: dict[str, Any] = {}
    second: dict[str, Any] = {}
    await greenlet_spawn(turns.take, first)
    waiting = asyncio.create_task(greenlet_spawn(turns.take, second))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    # As when the garbage collector finalizes a connection in the SQLite driver's thread.
    await asyncio.to_thread(turns.give_back, first)
    async with asyncio.timeout(2):
        await waiting
    turns.give_back(second)
