"""Engines and session factories for SQLite and PostgreSQL."""

from __future__ import annotations

import time
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
    # PostgreSQL reads run in autocommit: under READ COMMITTED each statement takes its own
    # snapshot inside a transaction too, so BEGIN and ROLLBACK would be two round trips per
    # read session for nothing. SQLite keeps its read transaction: one snapshot per session.
    read_engine = (
        engine
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

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sets_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
