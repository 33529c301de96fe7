"""A lean websocket client for the fan-out benchmark: thousands of connections in one process.

The `websockets` client costs the load generator about as much per received message as the
server spends sending it, so with 5 000 subscribers on a 2-core machine it measured mostly
itself. This one is a bare asyncio Protocol: it parses frames in `data_received` and stamps
each message with its arrival time there, before any other work. It speaks just enough
RFC 6455 for the benchmark: masked client frames, unfragmented or fragmented server
messages, ping/pong, close, and permessage-deflate (offered by default, as browsers do, so
the server compresses as it would for them).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

import orjson

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10

# (arrival time by time.time(), decoded JSON message)
OnMessage = Callable[[float, Any], None]


class Closed(Exception):
    pass


def _mask(data: bytes, key: bytes) -> bytes:
    n = len(data)
    if n == 0:
        return data
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


def _frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    key = os.urandom(4)
    return head + key + _mask(payload, key)


class LeanSocket(asyncio.Protocol):
    def __init__(self, host: str, path: str, subprotocol: str, deflate: bool) -> None:
        self._key = base64.b64encode(os.urandom(16))
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {self._key.decode()}\r\n"
            f"Sec-WebSocket-Protocol: {subprotocol}\r\n"
            + (
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                if deflate
                else ""
            )
            + "\r\n"
        ).encode()
        self.transport: asyncio.Transport | None = None
        self.handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()
        self.on_message: OnMessage | None = None
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()
        self._buffer = bytearray()
        self._upgraded = False
        self._inflate: Any = None
        self._parts: list[bytes] = []
        self._compressed = False

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.handshake.done():
            self.handshake.set_exception(Closed(f"connection lost: {exc}"))
        if not self.closed.done():
            self.closed.set_result((1006, str(exc or "")))
        self._inbox.put_nowait(None)

    def data_received(self, data: bytes) -> None:
        arrived = time.time()
        self._buffer += data
        if not self._upgraded and not self._read_handshake():
            return
        buffer = self._buffer
        while len(buffer) >= 2:
            b0, b1 = buffer[0], buffer[1]
            length, offset = b1 & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = struct.unpack_from("!H", buffer, 2)[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = struct.unpack_from("!Q", buffer, 2)[0], 10
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            self._frame(b0, payload, arrived)

    # -- frames -----------------------------------------------------------------------------

    def _read_handshake(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        del self._buffer[: end + 4]
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
        expected = base64.b64encode(hashlib.sha1(self._key + GUID).digest()).decode()
        if " 101 " not in head[0] + " " or headers.get("sec-websocket-accept") != expected:
            self.handshake.set_exception(Closed(f"refused: {head[0]}"))
            assert self.transport is not None
            self.transport.close()
            return False
        if "permessage-deflate" in headers.get("sec-websocket-extensions", ""):
            self._inflate = zlib.decompressobj(-15)
        self._upgraded = True
        self.handshake.set_result(None)
        return True

    def _frame(self, b0: int, payload: bytes, arrived: float) -> None:
        opcode = b0 & 0x0F
        if opcode in (OP_TEXT, OP_BINARY, OP_CONT):
            if opcode != OP_CONT:
                self._compressed = bool(b0 & 0x40)
            self._parts.append(payload)
            if not b0 & 0x80:
                return
            message = b"".join(self._parts)
            self._parts = []
            if self._compressed:
                message = self._inflate.decompress(message + b"\x00\x00\xff\xff")
            decoded = orjson.loads(message)
            if self.on_message is not None:
                self.on_message(arrived, decoded)
            else:
                self._inbox.put_nowait(decoded)
        elif opcode == OP_PING:
            self._write(OP_PONG, payload)
        elif opcode == OP_CLOSE:
            code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else 1005
            reason = payload[2:].decode(errors="replace")
            if not self.closed.done():
                self.closed.set_result((code, reason))
            self._write(OP_CLOSE, payload[:2])
            assert self.transport is not None
            self.transport.close()

    def _write(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_frame(opcode, payload))

    # -- API --------------------------------------------------------------------------------

    def send(self, message: Any) -> None:
        self._write(OP_TEXT, orjson.dumps(message))

    async def recv(self) -> Any:
        message = await self._inbox.get()
        if message is None:
            code, reason = self.closed.result()
            raise Closed(f"closed: {code} {reason}")
        return message

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._write(OP_CLOSE, struct.pack("!H", 1000))
            self.transport.close()


async def open_socket(
    url: str, subprotocol: str = "graphql-transport-ws", *, deflate: bool = True
) -> LeanSocket:
    """`url` like ws://127.0.0.1:8000/graphql."""
    rest = url.removeprefix("ws://")
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(
        lambda: LeanSocket(hostport, "/" + path, subprotocol, deflate), host, int(port or 80)
    )
    await protocol.handshake
    return protocol
