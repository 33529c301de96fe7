"""docker-compose.yml describes the scale-out topology (checked without a Docker engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def load() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_topology_has_database_redis_two_apis_and_a_worker() -> None:
    services = load()["services"]
    assert {"postgres", "redis", "migrate", "api-1", "api-2", "worker"} <= set(services)
    for name in ("postgres", "redis", "api-1", "api-2", "worker"):
        assert "healthcheck" in services[name], name
    for name in ("migrate", "api-1", "api-2", "worker"):
        service = services[name]
        assert service["build"] == "." and service["image"] == "sets:latest"
        env = service["environment"]
        assert env["SETS_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["SETS_REDIS_URL"].startswith("redis://")
        assert env["SETS_ENV"] == "production"
        assert "SETS_JWT_SECRET" in env
    assert services["worker"]["command"] == ["sets", "worker"]
    assert services["migrate"]["command"] == ["sets", "migrate"]


def test_apis_wait_for_the_migration_and_redis() -> None:
    services = load()["services"]
    for name in ("api-1", "api-2", "worker"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        assert deps["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    ports = {p for name in ("api-1", "api-2") for p in services[name]["ports"]}
    assert ports == {"8001:8000", "8002:8000"}


def test_the_image_runs_the_sets_command() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install" in dockerfile and '"sets", "serve"' in dockerfile
    assert "0.0.0.0" in dockerfile and "HEALTHCHECK" in dockerfile
