"""SPEC §12: each layer imports only the layers below it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SETS = Path(__file__).resolve().parents[2] / "sets"

# layer -> project packages it must not import
FORBIDDEN = {
    "domain": {"db", "models", "repositories", "services", "schema", "realtime", "app", "cli"},
    "models": {"repositories", "services", "schema", "app", "cli"},
    "repositories": {"services", "schema", "app", "cli"},
    "services": {"schema", "app", "cli"},
}
THIRD_PARTY_IN_DOMAIN = {"sqlalchemy", "strawberry", "redis", "arq", "starlette", "graphql"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_downwards(layer: str) -> None:
    offenders = []
    for path in (SETS / layer).rglob("*.py"):
        for name in imports_of(path):
            parts = name.split(".")
            if parts[0] == "sets" and len(parts) > 1 and parts[1] in FORBIDDEN[layer]:
                offenders.append(f"{path.relative_to(SETS)} imports {name}")
    assert offenders == []


def test_domain_uses_only_the_standard_library() -> None:
    offenders = []
    for path in (SETS / "domain").rglob("*.py"):
        for name in imports_of(path):
            top = name.split(".")[0]
            if top == "sets":
                if not name.startswith("sets.domain"):
                    offenders.append(f"{path.name}: {name}")
            elif top not in sys.stdlib_module_names or top in THIRD_PARTY_IN_DOMAIN:
                offenders.append(f"{path.name}: {name}")
    assert offenders == []
