"""Who sees and manages saved searches: one's own, plus views shared with one's teams."""

from __future__ import annotations

from sets.domain.actor import Actor
from sets.domain.enums import Role
from sets.domain.errors import Forbidden, NotFound

MAX_PER_USER = 100
NAME_MAX = 120
SEARCH_MAX = 500


def can_see(actor: Actor, *, owner_id: int, team_id: int | None) -> bool:
    if actor.user_id is not None and actor.user_id == owner_id:
        return True
    if team_id is None:
        return False
    return actor.is_admin or (actor.is_staff and team_id in actor.team_ids)


def ensure_can_share(actor: Actor, team_id: int) -> None:
    """Team views are curated by the team's managers (or an admin), not by every member."""
    if actor.is_admin:
        return
    if actor.role is Role.MANAGER and team_id in actor.team_ids:
        return
    raise Forbidden("only a manager of the team or an admin may share a view", field="teamId")


def ensure_can_delete(actor: Actor, *, owner_id: int, team_id: int | None) -> None:
    if not can_see(actor, owner_id=owner_id, team_id=team_id):
        raise NotFound("saved search not found", field="id")
    if actor.user_id == owner_id:
        return
    # can_see admits someone else's view only when it is shared with a team.
    if actor.is_admin or (actor.role is Role.MANAGER and team_id in actor.team_ids):
        return
    raise Forbidden("only its owner, a manager of the team or an admin may delete it", field="id")
