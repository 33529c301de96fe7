"""The content-addressed attachment store on a real file system (no database)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sets.domain.attachments import AttachmentPolicy
from sets.domain.errors import ValidationFailed
from sets.services.attachment_store import AttachmentStore, IncomingFile

POLICY = AttachmentPolicy(max_bytes=10_000)
TEXT = b"".join(f"line {n}\n".encode() for n in range(1000))[:9000]


def dribble(data: bytes, step: int = 7) -> IncomingFile:
    """A reader that hands out a few bytes at a time, whatever is asked."""
    position = 0

    async def read(n: int) -> bytes:
        nonlocal position
        chunk = data[position : position + min(n, step)]
        position += len(chunk)
        return chunk

    return IncomingFile("notes.txt", "text/plain", read)


def files(store: AttachmentStore) -> list[str]:
    return [str(p.relative_to(store.root)) for p in store.files()]


async def test_staged_in_small_pieces_hashed_counted_and_published_once(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path / "attachments")
    staged = await store.stage(
        dribble(TEXT), filename="notes.txt", content_type="text/plain", policy=POLICY
    )
    sha = hashlib.sha256(TEXT).hexdigest()
    assert (staged.sha256, staged.size) == (sha, len(TEXT))
    assert files(store) == [f"tmp/{staged.path.name}"] and staged.path.name.startswith(sha)
    store.publish(staged)
    twin = await store.stage(
        dribble(TEXT, 4096), filename="b.txt", content_type="text/plain", policy=POLICY
    )
    store.publish(twin)  # identical content: the staged copy is dropped
    assert files(store) == [f"{sha[:2]}/{sha[2:4]}/{sha}"]
    assert store.path(sha).read_bytes() == TEXT


async def test_a_file_past_the_limit_is_cut_off_and_leaves_nothing(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path / "attachments")
    with pytest.raises(ValidationFailed, match="larger than the limit"):
        await store.stage(
            dribble(TEXT + TEXT, 1000), filename="big.txt", content_type="text/plain", policy=POLICY
        )
    with pytest.raises(ValidationFailed, match="does not look like"):
        await store.stage(
            dribble(b"\x00\x01binary"), filename="x.txt", content_type="text/plain", policy=POLICY
        )
    assert files(store) == []


async def test_recovery_publishes_only_content_that_matches_its_name(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path / "attachments")
    sha = hashlib.sha256(TEXT).hexdigest()
    store.staging.mkdir(parents=True)
    (store.staging / f"{sha}.aaaa.staged").write_bytes(b"tampered")  # wrong content
    assert store.recover(sha) is None
    (store.staging / f"{sha}.bbbb.staged").write_bytes(TEXT)
    assert store.recover(sha) == store.path(sha)
    assert store.path(sha).read_bytes() == TEXT
    assert store.recover(hashlib.sha256(b"other").hexdigest()) is None
