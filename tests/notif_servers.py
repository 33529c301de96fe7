"""Real loopback servers for the notification tests: an SMTP server (aiosmtpd) that keeps what
it accepts, and a Slack incoming-webhook stand-in (Starlette under uvicorn, real HTTP)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import uvicorn
from aiosmtpd.smtp import SMTP, Envelope, Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class SmtpSink:
    """The handler: `refuse` answers RCPT TO for an address with an error; `stall_once` makes
    the first RCPT TO for an address wait until `release` is set (a slow server)."""

    url: str = ""
    mails: list[Mail] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    stall_once: set[str] = field(default_factory=set)
    stalled: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        if address in self.stall_once:
            self.stall_once.discard(address)
            self.stalled.set()
            await self.release.wait()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        self.mails.append(Mail(str(envelope.mail_from), list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.recipients]

    def with_id(self, message_id: str) -> list[Mail]:
        return [m for m in self.mails if m.message_id == message_id]

    async def wait_for(self, count: int, *, within: float = 10.0) -> list[Mail]:
        for _ in range(int(within / 0.02)):
            if len(self.mails) >= count:
                return self.mails
            await asyncio.sleep(0.02)
        raise AssertionError(f"expected {count} mails, got {len(self.mails)}")


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def smtp_server() -> AsyncIterator[SmtpSink]:
    sink = SmtpSink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="smtp.sets.test"), sock=_bound_socket()
    )
    port = server.sockets[0].getsockname()[1]
    sink.url = f"smtp://127.0.0.1:{port}"
    try:
        yield sink
    finally:
        sink.release.set()
        server.close()


@dataclass
class SlackHook:
    """Answers `fail_with` to the first `failures` posts, then 200 "ok"."""

    failures: int = 0
    fail_with: int = 500
    url: str = ""
    calls: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)

    async def endpoint(self, request: Request) -> PlainTextResponse:
        self.calls += 1
        body = await request.json()
        if self.calls <= self.failures:
            return PlainTextResponse("service_unavailable", status_code=self.fail_with)
        self.posts.append(body)
        return PlainTextResponse("ok")


@asynccontextmanager
async def slack_webhook(hook: SlackHook) -> AsyncIterator[SlackHook]:
    path = "/services/T0SETS/B0TEST/secret-token"
    app = Starlette(routes=[Route(path, hook.endpoint, methods=["POST"])])
    sock = _bound_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(1000):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "the webhook server did not start"
        hook.url = f"http://127.0.0.1:{port}{path}"
        yield hook
    finally:
        server.should_exit = True
        await task
        sock.close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
