"""Standalone settings on the local PostgreSQL server, one database per benchmark process.

The server is the one the test suite uses (127.0.0.1:5432, trust auth); the
database is created by ``create_database`` and dropped when the process exits.
"""

from __future__ import annotations

import atexit
import os

from django_mlops.standalone import settings as _standalone

# Every setting of standalone mode (its module declares an empty __all__), then ours.
globals().update({k: v for k, v in vars(_standalone).items() if k.isupper()})

_NAME = f"mlops_bench_{os.getpid()}"
_SERVER = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": _SERVER["host"],
        "PORT": str(_SERVER["port"]),
        "NAME": _NAME,
        "USER": _SERVER["user"],
    }
}


def create_database() -> None:
    """Create this process's database; it is dropped at exit."""
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **_SERVER) as connection:
        connection.execute(f'CREATE DATABASE "{_NAME}"')
    atexit.register(_drop)


def _drop() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(dbname="postgres", autocommit=True, **_SERVER) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{_NAME}"')
