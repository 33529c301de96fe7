"""`sets serve | worker | migrate | createuser | sla-check | demo | export-schema`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence

from sets.config import ConfigError, Settings
from sets.domain.actor import Actor
from sets.domain.enums import Role
from sets.domain.errors import DomainError


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from sets.app import SERVER_OPTIONS, create_app

    app = create_app(settings, demo=args.demo)
    if args.demo:
        print(
            f"SETS on http://{args.host}:{args.port}/graphql (GraphiQL in a browser); "
            "demo logins: see README, password 'sets-demo-password'",
            flush=True,
        )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, **SERVER_OPTIONS)
    return 0


async def _migrate(settings: Settings) -> int:
    from sets.db.engine import create_database
    from sets.db.migrate import current_revision, upgrade

    db = create_database(settings.database_url)
    try:
        await upgrade(db.engine)
        print(f"database at revision {await current_revision(db.engine)}")
    finally:
        await db.dispose()
    return 0


async def _with_services(settings: Settings, args: argparse.Namespace) -> int:
    from sets.app import prepare_database
    from sets.services.container import build_services
    from sets.services.demo import load_demo

    services = build_services(settings)
    try:
        await prepare_database(services, demo=False)
        if args.command == "demo":
            loaded = await load_demo(services)
            print(f"demo data loaded: {loaded}" if loaded else "users exist: demo data skipped")
            if args.tickets:
                from sets.services.bulk import load_tickets, print_progress

                bulk = await load_tickets(services, args.tickets, progress=print_progress)
                print(
                    f"added {bulk.tickets} tickets, {bulk.events} events, {bulk.comments} comments"
                )
            return 0
        password = args.password or getpass.getpass("password: ")
        user = await services.admin.create_user(
            Actor.system(),
            email=args.email,
            name=args.name or args.email.split("@")[0],
            role=Role(args.role),
            password=password,
        )
        print(f"created {user.role.value} {user.email} (id {user.id})")
        return 0
    finally:
        await services.close()


def _worker(settings: Settings, *, check: bool) -> int:
    from arq.worker import check_health, run_worker

    from sets.workers.arq_worker import worker_settings

    if check:
        # Exit 0 when a worker refreshed its health-check key within the last minute.
        return check_health(worker_settings(settings))
    run_worker(worker_settings(settings))
    return 0


async def _sla_check(settings: Settings, now_text: str) -> int:
    from datetime import UTC, datetime

    from sets.app import prepare_database
    from sets.domain.clock import FixedClock
    from sets.services.container import build_services
    from sets.services.notifications_delivery import Result
    from sets.workers.inprocess import InProcessRunner

    try:
        now = datetime.fromisoformat(now_text)
    except ValueError:
        print(
            f"sets: --now wants an ISO time such as 2026-11-25T14:00:00Z, not {now_text!r}",
            file=sys.stderr,
        )
        return 2
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    # Events of this sweep are stamped with the moment it runs "as of".
    services = build_services(settings, clock=FixedClock(now))
    try:
        await prepare_database(services, demo=False)
        summary = await services.sla_sweep.run()
        closed = await services.auto_close.run()
        # Without Redis nothing else would deliver what this run notified: do it here (with
        # Redis, `sets worker` does). Earlier undelivered notifications come along.
        runner = InProcessRunner(services, interval_seconds=60)
        await services.deliveries.rescue(services.delivery_queue)
        outcomes = await runner.drain()
    finally:
        await services.close()
    sent = sum(1 for o in outcomes if o.result is Result.SENT)
    print(f"{summary.line()}; {closed} auto-closed; {sent} notifications delivered")
    return 0


def _export_schema() -> int:
    from strawberry.printer import print_schema

    from sets.schema import build_schema

    sys.stdout.write(print_schema(build_schema()) + "\n")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="sets", description="Smart Escalation Ticket System")
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API (GraphiQL at /graphql)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="load demo data into an empty database")
    serve.add_argument("--log-level", default="info")
    commands.add_parser("migrate", help="bring the database schema up to date")
    create = commands.add_parser("createuser", help="create a user (any role)")
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name")
    create.add_argument("--password", help="prompted for when omitted")
    demo = commands.add_parser("demo", help="load demo data (and optionally many tickets)")
    demo.add_argument(
        "--tickets", type=int, default=0, help="also add this many realistic tickets, in bulk"
    )
    worker = commands.add_parser("worker", help="run the background jobs under arq (needs Redis)")
    worker.add_argument(
        "--check", action="store_true", help="exit 0 if a worker is alive (health probe)"
    )
    check = commands.add_parser("sla-check", help="run one SLA sweep and auto-close as of --now")
    check.add_argument("--now", required=True, help="ISO time, e.g. 2026-11-25T14:00:00Z")
    commands.add_parser("export-schema", help="print the GraphQL SDL")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env()
        if args.command == "export-schema":
            return _export_schema()
        if args.command == "serve":
            return _serve(args, settings)
        if args.command == "migrate":
            return asyncio.run(_migrate(settings))
        if args.command == "worker":
            return _worker(settings, check=args.check)
        if args.command == "sla-check":
            return asyncio.run(_sla_check(settings, args.now))
        return asyncio.run(_with_services(settings, args))
    except (ConfigError, DomainError) as exc:
        print(f"sets: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
