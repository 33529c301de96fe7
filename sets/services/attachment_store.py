"""The attachment store: files on disk under SETS_DATA_DIR/attachments, named by their
sha256 (`ab/cd/abcd…`), so identical content is kept once.

A file goes through three states, each an atomic rename inside the store (one file system):
  tmp/<random>.part          being received: hashed and counted while it is written
  tmp/<sha256>.<random>.staged   complete and fsynced, waiting for its row to commit
  ab/cd/<sha256>              published, after the commit
An upload that is refused or rolled back deletes its own tmp file, so it leaves nothing.
A crash between the commit and the publish leaves a staged file whose name says which
content it holds: `recover` publishes it (on download, or when tidying), so a committed row
never loses its file."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sets.domain.attachments import SNIFF_BYTES, AttachmentPolicy

log = logging.getLogger("sets.attachments")

CHUNK = 64 * 1024


@dataclass(frozen=True)
class IncomingFile:
    """An uploaded file as the service sees it, whatever the transport: what the client
    declared, and a reader of its bytes (`read(n)` returns b"" at the end)."""

    filename: str | None
    content_type: str | None
    read: Callable[[int], Awaitable[bytes]]
    size: int | None = None
    field: str = "file"


@dataclass(frozen=True)
class StagedFile:
    path: Path
    sha256: str
    size: int
    filename: str
    content_type: str
    field: str


@dataclass(frozen=True)
class TidyReport:
    published: int
    removed: int


def _write_synced(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


class AttachmentStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging = root / "tmp"

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def stage(
        self, file: IncomingFile, *, filename: str, content_type: str, policy: AttachmentPolicy
    ) -> StagedFile:
        """Receive one file into the staging area while hashing and counting it. Its start
        is checked against the declared type before anything is written, and it is refused
        as soon as it grows past the limit; a refused file leaves nothing behind."""
        head = b""
        while len(head) < SNIFF_BYTES:
            chunk = await file.read(SNIFF_BYTES - len(head))
            if not chunk:
                break
            head += chunk
        policy.check_head(content_type, head, name=filename, field=file.field)
        await asyncio.to_thread(self.staging.mkdir, parents=True, exist_ok=True)
        part = self.staging / f"{uuid.uuid4().hex}.part"
        handle = await asyncio.to_thread(part.open, "xb")
        digest, size = hashlib.sha256(), 0
        staged: Path | None = None
        try:
            data = head
            while data:
                size += len(data)
                policy.check_size(size, name=filename, field=file.field)
                digest.update(data)
                await asyncio.to_thread(handle.write, data)
                data = await file.read(CHUNK)
            await asyncio.to_thread(_write_synced, handle)
            sha = digest.hexdigest()
            staged = self.staging / f"{sha}.{uuid.uuid4().hex}.staged"
            await asyncio.to_thread(os.replace, part, staged)
            await asyncio.to_thread(_fsync_dir, self.staging)
        except BaseException:
            handle.close()
            part.unlink(missing_ok=True)
            if staged is not None:
                staged.unlink(missing_ok=True)
            raise
        return StagedFile(staged, sha, size, filename, content_type, file.field)

    def publish(self, staged: StagedFile) -> None:
        """Move a staged file to its content address (sync: it runs in the commit hook).
        Identical content already there is kept and the staged copy dropped."""
        target = self.path(staged.sha256)
        if target.exists():
            staged.path.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(staged.path, target)
        except FileNotFoundError:
            # A download recovered this very file meanwhile (see `recover`).
            if not target.exists():
                raise

    def discard(self, staged: StagedFile) -> None:
        staged.path.unlink(missing_ok=True)

    def recover(self, sha256: str) -> Path | None:
        """The published file for `sha256`; if it is missing (a crash after the commit),
        a staged file with that content is verified and published first."""
        target = self.path(sha256)
        if target.exists():
            return target
        for candidate in sorted(self.staging.glob(f"{sha256}.*.staged")):
            try:
                if _sha256_of(candidate) != sha256:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(candidate, target)
            except FileNotFoundError:
                pass  # taken by a concurrent publish or recovery
            if target.exists():
                log.warning("attachment %s recovered from the staging area", sha256)
                return target
        return None

    def stale(self, older_than_seconds: float) -> list[tuple[Path, str | None]]:
        """Staging files untouched for that long, each with the sha256 its name claims
        (None for a `.part` that was never completed)."""
        if not self.staging.is_dir():
            return []
        cutoff = time.time() - older_than_seconds
        found: list[tuple[Path, str | None]] = []
        for path in self.staging.iterdir():
            try:
                if path.stat().st_mtime > cutoff:
                    continue
            except FileNotFoundError:
                continue
            sha = path.name.split(".", 1)[0] if path.name.endswith(".staged") else None
            found.append((path, sha))
        return found

    def files(self) -> list[Path]:
        """Every file in the store, staging included (for tests and operators)."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.rglob("*") if p.is_file())
