"""Attachment rules (SPEC §9): how many files, how big, which types, what they may be called,
and who sees them. Checked before a byte reaches the store; plain Python, no I/O."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

from sets.domain.actor import Actor
from sets.domain.errors import Forbidden, ValidationFailed
from sets.domain.permissions import can_see_internal, can_view
from sets.domain.tickets import TicketFacts

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_FILES = 10
FILENAME_MAX = 200
SNIFF_BYTES = 4096
"""How much of the start of a file `check_head` is shown: enough for every signature below
and for telling text from binary."""

_OOXML = "application/vnd.openxmlformats-officedocument"
_ODF = "application/vnd.oasis.opendocument"
DEFAULT_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/zip",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        f"{_OOXML}.wordprocessingml.document",
        f"{_OOXML}.spreadsheetml.sheet",
        f"{_OOXML}.presentationml.presentation",
        f"{_ODF}.text",
        f"{_ODF}.spreadsheet",
        f"{_ODF}.presentation",
    }
)
"""Deliberately without text/html and image/svg+xml: both can carry script."""

# File name extension -> type, for parts sent without a usable Content-Type (curl sends
# application/octet-stream for unknown files). A fixed table, not `mimetypes`, whose answers
# depend on the host's /etc/mime.types.
_BY_EXTENSION = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".csv": "text/csv",
    ".zip": "application/zip",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".docx": f"{_OOXML}.wordprocessingml.document",
    ".xlsx": f"{_OOXML}.spreadsheetml.sheet",
    ".pptx": f"{_OOXML}.presentationml.presentation",
    ".odt": f"{_ODF}.text",
    ".ods": f"{_ODF}.spreadsheet",
    ".odp": f"{_ODF}.presentation",
}
_UNTYPED = {"", "application/octet-stream", "binary/octet-stream"}

_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)  # legacy .doc/.xls/.ppt
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/zip": _ZIP,
    "application/msword": _OLE,
    "application/vnd.ms-excel": _OLE,
    "application/vnd.ms-powerpoint": _OLE,
    **{t: (b"PK\x03\x04",) for t in _BY_EXTENSION.values() if t.startswith((_OOXML, _ODF))},
}

_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_UNSAFE = re.compile(r'[<>:"|?*;\\/]')
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{n}" for p in ("COM", "LPT") for n in "123456789"
}


def normalise_type(value: str | None) -> str:
    """`Image/PNG; charset=x` -> `image/png` (parameters are not part of the allowlist)."""
    return (value or "").split(";", 1)[0].strip().lower()


def parse_types(raw: str) -> frozenset[str]:
    """A comma-separated allowlist (SETS_ATTACHMENT_TYPES)."""
    found = {normalise_type(part) for part in raw.split(",") if part.strip()}
    bad = sorted(t for t in found if not _TYPE.match(t))
    if bad:
        raise ValueError(f"not content types: {', '.join(bad)}")
    if not found:
        raise ValueError("the list of content types is empty")
    return frozenset(found)


def safe_filename(raw: str | None) -> str:
    """A name safe to store and to send back in Content-Disposition: no directories, no
    control or bidi-override characters, no characters Windows or a header would choke on,
    no leading dots, at most FILENAME_MAX characters with the extension kept."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]  # browsers may send a full path
    name = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if ch.isspace() or unicodedata.category(ch)[0] != "C"
    )
    name = _UNSAFE.sub("_", name)
    name = re.sub(r" +", " ", name).strip(" .")
    if not name:
        return "attachment"
    stem, suffix = _split(name)
    stem = stem.rstrip(" ")
    if stem.upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    if len(suffix) > 16:  # not really an extension: keep it as part of the name
        stem, suffix = stem + suffix, ""
    return stem[: FILENAME_MAX - len(suffix)].rstrip(" .") + suffix


def _split(name: str) -> tuple[str, str]:
    suffix = PurePosixPath(name).suffix
    return (name[: -len(suffix)], suffix) if suffix else (name, "")


def ascii_filename(name: str) -> str:
    """A plain-ASCII stand-in for clients that ignore RFC 6266's `filename*`."""

    def fold(text: str) -> str:
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return re.sub(r"[^A-Za-z0-9._ ()+,=@-]", "_", plain)

    stem, suffix = _split(name)
    folded = fold(stem).strip(" .")
    return (folded if folded.strip("_") else "attachment") + fold(suffix)


@dataclass(frozen=True, slots=True)
class AttachmentPolicy:
    """The configured limits (SETS_ATTACHMENT_MAX_BYTES, _TYPES, _MAX_FILES)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    allowed_types: frozenset[str] = DEFAULT_TYPES
    max_files: int = DEFAULT_MAX_FILES

    def check_count(self, count: int, *, field: str) -> None:
        if count > self.max_files:
            raise ValidationFailed(
                f"at most {self.max_files} files per request, got {count}", field=field
            )

    def check_declared(
        self, filename: str | None, content_type: str | None, size: int | None, *, field: str
    ) -> tuple[str, str]:
        """The stored name and type of an incoming file, from what the client declared;
        refused before anything is read when the type is not allowed or the size (if the
        client told it) is over the limit."""
        name = safe_filename(filename)
        declared = normalise_type(content_type)
        if declared in _UNTYPED:
            declared = _BY_EXTENSION.get(_split(name)[1].lower(), declared)
        if declared not in self.allowed_types:
            shown = declared or "no type"
            raise ValidationFailed(
                f"{name}: files of type {shown} are not accepted "
                f"(allowed: {', '.join(sorted(self.allowed_types))})",
                field=field,
            )
        if size is not None:
            self.check_size(size, name=name, field=field)
        return name, declared

    def check_size(self, size: int, *, name: str, field: str) -> None:
        if size > self.max_bytes:
            raise ValidationFailed(
                f"{name} is larger than the limit of {_human(self.max_bytes)}", field=field
            )
        if size == 0:
            raise ValidationFailed(f"{name} is empty", field=field)

    def check_head(self, content_type: str, head: bytes, *, name: str, field: str) -> None:
        """The first SNIFF_BYTES of the file must fit its declared type: a known signature
        for binary formats, no NUL bytes for text. Types an admin added without a known
        signature are taken as declared."""
        if not head:
            raise ValidationFailed(f"{name} is empty", field=field)
        signatures = _SIGNATURES.get(content_type)
        if content_type == "image/webp":
            ok = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
        elif content_type == "application/pdf":
            ok = b"%PDF-" in head[:1024]  # some writers put a few bytes before the header
        elif content_type.startswith("text/"):
            ok = b"\x00" not in head[:SNIFF_BYTES]
        elif signatures is not None:
            ok = head.startswith(signatures)
        else:
            ok = True
        if not ok:
            raise ValidationFailed(
                f"{name} does not look like {content_type}: its content does not match the "
                "declared type",
                field=field,
            )


def _human(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MB"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024} KB"
    return f"{size} bytes"


def can_see(actor: Actor, ticket: TicketFacts, *, internal: bool) -> bool:
    """As the ticket, and never a file of an internal note for someone who may not see it."""
    return can_view(actor, ticket) and (not internal or can_see_internal(actor))


def ensure_can_attach_to_comment(actor: Actor, *, author_id: int) -> None:
    """A file attached to a comment becomes part of what its author said: theirs to add.
    Anyone else attaches to the ticket itself."""
    if actor.user_id is None or actor.user_id != author_id:
        raise Forbidden("only the comment's author may attach files to it", field="commentId")
