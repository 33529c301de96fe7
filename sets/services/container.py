"""Wires the services for one process: the app, the CLI and the tests build one of these."""

from __future__ import annotations

from dataclasses import dataclass, field

from sets.config import Settings
from sets.db.engine import Database, create_database
from sets.domain.clock import Clock, SystemClock
from sets.realtime import build_bus
from sets.realtime.bus import EventBus
from sets.services.admin import AdminService
from sets.services.analytics import AnalyticsService
from sets.services.auth import AuthService
from sets.services.dashboard import DashboardService
from sets.services.policies import PolicyService
from sets.services.queries import ReadService
from sets.services.saved_searches import SavedSearchService
from sets.services.search import SearchService
from sets.services.sweep import AutoClose, SlaSweep
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
    policies: PolicyService = field(init=False)
    sla_sweep: SlaSweep = field(init=False)
    auto_close: AutoClose = field(init=False)
    search: SearchService = field(init=False)
    saved_searches: SavedSearchService = field(init=False)
    analytics: AnalyticsService = field(init=False)
    dashboard: DashboardService = field(init=False)

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
        self.policies = PolicyService(self.uow)
        self.sla_sweep = SlaSweep(self.db.reader, self.uow, self.clock)
        self.auto_close = AutoClose(
            self.db.reader, self.tickets, self.clock, days=self.settings.auto_close_days
        )
        self.search = SearchService(self.db.reader)
        self.saved_searches = SavedSearchService(self.uow, self.db.reader)
        self.analytics = AnalyticsService(self.db.reader, self.clock)
        self.dashboard = DashboardService(self.db.reader, self.clock)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db.writer, self.clock, self.bus)

    async def close(self) -> None:
        await self.bus.stop()  # idempotent; closes a publish-only Redis client too
        await self.db.dispose()


def build_services(
    settings: Settings, *, clock: Clock | None = None, bus: EventBus | None = None
) -> Services:
    return Services(
        settings=settings,
        db=create_database(settings.database_url),
        clock=clock or SystemClock(),
        bus=bus
        or build_bus(
            settings.redis_url,
            prefix=settings.redis_prefix,
            queue_size=settings.subscriber_queue_size,
        ),
    )
