"""Engines and session factories for SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
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
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **engine_kw)
        _configure_sqlite(engine)
    else:
        engine_kw.setdefault("pool_size", 10)
        engine_kw.setdefault("max_overflow", 10)
        engine_kw.setdefault("pool_pre_ping", True)
        engine = create_async_engine(url, **engine_kw)
    write_engine = engine.execution_options(sets_write=True)
    return Database(
        engine=engine,
        writer=async_sessionmaker(write_engine, expire_on_commit=False),
        reader=async_sessionmaker(engine, expire_on_commit=False),
    )


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
