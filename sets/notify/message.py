"""What a channel is given to send, and what it answers."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sets.domain.notifications import Channel


@dataclass(frozen=True)
class Recipient:
    user_id: int
    name: str
    email: str
    username: str


@dataclass(frozen=True)
class Outgoing:
    """One notification row, rendered by the channel it is for."""

    notification_id: int
    channel: Channel
    event: str
    subject: str
    body: str
    recipient: Recipient
    created_at: datetime
    ticket_id: int | None = None
    ticket_key: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Receipt:
    """Where it went: a server, a webhook or, simulated, the file that records it."""

    target: str
    simulated: bool
    message_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "simulated": self.simulated, "messageId": self.message_id}


class DeliveryError(Exception):
    """A send that did not happen. `transient` ones are retried with backoff; the others
    (a refused address, a rejected payload) fail the notification at once."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.retry_after = retry_after


def write_atomically(path: Path, data: bytes) -> None:
    """Whole file or none: a crash never leaves half a message behind, and writing the same
    notification again replaces its file (the name is the notification id)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
