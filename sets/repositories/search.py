"""Full-text search SQL for both databases (rules and word splitting: sets.domain.search).

SQLite: the FTS5 table `ticket_fts` (rowid = ticket id; columns title, description,
public_text, internal_text). PostgreSQL: `ticket_search` with `public_doc` and `staff_doc`
tsvectors whose weights say where a word came from (A title, B description, C public
comments, D internal notes). Migration 0003 creates both and the triggers that keep them
current. Each match below is "tickets.id IN (ids whose indexed text matches)", compiled per
dialect, so the callers stay dialect-agnostic and the index does the matching.

Requesters are matched against the public columns only (an FTS5 column filter; the public
document), so an internal note's words can neither find nor rank their tickets.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Select,
    case,
    false,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import table
from sqlalchemy.sql.compiler import SQLCompiler

from sets.domain.search import (
    COMMENT_WEIGHT,
    DESCRIPTION_WEIGHT,
    ID_WEIGHT,
    TITLE_WEIGHT,
    SearchTerms,
    matches_prefix,
)
from sets.models import Ticket

FTS5_TABLE = "ticket_fts"
TSVECTOR_TABLE = "ticket_search"
_PUBLIC_COLUMNS = "{title description public_text}"


def is_search_index(table_name: str) -> bool:
    """Tables the migration keeps outside the models (FTS5 adds its shadow tables)."""
    return table_name in (FTS5_TABLE, TSVECTOR_TABLE) or table_name.startswith(f"{FTS5_TABLE}_")


class _TextHit(ColumnElement[bool]):
    """`tickets.id IN (…)`: the tickets whose index matches, as FTS5 or tsquery syntax."""

    inherit_cache = False  # rendered per dialect from plain strings: not worth a cache key
    type = Boolean()

    def __init__(self, *, fts5: str, tsquery: str, document: str) -> None:
        self.fts5 = fts5
        self.tsquery = tsquery
        self.document = document


@compiles(_TextHit, "sqlite")
def _hit_on_sqlite(element: _TextHit, compiler: SQLCompiler, **kw: Any) -> str:
    match = literal_column(FTS5_TABLE).op("MATCH")(literal(element.fts5))
    ids: Select[Any] = select(literal_column("rowid")).select_from(table(FTS5_TABLE)).where(match)
    return compiler.process(Ticket.id.in_(ids), **kw)


@compiles(_TextHit, "postgresql")
def _hit_on_postgresql(element: _TextHit, compiler: SQLCompiler, **kw: Any) -> str:
    tsquery = func.to_tsquery(literal_column("'simple'::regconfig"), literal(element.tsquery))
    match = literal_column(element.document).op("@@")(tsquery)
    ids: Select[Any] = (
        select(literal_column("ticket_id")).select_from(table(TSVECTOR_TABLE)).where(match)
    )
    return compiler.process(Ticket.id.in_(ids), **kw)


@compiles(_TextHit)
def _hit_elsewhere(element: _TextHit, compiler: SQLCompiler, **kw: Any) -> str:
    raise NotImplementedError(f"search needs SQLite or PostgreSQL, not {compiler.dialect.name}")


# Words hold letters and digits only (sets.domain.search.words_of): safe inside quotes.
def _fts5(word: str) -> str:
    return f'"{word}"*' if matches_prefix(word) else f'"{word}"'


def _tsquery(word: str, weight: str = "") -> str:
    marks = ("*" if matches_prefix(word) else "") + weight
    return f"'{word}':{marks}" if marks else f"'{word}'"


def _all_words(words: tuple[str, ...], *, staff: bool) -> _TextHit:
    """Every word, each anywhere the caller may read."""
    phrases = " AND ".join(_fts5(w) for w in words)
    return _TextHit(
        fts5=phrases if staff else f"{_PUBLIC_COLUMNS} : ({phrases})",
        tsquery=" & ".join(_tsquery(w) for w in words),
        document="staff_doc" if staff else "public_doc",
    )


def _word_in(word: str, column: str, weight: str) -> _TextHit:
    return _TextHit(
        fts5=f"{{{column}}} : {_fts5(word)}",
        tsquery=_tsquery(word, weight),
        document="public_doc",
    )


def search_clause(terms: SearchTerms, *, staff: bool) -> ColumnElement[bool]:
    """The tickets a search finds (visibility and filters are the caller's)."""
    if terms.empty:
        return false()
    if terms.only_id:
        return Ticket.id == terms.ticket_id
    hit = _all_words(terms.words, staff=staff)
    return hit if terms.ticket_id is None else (Ticket.id == terms.ticket_id) | hit


def relevance(terms: SearchTerms) -> ColumnElement[int]:
    """An integer score, the same on both databases and independent of the rest of the
    corpus (so a keyset cursor over (score, id) stays valid): per word, 3 if it is in the
    title, else 2 if in the description, else 1 (it matched a comment); plus 100 for the
    ticket whose number was typed. Only the public title and description are consulted, so
    the score reveals nothing of internal notes."""
    parts: list[ColumnElement[int]] = [
        case(
            (_word_in(w, "title", "A"), TITLE_WEIGHT),
            (_word_in(w, "description", "B"), DESCRIPTION_WEIGHT),
            else_=COMMENT_WEIGHT,
        )
        for w in terms.words
    ]
    if terms.ticket_id is not None:
        parts.append(case((Ticket.id == terms.ticket_id, ID_WEIGHT), else_=0))
    if not parts:
        return literal(0, Integer)
    return reduce(lambda a, b: a + b, parts)
