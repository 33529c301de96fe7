"""Engines, sessions, column types and migrations."""
