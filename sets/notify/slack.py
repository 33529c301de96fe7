"""Slack: a Block Kit message POSTed to the incoming webhook at SETS_SLACK_WEBHOOK_URL
(httpx), or, without one, the payload recorded as `<data dir>/slack/<notification id>.json`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson

from sets.notify.message import DeliveryError, Outgoing, Receipt, write_atomically
from sets.notify.templates import slack_payload


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None


class SlackChannel:
    def __init__(
        self,
        *,
        record_dir: Path,
        webhook_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.record_dir = record_dir
        self.webhook_url = webhook_url
        self.timeout = timeout

    @property
    def label(self) -> str:
        # The webhook's path is its secret: receipts and errors name the host only.
        parts = urlsplit(self.webhook_url or "")
        return f"slack webhook at {parts.scheme}://{parts.netloc}"

    async def send(self, msg: Outgoing) -> Receipt:
        payload = slack_payload(msg)
        if self.webhook_url is None:
            record = {
                "notificationId": msg.notification_id,
                "recipient": {
                    "userId": msg.recipient.user_id,
                    "username": msg.recipient.username,
                    "name": msg.recipient.name,
                },
                "payload": payload,
            }
            path = self.record_dir / f"{msg.notification_id}.json"
            data = orjson.dumps(record, option=orjson.OPT_INDENT_2)
            await asyncio.to_thread(write_atomically, path, data)
            return Receipt(str(path), simulated=True)
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(self.webhook_url, json=payload)
        except httpx.HTTPError as exc:
            raise DeliveryError(
                f"{self.label} unreachable: {exc.__class__.__name__} {exc}", transient=True
            ) from exc
        status = response.status_code
        if status == 429 or status >= 500:
            raise DeliveryError(
                f"{self.label} answered {status}: {response.text[:200]}",
                transient=True,
                retry_after=_retry_after(response),
            )
        if status >= 300:
            raise DeliveryError(
                f"{self.label} refused the message ({status}): {response.text[:200]}",
                transient=False,
            )
        return Receipt(self.label, simulated=False)
