"""A graphql-core executor with fast paths for the fields most responses are made of.

graphql-core executes every field the same way: a `Path`, a `GraphQLResolveInfo`, the
resolver (Strawberry wraps each one: an `Info`, argument conversion, an extension chain),
then `complete_value` a few calls deep. A 50-ticket dashboard has about 2 300 fields, and that
per-field work was most of a request (about 30 ms of it on the benchmark machine; about 5 ms
with this executor). `FastExecutor` plans each field once per schema and takes a shorter path
where the outcome is known to be the same:

- *leaf attributes* (a Strawberry field without resolver whose type is a scalar or an enum):
  read the attribute and coerce it, with no path, info or resolver call;
- *computed leaves* (resolvers marked `computed`: pure functions of the object): called as
  the attribute would be read;
- *attributes of object type* (`edges`, `node`, `sla`, ...): read the attribute and complete
  the object (or the list of objects) directly, without a resolve info;
- *fields loaded ahead* (resolvers marked `ahead(key)`): when the parent's `prefetched`
  dict holds `key`, that is the value, and the resolver (which would return the same) is
  not called;
- *plain resolvers* (sync, no field extensions, scalar arguments only): called directly with
  the arguments Strawberry would pass them (literal arguments coerced once per request).

Sub-fields are collected and planned once per request and selection, as graphql-core memoises
them. Anything unusual takes graphql-core's own path, so results and errors stay exactly
graphql-core's: a null or an unserialisable value in a non-null field, an exception, an
awaitable where none was expected, a @stream, all run the field the standard way before
anything was completed (reading an attribute, or calling a `computed` resolver, twice is
harmless), and error paths and locations are graphql-core's. When a schema extension adds a
`resolve` hook (middleware) no fast path is taken at all. tests/unit/test_execution.py
compares the bytes of both executors' answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import CoroutineType, GeneratorType
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    ValueNode,
    VariableNode,
)
from graphql.execution.executor import invalid_return_type_error, to_nodes
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, RefMap, Undefined, gather_with_cancel
from graphql.type.scalars import serialize_boolean, serialize_id, serialize_string
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField

F = TypeVar("F", bound=Callable[..., Any])

AHEAD_ATTRIBUTE = "__sets_ahead__"


def ahead(key: str) -> Callable[[F], F]:
    """Mark a resolver that returns `self.prefetched[key]` when the key is there (a value
    loaded ahead for a whole page), so the executor may take that value without calling it.
    Put it under `@strawberry.field`."""

    def mark(resolver: F) -> F:
        setattr(resolver, AHEAD_ATTRIBUTE, key)
        return resolver

    return mark


COMPUTED_ATTRIBUTE = "__sets_computed__"


def computed(resolver: F) -> F:
    """Mark a resolver of a scalar or enum that is a pure function of `self` (no arguments,
    no info): the executor calls it as it reads an attribute, and calls it again the
    standard way should the value need reporting as an error. Put it under
    `@strawberry.field`."""
    setattr(resolver, COMPUTED_ATTRIBUTE, True)
    return resolver


# Plan kinds.
STANDARD, LEAF, ATTRIBUTE, AHEAD, DIRECT, COMPUTED = range(6)
# Shapes of a non-leaf result, when completing it never reads the resolve info.
OTHER, OBJECT, LIST = range(3)

_PLAIN_SCALARS = (int, str, float, bool)
_COMPLETED = frozenset({dict, list, type(None)})
# graphql-core's coercions that return a value of exactly this type as it is.
_SAME: dict[Any, type] = {serialize_string: str, serialize_id: str, serialize_boolean: bool}


class FieldPlan:
    """How to execute one field of one type; computed once per schema."""

    __slots__ = (
        "attr",
        "call",
        "coerce",
        "compute",
        "field_def",
        "item_type",
        "key",
        "kind",
        "non_null",
        "object_type",
        "return_type",
        "same",
        "shape",
    )

    def __init__(self, kind: int, field_def: GraphQLField) -> None:
        self.kind = kind
        self.field_def = field_def
        self.return_type: GraphQLOutputType = field_def.type
        self.non_null = isinstance(field_def.type, GraphQLNonNull)
        self.attr = ""
        self.key = ""
        self.coerce: Callable[[Any], Any] | None = None
        self.call: Callable[[Any, Any, dict[str, Any]], Any] | None = None
        self.compute: Callable[[Any], Any] | None = None
        self.same: type | None = None  # values of this exact type coerce to themselves
        self.shape = OTHER
        self.object_type: GraphQLObjectType | None = None
        self.item_type: GraphQLOutputType | None = None
        named: Any = _unwrap(field_def.type)
        if _info_free(named):
            self.shape, self.object_type = OBJECT, named
        elif isinstance(named, GraphQLList):
            item = named.of_type
            if _info_free(item):
                self.shape, self.item_type = LIST, item
                self.object_type = item.of_type if isinstance(item, GraphQLNonNull) else item


# Per schema (weakly): id(field_def) -> plan, None for graphql-core's own execute_field.
# The schema keeps its field definitions alive, so their ids stay theirs.
_plans: WeakKeyDictionary[GraphQLSchema, dict[int, FieldPlan | None]] = WeakKeyDictionary()


def _unwrap(type_: GraphQLOutputType) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _strawberry_field(field_def: GraphQLField) -> StrawberryField | None:
    found = (field_def.extensions or {}).get("strawberry-definition")
    return found if isinstance(found, StrawberryField) else None


def _info_free(type_: Any) -> bool:
    """Completing a non-null value of this type never reads the resolve info: an object
    type whose `is_type_of` is absent or Strawberry's (which ignores the info and is sync)."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if not isinstance(type_, GraphQLObjectType):
        return False
    is_type_of = type_.is_type_of
    return is_type_of is None or is_type_of.__qualname__.endswith(
        "_get_is_type_of.<locals>.is_type_of"
    )


