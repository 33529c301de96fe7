"""How one notification reads on each channel: an RFC 5322 email (plain text and HTML), a
Slack Block Kit payload, an SMS text. Deterministic: rendering a row twice gives the same
message, Message-ID included, so a resend after a crash is recognisably the same mail."""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from sets.notify.message import Outgoing

SLACK_HEADER_MAX = 150  # Block Kit limits
SLACK_TEXT_MAX = 3000
SMS_MAX = 320  # two segments


def mail_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


def message_id(msg: Outgoing, domain: str) -> str:
    # The creation time keeps ids apart across databases that reuse row ids.
    stamp = msg.created_at.strftime("%Y%m%d%H%M%S")
    return f"<sets.notification.{msg.notification_id}.{stamp}@{domain}>"


def thread_id(ticket_id: int, domain: str) -> str:
    return f"<sets.ticket.{ticket_id}@{domain}>"


def _footer(msg: Outgoing) -> str:
    about = f"{msg.ticket_key} · " if msg.ticket_key else ""
    return (
        f"{about}SETS sent this because of your notification preferences for "
        f"{msg.event.replace('_', ' ').lower()} notifications; change them in SETS."
    )


def plain_text(msg: Outgoing) -> str:
    return f"Hello {msg.recipient.name},\n\n{msg.body}\n\n-- \n{_footer(msg)}\n"


def html_text(msg: Outgoing) -> str:
    paragraphs = "\n".join(
        f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>"
        for block in msg.body.split("\n\n")
        if block.strip()
    )
    return (
        '<!DOCTYPE html>\n<html><body style="font-family: sans-serif">\n'
        f"<p>Hello {html.escape(msg.recipient.name)},</p>\n{paragraphs}\n"
        f'<hr><p style="color: #666; font-size: 12px">{html.escape(_footer(msg))}</p>\n'
        "</body></html>\n"
    )


def email_message(msg: Outgoing, *, sender: str) -> EmailMessage:
    domain = mail_domain(sender)
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = formataddr((msg.recipient.name, msg.recipient.email))
    mail["Subject"] = msg.subject
    mail["Date"] = format_datetime(msg.created_at)
    mail["Message-ID"] = message_id(msg, domain)
    if msg.ticket_id is not None:
        # One thread per ticket in the recipient's mail client.
        mail["References"] = thread_id(msg.ticket_id, domain)
    # SPEC §16: automatic mail says so, so two systems never answer each other in a loop.
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Auto-Response-Suppress"] = "All"
    mail["X-SETS-Notification"] = str(msg.notification_id)
    mail["X-SETS-Event"] = msg.event
    if msg.ticket_key:
        mail["X-SETS-Ticket"] = msg.ticket_key
    mail.set_content(plain_text(msg))
    mail.add_alternative(html_text(msg), subtype="html")
    # Not random either: a resend is byte for byte the same message.
    stamp = msg.created_at.strftime("%Y%m%d%H%M%S")
    mail.set_boundary(f"=_sets_{msg.notification_id}_{stamp}_alternative")
    return mail


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(msg: Outgoing) -> dict[str, Any]:
    """A Block Kit message for an incoming webhook; `text` is the notification fallback."""
    who = f"for {slack_escape(msg.recipient.name)} (@{msg.recipient.username})"
    about = f"*{msg.ticket_key}* · " if msg.ticket_key else ""
    return {
        "text": _clip(msg.subject, SLACK_TEXT_MAX),
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": _clip(msg.subject, SLACK_HEADER_MAX)},
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _clip(slack_escape(msg.body), SLACK_TEXT_MAX)},
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"{about}{msg.event.replace('_', ' ')} · {who}"}
                ],
            },
        ],
    }


def sms_text(msg: Outgoing) -> str:
    return _clip(f"{msg.subject}: {msg.body}", SMS_MAX)
