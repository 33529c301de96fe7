"""Pooled PostgreSQL connections are pinged only after sitting idle (sets.db.engine): a
connection the server dropped meanwhile is replaced before a request gets it, and one in
steady use is handed out without the round trips."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text

import sets.db.engine as engine_module
from sets.db.engine import Database, create_database
from tests.conftest import PG_URL, _asyncpg_dsn


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    database = create_database(PG_URL, pool_size=1, max_overflow=0)
    try:
        yield database
    finally:
        await database.dispose()


async def _backend_pid(db: Database) -> int:
    async with db.reader() as session:
        return int(await session.scalar(text("SELECT pg_backend_pid()")))


async def _terminate(pid: int) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


async def test_an_idle_connection_the_server_dropped_is_replaced(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _backend_pid(db)
    await _terminate(first)
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)  # it has sat idle long enough
    assert await _backend_pid(db) != first


async def test_a_connection_in_steady_use_is_not_pinged(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _backend_pid(db)
    await _terminate(first)
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 3600.0)
    # Not pinged, so the dropped link shows on use (SQLAlchemy then renews the pool).
    with pytest.raises(Exception):  # noqa: B017 (asyncpg words it variously)
        await _backend_pid(db)
    assert await _backend_pid(db) != first