def _plain_arguments(field: StrawberryField, name_of: Callable[[Any], str]) -> Any:
    """(graphql name, python name) of each argument if all are plain scalars (which
    Strawberry passes on unchanged), else None."""
    names = []
    for argument in field.arguments:
        type_ = argument.type
        if type(type_) is StrawberryOptional:
            type_ = type_.of_type
        if type_ not in _PLAIN_SCALARS:
            return None
        names.append((name_of(argument), argument.python_name))
    return tuple(names)


def _direct_call(field: StrawberryField, strawberry_schema: Any) -> Any:
    """A function (source, info, args) calling the resolver as Strawberry would, or None.
    Strawberry's wrapper converts the arguments (plain scalars: unchanged), builds an `Info`
    and passes source/info to the parameters that ask for them; no field extension and no
    exception handler may apply."""
    resolver = field.base_resolver
    if resolver is None or field.extensions or field.is_async:
        return None
    if getattr(strawberry_schema.schema_converter, "_exception_handler_specs", True):
        return None
    config = strawberry_schema.config
    arguments = _plain_arguments(field, config.name_converter.from_argument)
    if arguments is None:
        return None
    function = resolver.wrapped_func
    if not callable(function):
        return None
    pass_self = resolver.self_parameter is not None
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    source_names = tuple(
        p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p is not None
    )
    info_class = config.info_class

    def call(source: Any, info: Any, args: dict[str, Any]) -> Any:
        kwargs = {python: args[name] for name, python in arguments if name in args}
        for name in source_names:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=field)
        if pass_self:
            return function(source, **kwargs)
        return function(**kwargs)

    return call


def plan_field(schema: GraphQLSchema, field_def: GraphQLField) -> FieldPlan | None:
    """The plan for a field, or None where graphql-core's own path must be taken."""
    field = _strawberry_field(field_def)
    strawberry_schema = getattr(schema, "_strawberry_schema", None)
    resolve = field_def.resolve
    if field is None or strawberry_schema is None or resolve is None:
        return None
    resolver_name = getattr(resolve, "__name__", "")
    if resolver_name == "_get_basic_result":
        # Strawberry's resolver for a field without one: default_resolver(source, name).
        if not field.is_basic_field or field.default_resolver is not getattr:
            return None
        named = _unwrap(field_def.type)
        if isinstance(named, GraphQLScalarType | GraphQLEnumType):
            plan = FieldPlan(LEAF, field_def)
            plan.coerce = named.coerce_output_value
            plan.same = _SAME.get(named.coerce_output_value)
        else:
            plan = FieldPlan(ATTRIBUTE, field_def)
        plan.attr = field.python_name
        return plan
    if resolver_name != "_resolver":  # async, or not Strawberry's
        return None
    call = _direct_call(field, strawberry_schema)
    if call is None:
        return None
    plan = FieldPlan(DIRECT, field_def)
    resolver: Any = field.base_resolver
    function = resolver.wrapped_func
    key = getattr(function, AHEAD_ATTRIBUTE, None)
    if key is not None and not field.arguments and plan.shape == OBJECT:
        plan.kind, plan.key = AHEAD, key
    named = _unwrap(plan.return_type)
    if (
        getattr(function, COMPUTED_ATTRIBUTE, False)
        and not field.arguments
        and resolver.self_parameter is not None
        and len(resolver.signature.parameters) == 1
        and isinstance(named, GraphQLScalarType | GraphQLEnumType)
    ):
        plan.kind, plan.coerce, plan.compute = COMPUTED, named.coerce_output_value, function
        plan.same = _SAME.get(named.coerce_output_value)
    plan.call = call
    return plan


