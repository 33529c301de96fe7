"""Small test helpers shared by integration and API tests."""

from __future__ import annotations

from sets.domain.actor import Actor
from sets.repositories.users import UserRepository
from sets.services.auth import actor_for
from sets.services.container import Services


async def actor_of(services: Services, email: str) -> Actor:
    """The actor for a demo user, built the way an authenticated request builds it."""
    async with services.db.reader() as session:
        users = UserRepository(session)
        user = await users.by_email(email)
        assert user is not None, email
        found = await users.with_teams(user.id)
    assert found is not None
    return actor_for(*found)
