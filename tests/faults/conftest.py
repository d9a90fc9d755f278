"""Fault tests share the scale tests' fresh PostgreSQL schema per test."""

from tests.scale.conftest import pg_schema_url  # noqa: F401
