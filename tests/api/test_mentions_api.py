"""`Comment.mentions`: the users a comment's @usernames name, on both databases."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.documents import CREATE_TICKET

COMMENT = """
mutation C($input: AddCommentInput!) {
  addComment(input: $input) { comment { id } userErrors { code } }
}"""
MENTIONS = """
query T($id: ID!) {
  ticket(id: $id) { comments(first: 10) { nodes { body mentions { name } } } }
}"""


async def test_mentions_name_the_users_in_order(api: Api) -> None:
    rita = await api.login("requester@example.com")
    agent = await api.login("agent@example.com")
    created = await api.data(
        CREATE_TICKET, {"input": {"title": "Badge", "description": "x"}}, token=rita
    )
    tid = created["createTicket"]["ticket"]["id"]
    body = "@manager please check with @agent (not @nobody, nor mail x@agent.example) @AGENT."
    done = await api.data(COMMENT, {"input": {"ticketId": tid, "body": body}}, agent)
    assert done["addComment"]["userErrors"] == []
    await api.data(COMMENT, {"input": {"ticketId": tid, "body": "No names here."}}, agent)

    comments = (await api.data(MENTIONS, {"id": tid}, rita))["ticket"]["comments"]["nodes"]
    by_body = {c["body"]: [m["name"] for m in c["mentions"]] for c in comments}
    manager, agent_name = await _names(api, agent)
    assert by_body[body] == [manager, agent_name]
    assert by_body["No names here."] == []


async def _names(api: Api, token: str) -> tuple[str, str]:
    users = await api.data("{ users(first: 50) { nodes { email name } } }", token=token)
    names = {u["email"]: u["name"] for u in users["users"]["nodes"]}
    return names["manager@example.com"], names["agent@example.com"]
