"""SMS: simulated. Users have no phone numbers in SETS yet, so a text is recorded as
`<data dir>/sms/<notification id>.json` and reported as simulated."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson

from sets.notify.message import Outgoing, Receipt, write_atomically
from sets.notify.templates import sms_text


class SmsChannel:
    def __init__(self, *, record_dir: Path) -> None:
        self.record_dir = record_dir

    async def send(self, msg: Outgoing) -> Receipt:
        record = {
            "notificationId": msg.notification_id,
            "to": {"userId": msg.recipient.user_id, "username": msg.recipient.username},
            "text": sms_text(msg),
        }
        path = self.record_dir / f"{msg.notification_id}.json"
        data = orjson.dumps(record, option=orjson.OPT_INDENT_2)
        await asyncio.to_thread(write_atomically, path, data)
        return Receipt(str(path), simulated=True)
