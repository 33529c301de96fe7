"""The benchmark's floor answers the same data as the GraphQL dashboard query, so the ratio
`make bench` reports compares like with like."""

from __future__ import annotations

from bench.floor import floor_page
from sets.schema.ids import parse_global_id
from sets.services.bulk import load_tickets
from sets.services.container import Services
from tests.api.conftest import Api
from tests.documents import DASHBOARD


async def test_floor_matches_the_dashboard_query(api: Api, services: Services) -> None:
    await load_tickets(services, 60)
    token = await api.login("admin@example.com")
    nodes = [
        e["node"]
        for e in (await api.data(DASHBOARD, {"first": 25}, token=token))["tickets"]["edges"]
    ]
    floor = await floor_page(services.db.engine, 25)
    assert len(nodes) == len(floor) == 25

    def name(ref: dict[str, str] | None) -> str | None:
        return ref["name"] if ref else None

    for node, row in zip(nodes, floor, strict=True):
        assert parse_global_id(node["id"])[1] == row["id"]
        assert (node["key"], node["status"], node["priority"]) == (
            row["key"],
            row["status"],
            row["priority"],
        )
        assert node["escalationLevel"] == row["escalationLevel"]
        for field in ("requester", "assignee", "category", "team"):
            assert name(node[field]) == name(row[field]), field
        assert node["sla"]["resolutionBreached"] == row["sla"]["resolutionBreached"]
        graph_events = [(e["kind"], e["from"], e["to"]) for e in node["events"]["nodes"]]
        floor_events = [
            (
                e["kind"],
                None if e["from"] is None else str(e["from"]),
                None if e["to"] is None else str(e["to"]),
            )
            for e in row["events"]
        ]
        assert graph_events == floor_events
