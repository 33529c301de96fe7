"""The dashboard query against the floor, in one process over ASGI (no sockets, no load
generator competing for the cores): per-request times, the time spent collecting garbage, and
optionally a pyinstrument profile of the GraphQL requests.

    python -m bench.inprocess [--backend sqlite|postgresql] [--tickets N] [--requests N]
        [--profile out.html] [--gc-freeze] [--gc-threshold N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from starlette.routing import Route

from bench.floor import floor_endpoint
from bench.run import DASHBOARD, SECRET, drop_database, fresh_database, pct, prepare
from sets.app import create_app
from sets.config import Settings
from sets.services.demo import DEMO_PASSWORD


async def asgi_call(app: Any, method: str, path: str, body: bytes, headers: list[Any]) -> bytes:
    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    received = False
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # no disconnect while the response is written
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(chunks)


class GcTimer:
    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


async def measure(
    name: str, request: Callable[[], Awaitable[None]], count: int
) -> dict[str, float]:
    timer = GcTimer()
    gc.callbacks.append(timer)
    latencies = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            await request()
            latencies.append(time.perf_counter() - started)
    finally:
        gc.callbacks.remove(timer)
    figures = {
        "p10_ms": round(pct(latencies, 0.1) * 1000, 2),
        "p50_ms": round(pct(latencies, 0.5) * 1000, 2),
        "p90_ms": round(pct(latencies, 0.9) * 1000, 2),
        "min_ms": round(min(latencies) * 1000, 2),
        "gc_ms_per_request": round(timer.seconds * 1000 / count, 2),
    }
    print(f"  {name}: {figures}", flush=True)
    return figures


async def run(args: argparse.Namespace, workdir: Path) -> str | None:
    """The figures, printed; the profile's HTML when asked for."""
    url = await fresh_database(args.backend, workdir)
    html = None
    try:
        await prepare(url, args.tickets)
        settings = Settings(
            database_url=url,
            jwt_secret=SECRET,
            data_dir=workdir / "data",
            access_token_minutes=120,
            sla_interval_seconds=3600,
        )
        app = create_app(settings)
        services = app.state.services
        app.router.routes.insert(0, Route("/bench/floor", floor_endpoint(services.db.engine)))
        token = (await services.auth.login("admin@example.com", DEMO_PASSWORD)).access_token
        body = orjson.dumps({"query": DASHBOARD, "variables": {"first": 50}})
        headers = [(b"authorization", f"Bearer {token}".encode())]

        async def dashboard() -> None:
            answer = await asgi_call(app, "POST", "/graphql", body, headers)
            assert b'"errors"' not in answer[:200], answer[:500]

        async def floor() -> None:
            await asgi_call(app, "GET", "/bench/floor?first=50", b"", [])

        for _ in range(20):
            await dashboard()
            await floor()
        if args.gc_threshold:
            gc.set_threshold(args.gc_threshold, 10, 10)
        if args.gc_freeze:  # what a server could do once started: the app's objects, frozen
            gc.collect()
            gc.freeze()
        graphql = await measure("dashboard", dashboard, args.requests)
        base = await measure("floor", floor, args.requests)
        print(f"  ratio (p50): {graphql['p50_ms'] / base['p50_ms']:.2f}")
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005, async_mode="enabled")
            profiler.start()
            for _ in range(args.requests):
                await dashboard()
            profiler.stop()
            html = (
                profiler.output_text(color=False, show_all=False)
                if args.profile.endswith(".txt")
                else profiler.output_html()
            )
        await services.close()
    finally:
        await drop_database(url)
    return html


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", default="")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() once warmed up")
    parser.add_argument("--gc-threshold", type=int, default=0, help="gc generation 0 threshold")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sets-inprocess-"))
    try:
        html = asyncio.run(run(args, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if html is not None:
        Path(args.profile).write_text(html)
        print(f"  profile written to {args.profile}")


if __name__ == "__main__":
    main()
