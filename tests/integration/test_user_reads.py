"""Websocket sign-ins and re-checks share their user reads (`services.auth.UserReads`): one
statement for everyone asking at the same moment, never a read that started before the
caller asked, so a revoked token is refused at once as with a request's own read."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

import sets.services.auth as auth_module
from sets.domain.errors import Unauthenticated
from sets.models import User
from tests.integration.support import PASSWORD, Demo


async def _token(demo: Demo, email: str) -> str:
    return (await demo.services.auth.login(email, PASSWORD)).access_token


async def test_callers_asking_together_share_one_statement_and_get_the_same_principals(
    demo: Demo,
) -> None:
    auth = demo.services.auth
    tokens = {
        email: await _token(demo, email)
        for email in ("agent@example.com", "vendor@example.com", "requester@example.com")
    }
    alone = {email: await auth.authenticate(token) for email, token in tokens.items()}
    before = auth.user_reads.statements
    shared = await asyncio.gather(
        *(auth.authenticate(token, shared=True) for token in tokens.values() for _ in range(10))
    )
    assert auth.user_reads.statements - before == 1
    for principal in shared:
        own = alone[principal.user.email]
        assert principal.actor == own.actor and principal.user.id == own.user.id
    # The callers of one read share one actor object.
    agents = [p for p in shared if p.user.email == "agent@example.com"]
    assert all(p.actor is agents[0].actor for p in agents)


async def test_a_read_already_running_is_not_reused_by_a_later_caller(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = demo.services.auth
    # The reads are plain read transactions, so the update below commits while one lingers.
    token = await _token(demo, "agent@example.com")
    read_done = asyncio.Event()
    release = asyncio.Event()
    real = auth_module._users_with_teams
    calls = 0

    async def slow_first(session: Any, user_ids: Any) -> Any:
        nonlocal calls
        calls += 1
        found = await real(session, user_ids)
        if calls == 1:  # the first read has its (still active) rows, and lingers
            read_done.set()
            await release.wait()
        return found

    monkeypatch.setattr(auth_module, "_users_with_teams", slow_first)
    early = asyncio.ensure_future(auth.authenticate(token, shared=True))
    await asyncio.wait_for(read_done.wait(), 5)
    async with demo.services.db.writer() as session, session.begin():
        await session.execute(
            update(User)
            .where(User.id == demo.agent.user_id)
            .values(active=False, token_version=User.token_version + 1)
        )
    late = asyncio.ensure_future(auth.authenticate(token, shared=True))
    await asyncio.sleep(0.05)
    release.set()
    assert (await early).user.id == demo.agent.user_id  # read before the change
    with pytest.raises(Unauthenticated, match="revoked"):
        await late  # asked after it: its own read, which sees it
    assert calls == 2


async def test_a_failed_read_fails_its_callers_and_the_next_read_works(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = demo.services.auth
    token = await _token(demo, "requester@example.com")
    real = auth_module._users_with_teams

    async def broken(session: Any, user_ids: Any) -> Any:
        raise OSError("database away")

    monkeypatch.setattr(auth_module, "_users_with_teams", broken)
    results = await asyncio.gather(
        *(auth.authenticate(token, shared=True) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, OSError) for r in results)
    monkeypatch.setattr(auth_module, "_users_with_teams", real)
    assert (await auth.authenticate(token, shared=True)).user.id == demo.rita.user_id


async def test_a_remembered_signature_still_meets_the_clock_and_revocation(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = demo.services.auth
    token = await _token(demo, "agent@example.com")
    decodes = 0
    real = auth_module.jwt.decode

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal decodes
        decodes += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(auth_module.jwt, "decode", counting)
    for _ in range(3):  # a connection's re-checks verify the signature once
        assert (await auth.authenticate(token, shared=True)).user.id == demo.agent.user_id
    assert decodes == 1
    with pytest.raises(Unauthenticated, match="not valid"):  # tampered: never remembered
        await auth.authenticate(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), shared=True)
    async with demo.services.db.writer() as session, session.begin():
        await session.execute(
            update(User)
            .where(User.id == demo.agent.user_id)
            .values(token_version=User.token_version + 1)
        )
    with pytest.raises(Unauthenticated, match="revoked"):
        await auth.authenticate(token, shared=True)
    fresh = await _token(demo, "agent@example.com")
    assert (await auth.authenticate(fresh, shared=True)).user.id == demo.agent.user_id
    demo.services.clock.advance(timedelta(minutes=16))  # past the 15-minute access lifetime
    with pytest.raises(Unauthenticated, match="expired"):
        await auth.authenticate(fresh, shared=True)
