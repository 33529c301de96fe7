"""`make bench`: measurements on SQLite and PostgreSQL, printed as one table and written as
JSON under bench/results/. Targets (SPEC, issue 8) are reported against, not asserted.

    python -m bench.run [--quick] [--backends sqlite,postgresql] [--tickets N]
        [--sweep-sqlite N] [--sweep-postgresql N] [--fanout 1000,5000]
        [--fanout-events 1] [--only fanout,…]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.wsclient import open_socket
from sets.config import Settings
from sets.db.migrate import upgrade
from sets.services.bulk import load_tickets, print_progress
from sets.services.container import Services, build_services
from sets.services.demo import DEMO_PASSWORD, load_demo

ROOT = Path(__file__).resolve().parent
PG_ADMIN = os.environ.get(
    "SETS_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("SETS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "bench-secret-0123456789abcdef0123456789abcdef"

DASHBOARD = """
query Dashboard($first: Int!) { tickets(first: $first) { edges { node {
  id key title status priority escalationLevel createdAt
  sla { firstResponseDueAt resolutionDueAt firstRespondedAt firstResponseBreached
        resolutionBreached paused }
  requester { id name } assignee { id name } category { id name } team { id name }
  events(last: 3) { nodes { kind from to createdAt actor { name } } } } } } }"""
LOGIN = """mutation L($e: String!, $p: String!) { login(input: {email: $e, password: $p}) {
  accessToken } }"""
CREATE = """mutation C($i: CreateTicketInput!) { createTicket(input: $i) {
  ticket { id } userErrors { code } } }"""
SEARCH = """query S($q: String!) { tickets(first: 20, search: $q) { totalCount
  nodes { id key title } } }"""
SUBSCRIBE = "subscription { ticketEvents { id kind createdAt } }"


@dataclass
class Row:
    backend: str
    name: str
    figures: dict[str, Any] = field(default_factory=dict)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- databases ------------------------------------------------------------------------------


async def pg_admin(sql: str) -> None:
    import asyncpg

    dsn = make_url(PG_ADMIN).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def fresh_database(backend: str, workdir: Path) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    name = f"sets_bench_{uuid.uuid4().hex[:8]}"
    await pg_admin(f'CREATE DATABASE "{name}"')
    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    if url.startswith("postgresql"):
        name = make_url(url).database
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def prepare(url: str, tickets: int) -> None:
    services = build_services(Settings(database_url=url, jwt_secret=SECRET))
    try:
        await upgrade(services.db.engine)
        await load_demo(services)
        started = time.perf_counter()
        await load_tickets(services, tickets, progress=print_progress)
        print(f"  loaded {tickets} tickets in {time.perf_counter() - started:.1f} s")
    finally:
        await services.close()


# --- the server -----------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(url: str, workdir: Path, redis: bool) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "SETS_DATABASE_URL": url,
        "SETS_JWT_SECRET": SECRET,
        "SETS_DATA_DIR": str(workdir / "data"),
        "SETS_ACCESS_TOKEN_MINUTES": "120",
        "SETS_SLA_INTERVAL_SECONDS": "3600",
        "SETS_SUBSCRIBER_QUEUE_SIZE": "10000",
    }
    if redis:
        env["SETS_REDIS_URL"] = REDIS_URL
        env["SETS_REDIS_PREFIX"] = f"bench-{uuid.uuid4().hex[:8]}:"
    log = (workdir / f"server-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.server", "--port", str(port)],
        cwd=ROOT.parent,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    for _ in range(300):
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"bench server did not start; see {log.name}")


async def login(client: httpx.AsyncClient, email: str) -> str:
    response = await client.post(
        "/graphql", json={"query": LOGIN, "variables": {"e": email, "p": DEMO_PASSWORD}}
    )
    token: str = response.json()["data"]["login"]["accessToken"]
    return token


async def statements(client: httpx.AsyncClient) -> int:
    return int((await client.get("/bench/stats")).json()["statements"])


async def hammer(
    request: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    base_url: str,
    *,
    concurrency: int,
    requests: int,
) -> dict[str, float]:
    """`requests` calls spread over `concurrency` workers: throughput and latency."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        for _ in range(min(20, requests)):  # warm-up: caches, pools, the JIT-less parts
            (await request(client)).raise_for_status()
        remaining = requests

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                response = await request(client)
                latencies.append(time.perf_counter() - started)
                response.raise_for_status()
                if b'"errors"' in response.content[:200]:
                    raise RuntimeError(response.text[:500])

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(pct(latencies, 0.5) * 1000, 2),
        "p99_ms": round(pct(latencies, 0.99) * 1000, 2),
    }


# --- the scenarios --------------------------------------------------------------------------


