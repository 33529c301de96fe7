"""Login, token issue/rotation and request authentication (SPEC §11)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
import pyotp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sets.domain import throttle
from sets.domain.actor import Actor
from sets.domain.clock import Clock
from sets.domain.errors import Unauthenticated
from sets.models import RefreshToken, Team, TeamMembership, User
from sets.repositories.users import UserRepository
from sets.services.passwords import verify_password

ALGORITHM = "HS256"
# Access tokens whose signature was verified, kept for websocket re-checks (oldest dropped).
VERIFIED_TOKENS = 10_000


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    user: User


@dataclass(frozen=True)
class Principal:
    """An authenticated request: the user row and the actor the rules look at."""

    user: User
    actor: Actor


def actor_for(user: User, teams: list[tuple[int, bool]]) -> Actor:
    return Actor(
        user_id=user.id,
        role=user.role,
        team_ids=frozenset(t for t, _ in teams),
        external_team_ids=frozenset(t for t, external in teams if external),
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class UserRead:
    """A user row with their teams, or None for no such user. The actor is built once per
    read, so every connection authenticated by the same read shares it."""

    user: User | None
    actor: Actor | None


class UserReads:
    """Fresh reads of users with their teams, shared by callers that ask at about the same
    time: for websocket connections, which arrive in bursts (thousands of subscribers
    reconnecting at once) and are re-checked periodically.

    Every caller gets a read that *starts after it asked*, so nothing is served from a
    cache: a revoked token is refused at once, exactly as by a request's own read. Callers
    that ask while a read is running wait for the next one, which reads all their users with
    one statement; so a burst costs a statement per round trip, not one per connection."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._next: dict[int, asyncio.Future[UserRead]] | None = None
        self._running: asyncio.Task[None] | None = None
        self.statements = 0  # for tests and diagnostics

    async def get(self, user_id: int) -> UserRead:
        if self._next is None:
            self._next = {}
            if self._running is None:
                asyncio.get_running_loop().call_soon(self._start)
        future = self._next.get(user_id)
        if future is None:
            future = self._next[user_id] = asyncio.get_running_loop().create_future()
        # Shielded: one caller going away must not cancel the others' read.
        return await asyncio.shield(future)

    def _start(self) -> None:
        batch, self._next = self._next, None
        if not batch:
            return
        self._running = asyncio.ensure_future(self._read(batch))

    async def _read(self, batch: dict[int, asyncio.Future[UserRead]]) -> None:
        try:
            self.statements += 1
            async with self._sessions() as session:
                found = await _users_with_teams(session, list(batch))
        except Exception as exc:
            for future in batch.values():
                if not future.done():
                    future.set_exception(exc)
                    future.exception()  # retrieved: each waiter re-raises it itself
        except BaseException:  # cancelled: the process is stopping
            for future in batch.values():
                future.cancel()
            raise
        else:
            for user_id, future in batch.items():
                user, teams = found.get(user_id, (None, []))
                if not future.done():
                    future.set_result(UserRead(user, actor_for(user, teams) if user else None))
        finally:
            self._running = None
            if self._next:  # asked while this read ran: their read starts now
                asyncio.get_running_loop().call_soon(self._start)


async def _users_with_teams(
    session: AsyncSession, user_ids: Sequence[int]
) -> dict[int, tuple[User, list[tuple[int, bool]]]]:
    """`UserRepository.with_teams` for many users, in one statement."""
    rows = (
        await session.execute(
            select(User, Team.id, Team.external)
            .outerjoin(TeamMembership, TeamMembership.user_id == User.id)
            .outerjoin(Team, (Team.id == TeamMembership.team_id) & Team.deleted_at.is_(None))
            .where(User.id.in_(set(user_ids)))
        )
    ).all()
    found: dict[int, tuple[User, list[tuple[int, bool]]]] = {}
    for user, team_id, external in rows:
        teams = found.setdefault(user.id, (user, []))[1]
        if team_id is not None:
            teams.append((team_id, external))
    return found


