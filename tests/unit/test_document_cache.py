"""Each distinct document is parsed and validated once per schema; the depth, alias, cost and
token limits still refuse what they refused, every time, with the same errors."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry

from sets.config import Settings
from sets.schema import build_schema
from sets.schema.limits import DocumentCache


def codes(result: Any) -> list[str]:
    return [e.extensions.get("code") for e in result.errors or []]


@pytest.fixture
def schema() -> strawberry.Schema:
    return build_schema(Settings(jwt_secret="x" * 32))


async def test_a_document_is_parsed_and_validated_once(schema: strawberry.Schema) -> None:
    cache: DocumentCache = schema.documents  # type: ignore[attr-defined]
    query = "query Q($x: Boolean!) { __typename @include(if: $x) }"
    first = await schema.execute(query, variable_values={"x": True})
    entry = cache.get(query)
    assert entry is not None and entry.errors == ()
    hits = cache.hits
    second = await schema.execute(query, variable_values={"x": False})
    assert (first.data, second.data) == ({"__typename": "Query"}, {})
    assert cache.hits == hits + 1
    assert cache.get(query) is entry  # the same parsed document, reused


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("query { me { " + "teams { members { " * 6 + "id" + " } }" * 6 + " } }", "BAD_REQUEST"),
        ("query { " + " ".join(f"a{i}: me {{ id }}" for i in range(20)) + " }", "BAD_REQUEST"),
        (
            "query { tickets(first: 100) { nodes { events(first: 100) { nodes { "
            "actor { name } ticket { events(first: 100) { nodes { kind } } } } } } } }",
            "QUERY_TOO_COSTLY",
        ),
        ("query { nope }", "BAD_REQUEST"),
    ],
)
async def test_refused_documents_stay_refused(
    schema: strawberry.Schema, query: str, code: str
) -> None:
    cache: DocumentCache = schema.documents  # type: ignore[attr-defined]
    first = await schema.execute(query)
    assert first.data is None and codes(first) == [code]
    hits = cache.hits
    second = await schema.execute(query)
    assert cache.hits == hits + 1  # answered from the cache ...
    assert second.data is None  # ... and still refused, with the same errors
    assert [e.formatted for e in second.errors or []] == [e.formatted for e in first.errors or []]


async def test_the_token_limit_applies_before_the_cache(schema: strawberry.Schema) -> None:
    cache: DocumentCache = schema.documents  # type: ignore[attr-defined]
    query = "query { " + " ".join(f"a{i}: __typename" for i in range(1200)) + " }"
    for _ in range(2):
        result = await schema.execute(query)
        assert result.data is None and "token" in str(result.errors).lower()
    assert cache.get(query) is None  # a parse failure is not kept


def test_least_recently_used_documents_go_first() -> None:
    cache = DocumentCache(maxsize=2, max_chars=100)
    document: Any = object()
    cache.put("a", document, [])
    cache.put("b", document, [])
    assert cache.get("a") is not None  # "a" is now the most recent
    cache.put("c", document, [])
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 2
    cache.put("x" * 101, document, [])  # too long to keep
    assert cache.get("x" * 101) is None


def test_each_schema_has_its_own_cache() -> None:
    settings = Settings(jwt_secret="x" * 32)
    one, two = build_schema(settings), build_schema(settings)
    assert one.documents is not two.documents  # type: ignore[attr-defined]
