"""Fixtures for service-layer integration tests: cheap password hashing and the demo data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from sets.services import passwords
from sets.services.container import Services
from sets.services.demo import load_demo
from tests.helpers import actor_of
from tests.integration.support import Demo


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Still argon2id, but with the cheapest parameters for users these tests create (the demo
    users come hashed from the template database; verifying reads the cost from the hash)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("not-a-real-password"))
    yield


@pytest.fixture
async def demo(services: Services) -> Demo:
    await load_demo(services)  # a no-op on the demo template; kept for an empty database
    teams = {t.name: t.id for t in await services.reads.teams()}
    categories = {c.name: c.id for c in await services.reads.categories()}
    return Demo(
        services=services,
        admin=await actor_of(services, "admin@example.com"),
        manager=await actor_of(services, "manager@example.com"),
        agent=await actor_of(services, "agent@example.com"),
        senior=await actor_of(services, "senior@example.com"),
        vendor=await actor_of(services, "vendor@example.com"),
        rita=await actor_of(services, "requester@example.com"),
        carl=await actor_of(services, "clinic@example.com"),
        teams=teams,
        categories=categories,
    )
