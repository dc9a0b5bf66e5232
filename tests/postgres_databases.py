"""A fresh PostgreSQL database per test on one server per module: tests that count rows or
stock must not see each other's orders."""

from __future__ import annotations

import itertools
import os

from sqlalchemy import create_engine, text

from shop.testing.services import PostgresServer

_names = itertools.count(1)


def new_database(server: PostgresServer) -> str:
    """Create an empty database on ``server``; returns its URL."""
    name = f"test_{os.getpid()}_{next(_names)}"
    admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return server.url.rsplit("/", 1)[0] + f"/{name}"
