from pathlib import Path

from strawberry.printer import print_schema

from sets.schema import build_schema

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_checked_in_schema_is_current() -> None:
    """schema.graphql is the public contract: regenerate it with `make schema`."""
    assert SDL.read_text() == print_schema(build_schema()) + "\n", "run `make schema`"


def test_contract_operations_exist() -> None:
    """The operation names SPEC §10 makes public."""
    sdl = print_schema(build_schema())
    for name in ("me", "node", "ticket", "ticketByKey", "tickets", "categories", "users", "teams"):
        assert f"  {name}" in sdl, name
    for name in (
        "login",
        "refreshToken",
        "createTicket",
        "updateTicket",
        "assignTicket",
        "unassignTicket",
        "transitionTicket",
        "changePriority",
        "escalateTicket",
        "addComment",
    ):
        assert f"  {name}(input:" in sdl, name
