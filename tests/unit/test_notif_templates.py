"""Rendering: RFC 5322 mail with plain and HTML parts, Block Kit for Slack; and the notify
package stays a low layer (channels and templates, no database)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from sets.domain.notifications import Channel
from sets.notify import Outgoing, Recipient
from sets.notify.email import SmtpServer
from sets.notify.templates import email_message, slack_payload, sms_text

SETS = Path(__file__).resolve().parents[2] / "sets"

MSG = Outgoing(
    notification_id=17,
    channel=Channel.EMAIL,
    event="COMMENTED",
    subject="[SETS-42] New reply from Alex Agent: Printer <offline>",
    body="Is the display\nshowing E-42?\n\nThanks & regards",
    recipient=Recipient(6, "Rita Requester", "requester@example.com", "requester"),
    created_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
    ticket_id=42,
    ticket_key="SETS-42",
)


def test_email_headers_and_parts() -> None:
    mail = email_message(MSG, sender="SETS Helpdesk <help@sets.example>")
    parsed = message_from_bytes(mail.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["From"] == "SETS Helpdesk <help@sets.example>"
    assert parsed["To"] == "Rita Requester <requester@example.com>"
    assert parsed["Subject"].startswith("[SETS-42] ")
    assert parsed["Message-ID"] == "<sets.notification.17.20260105093000@sets.example>"
    assert parsed["References"] == "<sets.ticket.42@sets.example>"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["X-SETS-Ticket"] == "SETS-42"
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert plain is not None and html is not None
    assert "Is the display\nshowing E-42?" in plain.get_content().replace("\r\n", "\n")
    assert "Is the display<br>showing E-42?" in html.get_content()
    assert "Thanks &amp; regards" in html.get_content()
    # The same row renders the same message: a resend is recognisably the same mail.
    again = email_message(MSG, sender="SETS Helpdesk <help@sets.example>")
    assert again["Message-ID"] == mail["Message-ID"]


def test_slack_block_kit_escapes_text() -> None:
    payload = slack_payload(MSG)
    assert payload["text"] == MSG.subject
    kinds = [b["type"] for b in payload["blocks"]]
    assert kinds == ["header", "section", "context"]
    assert payload["blocks"][0]["text"]["type"] == "plain_text"
    assert "&amp; regards" in payload["blocks"][1]["text"]["text"]
    assert "@requester" in payload["blocks"][2]["elements"][0]["text"]


def test_sms_is_short() -> None:
    long = Outgoing(**{**MSG.__dict__, "body": "x" * 1000})
    assert len(sms_text(long)) == 320


def test_smtp_urls() -> None:
    plain = SmtpServer.from_url("smtp://127.0.0.1:1025")
    assert (plain.host, plain.port, plain.use_tls, plain.start_tls) == (
        "127.0.0.1",
        1025,
        False,
        None,
    )
    tls = SmtpServer.from_url("smtps://u%40x:p%3Aw@mail.example")
    assert (tls.port, tls.use_tls, tls.username, tls.password) == (465, True, "u@x", "p:w")
    assert tls.label == "smtp://mail.example:465"
    assert SmtpServer.from_url("smtp://h?starttls=false").start_tls is False


def test_notify_is_a_low_layer() -> None:
    """Channels and templates only: no models, repositories, services or schema."""
    offenders = []
    for path in (SETS / "notify").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[0] == "sets" and parts[1] not in ("domain", "notify"):
                    offenders.append(f"{path.name}: {node.module}")
    assert offenders == []
