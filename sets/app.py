"""The ASGI application: GraphQL (with GraphiQL) at /graphql and a health check."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types.unset import UnsetType

from sets.config import Settings
from sets.db.migrate import current_revision, head_revision, upgrade
from sets.schema import build_schema
from sets.schema.context import Context, bearer_token
from sets.schema.live_frames import LiveLegacyWS, LiveTransportWS
from sets.schema.subscriptions import (
    MAX_SUBSCRIPTIONS_PER_CONNECTION,
    SocketContext,
    accept_connection,
)
from sets.services.container import Services, build_services
from sets.services.demo import load_demo
from sets.web.attachments import download_attachment
from sets.web.collector import CollectorPolicy
from sets.web.uploads import BodyTooLarge, UploadGate, admitted_principal, too_large
from sets.workers.inprocess import InProcessRunner

log = logging.getLogger("sets")

# How uvicorn serves this app (`sets serve`, the benchmark's server). No per-message deflate
# on websockets: live frames are small, and a compressor per connection costs memory and time
# when one event goes to thousands of subscribers.
SERVER_OPTIONS: dict[str, Any] = {"lifespan": "on", "ws_per_message_deflate": False}


class SetsGraphQL(GraphQL[Context, None]):
    # Subscribers of one event share one execution and one encoding (sets.schema.live_frames).
    graphql_transport_ws_handler_class = LiveTransportWS
    graphql_ws_handler_class = LiveLegacyWS

    def __init__(self, services: Services) -> None:
        super().__init__(
            build_schema(services.settings),
            graphql_ide="graphiql",
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
            multipart_uploads_enabled=True,  # file uploads; guarded by UploadGate below
        )
        self.services = services
        self.uploads = UploadGate(services.auth, services.settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal, receive = await self.uploads.admit(scope, receive)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        try:
            await super().__call__(scope, receive, send)
        except BodyTooLarge:  # raised while the body is parsed: nothing was sent yet
            await too_large(self.uploads.limit)(scope, receive, send)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        token = bearer_token(request.headers.get("authorization"))
        if isinstance(request, WebSocket):
            # Once per connection: authenticated at connection_init (on_ws_connect).
            return SocketContext(self.services, token, websocket=request)
        # A multipart request was authenticated by the upload gate already.
        return Context(self.services, token, admitted_principal(request.scope))

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        return await accept_connection(context)

    def encode_json(self, data: object) -> str:
        # Websocket messages must be text frames: a browser hands a binary frame to its
        # client as a Blob, which graphql-ws (GraphiQL's subscriptions) cannot parse.
        return orjson.dumps(data).decode()

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        # HTTP bodies skip the str round trip that websocket frames need.
        response = Response(
            orjson.dumps(response_data),
            status_code=sub_response.status_code or 200,
            media_type="application/json",
        )
        response.headers.raw.extend(sub_response.headers.raw)
        response.background = sub_response.background
        return response

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)


async def prepare_database(services: Services, *, demo: bool) -> None:
    """SQLite (the embedded default) migrates itself; PostgreSQL is migrated explicitly with
    `sets migrate`, once, not by every replica racing at start-up."""
    engine = services.db.engine
    if services.settings.is_sqlite:
        await upgrade(engine)
    elif await current_revision(engine) != head_revision():
        raise RuntimeError("the database schema is not current: run `sets migrate` first")
    if demo:
        loaded = await load_demo(services)
        if loaded:
            log.info("loaded demo data: %s", loaded)


def create_app(
    settings: Settings | None = None, *, services: Services | None = None, demo: bool = False
) -> Starlette:
    services = services or build_services(settings or Settings.from_env())
    graphql = SetsGraphQL(services)

    async def healthz(_request: Request) -> Response:
        try:
            async with services.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means "not healthy", reported, not raised
            log.warning("health check failed: %s", exc)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await prepare_database(services, demo=demo)
        await services.bus.start()  # with Redis: this process's one pub/sub connection
        # Without Redis there is no arq worker: this process runs the SLA jobs itself.
        runner = None
        if not services.settings.redis_url:
            runner = InProcessRunner(
                services, interval_seconds=services.settings.sla_interval_seconds
            )
            # Catch up before serving: a backlog swept while clients already listen would
            # arrive as a burst; after this, one sweep per interval.
            await runner.run_once()
            runner.start(run_now=False)
        app.state.jobs = runner
        # Everything made so far (schema, mappers, caches) lives as long as the process:
        # move it out of the collector's way, so full collections stay short (they drove the
        # dashboard's p99).
        gc.collect()
        gc.freeze()
        # And so for what later lives long, as open websockets do (see CollectorPolicy).
        collector = CollectorPolicy(asyncio.get_running_loop())
        collector.install()
        try:
            yield
        finally:
            collector.uninstall()
            if runner is not None:
                await runner.stop()
            await services.bus.stop()
            await services.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/attachments/{id}", download_attachment, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
