"""A small GraphQL-over-websocket client speaking both protocols, on the `websockets` library:
`graphql-transport-ws` (graphql-ws.js) and the legacy `graphql-ws` (subscriptions-transport-ws).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
PROTOCOLS = (TRANSPORT_WS, LEGACY_WS)


class Refused(Exception):
    """The server refused connection_init."""

    def __init__(self, code: int | None, reason: str, payload: Any = None) -> None:
        super().__init__(f"refused: {code} {reason!r} {payload!r}")
        self.code, self.reason, self.payload = code, reason, payload


class Completed(Exception):
    """The operation ended (complete) while a result was awaited."""


def text_message(raw: str | bytes) -> Any:
    """A received message, which must come as a text frame: a browser hands a binary frame to
    graphql-ws (GraphiQL) as a Blob, which it cannot parse."""
    assert isinstance(raw, str), f"a binary websocket frame: {raw[:80]!r}"
    return json.loads(raw)


def ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://", 1) + "/graphql"


@dataclass
class GraphQLSocket:
    ws: ClientConnection
    protocol: str
    ack: dict[str, Any] = field(default_factory=dict)
    # Messages read while waiting for another operation's result, by operation id.
    _inbox: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _ids: int = 0

    @classmethod
    async def open(
        cls,
        url: str,
        protocol: str,
        payload: dict[str, Any] | None = None,
        *,
        within: float = 5.0,
        **connect_kw: Any,
    ) -> GraphQLSocket:
        ws = await connect(url, subprotocols=[protocol], open_timeout=within, **connect_kw)  # type: ignore[list-item]
        assert ws.subprotocol == protocol
        init: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            init["payload"] = payload
        await ws.send(json.dumps(init))
        socket = cls(ws, protocol)
        try:
            async with asyncio.timeout(within):
                while True:
                    message = text_message(await ws.recv())
                    if message["type"] == "connection_ack":
                        socket.ack = message.get("payload") or {}
                        return socket
                    if message["type"] == "connection_error":
                        await ws.wait_closed()
                        raise Refused(ws.close_code, ws.close_reason or "", message.get("payload"))
                    if message["type"] == "ka":
                        continue
                    raise AssertionError(f"unexpected message before the ack: {message}")
        except ConnectionClosed as exc:
            raise Refused(
                exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else ""
            ) from exc

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._ids += 1
        op = str(self._ids)
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables or {}}
        await self.ws.send(json.dumps({"type": kind, "id": op, "payload": payload}))
        self._inbox.setdefault(op, [])
        return op

    async def stop(self, op: str) -> None:
        kind = "complete" if self.protocol == TRANSPORT_WS else "stop"
        await self.ws.send(json.dumps({"type": kind, "id": op}))

    async def _read(self) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = text_message(await self.ws.recv())
            kind = message["type"]
            if kind == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
            elif kind not in ("ka", "pong"):
                return message

    async def result(self, op: str, *, within: float = 5.0) -> dict[str, Any]:
        """The next `{"data", "errors"}` payload of `op`; Completed if the operation ended."""
        async with asyncio.timeout(within):
            while True:
                queued = self._inbox.setdefault(op, [])
                if queued:
                    message = queued.pop(0)
                else:
                    message = await self._read()
                    if message.get("id") != op:
                        self._inbox.setdefault(message.get("id", ""), []).append(message)
                        continue
                kind = message["type"]
                if kind in ("next", "data"):
                    payload: dict[str, Any] = message["payload"]
                    return payload
                if kind == "error":
                    return {"data": None, "errors": message["payload"]}
                if kind == "complete":
                    raise Completed(op)
                raise AssertionError(f"unexpected message: {message}")

    async def data(self, op: str, *, within: float = 5.0) -> dict[str, Any]:
        payload = await self.result(op, within=within)
        assert not payload.get("errors"), payload
        data: dict[str, Any] = payload["data"]
        return data

    async def results(self, op: str, count: int, *, within: float = 5.0) -> list[dict[str, Any]]:
        async with asyncio.timeout(within):
            return [await self.data(op, within=within) for _ in range(count)]

    async def nothing_for(self, op: str, seconds: float) -> None:
        """Assert that `op` gets no result for a while (a short negative check)."""
        try:
            payload = await self.result(op, within=seconds)
        except TimeoutError:
            return
        raise AssertionError(f"expected nothing, got {payload}")

    async def ended(self, op: str, *, within: float = 5.0) -> list[dict[str, Any]]:
        """Results until the operation completes; returns them."""
        seen: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(within):
                while True:
                    seen.append(await self.result(op, within=within))
        except Completed:
            return seen

    async def close(self) -> None:
        await self.ws.close()

    async def __aenter__(self) -> GraphQLSocket:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
