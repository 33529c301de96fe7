"""A cost budget per request: each field costs 1, times the page sizes of the lists above it,
so `tickets(first: 100) { events(first: 100) { ... } }` is priced before it runs."""

from __future__ import annotations

from typing import Any

from graphql import (
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
