"""The channels of one process, by name."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Protocol

from sets.domain.notifications import Channel
from sets.notify.email import EmailChannel
from sets.notify.message import DeliveryError, Outgoing, Receipt
from sets.notify.slack import SlackChannel
from sets.notify.sms import SmsChannel


class Sender(Protocol):
    async def send(self, msg: Outgoing) -> Receipt: ...


class Channels(MutableMapping[Channel, Sender]):
    """Channel -> sender. In-app has none: an in-app notification is delivered when its row
    is written (it is the inbox), and pushed live after that commit."""

    def __init__(self, senders: dict[Channel, Sender] | None = None) -> None:
        self._senders: dict[Channel, Sender] = dict(senders or {})

    def __getitem__(self, channel: Channel) -> Sender:
        return self._senders[channel]

    def __setitem__(self, channel: Channel, sender: Sender) -> None:
        self._senders[channel] = sender

    def __delitem__(self, channel: Channel) -> None:
        del self._senders[channel]

    def __iter__(self) -> Iterator[Channel]:
        return iter(self._senders)

    def __len__(self) -> int:
        return len(self._senders)

    async def send(self, msg: Outgoing) -> Receipt:
        sender = self._senders.get(msg.channel)
        if sender is None:
            raise DeliveryError(f"no sender for channel {msg.channel}", transient=False)
        return await sender.send(msg)


def build_channels(
    *,
    data_dir: Path,
    mail_from: str,
    smtp_url: str | None = None,
    slack_webhook_url: str | None = None,
) -> Channels:
    return Channels(
        {
            Channel.EMAIL: EmailChannel(
                sender=mail_from, mail_dir=data_dir / "mail", smtp_url=smtp_url
            ),
            Channel.SLACK: SlackChannel(
                record_dir=data_dir / "slack", webhook_url=slack_webhook_url
            ),
            Channel.SMS: SmsChannel(record_dir=data_dir / "sms"),
        }
    )
