"""Schema migrations: numbered SQL files in services/<service>/migrations/.

Each file runs once, in its own transaction, recorded in schema_migrations. An advisory
lock makes concurrent runs (two operators, two containers) safe.
"""
import logging
import os

import psycopg2

from imageboard import PROJECT_ROOT
from imageboard.config import database_url
from imageboard.db import connect_kwargs, ensure_database

log = logging.getLogger(__name__)
LOCK_ID = 7_245_001  # arbitrary, constant: the advisory lock key for migrations


def migrations_dir(service):
    return os.path.join(PROJECT_ROOT, "services", service, "migrations")


def version_number(version):
    """0002 of "0002_outbox" (a version, its number, or an int)."""
    return int(str(version).split("_", 1)[0])


def pending_files(service, applied, until=None):
    folder = migrations_dir(service)
    if not os.path.isdir(folder):
        return []
    names = sorted(n for n in os.listdir(folder) if n.endswith(".sql"))
    return [(n[:-4], os.path.join(folder, n)) for n in names if n[:-4] not in applied
            and (until is None or version_number(n[:-4]) <= version_number(until))]


def migrate(config, service, until=None):
    """Create the service's database if needed and apply its pending migrations (those up
    to `until` only, e.g. "0001", if given: tests upgrade data stored by an old schema).

    A file that fails leaves nothing behind: its statements, and its schema_migrations row,
    are one transaction (PostgreSQL DDL is transactional), rolled back; the error is
    raised and the next run tries that file again. So a migration must not hold a
    statement that cannot run in a transaction (CREATE INDEX CONCURRENTLY, VACUUM)."""
    url = database_url(config, service)
    ensure_database(url)
    name, kwargs = connect_kwargs(url)
    conn = psycopg2.connect(dbname=name, **kwargs)
    applied_now = []
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT version FROM schema_migrations")
                applied = {row[0] for row in cur.fetchall()}
            conn.commit()
            for version, path in pending_files(service, applied, until):
                with open(path) as fh:
                    sql = fh.read()
                with conn, conn.cursor() as cur:
                    cur.execute(sql)
                    cur.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                log.info("applied migration", extra={"service": service, "version": version})
                applied_now.append(version)
        finally:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))
    finally:
        conn.close()
    return applied_now