# Classes whose instances graphql-core's `is_awaitable` always rejects (see `_plain_class`).
_plain_classes: set[type] = set()
_other_classes: set[type] = set()


def _plain_class(cls: type) -> bool:
    """A Strawberry object type that is not awaitable: no `__await__` (nor a way to make
    one up: no `__getattr__`), not a coroutine or generator. Its instances are awaitable
    only with an `__await__` of their own, which `_maybe_awaitable` checks."""
    if cls in _plain_classes:
        return True
    if cls in _other_classes:
        return False
    plain = (
        hasattr(cls, "__strawberry_definition__")
        and not hasattr(cls, "__await__")
        and not hasattr(cls, "__getattr__")
        and cls.__getattribute__ is object.__getattribute__  # type: ignore[comparison-overlap]
        and not issubclass(cls, CoroutineType | GeneratorType)
    )
    (_plain_classes if plain else _other_classes).add(cls)
    return plain


def _has_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_has_variable(v) for v in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_has_variable(f.value) for f in value.fields)
    return False


def _schema_plans(schema: GraphQLSchema) -> dict[int, FieldPlan | None]:
    plans = _plans.get(schema)
    if plans is None:
        plans = _plans[schema] = {}
    return plans


# (response name, field details, plan, kind, attribute or function to read a leaf with,
#  coercion, the type a coercion returns unchanged, nullable leaf)
Entries = list[tuple[str, Any, FieldPlan | None, int, Any, Any, Any, bool]]