class AuthService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        secret: str,
        access_minutes: int,
        refresh_days: int,
        reads: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self._sessions = sessions
        # Authentication only reads: on SQLite a writer session would take the write lock.
        self._reads = reads or sessions
        self._clock = clock
        self._secret = secret
        self._access = timedelta(minutes=access_minutes)
        self._refresh = timedelta(days=refresh_days)
        self.user_reads = UserReads(self._reads)
        self._verified: dict[str, dict[str, Any]] = {}

    def issue_access_token(self, user: User) -> str:
        now = self._clock.now()
        claims = {
            "sub": str(user.id),
            "ver": user.token_version,
            "typ": "access",
            "iat": int(now.timestamp()),
            "exp": int((now + self._access).timestamp()),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    async def login(self, email: str, password: str, otp: str | None = None) -> TokenPair:
        now = self._clock.now()
        failure: Unauthenticated | None = None
        async with self._sessions() as session, session.begin():
            user = await UserRepository(session).by_email(email.strip())
            if user is not None and throttle.is_locked(user.locked_until, now):
                raise Unauthenticated(
                    "too many failed sign-ins: this account is locked for a few minutes",
                    field="email",
                )
            failure, step = self._check_credentials(user, password, otp, now)
            if failure is None and step is not None:
                assert user is not None
                if not await UserRepository(session).claim_otp_step(user.id, step):
                    failure = Unauthenticated("this one-time code was already used", field="otp")
            if failure is not None:
                if user is not None:
                    user.failed_logins, user.locked_until = throttle.after_failure(
                        user.failed_logins, now
                    )
            else:
                assert user is not None
                user.failed_logins = 0
                refresh = self._new_refresh(session, user, family=str(uuid.uuid4()))
        # Raised after the commit, so the failure is counted.
        if failure is not None:
            raise failure
        assert user is not None
        return TokenPair(self.issue_access_token(user), refresh, user)

    def _check_credentials(
        self, user: User | None, password: str, otp: str | None, now: datetime
    ) -> tuple[Unauthenticated | None, int | None]:
        """The failure, if any, and the TOTP time step the code matched (None without TOTP)."""
        # Same message whatever failed, so the answer does not reveal which emails exist.
        if not verify_password(user.password_hash if user else None, password):
            return Unauthenticated("wrong email or password", field="password"), None
        assert user is not None
        if not user.active:
            return Unauthenticated("wrong email or password", field="password"), None
        if not user.otp_secret:
            return None, None
        if not otp:
            return Unauthenticated("a one-time code is required", field="otp"), None
        step = _totp_step(user.otp_secret, otp.strip(), now)
        if step is None:
            return Unauthenticated("the one-time code is not valid", field="otp"), None
        return None, step

    def _new_refresh(self, session: AsyncSession, user: User, *, family: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        session.add(
            RefreshToken(
                user_id=user.id,
                family=family,
                token_hash=_digest(token),
                created_at=now,
                expires_at=now + self._refresh,
            )
        )
        return token

    async def refresh(self, token: str) -> TokenPair:
        """Rotate a refresh token; presenting a used one revokes its whole family."""
        now = self._clock.now()
        reuse_detected = False
        async with self._sessions() as session, session.begin():
            row = await session.scalar(
                select(RefreshToken)
                .where(RefreshToken.token_hash == _digest(token))
                .with_for_update()
            )
            if row is None or row.revoked_at is not None or row.expires_at <= now:
                raise Unauthenticated("the refresh token is not valid", field="refreshToken")
            if row.used_at is not None:
                await session.execute(
                    update(RefreshToken)
                    .where(RefreshToken.family == row.family, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
                reuse_detected = True
            else:
                user = await session.get(User, row.user_id)
                if user is None or not user.active:
                    raise Unauthenticated("the refresh token is not valid", field="refreshToken")
                row.used_at = now
                new_token = self._new_refresh(session, user, family=row.family)
        if reuse_detected or user is None:
            raise Unauthenticated(
                "this refresh token was already used; all sessions from that login are revoked",
                field="refreshToken",
            )
        return TokenPair(self.issue_access_token(user), new_token, user)

    async def authenticate(self, token: str, *, shared: bool = False) -> Principal:
        """The principal of a valid access token, or Unauthenticated. The user is read after
        this call either way; `shared` lets the read serve other callers asking at the same
        time (websocket connects and re-checks, see `UserReads`)."""
        claims = self._verified.get(token) if shared else None
        if claims is None:
            try:
                claims = jwt.decode(
                    token,
                    self._secret,
                    algorithms=[ALGORITHM],
                    # Expiry is checked below against the injected clock, not the wall clock.
                    options={
                        "require": ["exp", "sub", "ver"],
                        "verify_exp": False,
                        "verify_iat": False,
                    },
                )
            except jwt.PyJWTError as exc:
                raise Unauthenticated("the access token is not valid") from exc
            if shared:
                # A token's signature is checked once: its connections' re-checks (and the
                # other connections of one client) only need the user and the clock.
                self._verified[token] = claims
                while len(self._verified) > VERIFIED_TOKENS:
                    self._verified.pop(next(iter(self._verified)))
        if claims.get("typ") != "access" or not str(claims["sub"]).isdigit():
            raise Unauthenticated("the access token is not valid")
        if claims["exp"] <= self._clock.now().timestamp():
            raise Unauthenticated("the access token has expired")
        user_id = int(claims["sub"])
        if shared:
            read = await self.user_reads.get(user_id)
            if read.user is None or read.actor is None:
                raise Unauthenticated("the access token is not valid")
            user, actor = read.user, read.actor
        else:
            async with self._reads() as session:
                found = await UserRepository(session).with_teams(user_id)
            if found is None:
                raise Unauthenticated("the access token is not valid")
            user, actor = found[0], actor_for(*found)
        # token_version moves on deactivation and password change: old tokens die at once.
        if not user.active or user.token_version != claims["ver"]:
            raise Unauthenticated("the access token has been revoked")
        return Principal(user, actor)


async def revoke_refresh_tokens(session: AsyncSession, user_id: int, clock: Clock) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step (now, or one either side for clock drift) whose code is `code`."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None
