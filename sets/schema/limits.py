"""A cost budget per request: each field costs 1, times the page sizes of the lists above it,
so `tickets(first: 100) { events(first: 100) { ... } }` is priced before it runs.

Parsing and validating (with the depth, alias and cost rules) the dashboard document took
about 5 ms, as long as the whole floor request: `DocumentCache` remembers, per query text,
the parsed document and its validation errors, so each distinct document is checked once.
A document refused once is refused again from the cache, with the same errors."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
)
from strawberry.extensions import SchemaExtension

PAGE_ARGS = ("first", "last")
DEFAULT_PAGE = 20
MAX_PAGE = 100


def cost_rule(max_cost: int) -> type[ValidationRule]:
    class CostLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self._variables: dict[str, Any] = {}

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = self._selection_cost(node.selection_set, depth=0)
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"the query would cost {cost}, over the limit of {max_cost}: "
                        "ask for smaller pages or fewer nested lists",
                        node,
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": max_cost},
                    )
                )

        def _selection_cost(self, selection_set: SelectionSetNode | None, depth: int) -> int:
            if selection_set is None or depth > 50:
                return 0
            total = 0
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    children = self._selection_cost(selection.selection_set, depth + 1)
                    total += 1 + _multiplier(selection) * children
                elif isinstance(selection, InlineFragmentNode):
                    total += self._selection_cost(selection.selection_set, depth + 1)
                elif isinstance(selection, FragmentSpreadNode):
                    fragment = self.context.get_fragment(selection.name.value)
                    if fragment is not None:
                        total += self._selection_cost(fragment.selection_set, depth + 1)
            return total

    return CostLimit


def _multiplier(field: FieldNode) -> int:
    for argument in field.arguments or ():
        if argument.name.value in PAGE_ARGS:
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(1, min(int(value.value), MAX_PAGE))
            if isinstance(value, VariableNode):
                return MAX_PAGE  # unknown at validation time: assume the largest page
    return 1


@dataclass(frozen=True)
class _Checked:
    document: DocumentNode
    errors: tuple[GraphQLError, ...]


class DocumentCache:
    """Parsed and validated documents by query text, least recently used dropped first.
    One per schema: its validation rules are fixed when the schema is built."""

    def __init__(self, maxsize: int = 256, max_chars: int = 50_000) -> None:
        self.maxsize = maxsize
        self.max_chars = max_chars  # longer texts are checked every time, never kept
        self._entries: OrderedDict[str, _Checked] = OrderedDict()
        self._lock = threading.Lock()  # sync execution may run in worker threads
        self.hits = 0
        self.misses = 0

    def get(self, query: str | None) -> _Checked | None:
        if not query:
            return None
        with self._lock:
            entry = self._entries.get(query)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(query)
            self.hits += 1
            return entry

    def put(self, query: str, document: DocumentNode, errors: Sequence[GraphQLError]) -> None:
        if len(query) > self.max_chars:
            return
        with self._lock:
            self._entries[query] = _Checked(document, tuple(errors))
            self._entries.move_to_end(query)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class CachedDocuments(SchemaExtension):
    """Serves parsing and validation from a `DocumentCache`; fills it on a miss. Must come
    after the extensions that add validation rules or parse options (they then apply to what
    is cached, and the rules a schema is built with do not change)."""

    def __init__(self, cache: DocumentCache) -> None:
        self.cache = cache
        self._entry: _Checked | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None:
            self._entry = self.cache.get(context.query)
            if self._entry is not None:
                context.graphql_document = self._entry.document
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        entry = self._entry
        if entry is not None and entry.document is context.graphql_document:
            context.pre_execution_errors = list(entry.errors)
            yield
            return
        yield
        document, errors = context.graphql_document, context.pre_execution_errors
        if context.query and document is not None and errors is not None:
            self.cache.put(context.query, document, errors)
