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


# A connection checked back in less than this long ago is handed out again without a
# round trip to the server (HikariCP's "alive bypass window" does the same).
REVALIDATE_AFTER_IDLE = 1.0  # seconds


class ServicePool(PooledPostgresqlDatabase):
    """peewee's pool validates every checkout with `SELECT 1`: one extra round trip (and
    PostgreSQL statement) per RPC call, on every service. Here a connection that was in use
    within the last REVALIDATE_AFTER_IDLE seconds is trusted on its local state (not closed,
    no transaction open); one idle longer is checked with `SELECT 1` as before.

    After a PostgreSQL restart the pool still recovers by itself: a query on a dead
    connection fails (503 to that one caller), psycopg2 marks the connection closed and
    the pool discards it on check-in; a connection idle through the outage is validated."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._checked_in_at = {}  # conn_key -> monotonic time of its last check-in

    def _is_closed(self, conn):
        checked_in_at = self._checked_in_at.pop(self.conn_key(conn), None)
        if conn.closed:
            return True
        recent = checked_in_at is not None and time.monotonic() - checked_in_at < REVALIDATE_AFTER_IDLE
        if recent and self._adapter.txn_status(conn) == self._adapter.txn_idle:
            return False
        return super()._is_closed(conn)  # SELECT 1 (or a rollback, if a transaction is open)

    def _close(self, conn, close_conn=False):
        self._checked_in_at[self.conn_key(conn)] = time.monotonic()
        super()._close(conn, close_conn)

    def _close_raw(self, conn):
        self._checked_in_at.pop(self.conn_key(conn), None)
        super()._close_raw(conn)


def make_database(url, max_connections):
    """A pool sized for the service's workers. Connections go back on close()."""
    name, kwargs = connect_kwargs(url)
    return ServicePool(
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
                try:
                    cur.execute(f'CREATE DATABASE "{name}"')
                except (psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
                    return False  # another process (a second `migrate`) created it just now
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
