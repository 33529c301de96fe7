"""The API under benchmark: `create_app` plus the floor endpoint and a statement counter.
Run as `python -m bench.server --port P` with the usual SETS_ environment."""

from __future__ import annotations

import argparse
from typing import Any

import orjson
import uvicorn
from sqlalchemy import event
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.floor import floor_endpoint
from sets.app import SERVER_OPTIONS, create_app
from sets.config import Settings


def build() -> Any:
    app = create_app(Settings.from_env())
    services = app.state.services
    counter = {"statements": 0}

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # Transaction control is not a query (SQLite sends an explicit BEGIN per session).
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            counter["statements"] += 1

    event.listen(services.db.engine.sync_engine, "before_cursor_execute", count)

    async def stats(_request: Request) -> Response:
        return Response(orjson.dumps(counter), media_type="application/json")

    app.router.routes.insert(0, Route("/bench/floor", floor_endpoint(services.db.engine)))
    app.router.routes.insert(0, Route("/bench/stats", stats))
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(build(), host="127.0.0.1", port=args.port, log_level="warning", **SERVER_OPTIONS)


if __name__ == "__main__":
    main()
