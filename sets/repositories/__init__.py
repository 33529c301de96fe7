"""Async queries per aggregate. Repositories never commit: services do."""
