"""Shared results for live subscriptions: one GraphQL execution and one JSON encoding per
event and audience, sent as ready-made frames (issue 8, fan-out to thousands of sockets).

Without this, each subscriber of an event runs its own GraphQL execution of its selection,
then Strawberry's per-result pipeline, then its own JSON encoding. Here, the subscribers whose
result is provably the same share one execution:

* **The key** is (event id, query text, operation name, variables, viewer). The viewer is the
  subscriber's `Actor` (user id, role, teams), which is everything a resolver can learn about
  the caller (`info.context.actor()`, the DataLoaders built for that actor); so a result is
  only ever shared between connections of the same user with the same rights. A selection
  that reads nothing but the event's own stored fields (`EVENT_FIELDS`: id, kind, data, …)
  does not depend on the viewer at all and is shared by everyone who receives the event.
  Who receives an event is still decided per subscriber, before this (`EventSnapshots`):
  sharing never widens what anyone sees.
* **One execution:** the first subscriber to ask runs it, in its own task with fresh
  DataLoaders; the others wait for it (if it is cancelled meanwhile, they
  execute their own). Results are kept `SHARE_SECONDS`, about one fan-out, so a late
  subscriber re-executes against the current state rather than reusing an old one.
* **One encoding:** the result is encoded once; each subscriber's `next` frame is its
  operation id spliced around those bytes and written to its socket. A result with errors
  is not shared: each subscriber then yields the event normally, so Strawberry shapes the
  errors as for any operation.

Sending a frame needs the websocket operation's id, which only the protocol handler knows:
`LiveTransportWS` and `LiveLegacyWS` (the `graphql_transport_ws_handler_class` and
`graphql_ws_handler_class` of the view) record it for the operation's task. Without them,
or for anything the fast path cannot prove equivalent, subscriptions take Strawberry's path.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from contextvars import ContextVar
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)
from graphql.execution import execute_subscription_event
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types import ExecutionContext

log = logging.getLogger("sets.realtime")

# How long one event's shared result is reused (about one fan-out).
SHARE_SECONDS = 2.0
# At most this many shared results are kept at once (oldest dropped first).
SHARE_LIMIT = 20_000
# TicketEvent fields read from the event row alone: the same for every viewer who may see
# the event at all (as `ticket { events }` returns them).
EVENT_FIELDS = frozenset(
    {"__typename", "id", "cursor", "seq", "kind", "internal", "data", "createdAt", "from", "to"}
)

_request: ContextVar[ExecutionContext | None] = ContextVar("sets_live_request", default=None)
_operation: ContextVar[LiveOperation | None] = ContextVar("sets_live_operation", default=None)


def remember_request(execution_context: ExecutionContext) -> None:
    """Called when an operation starts (`LoaderScopes`): what a shared execution re-runs."""
    _request.set(execution_context)


# --- sending ready-made frames ----------------------------------------------------------


class LiveOperation:
    """The websocket operation a subscription resolver runs in, able to send a result that
    is already encoded as `{"data": …}`."""

    __slots__ = ("_binary", "_prefix", "_websocket")

    def __init__(self, websocket: WebSocket, prefix: bytes, binary: bool) -> None:
        self._websocket = websocket
        self._prefix = prefix
        self._binary = binary

    async def send_result(self, payload: bytes) -> None:
        frame = self._prefix + payload + b"}"
        try:
            if self._binary:
                await self._websocket.send_bytes(frame)
            else:
                await self._websocket.send_text(frame.decode())
        except Exception:  # gone or closing: its handler ends this operation
            log.debug("a live frame found its websocket closed", exc_info=True)
            await asyncio.Event().wait()


def _starlette_socket(handler: Any) -> WebSocket | None:
    socket = getattr(handler.websocket, "ws", None)
    return socket if isinstance(socket, WebSocket) else None


def _binary(handler: Any) -> bool:
    # The same frame type as the handler's own messages.
    return isinstance(handler.view.encode_json({}), bytes)


class LiveTransportWS(BaseGraphQLTransportWSHandler[Any, Any]):
    """graphql-transport-ws, recording each operation for `LiveOperation` sends."""

    async def run_operation(self, operation: Operation[Any, Any]) -> None:
        socket = _starlette_socket(self)
        if socket is not None:
            prefix = b'{"id":' + orjson.dumps(operation.id) + b',"type":"next","payload":'
            _operation.set(LiveOperation(socket, prefix, _binary(self)))
        await super().run_operation(operation)


class LiveLegacyWS(BaseGraphQLWSHandler[Any, Any]):
    """The legacy graphql-ws protocol, likewise (`data` messages)."""

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        socket = _starlette_socket(self)
        if socket is not None:
            prefix = b'{"type":"data","id":' + orjson.dumps(operation_id) + b',"payload":'
            _operation.set(LiveOperation(socket, prefix, _binary(self)))
        await super().handle_async_results(operation_id, query, operation_name, variables)


# --- sharing results ---------------------------------------------------------------------


class SharedResults:
    """Encoded results by key, each computed once (by the first subscriber to ask; the
    others wait for it) and kept `ttl` seconds."""

    def __init__(
        self,
        ttl: float = SHARE_SECONDS,
        limit: int = SHARE_LIMIT,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._limit = limit
        self._now = now
        self._entries: OrderedDict[Hashable, tuple[float, asyncio.Future[bytes | None]]] = (
            OrderedDict()
        )
        self.executions = 0  # for tests and diagnostics

    def claim(self, key: Hashable) -> tuple[asyncio.Future[bytes | None], bool]:
        """The result for `key`, and whether the caller must compute it (and set it)."""
        now = self._now()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] <= self._ttl:
            return entry[1], False
        entries = self._entries
        while entries:
            oldest = next(iter(entries.values()))
            if now - oldest[0] <= self._ttl and len(entries) < self._limit:
                break
            entries.popitem(last=False)
        self.executions += 1
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        entries[key] = (now, future)
        entries.move_to_end(key)
        return future, True

    def __len__(self) -> int:
        return len(self._entries)


_shared: weakref.WeakKeyDictionary[Any, SharedResults] = weakref.WeakKeyDictionary()


def shared_results(services: Any) -> SharedResults:
    """The shared results of one application (event ids are only unique within its
    database), kept beside its event snapshots."""
    owner = services.reads.live
    found = _shared.get(owner)
    if found is None:
        found = _shared[owner] = SharedResults()
    return found


def _event_fields_only(
    selections: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    depth: int = 0,
) -> bool:
    if selections is None or depth > 20:
        return selections is None
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value not in EVENT_FIELDS or selection.selection_set is not None:
                return False
        elif isinstance(selection, InlineFragmentNode):
            if not _event_fields_only(selection.selection_set, fragments, depth + 1):
                return False
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is None or not _event_fields_only(
                fragment.selection_set, fragments, depth + 1
            ):
                return False
        else:
            return False
    return True


_plain_schemas: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _plain_extensions(schema: Any) -> bool:
    """No extension wraps resolvers or adds `extensions` to results: a shared execution and
    a frame built here are then what Strawberry's own path would produce."""
    known = _plain_schemas.get(schema)
    if known is None:
        known = all(
            type(extension).resolve is SchemaExtension.resolve
            and type(extension).get_results is SchemaExtension.get_results
            for extension in schema.get_extensions()
        )
        _plain_schemas[schema] = known
    return known


