"""Shared fixtures: every service test runs on a fresh SQLite file and a fresh PostgreSQL
database, both cloned from a template migrated once per session."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from sets.config import Settings
from sets.db.engine import create_database
from sets.db.migrate import upgrade
from sets.domain.clock import FixedClock
from sets.realtime.bus import InMemoryBus
from sets.services.container import Services, build_services
from sets.services.demo import load_demo

PG_URL = os.environ.get(
    "SETS_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
PG_HELP = (
    "PostgreSQL is not reachable at {url} ({error}). Start it with\n"
    "  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
    "or point SETS_TEST_DATABASE_URL at another server."
)
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday morning
TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef"
RUN = uuid.uuid4().hex[:8]

T = TypeVar("T")


def run_sync(coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine from sync session-scoped setup without touching the test loop."""

    async def wrapper() -> T:
        return await coro_fn()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, wrapper()).result()


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _migrate(url: str, *, demo: bool) -> None:
    db = create_database(url)
    try:
        await upgrade(db.engine)
    finally:
        await db.dispose()
    if demo:
        services = build_services(
            Settings(database_url=url, jwt_secret=TEST_SECRET), clock=FixedClock(T0)
        )
        try:
            await load_demo(services)
        finally:
            await services.close()


class SqliteTemplates:
    """Migrated template files, with and without the demo data, made on first use."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._made: dict[bool, Path] = {}

    def get(self, demo: bool) -> Path:
        if demo not in self._made:
            path = self._root / ("demo.db" if demo else "empty.db")
            run_sync(lambda: _migrate(f"sqlite+aiosqlite:///{path}", demo=demo))
            self._made[demo] = path
        return self._made[demo]


class PgTemplates:
    def __init__(self) -> None:
        self._made: dict[bool, str] = {}

    def get(self, demo: bool) -> str:
        if demo not in self._made:
            name = f"sets_tmpl_{RUN}_{'demo' if demo else 'empty'}"
            try:
                run_sync(lambda: _pg_admin(f'CREATE DATABASE "{name}"'))
            except (OSError, asyncpg.PostgresError) as exc:
                pytest.fail(PG_HELP.format(url=PG_URL, error=exc), pytrace=False)
            url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
            run_sync(lambda: _migrate(url, demo=demo))
            self._made[demo] = name
        return self._made[demo]

    def drop_all(self) -> None:
        for name in self._made.values():
            run_sync(lambda n=name: _pg_admin(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="session")
def pg_templates() -> Iterator[PgTemplates]:
    templates = PgTemplates()
    yield templates
    templates.drop_all()


@pytest.fixture
def empty_database() -> bool:
    """Request this fixture for a database without the demo data."""
    return True


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def db_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """A fresh, migrated database for one test, holding the demo data (users, teams,
    categories, three tickets, all made at T0) unless the test asks for `empty_database`."""
    demo = "empty_database" not in request.fixturenames
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_templates").get(demo)
        target = tmp_path / "sets.db"
        shutil.copyfile(template, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    template_name = request.getfixturevalue("pg_templates").get(demo)
    name = f"sets_t_{RUN}_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, jwt_secret=TEST_SECRET, data_dir=tmp_path / "data")


@pytest.fixture
async def services(settings: Settings, clock: FixedClock) -> AsyncIterator[Services]:
    built = build_services(settings, clock=clock, bus=InMemoryBus())
    try:
        yield built
    finally:
        await built.close()


def pytest_collection_modifyitems(items: list[Any]) -> None:
    # Keep each backend's tests together so the PostgreSQL template is built once, early.
    items.sort(key=lambda item: "postgresql" in item.nodeid)
