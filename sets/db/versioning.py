"""A ticket's `version` goes up by exactly one per transaction that changes it.

SQLAlchemy's own version counter bumps on every flush, and a mutation that queries after
changing the ticket (autoflush) flushes it twice; clients holding `expectedVersion` would see
the version jump by two for one change. Here the version is set by hand (the mapper has
`version_id_generator=False`), once per ticket per transaction, just before its first flush;
the UPDATE still carries `WHERE version = <as loaded>`, so lost updates are still refused."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from sets.models import Ticket

_BUMPED = "sets_versions_bumped"


@event.listens_for(Session, "before_flush")
def _bump_changed_tickets(session: Session, _context: Any, _instances: Any) -> None:
    bumped: set[int] = session.info.setdefault(_BUMPED, set())
    # A ticket created in this transaction starts at its default version (1) and stays there.
    bumped.update(id(obj) for obj in session.new if isinstance(obj, Ticket))
    for obj in session.dirty:
        if (
            isinstance(obj, Ticket)
            and id(obj) not in bumped
            and session.is_modified(obj, include_collections=False)
        ):
            obj.version = obj.version + 1
            bumped.add(id(obj))


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_BUMPED, None)
