"""Statements the hot read paths run on every request, built once.

SQLAlchemy finds a compiled statement in its cache by a key it computes by walking the
statement; a statement object remembers its key, so reusing one object (values bound as
parameters) skips both building the expression and walking it."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Select, bindparam, select


@functools.cache
def by_ids(entity: Any) -> Select[Any]:
    """`entity` rows whose id is in the expanding parameter `ids`."""
    return select(entity).where(entity.id.in_(bindparam("ids", expanding=True)))
