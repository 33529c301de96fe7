"""Email: to the SMTP server at SETS_SMTP_URL (aiosmtplib), or, without one, rendered to
`<data dir>/mail/<notification id>.eml` and reported as simulated."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email import policy
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from sets.notify.message import DeliveryError, Outgoing, Receipt, write_atomically
from sets.notify.templates import email_message


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool | None = None  # None: upgrade when the server offers STARTTLS

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """smtp://[user[:password]@]host[:port][?starttls=true|false] or smtps://… (TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"SETS_SMTP_URL must look like smtp://host:port, not {url!r}")
        starttls = parse_qs(parts.query).get("starttls", [""])[0].lower()
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=parts.scheme == "smtps",
            start_tls={"true": True, "false": False}.get(starttls),
        )

    @property
    def label(self) -> str:
        """Where mail went, without the credentials."""
        return f"smtp://{self.host}:{self.port}"


def _refused(codes: list[int], detail: str) -> DeliveryError:
    # 4xx: try again later; 5xx: the server will not take it, ever.
    transient = any(400 <= code < 500 for code in codes)
    return DeliveryError(f"SMTP refused: {detail}", transient=transient)


class EmailChannel:
    def __init__(
        self,
        *,
        sender: str,
        mail_dir: Path,
        smtp_url: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.sender = sender
        self.mail_dir = mail_dir
        self.server = SmtpServer.from_url(smtp_url) if smtp_url else None
        self.timeout = timeout

    async def send(self, msg: Outgoing) -> Receipt:
        mail = email_message(msg, sender=self.sender)
        message_id = str(mail["Message-ID"])
        if self.server is None:
            path = self.mail_dir / f"{msg.notification_id}.eml"
            data = mail.as_bytes(policy=policy.SMTP)
            await asyncio.to_thread(write_atomically, path, data)
            return Receipt(str(path), simulated=True, message_id=message_id)
        server = self.server
        try:
            await aiosmtplib.send(
                mail,
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.use_tls,
                start_tls=server.start_tls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _refused([r.code for r in exc.recipients], str(exc.recipients)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _refused([exc.code], f"{exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(
                f"SMTP server {server.label} unavailable: {exc}", transient=True
            ) from exc
        return Receipt(server.label, simulated=False, message_id=message_id)
