"""Wires the services for one process: the app, the CLI and the tests build one of these."""

from __future__ import annotations

from dataclasses import dataclass, field

from sets.config import Settings
from sets.db.engine import Database, create_database
from sets.domain.clock import Clock, SystemClock
from sets.realtime.bus import EventBus, InMemoryBus
from sets.services.admin import AdminService
from sets.services.auth import AuthService
from sets.services.queries import ReadService
from sets.services.tickets import TicketService
from sets.services.uow import UnitOfWork


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    bus: EventBus
    auth: AuthService = field(init=False)
    tickets: TicketService = field(init=False)
    admin: AdminService = field(init=False)
    reads: ReadService = field(init=False)

    def __post_init__(self) -> None:
        self.auth = AuthService(
            self.db.writer,
            self.clock,
            secret=self.settings.jwt_secret,
            access_minutes=self.settings.access_token_minutes,
            refresh_days=self.settings.refresh_token_days,
        )
        self.tickets = TicketService(self.uow)
        self.admin = AdminService(self.uow)
        self.reads = ReadService(self.db.reader)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db.writer, self.clock, self.bus)

    async def close(self) -> None:
        await self.db.dispose()


def build_services(
    settings: Settings, *, clock: Clock | None = None, bus: EventBus | None = None
) -> Services:
    return Services(
        settings=settings,
        db=create_database(settings.database_url),
        clock=clock or SystemClock(),
        bus=bus or InMemoryBus(),
    )
