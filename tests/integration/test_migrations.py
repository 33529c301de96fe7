"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from sets.db.engine import create_database
from sets.db.migrate import current_revision, downgrade, head_revision, upgrade
from sets.models import Base
from sets.repositories.search import is_search_index


def _modelled(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
    """The full-text index (an FTS5 table on SQLite, a tsvector table on PostgreSQL) is kept
    by triggers from migration 0003, not described by the models."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return not (table is not None and is_search_index(table.name))


async def test_models_and_migrations_agree(db_url: str, empty_database: bool) -> None:
    db = create_database(db_url)
    try:
        assert await current_revision(db.engine) == head_revision()

        def diff(sync_conn: Any) -> list[Any]:
            context = MigrationContext.configure(
                sync_conn,
                opts={
                    "compare_type": True,
                    "render_as_batch": True,
                    "include_object": _modelled,
                },
            )
            return list(compare_metadata(context, Base.metadata))

        async with db.engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await db.dispose()


async def test_downgrade_and_upgrade_round_trip(db_url: str, empty_database: bool) -> None:
    db = create_database(db_url)
    try:
        await downgrade(db.engine, "base")
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: c.dialect.get_table_names(c))
        assert "tickets" not in tables
        await upgrade(db.engine)
        async with db.engine.connect() as conn:
            policies = (await conn.execute(text("SELECT count(*) FROM sla_policies"))).scalar()
        assert policies == 4
    finally:
        await db.dispose()
