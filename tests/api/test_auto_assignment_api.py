"""Auto-assignment's admin API and field visibility through GraphQL on both databases."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api

ERRORS = "userErrors { field message code }"
SET_SKILLS = f"""
mutation Skills($input: SetUserSkillsInput!) {{
  setUserSkills(input: $input) {{ user {{ id email skills }} {ERRORS} }}
}}"""
SAVE_CATEGORY = f"""
mutation Save($input: SaveCategoryInput!) {{
  saveCategory(input: $input) {{ category {{ id name requiredSkill autoAssign }} {ERRORS} }}
}}"""
UPDATE_TEAM = f"""
mutation Team($input: UpdateTeamInput!) {{
  updateTeam(input: $input) {{ team {{ id name autoAssign }} {ERRORS} }}
}}"""
CATALOG = """
query { categories { id name requiredSkill autoAssign } teams { id name autoAssign } }"""
USERS = "query { users(first: 20, role: AGENT) { nodes { id email skills } } }"
ME = "query { me { id skills } }"
CREATE = f"""
mutation Create($input: CreateTicketInput!) {{
  createTicket(input: $input) {{
    ticket {{
      id status assignee {{ name email skills }}
      events(first: 10) {{ nodes {{ kind actor {{ id }} data }} }}
    }}
    {ERRORS}
  }}
}}"""


def _by_name(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(r for r in rows if r["name"] == name)


async def test_admin_configures_skills_and_flags_and_tickets_follow(api: Api) -> None:
    admin = await api.login("admin@example.com")
    agent = await api.login("agent@example.com")
    rita = await api.login("requester@example.com")
    catalog = await api.data(CATALOG, token=rita)
    hardware = _by_name(catalog["categories"], "Hardware")
    desk = _by_name(catalog["teams"], "Service Desk")
    # The demo: required skills set, auto-assignment off everywhere.
    assert (hardware["requiredSkill"], hardware["autoAssign"], desk["autoAssign"]) == (
        "hardware",
        False,
        False,
    )
    agents = (await api.data(USERS, token=admin))["users"]["nodes"]
    alex = next(u for u in agents if u["email"] == "agent@example.com")

    # Refusals: coded userErrors, nothing changed.
    refused = await api.data(
        SET_SKILLS, {"input": {"userId": alex["id"], "skills": ["hardware"]}}, token=agent
    )
    assert refused["setUserSkills"]["user"] is None
    assert [e["code"] for e in refused["setUserSkills"]["userErrors"]] == ["FORBIDDEN"]
    bad = await api.data(
        SET_SKILLS, {"input": {"userId": alex["id"], "skills": ["hard ware!"]}}, token=admin
    )
    assert [(e["field"], e["code"]) for e in bad["setUserSkills"]["userErrors"]] == [
        ("skills", "VALIDATION")
    ]
    ghost = await api.data(
        SET_SKILLS, {"input": {"userId": desk["id"], "skills": ["x"]}}, token=admin
    )
    assert ghost["setUserSkills"]["userErrors"][0]["field"] == "userId"
    not_admin = await api.data(
        SAVE_CATEGORY, {"input": {"categoryId": hardware["id"], "autoAssign": True}}, token=agent
    )
    assert [e["code"] for e in not_admin["saveCategory"]["userErrors"]] == ["FORBIDDEN"]
    assert (await api.data(CATALOG, token=admin)) == catalog
    assert (await api.data(ME, token=agent))["me"]["skills"] == ["hardware", "printers"]
    assert (await api.data(ME, token=rita))["me"]["skills"] == []

    done = await api.data(
        SET_SKILLS,
        {"input": {"userId": alex["id"], "skills": ["Hardware", "network_printers"]}},
        token=admin,
    )
    assert done["setUserSkills"] == {
        "user": {
            "id": alex["id"],
            "email": "agent@example.com",
            "skills": ["hardware", "network-printers"],
        },
        "userErrors": [],
    }
    saved = await api.data(
        SAVE_CATEGORY,
        {
            "input": {
                "categoryId": hardware["id"],
                "requiredSkill": "Network Printers",
                "autoAssign": True,
            }
        },
        token=admin,
    )
    assert saved["saveCategory"]["category"] == {
        "id": hardware["id"],
        "name": "Hardware",
        "requiredSkill": "network-printers",
        "autoAssign": True,
    }
    team = await api.data(UPDATE_TEAM, {"input": {"teamId": desk["id"]}}, token=admin)
    assert team["updateTeam"]["team"]["autoAssign"] is False

    # Visibility: staff see skills, a requester sees none (not even of her assignee).
    assert (await api.data(ME, token=agent))["me"]["skills"] == ["hardware", "network-printers"]
    staff_view = (await api.data(USERS, token=agent))["users"]["nodes"]
    assert next(u for u in staff_view if u["id"] == alex["id"])["skills"] == [
        "hardware",
        "network-printers",
    ]
    created = await api.data(
        CREATE,
        {
            "input": {
                "title": "Keyboard",
                "description": "Keys stick.",
                "categoryId": hardware["id"],
            }
        },
        token=rita,
    )
    ticket = created["createTicket"]["ticket"]
    assert created["createTicket"]["userErrors"] == []
    assert ticket["status"] == "TODO"
    assert ticket["assignee"] == {"name": "Alex Agent", "email": None, "skills": []}
    kinds = [(e["kind"], e["actor"]) for e in ticket["events"]["nodes"]]
    assert kinds[1:] == [("ASSIGNED", None), ("STATUS_CHANGED", None)]
    assigned = ticket["events"]["nodes"][1]["data"]
    assert (assigned["auto"], assigned["skill"]) == (True, "network-printers")
    assert assigned["reason"] == (
        "skill 'network-printers'; fewest open tickets (2) of 1 qualified member"
    )