class EventShare:
    """One ticketEvents subscription's side of the sharing: builds its key per event and,
    when it is the first to ask, runs the execution."""

    def __init__(
        self,
        operation: LiveOperation,
        request: ExecutionContext,
        context: Any,
        viewer_independent: bool,
        new_scope: Callable[[], None],
        shared: SharedResults,
    ) -> None:
        self._operation = operation
        self._request = request
        self._context = context
        self._viewer_independent = viewer_independent
        self._new_scope = new_scope
        self._shared = shared
        variables = orjson.dumps(request.variables or {}, option=orjson.OPT_SORT_KEYS)
        self._document_key = (request.query, request.operation_name, variables)
        self._executor: Any = None
        self.enabled = True

    @classmethod
    def open(cls, info: Any, new_scope: Callable[[], None]) -> EventShare | None:
        """The sharing for the subscription resolving `info`, or None when its frames cannot
        be sent directly (no recording protocol handler) or proven equivalent."""
        operation = _operation.get()
        request = _request.get()
        if operation is None or request is None or request.query is None:
            return None
        if not _plain_extensions(request.schema):
            return None
        raw = info._raw_info
        fragments: dict[str, FragmentDefinitionNode] = dict(raw.fragments)
        nodes: Sequence[FieldNode] = raw.field_nodes
        independent = all(_event_fields_only(node.selection_set, fragments) for node in nodes)
        shared = shared_results(info.context.services)
        return cls(operation, request, info.context, independent, new_scope, shared)

    async def deliver(self, pk: int, viewer: Hashable, root: Callable[[], Any]) -> bool:
        """Send this subscriber the shared result for event `pk` (executed on `root()` if it
        is the first to ask); False if it must yield the event the ordinary way instead."""
        if not self.enabled:
            return False
        key = (pk, self._document_key, None if self._viewer_independent else viewer)
        result, first = self._shared.claim(key)
        if first:
            payload = None
            try:
                payload = await self._execute(root)
            finally:  # None if cancelled meanwhile: the others then execute their own
                result.set_result(payload)
        elif result.done():
            payload = result.result()
        else:  # shielded: this subscriber going away must not cancel the others' wait
            payload = await asyncio.shield(result)
        if payload is None:
            return False
        await self._operation.send_result(payload)
        return True

    async def _execute(self, root: Callable[[], Any]) -> bytes | None:
        """The operation run on one event, as Strawberry would (in this subscriber's task,
        with fresh DataLoaders); None if the result has errors."""
        try:
            self._new_scope()  # fresh DataLoaders: related rows as they are now
            executor = self._built()
            if executor is None:
                return None
            pending = execute_subscription_event(executor.build_per_event_executor(root()))
            result = await pending if inspect.isawaitable(pending) else pending
            if result.errors:
                return None
            return orjson.dumps({"data": result.data})
        except Exception:
            log.exception("a shared subscription result failed; subscribers execute their own")
            self.enabled = False
            return None

    def _built(self) -> Any:
        if self._executor is None:
            request = self._request
            schema = request.schema
            assert request.graphql_document is not None
            built = schema.execution_context_class.build(
                schema._schema,
                request.graphql_document,
                None,
                self._context,
                request.variables,
                request.operation_name,
                operation_extensions=request.operation_extensions,
            )
            if isinstance(built, list):  # variable errors: not reachable after subscribe
                self.enabled = False
                return None
            self._executor = built
        return self._executor


__all__ = [
    "EVENT_FIELDS",
    "EventShare",
    "LiveLegacyWS",
    "LiveOperation",
    "LiveTransportWS",
    "SharedResults",
    "remember_request",
    "shared_results",
]
