"""Attachment rules (sets.domain.attachments): counts, sizes, types, content signatures,
file names, and who sees a file."""

from __future__ import annotations

import pytest

from sets.config import ConfigError, Settings
from sets.domain.actor import Actor
from sets.domain.attachments import (
    DEFAULT_TYPES,
    FILENAME_MAX,
    AttachmentPolicy,
    ascii_filename,
    can_see,
    ensure_can_attach_to_comment,
    normalise_type,
    parse_types,
    safe_filename,
)
from sets.domain.enums import Role, TicketStatus
from sets.domain.errors import ErrorCode, Forbidden, ValidationFailed

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
ZIP = b"PK\x03\x04\x14\x00\x00\x00"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
POLICY = AttachmentPolicy(max_bytes=1000, max_files=3)


class FakeTicket:
    status = TicketStatus.IN_PROGRESS
    requester_id = 1
    assignee_id: int | None = 2
    team_id: int | None = 10


RITA = Actor(user_id=1, role=Role.REQUESTER)
CARL = Actor(user_id=3, role=Role.REQUESTER)
AGENT = Actor(user_id=2, role=Role.AGENT, team_ids=frozenset({10}))
VENDOR = Actor(
    user_id=4, role=Role.AGENT, team_ids=frozenset({30}), external_team_ids=frozenset({30})
)


def refused(call: object, *args: object, **kw: object) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        call(*args, **kw)  # type: ignore[operator]
    assert info.value.code is ErrorCode.VALIDATION
    return info.value


def test_count_limit() -> None:
    POLICY.check_count(3, field="attachments")
    error = refused(POLICY.check_count, 4, field="attachments")
    assert error.field == "attachments" and "at most 3" in error.message


def test_declared_type_must_be_allowed_and_parameters_are_ignored() -> None:
    assert POLICY.check_declared("a.png", "Image/PNG; q=1", 10, field="f") == ("a.png", "image/png")
    for bad in ("text/html", "image/svg+xml", "application/x-msdownload", None):
        error = refused(POLICY.check_declared, "x.bin", bad, 10, field="f")
        assert error.field == "f" and "not accepted" in error.message


def test_untyped_parts_take_the_type_of_their_extension() -> None:
    assert POLICY.check_declared("scan.PDF", None, 5, field="f")[1] == "application/pdf"
    assert POLICY.check_declared("data.csv", "application/octet-stream", 5, field="f")[1] == (
        "text/csv"
    )
    refused(POLICY.check_declared, "tool.exe", "application/octet-stream", 5, field="f")


def test_size_limit_and_empty_files() -> None:
    POLICY.check_size(1000, name="a", field="f")
    assert "larger than the limit" in refused(POLICY.check_size, 1001, name="a", field="f").message
    assert "empty" in refused(POLICY.check_size, 0, name="a", field="f").message
    # A size the client declares is checked before anything is read.
    refused(POLICY.check_declared, "a.png", "image/png", 5000, field="f")
    assert (
        "10 MB"
        in refused(AttachmentPolicy().check_size, 10 * 1024 * 1024 + 1, name="a", field="f").message
    )


@pytest.mark.parametrize(
    ("content_type", "head"),
    [
        ("image/png", PNG),
        ("image/jpeg", JPEG),
        ("image/gif", b"GIF89a\x01\x00"),
        ("image/webp", b"RIFF\x10\x00\x00\x00WEBPVP8 "),
        ("application/pdf", PDF),
        ("application/pdf", b"\r\n" + PDF),
        ("application/zip", ZIP),
        ("application/zip", b"PK\x05\x06" + b"\x00" * 18),
        (DOCX, ZIP),
        ("application/msword", OLE),
        ("text/plain", "Grüße, printer on floor 3\n".encode()),
        ("text/csv", b"id,name\n1,toner\n"),
    ],
)
def test_content_matching_its_type_is_accepted(content_type: str, head: bytes) -> None:
    POLICY.check_head(content_type, head, name="f", field="f")


@pytest.mark.parametrize(
    ("content_type", "head"),
    [
        ("image/png", b"<html><script>alert(1)</script>"),
        ("image/png", JPEG),
        ("image/jpeg", PNG),
        ("image/gif", b"GIF90a"),
        ("image/webp", b"RIFF\x10\x00\x00\x00AVI "),
        ("application/pdf", b"MZ\x90\x00"),
        ("application/zip", PDF),
        (DOCX, OLE),
        ("application/msword", ZIP),
        ("text/plain", PNG),
        ("text/csv", b"a,b\x00c"),
        ("image/png", b""),
    ],
)
def test_content_not_matching_its_type_is_refused(content_type: str, head: bytes) -> None:
    error = refused(POLICY.check_head, content_type, head, name="f.bin", field="file")
    assert error.field == "file"


