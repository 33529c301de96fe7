"""A real `sets serve` process on a free port."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from sets.app import SERVER_OPTIONS
from tests.conftest import TEST_SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(
    database_url: str, workdir: Path, *args: str, env: dict[str, str] | None = None
) -> Server:
    """`env` adds settings, e.g. SETS_REDIS_URL for a process that shares a Redis bus."""
    port = free_port()
    log = workdir / f"server-{port}.log"
    environment = {
        **os.environ,
        "SETS_DATABASE_URL": database_url,
        "SETS_JWT_SECRET": TEST_SECRET,
        "SETS_DATA_DIR": str(workdir / "data"),
        **(env or {}),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "sets.cli", "serve", "--port", str(port), *args],
            cwd=workdir,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"server did not become healthy:\n{server.output()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[object]:
    started: list[Server] = []

    def start(database_url: str, *args: str, env: dict[str, str] | None = None) -> Server:
        server = start_server(database_url, tmp_path, *args, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        stop_server(server)


@asynccontextmanager
async def serve_in_process(app: Any) -> AsyncIterator[str]:
    """`app` on a real uvicorn in this process, served as `sets serve` serves it (so a test
    can look at its services); yields its URL. Leaving stops it, with its lifespan."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **SERVER_OPTIONS)
    )
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:  # uvicorn offers a flag, not an event, for "started"
                if serving.done():
                    await serving  # it failed to start: say why
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
