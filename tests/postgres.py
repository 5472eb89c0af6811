"""A database of its own on the test PostgreSQL server (the `postgres_server` fixture)."""

from __future__ import annotations

import psycopg

__all__ = ["recreate_database"]


def recreate_database(server: str, name: str) -> str:
    """Drop and create database `name` on `server` (the owner's URL of its `postgres`
    database); the owner's URL of the new one."""
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return server.replace("/postgres?", f"/{name}?")
