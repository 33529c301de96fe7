"""Live updates over websockets (SPEC §8): who may connect, what each event shows them.

Translation only, as elsewhere in the schema: the connection is authenticated by the auth
service; every delivered row comes from a ReadService call made as the subscriber, so the
rules that decide a query decide each event; the replay/live seam is `realtime.feed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import jwt
import strawberry
from graphql.error import GraphQLError
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from sets.domain import permissions
from sets.domain.enums import TicketStatus
from sets.domain.errors import DomainError, NotFound, Unauthenticated, ValidationFailed
from sets.models import Notification as NotificationRow
from sets.models import Ticket as TicketRow
from sets.models import TicketEvent as EventRow
from sets.realtime import notifications_topic
from sets.realtime.bus import SubscriptionClosed
from sets.realtime.feed import FeedSource, live_feed
from sets.repositories.tickets import EventQuery
from sets.schema.context import Context, Info, bearer_token
from sets.schema.errors import coded_error
from sets.schema.ids import decode_cursor, from_global_id, ticket_pk, to_global_id
from sets.schema.live_frames import EventShare, remember_request
from sets.schema.loaders import Loaders
from sets.schema.notifications import Notification
from sets.schema.types import Ticket, TicketEvent
from sets.services.auth import Principal
from sets.services.uow import TICKET_EVENTS_TOPIC

R = TypeVar("R")
log = logging.getLogger("sets.realtime")

# 1013 "try again later": the client should reconnect and resume with `after`.
SLOW_CONSUMER_CLOSE = 1013
# Operations one websocket may run at once (a board needs a handful, not thousands).
MAX_SUBSCRIPTIONS_PER_CONNECTION = 50


class _LoaderScope:
    __slots__ = ("loaders",)

    def __init__(self) -> None:
        self.loaders: Loaders | None = None


_scope: ContextVar[_LoaderScope | None] = ContextVar("sets_loader_scope", default=None)


def fresh_loaders() -> None:
    """Start a new DataLoader scope in the current task: one per websocket operation and one
    per delivered subscription event, so nothing is served from a stale cache."""
    _scope.set(_LoaderScope())


@dataclass
class SocketContext(Context):
    """The context of one websocket connection. Strawberry builds it once per connection,
    so it must not cache DataLoaders itself: they live in a task-local scope instead."""

    websocket: WebSocket | None = field(default=None, repr=False)
    connection_params: dict[str, Any] | None = None
    expires_at: datetime | None = None
    # When (time.monotonic) the token is next checked with the auth service.
    recheck_at: float = 0.0
    _closing: bool = False

    @property
    def loaders(self) -> Loaders:
        scope = _scope.get()
        if scope is None:
            scope = _LoaderScope()
            _scope.set(scope)
        if scope.loaders is None:
            if self._principal is None:
                raise RuntimeError("loaders are built for an authenticated caller")
            scope.loaders = Loaders(self.services.reads, self._principal.actor)
        return scope.loaders

    def _recheck_interval(self) -> float:
        return max(self.services.settings.ws_recheck_seconds, 0.05)

    async def sign_in(self, token: str) -> Principal:
        """connection_init: authenticate `token` with a read of the user that starts now,
        shared with the other connections signing in at the same moment (`UserReads`)."""
        self.set_token(token)
        principal = await self.services.auth.authenticate(token, shared=True)
        self._principal = principal
        self.expires_at = token_expiry(token)
        self.recheck_at = time.monotonic() + self._recheck_interval()
        return principal

    async def still_allowed(self) -> float:
        """Raise UNAUTHENTICATED once the token has expired (by the service clock) or been
        revoked (re-checked every `ws_recheck_seconds`); else how long to wait at most
        before asking again."""
        interval = self._recheck_interval()
        now = self.services.clock.now()
        if self.expires_at is not None and now >= self.expires_at:
            raise _unauthenticated("the access token has expired: reconnect with a fresh one")
        if self.token is not None and time.monotonic() >= self.recheck_at:
            try:
                self._principal = await self.services.auth.authenticate(self.token, shared=True)
            except Unauthenticated as exc:
                raise _unauthenticated(exc.message) from exc
            self.recheck_at = time.monotonic() + interval
        wait = min(interval, self.recheck_at - time.monotonic())
        if self.expires_at is not None:
            wait = min(wait, (self.expires_at - now).total_seconds())
        return max(0.05, wait)

    async def close(self, code: int, reason: str) -> None:
        if self._closing or self.websocket is None:
            return
        self._closing = True
        with contextlib.suppress(Exception):  # already gone: nothing left to tell
            await self.websocket.close(code=code, reason=reason[:120])


class LoaderScopes(SchemaExtension):
    """Each websocket operation starts with fresh DataLoaders (see SocketContext), and
    subscriptions are refused anywhere but on a websocket."""

    def on_operation(self) -> Iterator[None]:
        if isinstance(self.execution_context.context, SocketContext):
            fresh_loaders()
            remember_request(self.execution_context)
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.operation_type is OperationType.SUBSCRIPTION and not isinstance(
            context.context, SocketContext
        ):
            raise GraphQLError(
                "subscriptions are served over websockets (graphql-transport-ws or graphql-ws) "
                "at /graphql",
                extensions={"code": "BAD_REQUEST"},
            )
        yield


def _unauthenticated(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "UNAUTHENTICATED"})


def connection_token(params: dict[str, Any] | None) -> str | None:
    """The access token from connection_init's payload: {"Authorization": "Bearer …"} (what
    GraphiQL sends from its Headers pane), {"headers": {...}} or {"token": "…"}."""
    if not isinstance(params, dict):
        return None
    nested = params.get("headers")
    for key, value in [*params.items(), *(nested.items() if isinstance(nested, dict) else ())]:
        if not isinstance(value, str):
            continue
        name = key.lower()
        if name == "authorization":
            return bearer_token(value)
        if name in ("token", "accesstoken", "access_token"):
            return value.strip() or None
    return None


def token_expiry(token: str) -> datetime | None:
    # Read only after the auth service has verified the signature.
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    return datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None


async def accept_connection(context: object) -> dict[str, object]:
    """connection_init: refuse (close 4403 / connection_error) unless the token is valid."""
    if not isinstance(context, SocketContext):
        raise ConnectionRejectionError({"message": "not a websocket connection"})
    token = connection_token(context.connection_params) or context.token
    if token is None:
        raise ConnectionRejectionError(
            {
                "message": 'sign in first: send {"Authorization": "Bearer <accessToken>"} '
                "as the connection_init payload",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        )
    try:
        principal = await context.sign_in(token)
    except Unauthenticated as exc:
        raise ConnectionRejectionError(
            {"message": exc.message, "extensions": {"code": "UNAUTHENTICATED"}}
        ) from exc
    return {"userId": to_global_id("User", principal.user.id)}


async def _live(info: Info) -> SocketContext:
    ctx = info.context
    if not isinstance(ctx, SocketContext):
        raise GraphQLError(
            "subscriptions are served over websockets (graphql-transport-ws) at /graphql",
            extensions={"code": "BAD_REQUEST"},
        )
    await ctx.principal()
    await ctx.still_allowed()
    return ctx


async def _deliver(ctx: SocketContext, feed: AsyncIterator[R]) -> AsyncGenerator[R, None]:
    """Each item with fresh DataLoaders; a subscriber the bus dropped for falling behind
    gets its connection closed with the reason."""
    try:
        async for item in feed:
            fresh_loaders()
            yield item
    except SubscriptionClosed as exc:
        await _dropped(ctx, exc)


async def _dropped(ctx: SocketContext, exc: SubscriptionClosed) -> None:
    log.warning("closing a websocket: %s", exc.reason)
    await ctx.close(SLOW_CONSUMER_CLOSE, f"{exc.reason}; resume with `after`")
    # The connection is closing; its handler cancels this operation.
    await asyncio.Event().wait()


@strawberry.input(description="All given conditions must hold, on the ticket as it is now.")
class TicketEventFilter:
    ticket_id: strawberry.ID | None = strawberry.field(
        default=None, description="A ticket's Relay id or key (SETS-42)."
    )
    team_id: strawberry.ID | None = None
    assigned_to_me: bool | None = None
    statuses: list[TicketStatus] | None = None


def event_query(filter: TicketEventFilter | None, me: int | None) -> EventQuery:
    f = filter or TicketEventFilter()
    return EventQuery(
        ticket_ids=[ticket_pk(f.ticket_id, field="filter.ticketId")] if f.ticket_id else [],
        team_ids=[from_global_id(f.team_id, "Team", field="filter.teamId")] if f.team_id else [],
        assignee_ids=[me] if f.assigned_to_me and me is not None else [],
        statuses=list(f.statuses or ()),
    )


def event_after(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    payload = decode_cursor(cursor)
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), int):
        raise ValidationFailed(
            "not an event cursor (take one from TicketEvent.cursor)", field="after"
        )
    pk: int = payload["e"]
    return pk


def _row_id(row: EventRow | NotificationRow) -> int:
    return row.id


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Audit events of every ticket the caller may see, as they are committed. "
        "With `after` (a TicketEvent.cursor) the events since then are replayed first, with "
        "no gap and no duplicate. Internal events reach staff only."
    )
    async def ticket_events(
        self, info: Info, filter: TicketEventFilter | None = None, after: str | None = None
    ) -> AsyncGenerator[TicketEvent, None]:
        ctx = await _live(info)
        actor = await ctx.actor()
        try:
            query = event_query(filter, actor.user_id)
            after_id = event_after(after)
        except DomainError as exc:
            raise coded_error(exc) from exc
        reads = ctx.services.reads

        async def rows_after(after_id: int, limit: int) -> Sequence[EventRow]:
            return await reads.visible_events(
                await ctx.actor(), query, after_id=after_id, limit=limit
            )

        async def rows_by_id(ids: list[int]) -> Sequence[EventRow]:
            # Read once per process for all subscribers; authorised here per subscriber, as
            # the caller is now (the periodic re-check refreshes it).
            return await reads.live.visible(ctx.known_actor or await ctx.actor(), query, ids)

        def worth_reading(message: dict[str, Any]) -> bool:
            # A cheap pre-filter; the service query above is what decides.
            if query.ticket_ids and message.get("ticket_id") not in query.ticket_ids:
                return False
            return not message.get("internal") or permissions.can_see_internal(actor)

        # Events are read once per process, before their subscribers wake (EventSnapshots).
        ctx.services.bus.gate(TICKET_EVENTS_TOPIC, reads.live.prefetch)
        feed = live_feed(
            ctx.services.bus,
            TICKET_EVENTS_TOPIC,
            FeedSource(rows_after, rows_by_id, reads.latest_event_id, _row_id),
            after=after_id,
            accept=worth_reading,
            guard=ctx.still_allowed,
        )
        # With thousands of subscribers, those with the same selection and viewer share one
        # execution and one encoding of each event (live_frames); else the ordinary path.
        share = EventShare.open(info, fresh_loaders)
        try:
            async with contextlib.aclosing(feed):
                async for row in feed:
                    if share is not None and await share.deliver(
                        row.id, ctx.known_actor, functools.partial(TicketEvent.from_row, row)
                    ):
                        continue
                    fresh_loaders()
                    yield TicketEvent.from_row(row)
        except SubscriptionClosed as exc:
            await _dropped(ctx, exc)

    @strawberry.subscription(
        description="The ticket's new state after each change the caller may see."
    )
    async def ticket_updated(self, info: Info, id: strawberry.ID) -> AsyncGenerator[Ticket, None]:
        ctx = await _live(info)
        try:
            pk = ticket_pk(id, field="id")
            await ctx.services.reads.ticket(await ctx.actor(), pk)
        except DomainError as exc:
            raise coded_error(exc) from exc
        states = _ticket_states(ctx, pk)
        async with contextlib.aclosing(states):
            async for row in _deliver(ctx, states):
                yield Ticket.from_row(row)

    @strawberry.subscription(description="The caller's in-app notifications, as they arrive.")
    async def notification_received(self, info: Info) -> AsyncGenerator[Notification, None]:
        ctx = await _live(info)
        me = (await ctx.actor()).user_id
        assert me is not None  # an authenticated user, never the system
        reads = ctx.services.reads

        async def rows_after(after_id: int, limit: int) -> Sequence[NotificationRow]:
            return await reads.in_app_notifications(
                await ctx.actor(), after_id=after_id, limit=limit
            )

        async def rows_by_id(ids: list[int]) -> Sequence[NotificationRow]:
            return await reads.in_app_notifications(await ctx.actor(), ids=ids, limit=len(ids))

        feed = live_feed(
            ctx.services.bus,
            notifications_topic(me),
            FeedSource(rows_after, rows_by_id, reads.latest_notification_id, _row_id),
            after=None,
            guard=ctx.still_allowed,
        )
        async with contextlib.aclosing(feed):
            async for row in _deliver(ctx, feed):
                yield Notification.from_row(row)


async def _ticket_states(ctx: SocketContext, pk: int) -> AsyncGenerator[TicketRow, None]:
    reads = ctx.services.reads
    async with ctx.services.bus.subscribe(TICKET_EVENTS_TOPIC) as subscription:
        # Read after subscribing: a change committed in between is not missed.
        last_seq = (await reads.ticket(await ctx.actor(), pk)).event_seq
        while True:
            delivery = await subscription.next(within=await ctx.still_allowed())
            if delivery is None:
                continue
            actor = await ctx.actor()
            staff = permissions.can_see_internal(actor)
            relevant = delivery.resync or any(
                m.get("ticket_id") == pk and (staff or not m.get("internal"))
                for m in delivery.messages
            )
            if not relevant:
                continue
            try:
                row = await reads.ticket(actor, pk)
            except NotFound as exc:
                gone = NotFound("you can no longer see this ticket", field="id")
                raise coded_error(gone) from exc
            if row.event_seq != last_seq:
                last_seq = row.event_seq
                yield row