def test_types_an_admin_adds_without_a_known_signature_are_taken_as_declared() -> None:
    policy = AttachmentPolicy(allowed_types=frozenset({"application/json"}))
    policy.check_head("application/json", b'{"a": 1}', name="a.json", field="f")


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\rita\\Desktop\\screen shot.png", "screen shot.png"),
        ("../../etc/passwd", "passwd"),
        ("..", "attachment"),
        ("   ", "attachment"),
        (None, "attachment"),
        (".bashrc", "bashrc"),
        ('a"b<c>d|e?f*g:h;i.txt', "a_b_c_d_e_f_g_h_i.txt"),
        ("line\r\nbreak\x00.txt", "line break.txt"),
        ("invoice\u202etxt.exe", "invoicetxt.exe"),  # right-to-left override dropped
        ("zero\u200bwidth.png", "zerowidth.png"),
        ("tabs\tand   spaces .png", "tabs and spaces.png"),
        ("trailing dots...", "trailing dots"),
        ("CON.txt", "_CON.txt"),
        ("Cafe\u0301.txt", "Café.txt"),  # NFC
        ("Привет.pdf", "Привет.pdf"),
    ],
)
def test_file_names_are_made_safe(raw: str | None, safe: str) -> None:
    assert safe_filename(raw) == safe


def test_long_names_keep_their_extension() -> None:
    name = safe_filename("x" * 500 + ".docx")
    assert len(name) == FILENAME_MAX and name.endswith("x.docx")
    odd = safe_filename("a." + "b" * 300)  # an "extension" that is not one
    assert len(odd) == FILENAME_MAX and odd.startswith("a.b")


def test_ascii_fallback_names() -> None:
    assert ascii_filename("Café menu.pdf") == "Cafe menu.pdf"
    assert ascii_filename("Привет.pdf") == "attachment.pdf"
    assert ascii_filename("a&b.txt") == "a_b.txt"


def test_type_lists_from_configuration() -> None:
    assert parse_types(" image/png, TEXT/plain ,") == {"image/png", "text/plain"}
    with pytest.raises(ValueError, match="not content types"):
        parse_types("image/png, exe")
    with pytest.raises(ValueError, match="empty"):
        parse_types(" , ")
    assert normalise_type(" Text/CSV ; charset=latin-1") == "text/csv"
    assert {"image/png", "application/pdf", "text/plain", DOCX} <= DEFAULT_TYPES
    assert not {"text/html", "image/svg+xml"} & DEFAULT_TYPES


def test_who_sees_a_file() -> None:
    ticket = FakeTicket()
    assert can_see(RITA, ticket, internal=False)
    assert not can_see(RITA, ticket, internal=True)  # an internal note's file
    assert not can_see(CARL, ticket, internal=False)  # someone else's ticket
    assert can_see(AGENT, ticket, internal=True)
    assert not can_see(VENDOR, ticket, internal=False)  # not routed to the vendor


def test_only_the_author_attaches_to_a_comment() -> None:
    ensure_can_attach_to_comment(AGENT, author_id=2)
    with pytest.raises(Forbidden) as info:
        ensure_can_attach_to_comment(RITA, author_id=2)
    assert info.value.field == "commentId"
    with pytest.raises(Forbidden):
        ensure_can_attach_to_comment(Actor.system(), author_id=2)


def test_limits_come_from_the_environment() -> None:
    policy = Settings.from_env(
        {
            "SETS_ATTACHMENT_MAX_BYTES": "2048",
            "SETS_ATTACHMENT_MAX_FILES": "3",
            "SETS_ATTACHMENT_TYPES": "image/png, application/json",
        }
    ).attachment_policy
    assert policy == AttachmentPolicy(
        max_bytes=2048, max_files=3, allowed_types=frozenset({"image/png", "application/json"})
    )
    assert Settings.from_env({}).attachment_policy == AttachmentPolicy()
    for bad in (
        {"SETS_ATTACHMENT_TYPES": "png"},
        {"SETS_ATTACHMENT_MAX_BYTES": "0"},
        {"SETS_ATTACHMENT_MAX_FILES": "ten"},
    ):
        with pytest.raises(ConfigError):
            Settings.from_env(bad)