class FastExecutor(StrawberryGraphQLCoreExecutionContext):
    """See the module docstring. Used by `build_schema` as the execution context class.
    The methods below follow graphql-core 3.3's `Executor` step by step where they replace
    it (execute_fields, execute_field, complete_object_value, complete_iterable_value)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middleware = self.middleware_manager
        self._fast = middleware is None or not getattr(middleware, "_middleware_resolvers", 1)
        # Memos shared with sub-executors (shallow copies), like graphql-core's own.
        self._field_plans = _schema_plans(self.schema)
        self._grouped_plans: RefMap[Any, tuple[GraphQLObjectType, Entries]] = RefMap()
        self._object_plans: dict[tuple[GraphQLObjectType, int], tuple[Any, ...]] = {}
        self._argument_memo: dict[int, tuple[Any, dict[str, Any]]] = {}

    def _entries(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Entries:
        planned = self._grouped_plans.get(grouped_field_set)
        if planned is None or planned[0] is not parent_type:
            schema, plans = self.schema, self._field_plans
            entries: Entries = []
            for response_name, field_details_list in grouped_field_set.items():
                field_def = schema.get_field(parent_type, field_details_list[0].node.name.value)
                plan = None
                if field_def is not None:
                    key = id(field_def)
                    if key in plans:
                        plan = plans[key]
                    else:
                        plan = plans[key] = plan_field(schema, field_def)
                if plan is not None and (plan.kind == LEAF or plan.kind == COMPUTED):
                    read = plan.attr if plan.kind == LEAF else plan.compute
                    entries.append(
                        (
                            response_name,
                            field_details_list,
                            plan,
                            plan.kind,
                            read,
                            plan.coerce,
                            plan.same,
                            not plan.non_null,
                        )
                    )
                else:
                    entries.append(
                        (response_name, field_details_list, plan, STANDARD, None, None, None, False)
                    )
            planned = (parent_type, entries)
            self._grouped_plans[grouped_field_set] = planned
        return planned[1]  # type: ignore[no-any-return]

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if not self._fast:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        entries = self._entries(parent_type, grouped_field_set)
        return self._execute_entries(parent_type, source_value, path, entries, position_context)

    def _execute_entries(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        entries: Entries,
        position_context: Any,
    ) -> Any:
        """graphql-core's `execute_fields`, leaf attributes read and coerced in place."""
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        parent_name = parent_type.name
        try:
            for (
                response_name,
                field_details_list,
                plan,
                kind,
                read,
                coerce,
                same,
                nullable,
            ) in entries:
                if plan is None:
                    result = self.execute_field(
                        parent_type,
                        source_value,
                        field_details_list,
                        Path(path, response_name, parent_name),
                        position_context,
                    )
                    if result is Undefined:
                        continue
                elif kind in (LEAF, COMPUTED):
                    try:
                        value = getattr(source_value, read) if kind == LEAF else read(source_value)
                        if type(value) is same:  # what the coercion returns unchanged
                            results[response_name] = value
                            continue
                        if value is None or value is Undefined:
                            if nullable:
                                results[response_name] = None
                                continue
                        elif not isinstance(value, Exception):
                            coerced = coerce(value)
                            if coerced is not None and coerced is not Undefined:
                                results[response_name] = coerced
                                continue
                    except Exception:
                        pass
                    result = self.execute_field(
                        parent_type,
                        source_value,
                        field_details_list,
                        Path(path, response_name, parent_name),
                        position_context,
                    )
                else:
                    result = self._execute_planned(
                        plan,
                        parent_type,
                        source_value,
                        field_details_list,
                        Path(path, response_name, parent_name),
                        position_context,
                    )
                results[response_name] = result
                # (Completed objects and lists, the common results, are never awaitable.)
                if type(result) not in _COMPLETED and is_awaitable(result):
                    awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise

        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _execute_planned(
        self,
        plan: FieldPlan,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        """graphql-core's `execute_field`, the value obtained as the plan says. A case the
        plan does not cover goes to `execute_field` before anything has run."""
        kind = plan.kind
        shape = plan.shape
        if kind != DIRECT:
            if kind == AHEAD:
                prefetched = getattr(source, "prefetched", None)
                if not isinstance(prefetched, dict) or plan.key not in prefetched:
                    return self.execute_field(
                        parent_type, source, field_details_list, path, position_context
                    )
                result = prefetched[plan.key]
            else:
                try:
                    result = getattr(source, plan.attr)
                except Exception:
                    result = Undefined  # the standard path raises it again, and reports it
            if result is None and not plan.non_null:
                return None
            if (
                shape == OTHER
                or result is None
                or result is Undefined
                or isinstance(result, Exception)
                or self._maybe_awaitable(result)
                or (shape == LIST and not self._plain_list(result, field_details_list))
            ):
                return self.execute_field(
                    parent_type, source, field_details_list, path, position_context
                )
            info: Any = None  # (completing these types never reads it)
        else:
            field_def = plan.field_def
            info = self.build_resolve_info(
                field_def, to_nodes(field_details_list), parent_type, path
            )
        return_type = plan.return_type
        try:
            if kind == DIRECT:
                result = plan.call(  # type: ignore[misc]
                    source, info, self._arguments(field_def, field_details_list)
                )
                if self.is_awaitable(result):
                    return self.complete_awaitable_value(
                        return_type, field_details_list, info, path, result, position_context
                    )
                if (
                    shape == OBJECT
                    and result is not None
                    and result is not Undefined
                    and not isinstance(result, Exception)
                ):
                    completed = self._complete_object(
                        plan.object_type,  # type: ignore[arg-type]
                        field_details_list,
                        path,
                        result,
                        position_context,
                    )
                else:
                    completed = self.complete_value(
                        return_type, field_details_list, info, path, result, position_context
                    )
            elif shape == OBJECT:
                completed = self._complete_object(
                    plan.object_type,  # type: ignore[arg-type]
                    field_details_list,
                    path,
                    result,
                    position_context,
                )
            else:
                completed = self._complete_list(
                    plan, field_details_list, path, result, position_context
                )
            if type(completed) not in _COMPLETED and self.is_awaitable(completed):

                async def await_completed(completed: Awaitable[Any]) -> Any:
                    try:
                        return await completed
                    except Exception as raw_error:
                        self.handle_field_error(raw_error, return_type, field_details_list, path)
                        return None

                return await_completed(completed)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        return completed

    def _arguments(self, field_def: GraphQLField, field_details_list: Any) -> dict[str, Any]:
        """The field's argument values, as graphql-core computes them; computed once per
        request when they are all literals (a list of tickets asks 50 times the same)."""
        first = field_details_list[0]
        node = first.node
        if not field_def.args and not node.arguments:
            return {}
        key = id(field_details_list)
        memo = self._argument_memo.get(key)
        if memo is not None:
            return memo[1]
        args = get_argument_values(
            field_def,
            node,
            self.variable_values,
            first.fragment_variable_values,
            self.hide_suggestions,
        )
        if first.fragment_variable_values is None and not any(
            _has_variable(argument.value) for argument in node.arguments or ()
        ):
            # Keeps the list alive with its memo, so its id is not reused meanwhile. The
            # resolvers planned DIRECT get a fresh dict built from it, never this one.
            self._argument_memo[key] = (field_details_list, args)
        return args

    def _maybe_awaitable(self, value: Any) -> bool:
        """`is_awaitable`, answered without its slow path for Strawberry objects."""
        cls = type(value)
        if (cls in _plain_classes or _plain_class(cls)) and "__await__" not in getattr(
            value, "__dict__", ()
        ):
            return False
        return self.is_awaitable(value)

    def _plain_list(self, result: Any, field_details_list: Any) -> bool:
        """A list graphql-core would complete item by item with no awaiting, no streaming
        and no null: the case `_complete_list` covers."""
        if type(result) is not list or field_details_list[0].node.directives:
            return False
        maybe_awaitable = self._maybe_awaitable
        for item in result:
            if item is None or item is Undefined or isinstance(item, Exception):
                return False
            if maybe_awaitable(item):
                return False
        return True

    def _complete_object(
        self,
        object_type: GraphQLObjectType,
        field_details_list: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """`complete_object_value` for an info-free object type and a value that is not
        null, collected sub-fields and their plans memoised together."""
        key = (object_type, id(field_details_list))
        cached = self._object_plans.get(key)
        if cached is None:
            grouped, new_defer_usages, _forbidden = self.collect_subfields(
                object_type, field_details_list
            )
            entries = self._entries(object_type, grouped)
            # The list is kept alive with its memo, so its id is not reused meanwhile.
            cached = (field_details_list, grouped, new_defer_usages, entries)
            self._object_plans[key] = cached
        is_type_of: Any = object_type.is_type_of  # Strawberry's: it ignores the info
        if is_type_of is not None and not is_type_of(result, None):
            raise invalid_return_type_error(object_type, result, field_details_list)
        _, grouped, new_defer_usages, entries = cached
        if position_context is None and not new_defer_usages:
            return self._execute_entries(object_type, result, path, entries, None)
        return self.execute_collected_subfields(
            object_type, result, path, grouped, new_defer_usages, position_context
        )

    def _complete_list(
        self,
        plan: FieldPlan,
        field_details_list: Any,
        path: Path,
        items: list[Any],
        position_context: Any,
    ) -> Any:
        """`complete_iterable_value` for a `_plain_list` of info-free objects."""
        object_type = plan.object_type
        item_type = plan.item_type
        is_awaitable = self.is_awaitable
        completed_results: list[Any] = []
        awaitable_indices: list[int] = []
        try:
            for index, item in enumerate(items):
                item_path = path.add_key(index, None)
                try:
                    completed = self._complete_object(
                        object_type,  # type: ignore[arg-type]
                        field_details_list,
                        item_path,
                        item,
                        position_context,
                    )
                    if type(completed) is not dict and is_awaitable(completed):
                        completed_results.append(
                            self._await_item(completed, item_type, field_details_list, item_path)
                        )
                        awaitable_indices.append(index)
                    else:
                        completed_results.append(completed)
                except Exception as raw_error:
                    self.handle_field_error(
                        raw_error,
                        item_type,  # type: ignore[arg-type]
                        field_details_list,
                        item_path,
                    )
                    completed_results.append(None)
        except Exception:
            pending = [completed_results[index] for index in awaitable_indices]
            if pending:
                self.settle_in_background(pending)
            raise

        if not awaitable_indices:
            return completed_results

        async def get_completed_results() -> list[Any]:
            if len(awaitable_indices) == 1:
                index = awaitable_indices[0]
                completed_results[index] = await completed_results[index]
            else:
                awaited = await gather_with_cancel(
                    *(completed_results[index] for index in awaitable_indices)
                )
                for index, sub_result in zip(awaitable_indices, awaited, strict=True):
                    completed_results[index] = sub_result
            return completed_results

        return get_completed_results()

    async def _await_item(
        self, completed: Awaitable[Any], item_type: Any, field_details_list: Any, path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, item_type, field_details_list, path)
            return None


__all__ = ["FastExecutor", "ahead", "plan_field"]
