"""The fast executor (sets.schema.execution) answers exactly what graphql-core answers: the same
bytes for data and errors (messages, paths, locations), whatever the query shape, including
nulls and errors in non-null fields, aliases, fragments, enums and custom scalars."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import orjson
import pytest
import strawberry
from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension
from strawberry.scalars import JSON
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from sets.schema.execution import (
    AHEAD,
    ATTRIBUTE,
    COMPUTED,
    DIRECT,
    LEAF,
    FastExecutor,
    ahead,
    computed,
    plan_field,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@strawberry.enum
class Color(Enum):
    RED = "red"
    GREEN = "green"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Sub:
    a: int
    numbers: list[int]
    maybe: list[int | None] | None


def _label(self: Thing) -> str:
    return f"<{self.name}>"


def _broken(self: Thing) -> str:
    raise ValueError(f"cannot label {self.name}")


def _nothing(self: Thing) -> str:
    return None  # type: ignore[return-value]  # a non-null field answering null


@strawberry.type
class Thing(Named):
    name: str
    nickname: str | None
    color: Color
    maybe_color: Color | None
    when: datetime
    blob: JSON
    count: int
    ratio: float
    flag: bool
    ident: strawberry.ID
    required_but_null: str
    too_big: int
    too_big_nullable: int | None
    an_error: str | None
    sub: Sub
    maybe_sub: Sub | None
    children: list[Thing]
    maybe_children: list[Thing | None] | None
    prefetched: strawberry.Private[dict[str, Any]]
    fallback: strawberry.Private[Thing | None]
    label: str = strawberry.field(resolver=computed(_label))
    broken_label: str | None = strawberry.field(resolver=computed(_broken))
    required_label: str = strawberry.field(resolver=computed(_nothing))

    @strawberry.field
    @ahead("friend")
    def friend(self, info: strawberry.Info) -> Thing | None:
        assert info.field_name == "friend"
        return self.prefetched.get("friend", self.fallback)  # type: ignore[no-any-return]

    @strawberry.field
    @ahead("best")
    def best(self) -> Thing:
        return self.prefetched.get("best", self.fallback)  # type: ignore[no-any-return]

    @strawberry.field
    def greet(self, info: strawberry.Info, greeting: str = "hi", times: int | None = None) -> str:
        return f"{greeting} {self.name} x{times} at {'.'.join(map(str, info.path.as_list()))}"

    @strawberry.field
    async def later(self) -> str:
        await asyncio.sleep(0)
        return self.name.upper()

    @strawberry.field
    def sync_coroutine(self) -> Thing | None:
        async def load() -> Thing | None:
            await asyncio.sleep(0)
            return self.fallback

        return load()  # type: ignore[return-value]

    @strawberry.field
    def fails(self) -> str | None:
        raise RuntimeError(f"boom {self.name}")

    @strawberry.field
    def fails_required(self) -> str:
        raise RuntimeError(f"boom! {self.name}")

    @strawberry.field
    def wrong_type(self) -> Thing | None:
        return "not a thing"  # type: ignore[return-value]


def thing(name: str, **overrides: Any) -> Thing:
    values: dict[str, Any] = {
        "name": name,
        "nickname": None,
        "color": Color.RED,
        "maybe_color": None,
        "when": T0,
        "blob": {"a": [1, "x", None], "b": {"c": True}},
        "count": 3,
        "ratio": 0.5,
        "flag": False,
        "ident": strawberry.ID(f"id-{name}"),
        "required_but_null": "fine",
        "too_big": 7,
        "too_big_nullable": 8,
        "an_error": "fine",
        "sub": Sub(a=1, numbers=[1, 2], maybe=None),
        "maybe_sub": None,
        "children": [],
        "maybe_children": None,
        "prefetched": {},
        "fallback": None,
    }
    values.update(overrides)
    return Thing(**values)


def things() -> list[Thing]:
    plain = thing("plain", nickname="P", maybe_color=Color.GREEN, flag=True)
    other = thing("other", maybe_sub=Sub(a=2, numbers=[], maybe=[1, None, 3]))
    broken = thing(
        "broken",
        required_but_null=None,
        too_big=2**40,
        too_big_nullable=2**41,
        an_error=ValueError("an exception as a value"),
        maybe_children=[plain, None, other],
    )
    plain.prefetched = {"friend": other, "best": other}
    other.fallback = plain  # no prefetched values: the resolvers run
    broken.prefetched = {"friend": None, "best": None}  # null in a non-null field
    parent = thing("parent", children=[plain, other], maybe_children=[other, broken])
    return [plain, other, broken, parent]


@strawberry.type
class Query:
    @strawberry.field
    def all(self) -> list[Thing]:
        return things()

    @strawberry.field
    def good(self) -> list[Thing]:
        return things()[:2]

    @strawberry.field
    def named(self) -> list[Named]:
        return things()[:2]

    @strawberry.field
    def one(self, index: int) -> Thing:
        return things()[index]


class Middleware(SchemaExtension):
    def resolve(
        self, _next: Any, root: Any, info: GraphQLResolveInfo, *args: str, **kwargs: Any
    ) -> Any:
        return _next(root, info, *args, **kwargs)


def schemas(**kwargs: Any) -> tuple[strawberry.Schema, strawberry.Schema]:
    fast = strawberry.Schema(query=Query, execution_context_class=FastExecutor, **kwargs)
    plain = strawberry.Schema(
        query=Query, execution_context_class=StrawberryGraphQLCoreExecutionContext, **kwargs
    )
    return fast, plain


LEAVES = (
    "name nickname color maybeColor when blob count ratio flag ident label "
    "sub { a numbers maybe } maybeSub { a numbers maybe }"
)
QUERIES = [
    # Everything that answers without an error, with aliases and fragments.
    f"""
    fragment Leaves on Thing {{ {LEAVES} }}
    query {{
      good {{
        ...Leaves
        alias: name
        again: name
        __typename
        friend {{ ...Leaves friend {{ name }} }}
        best {{ name best {{ name }} }}
        ... on Thing {{ greet times: greet(times: 2) hello: greet(greeting: "hello") }}
        later
        syncCoroutine {{ name later }}
        children {{ name }}
        maybeChildren {{ name }}
      }}
      named {{ __typename name ... on Thing {{ color label }} }}
    }}""",
    # Errors at every level: nulls in non-null leaves and objects, bad values,
    # exceptions, wrong types, in lists of nullable and non-null items.
    """
    query {
      all {
        name
        requiredButNull
        tooBig
      }
    }""",
    f"""
    query {{
      all {{
        {LEAVES}
        tooBigNullable anError fails brokenLabel wrongType {{ name }}
        friend {{ name nickname }}
        maybeChildren {{ name requiredButNull }}
        children {{ name fails }}
      }}
    }}""",
    """query { all { name best { name } } }""",
    """query { all { name requiredLabel } }""",
    """query { all { name failsRequired } }""",
    """query { all { maybeChildren { name tooBig } } }""",
    """query { one(index: 2) { name maybeChildren { name later fails } } }""",
    """query { one(index: 2) { name requiredButNull } }""",
    # Non-null errors in items of a nullable list null the item only.
    """query { one(index: 3) {
      maybeChildren { name requiredButNull best { name } label }
      friend { name } children { friend { name } best { name } }
    } }""",
    """query { good { x: greet(greeting: "a") y: greet(greeting: "b", times: 3) } }""",
]


def run(schema: strawberry.Schema, query: str, variables: dict[str, Any] | None = None) -> bytes:
    result = asyncio.run(schema.execute(query, variable_values=variables))
    errors = [e.formatted for e in result.errors or []]
    return orjson.dumps({"data": result.data, "errors": errors})


@pytest.mark.parametrize("query", QUERIES)
def test_same_bytes_as_graphql_core(query: str) -> None:
    fast, plain = schemas()
    assert run(fast, query) == run(plain, query)


def test_variables_and_fragments_on_the_same_field() -> None:
    query = """
    query Q($g: String!, $n: Int, $i: Int!) {
      one(index: $i) { greet(greeting: $g, times: $n) ...F }
      good { greet(greeting: $g) ...F }
    }
    fragment F on Thing { greet(greeting: $g) label }"""
    fast, plain = schemas()
    for variables in ({"g": "hey", "n": 2, "i": 0}, {"g": "yo", "n": None, "i": 1}):
        assert run(fast, query, variables) == run(plain, query, variables)


def test_with_a_resolve_hook_every_field_takes_the_standard_path() -> None:
    fast, plain = schemas(extensions=[Middleware])
    for query in QUERIES:
        assert run(fast, query) == run(plain, query)


def test_the_error_cases_did_produce_errors() -> None:
    # Guard against a vacuous comparison: the error queries do fail, with paths.
    fast, _ = schemas()
    body = orjson.loads(run(fast, QUERIES[2]))
    paths = {tuple(e["path"]) for e in body["errors"]}
    assert ("all", 2, "anError") in paths
    assert ("all", 0, "fails") in paths
    assert any(p[-1] == "requiredButNull" for p in paths)
    assert ("all", 2, "tooBigNullable") in paths
    body = orjson.loads(run(fast, QUERIES[3]))
    assert body["data"] is None  # a null `best` in a non-null list item nulls everything


def test_fields_are_planned_as_expected() -> None:
    fast, _ = schemas()
    thing_type = fast._schema.type_map["Thing"]
    kinds = {
        name: (plan.kind if plan else None)
        for name, field in thing_type.fields.items()  # type: ignore[attr-defined]
        for plan in [plan_field(fast._schema, field)]
    }
    assert kinds["name"] == kinds["color"] == kinds["when"] == kinds["blob"] == LEAF
    assert kinds["sub"] == kinds["children"] == kinds["maybeChildren"] == ATTRIBUTE
    assert kinds["friend"] == kinds["best"] == AHEAD
    assert kinds["label"] == kinds["requiredLabel"] == COMPUTED
    assert kinds["greet"] == kinds["fails"] == kinds["syncCoroutine"] == DIRECT
    assert kinds["later"] is None  # async resolvers keep graphql-core's path


def test_fast_executor_overrides_methods_graphql_core_still_has() -> None:
    # The executor relies on these graphql-core methods; a rename would silently bypass it.
    for name in (
        "execute_fields",
        "execute_field",
        "build_resolve_info",
        "complete_value",
        "complete_awaitable_value",
        "complete_object_value",
        "collect_subfields",
        "execute_collected_subfields",
        "handle_field_error",
        "settle_in_background",
    ):
        assert callable(getattr(StrawberryGraphQLCoreExecutionContext, name)), name


@pytest.fixture(autouse=True)
def _no_leaked_loops() -> Iterator[None]:
    yield
    asyncio.set_event_loop(None)