async def bench_dashboard(backend: str, server: Server, quick: bool) -> list[Row]:
    rows = []
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        token = await login(client, "admin@example.com")
        before = await statements(client)
        response = await client.post(
            "/graphql",
            json={"query": DASHBOARD, "variables": {"first": 50}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert "errors" not in response.json(), response.text[:500]
        per_request = await statements(client) - before
    headers = {"Authorization": f"Bearer {token}"}
    body = {"query": DASHBOARD, "variables": {"first": 50}}
    count = 200 if quick else 2000
    for concurrency in (1, 16):
        sets_figures = await hammer(
            lambda c: c.post("/graphql", json=body, headers=headers),
            server.url,
            concurrency=concurrency,
            requests=count,
        )
        floor = await hammer(
            lambda c: c.get("/bench/floor", params={"first": 50}),
            server.url,
            concurrency=concurrency,
            requests=count,
        )
        rows.append(
            Row(
                backend,
                f"dashboard first:50 c={concurrency}",
                {
                    **sets_figures,
                    "sql_per_request": per_request,
                    "floor_rps": floor["rps"],
                    "floor_p50_ms": floor["p50_ms"],
                    "ratio_p50": round(sets_figures["p50_ms"] / floor["p50_ms"], 2),
                    "ratio_rps": round(floor["rps"] / sets_figures["rps"], 2),
                },
            )
        )
    return rows


async def bench_create(backend: str, server: Server, quick: bool) -> list[Row]:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        token = await login(client, "requester@example.com")
    headers = {"Authorization": f"Bearer {token}"}
    counter = iter(range(10**9))

    def create(c: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        n = next(counter)
        variables = {"i": {"title": f"Bench ticket {n}", "description": "Load test."}}
        return c.post("/graphql", json={"query": CREATE, "variables": variables}, headers=headers)

    figures = await hammer(create, server.url, concurrency=16, requests=200 if quick else 2000)
    return [Row(backend, "createTicket c=16", figures)]


async def bench_search(backend: str, server: Server, quick: bool) -> list[Row]:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        token = await login(client, "admin@example.com")
    headers = {"Authorization": f"Bearer {token}"}
    queries = ["printer offline", "vpn", "card terminal payments", "laptop boot", "SETS-42"]
    counter = iter(range(10**9))

    def search(c: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        q = queries[next(counter) % len(queries)]
        body = {"query": SEARCH, "variables": {"q": q}}
        return c.post("/graphql", json=body, headers=headers)

    figures = await hammer(search, server.url, concurrency=4, requests=100 if quick else 1000)
    return [Row(backend, "search c=4", figures)]


async def bench_fanout(
    backend: str,
    server: Server,
    subscribers: int,
    *,
    events: int = 1,
    client: str = "lean",
    before_publish: Callable[[], Awaitable[None]] | None = None,
    after_receipt: Callable[[], Awaitable[None]] | None = None,
) -> Row:
    """`subscribers` websockets on one server process, each subscribed to `ticketEvents`;
    then `events` tickets are created one after the other (each once every subscriber has
    received the previous one) and every receipt is timed from the event's `createdAt` to
    the moment its frame reached the client process. `client`: "lean" (bench/wsclient.py,
    cheap per message, so the figures are the server's) or "websockets" (the library; at
    5 000 subscribers it measures mostly its own per-message cost)."""
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        admin = await login(http, "admin@example.com")
        rita = await login(http, "requester@example.com")
    ws_url = server.url.replace("http", "ws", 1) + "/graphql"
    rss_before = server.rss_kib()
    received: list[float] = []
    failures: list[str] = []
    connect_times: list[float] = []
    ready = 0
    all_ready = asyncio.Event()
    done = asyncio.Event()
    round_done = asyncio.Event()
    # Sockets stay open until every subscriber has the last event: closing thousands of them
    # meanwhile would load both ends and inflate the slowest receipts.
    all_received = asyncio.Event()
    counts = [0] * events

    def receipt(arrived: float, message: dict[str, Any]) -> bool:
        """Time a `next` carrying a CREATED event (True), ignore any other event (False)."""
        event = message["payload"]["data"]["ticketEvents"]
        if event["kind"] != "CREATED":
            return False
        received.append(arrived - datetime.fromisoformat(event["createdAt"]).timestamp())
        return True

    def count(got: int) -> None:
        counts[got] += 1
        if counts[got] == subscribers:
            round_done.set()
            if got == events - 1:
                all_received.set()

    def subscribed() -> None:
        nonlocal ready
        ready += 1
        if ready == subscribers:
            all_ready.set()

    async def lean_subscriber() -> None:
        started = time.perf_counter()
        ws = await open_socket(ws_url)
        try:
            ws.send({"type": "connection_init", "payload": {"token": admin}})
            await ws.recv()
            connect_times.append(time.perf_counter() - started)
            finished = asyncio.get_running_loop().create_future()
            got = 0

            def on_message(arrived: float, message: dict[str, Any]) -> None:
                nonlocal got
                if message.get("type") in ("error", "complete"):
                    failures.append(str(message)[:200])
                    finished.done() or finished.set_result(None)
                elif message.get("type") == "next" and receipt(arrived, message):
                    count(got)
                    got += 1
                    if got == events and not finished.done():
                        finished.set_result(None)

            ws.on_message = on_message
            ws.send({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
            subscribed()
            await asyncio.wait([finished, ws.closed], return_when=asyncio.FIRST_COMPLETED)
            if not finished.done():
                failures.append(f"closed: {ws.closed.result()}")
            elif got == events:
                await all_received.wait()
        finally:
            ws.close()

    async def websockets_subscriber() -> None:
        from websockets.asyncio.client import connect

        started = time.perf_counter()
        async with connect(
            ws_url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            open_timeout=60,
            max_queue=64,
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"token": admin}}))
            await ws.recv()
            connect_times.append(time.perf_counter() - started)
            await ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
            )
            subscribed()
            got = 0
            while not done.is_set():
                message = json.loads(await ws.recv())
                if message.get("type") in ("error", "complete"):
                    failures.append(str(message)[:200])
                    return
                if message.get("type") == "next" and receipt(time.time(), message):
                    count(got)
                    got += 1
                    if got == events:
                        await all_received.wait()
                        return

    subscriber = lean_subscriber if client == "lean" else websockets_subscriber
    tasks = []
    connect_started = time.perf_counter()
    for start in range(0, subscribers, 250):  # open in waves: the server accepts at its pace
        tasks += [asyncio.create_task(subscriber()) for _ in range(min(250, subscribers - start))]
        await asyncio.sleep(0.2)
    try:
        await asyncio.wait_for(all_ready.wait(), timeout=300)
    except TimeoutError:
        done.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return Row(
            backend, f"fan-out {subscribers} subscribers", {"connected": ready, "error": "timeout"}
        )
    connect_all = time.perf_counter() - connect_started
    await asyncio.sleep(1)
    rss_after = server.rss_kib()
    if before_publish is not None:
        await before_publish()
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        for n in range(events):
            round_done.clear()
            variables = {"i": {"title": f"Fan-out {n}", "description": "One event to everyone."}}
            await http.post(
                "/graphql",
                json={"query": CREATE, "variables": variables},
                headers={"Authorization": f"Bearer {rita}"},
            )
            if n + 1 < events:
                try:
                    await asyncio.wait_for(round_done.wait(), timeout=120)
                except TimeoutError:
                    break
                await asyncio.sleep(0.5)
    try:
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=120)
    except TimeoutError:
        failures.append("timeout waiting for receipt")
    finally:
        done.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if after_receipt is not None:
        await after_receipt()
    return Row(
        backend,
        f"fan-out {subscribers} subscribers" + (f", {events} events" if events > 1 else ""),
        {
            "client": client,
            "received": len(received),
            "failed": len(failures),
            "p50_ms": round(pct(received, 0.5) * 1000, 1),
            "p99_ms": round(pct(received, 0.99) * 1000, 1),
            "max_ms": round(max(received, default=float("nan")) * 1000, 1),
            "kib_per_subscriber": round((rss_after - rss_before) / subscribers, 1),
            **(
                {  # receipts arrive event after event: each event's own p99
                    "p99_ms_by_event": [
                        round(pct(received[i : i + subscribers], 0.99) * 1000)
                        for i in range(0, len(received), subscribers)
                    ]
                }
                if events > 1
                else {}
            ),
            "connect_all_s": round(connect_all, 1),
            "connect_p99_ms": round(pct(connect_times, 0.99) * 1000, 1),
        },
    )


async def bench_sweep(backend: str, url: str, total: int, quick: bool) -> list[Row]:
    services: Services = build_services(Settings(database_url=url, jwt_secret=SECRET))
    rows = []
    try:
        async with services.db.engine.begin() as conn:
            have = int((await conn.execute(text("SELECT count(*) FROM tickets"))).scalar() or 0)
        if have < total:
            await load_tickets(services, total - have, seed=99, progress=print_progress)
        for share in (0.01, 0.001):
            now = datetime.now(UTC)
            modulus = int(1 / share)
            async with services.db.engine.begin() as conn:
                # Every open ticket checked later; one in `modulus` due now.
                await conn.execute(
                    text(
                        "UPDATE tickets SET next_sla_check_at = :later WHERE status NOT IN "
                        "('RESOLVED', 'CLOSED')"
                    ),
                    {"later": now + timedelta(days=365)},
                )
                await conn.execute(
                    text(
                        "UPDATE tickets SET next_sla_check_at = :now WHERE id % :m = 0 "
                        "AND status NOT IN ('RESOLVED', 'CLOSED')"
                    ),
                    {"now": now - timedelta(seconds=1), "m": modulus},
                )
                if backend == "postgresql":
                    await conn.execute(text("ANALYZE tickets"))
            started = time.perf_counter()
            summary = await services.sla_sweep.run(now)
            elapsed = time.perf_counter() - started
            rows.append(
                Row(
                    backend,
                    f"sla sweep {total} tickets, {share:.1%} due",
                    {
                        "due": summary.examined,
                        "seconds": round(elapsed, 2),
                        "ms_per_due_ticket": round(elapsed * 1000 / max(1, summary.examined), 2),
                    },
                )
            )
    finally:
        await services.close()
    return rows


# --- driver ---------------------------------------------------------------------------------


async def run_backend(backend: str, args: argparse.Namespace, workdir: Path) -> list[Row]:
    print(f"== {backend}", flush=True)
    url = await fresh_database(backend, workdir)
    rows: list[Row] = []

    def wanted(name: str) -> bool:
        return not args.only or name in args.only

    def report(new: list[Row]) -> list[Row]:
        for row in new:
            print(f"  {row.name}: {row.figures}", flush=True)
        return new

    try:
        await prepare(url, args.tickets)
        server = start_server(url, workdir, redis=True)
        try:
            if wanted("dashboard"):
                rows += report(await bench_dashboard(backend, server, args.quick))
            if wanted("search"):
                rows += report(await bench_search(backend, server, args.quick))
            if wanted("create"):
                rows += report(await bench_create(backend, server, args.quick))
            if wanted("fanout"):
                for n in args.fanout:
                    # A fresh server per size: connections of the last run are not counted.
                    server.stop()
                    server = start_server(url, workdir, redis=True)
                    rows += report(
                        [
                            await bench_fanout(
                                backend,
                                server,
                                n,
                                events=args.fanout_events,
                                client=args.fanout_client,
                            )
                        ]
                    )
        finally:
            server.stop()
        if wanted("sweep"):
            sweep_total = args.sweep_sqlite if backend == "sqlite" else args.sweep_postgresql
            rows += report(await bench_sweep(backend, url, sweep_total, args.quick))
    finally:
        await drop_database(url)
    return rows


def print_table(rows: list[Row]) -> None:
    print()
    print(f"{'backend':<11} {'benchmark':<44} figures")
    print("-" * 110)
    for row in rows:
        figures = "  ".join(f"{k}={v}" for k, v in row.figures.items())
        print(f"{row.backend:<11} {row.name:<44} {figures}")


def write_results(rows: list[Row], args: argparse.Namespace) -> None:
    print_table(rows)
    results = ROOT / "results"
    results.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = results / f"{stamp}{'-quick' if args.quick else ''}.json"
    out.write_text(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "arguments": dict(vars(args)),
                "rows": [row.__dict__ for row in rows],
            },
            indent=2,
        )
    )
    print(f"\nwritten to {out.relative_to(ROOT.parent)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--tickets", type=int, default=None)
    parser.add_argument("--sweep-sqlite", type=int, default=None)
    parser.add_argument("--sweep-postgresql", type=int, default=None)
    parser.add_argument("--fanout", default=None)
    parser.add_argument(
        "--fanout-events", type=int, default=3, help="events timed per fan-out size"
    )
    parser.add_argument(
        "--fanout-client",
        default="lean",
        choices=["lean", "websockets"],
        help="the subscribers' websocket client (see bench_fanout)",
    )
    parser.add_argument(
        "--only", default="", help="comma list of: dashboard,search,create,fanout,sweep"
    )
    args = parser.parse_args()
    args.tickets = args.tickets or (2_000 if args.quick else 50_000)
    args.sweep_sqlite = args.sweep_sqlite or (5_000 if args.quick else 100_000)
    args.sweep_postgresql = args.sweep_postgresql or (10_000 if args.quick else 1_000_000)
    fanout = args.fanout or ("100" if args.quick else "1000,5000")
    args.fanout = [int(n) for n in fanout.split(",") if n]
    args.only = [n for n in args.only.split(",") if n]
    workdir = Path(tempfile.mkdtemp(prefix="sets-bench-"))
    rows: list[Row] = []
    try:
        for backend in args.backends.split(","):
            rows += asyncio.run(run_backend(backend, args, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        write_results(rows, args)


if __name__ == "__main__":
    main()
