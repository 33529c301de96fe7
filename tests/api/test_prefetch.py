"""Look-ahead loading gives the same answers as field-by-field loading, whatever the query
shape: fragments, aliases with different event pages, and single tickets."""

from __future__ import annotations

from sets.services.container import Services
from tests.api.conftest import Api

PAGE = """
fragment People on Ticket { requester { name } assignee { name } }
query {
  tickets(first: 5, orderBy: {field: CREATED_AT, direction: ASC}) {
    nodes {
      id ...People team { name } category { name }
      oldest: events(first: 1) { nodes { kind actor { name } } }
      newest: events(last: 2) { nodes { kind actor { name } } }
    }
    edges { node { ... on Ticket { events(last: 1) { nodes { kind } } } } }
  }
}"""

ONE = """
query One($id: ID!) { ticket(id: $id) {
  requester { name } assignee { name } team { name } category { name }
  events(last: 2) { nodes { kind actor { name } } }
} }"""


async def test_page_and_single_ticket_agree(api: Api) -> None:
    token = await api.login("admin@example.com")
    page = (await api.data(PAGE, token=token))["tickets"]
    assert len(page["nodes"]) == 3
    for node, edge in zip(page["nodes"], page["edges"], strict=True):
        single = (await api.data(ONE, {"id": node["id"]}, token=token))["ticket"]
        for field in ("requester", "assignee", "team", "category"):
            assert node[field] == single[field], field
        assert node["newest"] == single["events"]
        assert node["oldest"]["nodes"][0]["kind"] == "CREATED"
        assert [n["kind"] for n in edge["node"]["events"]["nodes"]] == [
            single["events"]["nodes"][-1]["kind"]
        ]


async def test_a_bad_page_size_under_a_list_is_still_a_coded_error(api: Api) -> None:
    token = await api.login("admin@example.com")
    body = await api.post(
        "query { tickets(first: 2) { nodes { events(last: 500) { nodes { kind } } } } }",
        token=token,
    )
    assert {e["extensions"]["code"] for e in body["errors"]} == {"VALIDATION"}


async def test_event_actors_are_loaded_with_the_page(api: Api, services: Services) -> None:
    from tests.api.test_statement_counts import counting

    token = await api.login("manager@example.com")
    page = (
        "query {{ tickets(first: 10) {{ nodes {{ requester {{ name }} "
        "events(last: 3) {{ {} }} }} }} }}"
    )
    counts = {}
    for shape, selection in (
        ("kinds", "nodes { kind }"),
        ("actors", "nodes { kind actor { name } }"),
        ("edge actors", "edges { node { actor { name } } }"),
    ):
        with counting(services) as statements:
            data = await api.data(page.format(selection), token=token)
        assert data["tickets"]["nodes"]
        counts[shape] = len(statements)
    # The actors come with the users statement the requesters need anyway.
    assert counts["kinds"] == counts["actors"] == counts["edge actors"], counts
