"""Wires the services for one process: the app, the CLI and the tests build one of these."""

from __future__ import annotations

from dataclasses import dataclass, field

from sets.config import Settings
from sets.db.engine import Database, create_database
from sets.domain.clock import Clock, SystemClock
from sets.notify import Channels, build_channels
from sets.realtime import build_bus
from sets.realtime.bus import EventBus
from sets.services.admin import AdminService
from sets.services.analytics import AnalyticsService
from sets.services.attachment_store import AttachmentStore
from sets.services.attachments import AttachmentService
from sets.services.auth import AuthService
from sets.services.collaboration import CollaborationReads
from sets.services.csat import CsatService
from sets.services.dashboard import DashboardService
from sets.services.knowledge import KnowledgeService
from sets.services.links import LinkService
from sets.services.notifications import NotificationService
from sets.services.notifications_delivery import DeliveryPolicy, DeliveryService
from sets.services.notifications_queue import (
    ArqQueue,
    DeliveryQueue,
    Dispatcher,
    LocalQueue,
    arq_queue_name,
)
from sets.services.policies import PolicyService
from sets.services.queries import ReadService
from sets.services.saved_searches import SavedSearchService
from sets.services.search import SearchService
from sets.services.sweep import AutoClose, SlaSweep
from sets.services.tasks import TaskService
from sets.services.tickets import TicketService
from sets.services.time_tracking import TimeTrackingService
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
    tasks: TaskService = field(init=False)
    links: LinkService = field(init=False)
    time: TimeTrackingService = field(init=False)
    csat: CsatService = field(init=False)
    collaboration: CollaborationReads = field(init=False)
    knowledge: KnowledgeService = field(init=False)
    attachments: AttachmentService = field(init=False)
    channels: Channels = field(init=False)
    delivery_queue: DeliveryQueue = field(init=False)
    deliveries: DeliveryService = field(init=False)
    notifications: NotificationService = field(init=False)
    _dispatch: Dispatcher = field(init=False, repr=False)

    def __post_init__(self) -> None:
        settings = self.settings
        # Built first: every unit of work dispatches its notifications after commit.
        self.channels = build_channels(
            data_dir=settings.data_dir,
            mail_from=settings.mail_from,
            smtp_url=settings.smtp_url,
            slack_webhook_url=settings.slack_webhook_url,
        )
        self.delivery_queue = (
            ArqQueue(
                settings.redis_url,
                queue_name=arq_queue_name(settings.redis_prefix),
                job_prefix=settings.redis_prefix,
            )
            if settings.redis_url
            else LocalQueue()
        )
        # A lookup, not a reference: the queue may be replaced (tests point it elsewhere).
        self._dispatch = Dispatcher(self.bus, lambda: self.delivery_queue)
        self.deliveries = DeliveryService(
            self.db.writer, self.clock, self.channels, DeliveryPolicy.from_settings(settings)
        )
        self.notifications = NotificationService(
            self.uow, self.db.reader, lambda: self.delivery_queue
        )
        self.auth = AuthService(
            self.db.writer,
            self.clock,
            secret=self.settings.jwt_secret,
            access_minutes=self.settings.access_token_minutes,
            refresh_days=self.settings.refresh_token_days,
            reads=self.db.reader,
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
        self.tasks = TaskService(self.uow)
        self.links = LinkService(self.uow)
        self.time = TimeTrackingService(self.uow)
        self.csat = CsatService(self.uow)
        self.collaboration = CollaborationReads(self.db.reader)
        self.knowledge = KnowledgeService(self.uow, self.db.reader)
        self.attachments = AttachmentService(
            self.uow,
            self.db.reader,
            AttachmentStore(settings.data_dir / "attachments"),
            settings.attachment_policy,
        )

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db.writer, self.clock, self.bus, self._dispatch)

    async def close(self) -> None:
        await self.delivery_queue.close()
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
