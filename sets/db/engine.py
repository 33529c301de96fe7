"""Engines and session factories for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util.concurrency import await_

from sets.db import versioning  # noqa: F401  (registers the ticket version listener)


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    # Writers on SQLite take the write lock up front (BEGIN IMMEDIATE) so two writers queue
    # instead of failing with "database is locked" when a read lock is upgraded.
    writer: async_sessionmaker[AsyncSession]
    reader: async_sessionmaker[AsyncSession]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def dispose(self) -> None:
        await self.engine.dispose()


def create_database(url: str, **engine_kw: Any) -> Database:
    # JSON columns (event data, notification payloads) are read on every list: orjson parses
    # them several times faster than the standard library, to the same values.
    engine_kw.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **engine_kw)
        _configure_sqlite(engine)
    else:
        engine_kw.setdefault("pool_size", 10)
        engine_kw.setdefault("max_overflow", 10)
        engine = create_async_engine(url, **engine_kw)
        _ping_when_idle(engine)
    write_engine = engine.execution_options(sets_write=True)
    # Reads run in autocommit: each statement sees the data as committed when it starts.
    # Under PostgreSQL's READ COMMITTED a statement takes its own snapshot inside a
    # transaction too, so BEGIN and ROLLBACK would be two round trips per read session for
    # nothing; SQLite (see "begin" in _configure_sqlite) is made to match.
    read_engine = (
        engine.execution_options(sets_read=True)
        if url.startswith("sqlite")
        else engine.execution_options(isolation_level="AUTOCOMMIT")
    )
    return Database(
        engine=engine,
        writer=async_sessionmaker(write_engine, expire_on_commit=False),
        reader=async_sessionmaker(read_engine, expire_on_commit=False),
    )


# A pooled PostgreSQL connection idle longer than this is pinged before it is handed out.
IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a connection before use only when it sat idle in the pool (where a database
    restart or a dropped link would have gone unnoticed). SQLAlchemy's `pool_pre_ping` pings
    on every checkout, three round trips on asyncpg, and a dashboard request checks out
    several connections; one in steady use has just proved itself."""
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["sets_idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("sets_idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool drops this connection and hands out another (a fresh one if need be).
            raise exc.DisconnectionError("an idle connection failed its ping") from error


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see "begin").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    turns = WriterTurns()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get("sets_read", False):
            return  # read sessions run in autocommit, as on PostgreSQL (create_database)
        immediate = options.get("sets_write", False)
        if immediate:
            turns.take(conn.connection.info)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        except BaseException:
            turns.give_back(conn.connection.info)
            raise

    # A connection goes back to the pool once its transaction has ended (committed or rolled
    # back); one that is closed or invalidated instead ends its turn as well.
    for name in ("checkin", "close", "invalidate", "soft_invalidate"):
        event.listen(sync_engine.pool, name, _end_turn(turns))


def _end_turn(turns: WriterTurns) -> Any:
    def end(_dbapi_connection: Any, record: Any, *_: Any) -> None:
        if record is not None:
            turns.give_back(record.info)

    return end


class WriterTurns:
    """SQLite takes one writer at a time; a writer that finds the lock taken sleeps in the
    busy handler and retries after growing pauses, so under load some waited seconds while
    later ones slipped in (createTicket at concurrency 16: p99 over 4 s). The writers of this
    process take turns instead, first come first served, before BEGIN IMMEDIATE; the busy
    handler is left to arbitrate with other processes."""

    KEY = "sets_writer_turn"

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def take(self, info: dict[str, Any]) -> None:
        """Wait for this process's turn (called by the engine inside SQLAlchemy's greenlet,
        so it may await)."""
        if self.KEY in info:  # this connection's turn goes on until it is checked in
            return
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        await_(lock.acquire())
        info[self.KEY] = (lock, loop)

    def give_back(self, info: dict[str, Any]) -> None:
        held = info.pop(self.KEY, None)
        if held is None:
            return
        lock, loop = held
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            lock.release()
        elif not loop.is_closed():
            # A connection the garbage collector finalizes may end its turn on another
            # thread (the SQLite driver's): the lock belongs to the loop's thread.
            loop.call_soon_threadsafe(lock.release)
