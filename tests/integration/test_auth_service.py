"""Login, access tokens, refresh rotation and revocation (SPEC §11)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import jwt
import pyotp
from sqlalchemy import update

from sets.config import Settings
from sets.domain.clock import FixedClock
from sets.domain.enums import Role
from sets.domain.errors import DomainError, ErrorCode
from sets.models import User
from sets.services.auth import ALGORITHM, TokenPair
from sets.services.container import Services
from tests.integration.support import PASSWORD, Demo, raises_domain

AGENT = "agent@example.com"


async def _login(demo: Demo, email: str = AGENT, password: str = PASSWORD) -> TokenPair:
    return await demo.services.auth.login(email, password)


async def test_login_and_authenticate(demo: Demo) -> None:
    auth = demo.services.auth
    pair = await auth.login("  Agent@Example.COM ", PASSWORD)
    assert pair.user.email == AGENT
    assert pair.access_token and pair.refresh_token
    principal = await auth.authenticate(pair.access_token)
    assert principal.user.id == demo.agent.user_id
    assert principal.actor == demo.agent
    assert principal.actor.role is Role.AGENT
    assert principal.actor.team_ids == frozenset({demo.desk})

    vendor = await auth.authenticate((await _login(demo, "vendor@example.com")).access_token)
    assert vendor.actor.is_external_only
    assert vendor.actor.external_team_ids == frozenset({demo.teams["Vendor IT"]})


async def test_wrong_password_and_unknown_email_look_the_same(demo: Demo) -> None:
    auth = demo.services.auth
    with raises_domain(ErrorCode.UNAUTHENTICATED, "password") as wrong:
        await auth.login(AGENT, "not-the-password")
    with raises_domain(ErrorCode.UNAUTHENTICATED, "password") as unknown:
        await auth.login("nobody@example.com", PASSWORD)
    with raises_domain(ErrorCode.UNAUTHENTICATED, "password") as empty:
        await auth.login(AGENT, "")
    assert wrong.value.message == unknown.value.message == empty.value.message


async def test_access_token_expires_by_the_injected_clock(
    demo: Demo, clock: FixedClock, settings: Settings
) -> None:
    auth = demo.services.auth
    pair = await _login(demo)
    lifetime = timedelta(minutes=settings.access_token_minutes)
    clock.advance(lifetime - timedelta(seconds=1))
    assert (await auth.authenticate(pair.access_token)).user.id == demo.agent.user_id
    clock.advance(timedelta(seconds=1))
    with raises_domain(ErrorCode.UNAUTHENTICATED):
        await auth.authenticate(pair.access_token)


async def test_forged_and_malformed_tokens_are_refused(demo: Demo, settings: Settings) -> None:
    auth = demo.services.auth
    pair = await _login(demo)
    claims = jwt.decode(
        pair.access_token,
        settings.jwt_secret,
        algorithms=[ALGORITHM],
        options={"verify_exp": False},
    )
    forged = jwt.encode(claims, "another-secret-0123456789abcdef0123456789", algorithm=ALGORITHM)
    as_admin = jwt.encode({**claims, "sub": str(demo.admin.user_id)}, "x" * 40, algorithm=ALGORITHM)
    wrong_type = jwt.encode({**claims, "typ": "refresh"}, settings.jwt_secret, algorithm=ALGORITHM)
    unknown_user = jwt.encode({**claims, "sub": "987654"}, settings.jwt_secret, algorithm=ALGORITHM)
    unsigned = jwt.encode(claims, None, algorithm="none")
    for token in (
        forged,
        as_admin,
        wrong_type,
        unknown_user,
        unsigned,
        pair.refresh_token,
        "",
        "not.a.jwt",
        pair.access_token[:-2],
    ):
        with raises_domain(ErrorCode.UNAUTHENTICATED):
            await auth.authenticate(token)


async def test_refresh_rotates_and_reuse_revokes_the_family(demo: Demo, clock: FixedClock) -> None:
    auth = demo.services.auth
    first = await _login(demo)
    other_login = await _login(demo)

    second = await auth.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert (await auth.authenticate(second.access_token)).user.id == demo.agent.user_id
    third = await auth.refresh(second.refresh_token)

    # The stolen (already used) first token is presented again: the whole chain dies.
    with raises_domain(ErrorCode.UNAUTHENTICATED, "refreshToken"):
        await auth.refresh(first.refresh_token)
    with raises_domain(ErrorCode.UNAUTHENTICATED, "refreshToken"):
        await auth.refresh(third.refresh_token)
    with raises_domain(ErrorCode.UNAUTHENTICATED, "refreshToken"):
        await auth.refresh(first.refresh_token)

    # Another login of the same user is another family and keeps working.
    fourth = await auth.refresh(other_login.refresh_token)
    assert (await auth.authenticate(fourth.access_token)).user.id == demo.agent.user_id


async def test_unknown_and_expired_refresh_tokens(demo: Demo, clock: FixedClock) -> None:
    auth = demo.services.auth
    with raises_domain(ErrorCode.UNAUTHENTICATED, "refreshToken"):
        await auth.refresh("no-such-token")
    pair = await _login(demo)
    days = demo.services.settings.refresh_token_days
    clock.advance(timedelta(days=days))
    with raises_domain(ErrorCode.UNAUTHENTICATED, "refreshToken"):
        await auth.refresh(pair.refresh_token)


async def test_deactivation_revokes_tokens_at_once(demo: Demo) -> None:
    auth, admin = demo.services.auth, demo.services.admin
    pair = await _login(demo)
    agent_id = demo.agent.user_id or 0
    await admin.update_user(demo.admin, agent_id, active=False)

    with raises_domain(ErrorCode.UNAUTHENTICATED):
        await auth.authenticate(pair.access_token)
    with raises_domain(ErrorCode.UNAUTHENTICATED, "refreshToken"):
        await auth.refresh(pair.refresh_token)
    with raises_domain(ErrorCode.UNAUTHENTICATED, "password") as refused:
        await _login(demo)
    # Same answer as a wrong password: no hint that the account exists but is disabled.
    assert refused.value.message == "wrong email or password"

    # Reactivation lets the user log in again, but old tokens stay dead.
    await admin.update_user(demo.admin, agent_id, active=True)
    with raises_domain(ErrorCode.UNAUTHENTICATED):
        await auth.authenticate(pair.access_token)
    with raises_domain(ErrorCode.UNAUTHENTICATED):
        await auth.refresh(pair.refresh_token)
    fresh = await _login(demo)
    assert (await auth.authenticate(fresh.access_token)).user.id == agent_id


async def test_password_change_revokes_tokens(demo: Demo) -> None:
    auth, admin = demo.services.auth, demo.services.admin
    pair = await _login(demo)
    unaffected = await _login(demo, "manager@example.com")
    await admin.update_user(demo.admin, demo.agent.user_id or 0, password="a-new-password-42")

    with raises_domain(ErrorCode.UNAUTHENTICATED):
        await auth.authenticate(pair.access_token)
    with raises_domain(ErrorCode.UNAUTHENTICATED):
        await auth.refresh(pair.refresh_token)
    with raises_domain(ErrorCode.UNAUTHENTICATED):
        await _login(demo)
    fresh = await _login(demo, password="a-new-password-42")
    assert (await auth.authenticate(fresh.access_token)).user.id == demo.agent.user_id
    # Other users' sessions are untouched.
    assert (await auth.authenticate(unaffected.access_token)).user.email == "manager@example.com"
    await auth.refresh(unaffected.refresh_token)


async def test_role_change_revokes_tokens_and_new_token_carries_new_role(demo: Demo) -> None:
    auth = demo.services.auth
    pair = await _login(demo)
    await demo.services.admin.update_user(demo.admin, demo.agent.user_id or 0, role=Role.MANAGER)
    with raises_domain(ErrorCode.UNAUTHENTICATED):
        await auth.authenticate(pair.access_token)
    fresh = await _login(demo)
    assert (await auth.authenticate(fresh.access_token)).actor.role is Role.MANAGER


async def test_renaming_does_not_revoke_tokens(demo: Demo) -> None:
    auth = demo.services.auth
    pair = await _login(demo)
    await demo.services.admin.update_user(demo.admin, demo.agent.user_id or 0, name="Alex A.")
    assert (await auth.authenticate(pair.access_token)).user.name == "Alex A."
    await auth.refresh(pair.refresh_token)


async def _enrol_totp(services: Services, email: str) -> str:
    """The admin API has no TOTP enrolment yet, so the secret is written directly."""
    secret = pyotp.random_base32()
    async with services.db.writer() as session, session.begin():
        await session.execute(update(User).where(User.email == email).values(otp_secret=secret))
    return secret


async def test_totp_is_required_once_enrolled(demo: Demo, clock: FixedClock) -> None:
    auth = demo.services.auth
    secret = await _enrol_totp(demo.services, AGENT)
    totp = pyotp.TOTP(secret)
    now = clock.now()

    with raises_domain(ErrorCode.UNAUTHENTICATED, "otp"):
        await auth.login(AGENT, PASSWORD)
    code = totp.at(now)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with raises_domain(ErrorCode.UNAUTHENTICATED, "otp"):
        await auth.login(AGENT, PASSWORD, otp=wrong)
    # A code from long ago is not valid now.
    with raises_domain(ErrorCode.UNAUTHENTICATED, "otp"):
        await auth.login(AGENT, PASSWORD, otp=totp.at(now - timedelta(minutes=10)))
    # The password is checked first, so a code does not help a wrong password.
    with raises_domain(ErrorCode.UNAUTHENTICATED, "password"):
        await auth.login(AGENT, "wrong-password", otp=code)

    # The previous 30-second step is still accepted (clock drift) ...
    await auth.login(AGENT, PASSWORD, otp=totp.at(now - timedelta(seconds=30)))
    pair = await auth.login(AGENT, PASSWORD, otp=code)
    assert (await auth.authenticate(pair.access_token)).user.id == demo.agent.user_id
    # ... but each code works once, and after it none from an earlier step.
    with raises_domain(ErrorCode.UNAUTHENTICATED, "otp"):
        await auth.login(AGENT, PASSWORD, otp=code)
    with raises_domain(ErrorCode.UNAUTHENTICATED, "otp"):
        await auth.login(AGENT, PASSWORD, otp=totp.at(now - timedelta(seconds=30)))
    # The next step's code is new, so it works (wrong codes before it did not lock: 4 < 5).
    clock.advance(timedelta(seconds=30))
    await auth.login(AGENT, PASSWORD, otp=totp.at(clock.now()))
    # Users without TOTP are unaffected.
    await auth.login("manager@example.com", PASSWORD)


async def test_two_sign_ins_racing_with_one_code_let_only_one_in(
    demo: Demo, clock: FixedClock
) -> None:
    auth = demo.services.auth
    code = pyotp.TOTP(await _enrol_totp(demo.services, AGENT)).at(clock.now())
    results = await asyncio.gather(
        *(auth.login(AGENT, PASSWORD, otp=code) for _ in range(2)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1, results
    refused = [r for r in results if isinstance(r, BaseException)]
    assert isinstance(refused[0], DomainError) and refused[0].field == "otp"


async def test_nul_in_login_email_is_refused_not_a_crash(demo: Demo) -> None:
    with raises_domain(ErrorCode.UNAUTHENTICATED):
        await demo.services.auth.login("agent\x00@example.com", PASSWORD)


async def test_team_changes_apply_to_existing_tokens(demo: Demo) -> None:
    """Memberships are read per request, so a token does not freeze someone's teams."""
    auth, admin = demo.services.auth, demo.services.admin
    pair = await _login(demo)
    agent_id = demo.agent.user_id or 0
    await admin.set_membership(demo.admin, team_id=demo.desk, user_id=agent_id, member=False)
    assert (await auth.authenticate(pair.access_token)).actor.team_ids == frozenset()
    vendor_team = demo.teams["Vendor IT"]
    await admin.set_membership(demo.admin, team_id=vendor_team, user_id=agent_id, member=True)
    actor = (await auth.authenticate(pair.access_token)).actor
    assert actor.team_ids == frozenset({vendor_team})
    assert actor.is_external_only
