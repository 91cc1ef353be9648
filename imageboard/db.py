"""PostgreSQL plumbing shared by the services: pooled peewee databases and creation."""
import time
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


def delete_older_than(execute, table, key, age_column, days, batch_size=10000):
    """Deletes the rows of `table` whose `age_column` is more than `days` old, `batch_size`
    rows (picked by `key`) per statement, so no lock is held for long; returns how many.
    `execute(sql, params)` runs one statement and returns its row count. Between batches
    it sleeps 0: in a service (eventlet monkey-patched) the other green threads run."""
    sql = (f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table}"
           f" WHERE {age_column} < now() - %s * interval '1 day' LIMIT %s)")
    deleted = 0
    while True:
        count = execute(sql, (float(days), batch_size))
        deleted += count
        if count < batch_size:
            return deleted
        time.sleep(0)
