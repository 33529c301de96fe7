"""Full-text search index kept by triggers; saved searches

Revision ID: 0003
Revises: 0002

The search index is not a model: on SQLite it is the FTS5 table `ticket_fts` (rowid = ticket
id), on PostgreSQL the table `ticket_search` with two `tsvector` documents and GIN indexes.
Triggers on `tickets` and `comments` keep it current in the writing transaction, so no code
path can forget it. Public comments and internal notes are indexed apart: a requester's
search never looks at internal-note text.

Both databases index the same words: runs of letters and digits, lower-cased (FTS5's
unicode61 tokenizer; on PostgreSQL `ticket_search_text` reduces the text to such runs before
`to_tsvector('simple', …)`), up to 200 000 characters per field (sets.domain.search).

Note for later migrations: on SQLite, `batch_alter_table("tickets" | "comments")` in
recreate mode drops these triggers with the old table; create them again afterwards.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LIMIT = 200_000  # sets.domain.search.INDEXED_CHARS


def _sqlite_comments(ticket: str) -> str:
    """The two comment columns of one ticket, recomputed from its live comments."""

    def joined(internal: int) -> str:
        return (
            f"coalesce((SELECT substr(group_concat(body, ' '), 1, {LIMIT}) FROM "
            f"(SELECT body FROM comments WHERE ticket_id = {ticket} AND internal = {internal} "
            f"AND deleted_at IS NULL ORDER BY id)), '')"
        )

    return (
        f"UPDATE ticket_fts SET public_text = {joined(0)}, internal_text = {joined(1)} "
        f"WHERE rowid = {ticket};"
    )


_SQLITE = [
    # Not contentless: FTS5 keeps its own copy, so triggers may simply UPDATE a row.
    """CREATE VIRTUAL TABLE ticket_fts USING fts5(
        title, description, public_text, internal_text,
        tokenize = 'unicode61 remove_diacritics 0', prefix = '3')""",
    f"""CREATE TRIGGER ticket_fts_ticket_insert AFTER INSERT ON tickets BEGIN
        INSERT INTO ticket_fts (rowid, title, description, public_text, internal_text)
        VALUES (NEW.id, substr(NEW.title, 1, {LIMIT}), substr(NEW.description, 1, {LIMIT}),
                '', '');
    END""",
    f"""CREATE TRIGGER ticket_fts_ticket_update AFTER UPDATE OF title, description ON tickets
    BEGIN
        UPDATE ticket_fts SET title = substr(NEW.title, 1, {LIMIT}),
            description = substr(NEW.description, 1, {LIMIT})
        WHERE rowid = NEW.id;
    END""",
    """CREATE TRIGGER ticket_fts_ticket_delete AFTER DELETE ON tickets BEGIN
        DELETE FROM ticket_fts WHERE rowid = OLD.id;
    END""",
    f"""CREATE TRIGGER ticket_fts_comment_insert AFTER INSERT ON comments BEGIN
        {_sqlite_comments("NEW.ticket_id")}
    END""",
    f"""CREATE TRIGGER ticket_fts_comment_update
    AFTER UPDATE OF body, internal, deleted_at, ticket_id ON comments BEGIN
        {_sqlite_comments("NEW.ticket_id")}
        {_sqlite_comments("OLD.ticket_id")}
    END""",
    f"""CREATE TRIGGER ticket_fts_comment_delete AFTER DELETE ON comments BEGIN
        {_sqlite_comments("OLD.ticket_id")}
    END""",
    f"""INSERT INTO ticket_fts (rowid, title, description, public_text, internal_text)
    SELECT id, substr(title, 1, {LIMIT}), substr(description, 1, {LIMIT}), '', ''
    FROM tickets""",
    _sqlite_comments("ticket_fts.rowid").rstrip(";"),
]

_SQLITE_DROP = [
    "DROP TRIGGER ticket_fts_comment_delete",
    "DROP TRIGGER ticket_fts_comment_update",
    "DROP TRIGGER ticket_fts_comment_insert",
    "DROP TRIGGER ticket_fts_ticket_delete",
    "DROP TRIGGER ticket_fts_ticket_update",
    "DROP TRIGGER ticket_fts_ticket_insert",
    "DROP TABLE ticket_fts",
]

_POSTGRES = [
    """CREATE TABLE ticket_search (
        ticket_id integer PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
        public_doc tsvector NOT NULL,
        staff_doc tsvector NOT NULL)""",
    "CREATE INDEX ix_ticket_search_public_doc ON ticket_search USING gin (public_doc)",
    "CREATE INDEX ix_ticket_search_staff_doc ON ticket_search USING gin (staff_doc)",
    # Words as FTS5's unicode61 sees them: runs of letters and digits, lower-cased. (\W|_)
    # rather than [^[:alnum:]]: text() would read ":alnum" as a bind parameter.
    f"""CREATE FUNCTION ticket_search_text(body text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT regexp_replace(lower(left(coalesce(body, ''), {LIMIT})), '(\\W|_)+', ' ', 'g')
    $$""",
    # Weights mark where a word came from: A title, B description, C public, D internal.
    """CREATE FUNCTION ticket_search_refresh(tid integer) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
        head tsvector;
        public_part tsvector;
        internal_part tsvector;
    BEGIN
        SELECT setweight(to_tsvector('simple', ticket_search_text(t.title)), 'A')
            || setweight(to_tsvector('simple', ticket_search_text(t.description)), 'B')
        INTO head FROM tickets t WHERE t.id = tid;
        IF NOT FOUND THEN
            DELETE FROM ticket_search WHERE ticket_id = tid;
            RETURN;
        END IF;
        SELECT setweight(to_tsvector('simple',
                   ticket_search_text(string_agg(c.body, ' ' ORDER BY c.id))), 'C')
        INTO public_part FROM comments c
        WHERE c.ticket_id = tid AND NOT c.internal AND c.deleted_at IS NULL;
        SELECT setweight(to_tsvector('simple',
                   ticket_search_text(string_agg(c.body, ' ' ORDER BY c.id))), 'D')
        INTO internal_part FROM comments c
        WHERE c.ticket_id = tid AND c.internal AND c.deleted_at IS NULL;
        INSERT INTO ticket_search (ticket_id, public_doc, staff_doc)
        VALUES (tid, head || public_part, head || public_part || internal_part)
        ON CONFLICT (ticket_id) DO UPDATE
            SET public_doc = EXCLUDED.public_doc, staff_doc = EXCLUDED.staff_doc;
    END $$""",
    """CREATE FUNCTION ticket_search_ticket_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM ticket_search_refresh(NEW.id);
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER ticket_search_ticket
    AFTER INSERT OR UPDATE OF title, description ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_search_ticket_changed()""",
    """CREATE FUNCTION ticket_search_comment_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'DELETE' THEN
            PERFORM ticket_search_refresh(NEW.ticket_id);
        END IF;
        IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.ticket_id <> NEW.ticket_id) THEN
            PERFORM ticket_search_refresh(OLD.ticket_id);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER ticket_search_comment
    AFTER INSERT OR DELETE OR UPDATE OF body, internal, deleted_at, ticket_id ON comments
    FOR EACH ROW EXECUTE FUNCTION ticket_search_comment_changed()""",
    "SELECT ticket_search_refresh(id) FROM tickets",
]

_POSTGRES_DROP = [
    "DROP TRIGGER ticket_search_comment ON comments",
    "DROP TRIGGER ticket_search_ticket ON tickets",
    "DROP FUNCTION ticket_search_comment_changed()",
    "DROP FUNCTION ticket_search_ticket_changed()",
    "DROP FUNCTION ticket_search_refresh(integer)",
    "DROP FUNCTION ticket_search_text(text)",
    "DROP TABLE ticket_search",
]


def upgrade() -> None:
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("search", sa.String(length=500), nullable=True),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("order_field", sa.String(length=32), nullable=True),
        sa.Column("order_direction", sa.String(length=4), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_saved_searches_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_saved_searches_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
    )
    with op.batch_alter_table("saved_searches") as batch_op:
        batch_op.create_index("ix_saved_searches_owner", ["owner_id"], unique=False)
        batch_op.create_index("ix_saved_searches_team", ["team_id"], unique=False)
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE if sqlite else _POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_DROP if sqlite else _POSTGRES_DROP:
        op.execute(statement)
    with op.batch_alter_table("saved_searches") as batch_op:
        batch_op.drop_index("ix_saved_searches_team")
        batch_op.drop_index("ix_saved_searches_owner")
    op.drop_table("saved_searches")
