"""PostgreSQL plumbing shared by the services: pooled peewee databases and creation."""
from urllib.parse import unquote, urlparse

import psycopg2
from peewee import InterfaceError, OperationalError
from playhouse.pool import PooledPostgresqlDatabase

# Errors that mean "the database is unreachable", as opposed to a bad query.
CONNECTION_ERRORS = (OperationalError, InterfaceError, psycopg2.OperationalError,
                     psycopg2.InterfaceError)


def connect_kwargs(url):
    parts = urlparse(url)
    kwargs = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "connect_timeout": 3,
    }
    return parts.path.lstrip("/"), {k: v for k, v in kwargs.items() if v is not None}


def make_database(url, max_connections):
    """A pool sized for the service's workers. Connections go back on close()."""
    name, kwargs = connect_kwargs(url)
    return PooledPostgresqlDatabase(
        name,
        max_connections=max_connections,
        stale_timeout=300,
        timeout=10,  # wait up to 10 s for a free connection instead of failing at once
        autoconnect=True,
        **kwargs,
    )


def ensure_database(url):
    """CREATE DATABASE if it does not exist yet (connecting to the maintenance db)."""
    name, kwargs = connect_kwargs(url)
    conn = psycopg2.connect(dbname="postgres", **kwargs)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')
                return True
        return False
    finally:
        conn.close()


def drop_database(url):
    name, kwargs = connect_kwargs(url)
    conn = psycopg2.connect(dbname="postgres", **kwargs)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()
