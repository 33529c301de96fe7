"""Admins edit SLA and escalation policies over GraphQL; others cannot."""

from __future__ import annotations

from tests.api.conftest import Api

POLICIES = """
query { slaPolicies { priority firstResponseMinutes resolutionMinutes warningPercent
          pauseStatuses calendar { timeZone hours { weekday start end } holidays } }
        escalationPolicies { level afterBreachPercent actions targetTeam { name } } }"""

UPDATE_SLA = """
mutation U($input: UpdateSlaPolicyInput!) { updateSlaPolicy(input: $input) {
  policy { priority resolutionMinutes pauseStatuses calendar { timeZone hours { weekday start end }
           holidays } }
  userErrors { field message code } } }"""

UPDATE_ESCALATION = """
mutation E($input: UpdateEscalationPolicyInput!) { updateEscalationPolicy(input: $input) {
  policy { level afterBreachPercent actions targetTeam { name } }
  userErrors { field message code } } }"""

OFFICE = {
    "timeZone": "Europe/Berlin",
    "hours": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
    "holidays": ["2026-12-25"],
}


async def test_defaults_are_the_spec_tables(api: Api) -> None:
    agent = await api.login("agent@example.com")
    data = await api.data(POLICIES, token=agent)
    assert [
        (p["priority"], p["firstResponseMinutes"], p["resolutionMinutes"])
        for p in data["slaPolicies"]
    ] == [("P1", 15, 120), ("P2", 60, 360), ("P3", 240, 1440), ("P4", 480, 4320)]
    assert all(
        p["pauseStatuses"] == ["PENDING"] and p["calendar"] is None for p in data["slaPolicies"]
    )
    assert [(e["level"], e["afterBreachPercent"]) for e in data["escalationPolicies"]] == [
        (1, 0),
        (2, 50),
        (3, 100),
    ]
    assert "ROUTE_TO_TIER2" in data["escalationPolicies"][1]["actions"]


async def test_admin_sets_a_business_calendar(api: Api) -> None:
    admin = await api.login("admin@example.com")
    changed = await api.data(
        UPDATE_SLA,
        {"input": {"priority": "P3", "calendar": OFFICE, "pauseStatuses": ["PENDING", "BLOCKED"]}},
        token=admin,
    )
    payload = changed["updateSlaPolicy"]
    assert payload["userErrors"] == []
    assert payload["policy"]["calendar"] == OFFICE
    assert payload["policy"]["pauseStatuses"] == ["BLOCKED", "PENDING"]
    cleared = await api.data(
        UPDATE_SLA, {"input": {"priority": "P3", "clearCalendar": True}}, token=admin
    )
    assert cleared["updateSlaPolicy"]["policy"]["calendar"] is None


async def test_bad_policy_input_is_refused(api: Api) -> None:
    admin = await api.login("admin@example.com")
    cases = [
        ({"priority": "P1", "calendar": {**OFFICE, "timeZone": "Mars/Base"}}, "calendar.timeZone"),
        ({"priority": "P1", "resolutionMinutes": 0}, "resolutionMinutes"),
        ({"priority": "P1", "pauseStatuses": ["IN_PROGRESS"]}, "pauseStatuses"),
        ({"priority": "P1", "warningPercent": 100}, "warningPercent"),
        ({"priority": "P1", "firstResponseMinutes": 500}, "firstResponseMinutes"),
    ]
    for policy_input, field in cases:
        payload = (await api.data(UPDATE_SLA, {"input": policy_input}, token=admin))[
            "updateSlaPolicy"
        ]
        assert payload["policy"] is None
        assert (payload["userErrors"][0]["field"], payload["userErrors"][0]["code"]) == (
            field,
            "VALIDATION",
        )
    data = await api.data(POLICIES, token=admin)
    assert data["slaPolicies"][0]["resolutionMinutes"] == 120  # nothing was written


async def test_escalation_policy_edits(api: Api) -> None:
    admin = await api.login("admin@example.com")
    teams = (await api.data("query { teams { id name } }", token=admin))["teams"]
    vendor = next(t["id"] for t in teams if t["name"] == "Vendor IT")
    edited = await api.data(
        UPDATE_ESCALATION,
        {"input": {"level": 2, "afterBreachPercent": 25, "targetTeamId": vendor}},
        token=admin,
    )
    policy = edited["updateEscalationPolicy"]["policy"]
    assert (policy["afterBreachPercent"], policy["targetTeam"]["name"]) == (25, "Vendor IT")
    out_of_order = await api.data(
        UPDATE_ESCALATION, {"input": {"level": 3, "afterBreachPercent": 10}}, token=admin
    )
    assert out_of_order["updateEscalationPolicy"]["userErrors"][0]["field"] == "afterBreachPercent"


async def test_only_admins_edit_policies(api: Api) -> None:
    manager = await api.login("manager@example.com")
    payload = (
        await api.data(
            UPDATE_SLA, {"input": {"priority": "P1", "resolutionMinutes": 60}}, token=manager
        )
    )["updateSlaPolicy"]
    assert payload["userErrors"][0]["code"] == "FORBIDDEN"
    rita = await api.login("requester@example.com")
    body = await api.post(POLICIES, token=rita)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
