"""The project's ClickHouse schema: numbered SQL files in migrations/, applied in order to
the database named in CLICKHOUSE_URL and recorded in its schema_migrations table.

ClickHouse has no transactions or advisory locks, so every statement is idempotent
(IF NOT EXISTS): a run that died half-way, or two runs at once, simply re-apply it.
"""
import logging
import os
import re

from clickhouse_driver.errors import ServerException

from analytics_store.client import database_name, make_client

log = logging.getLogger(__name__)
MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")
# An ADD COLUMN re-applied fails with "column ... already exists" (ILLEGAL_COLUMN 44 on
# 18.16, DUPLICATE_COLUMN 15 elsewhere): its effect is there. 18.16 has no IF NOT EXISTS.
ALREADY_APPLIED = {15, 44}


def statements(sql):
    """Split a file into statements (clickhouse-driver runs one per call)."""
    without_comments = re.sub(r"--[^\n]*", "", sql)
    return [s.strip() for s in without_comments.split(";") if s.strip()]


def migration_files():
    names = sorted(n for n in os.listdir(MIGRATIONS_DIR) if n.endswith(".sql"))
    return [(n[:-4], os.path.join(MIGRATIONS_DIR, n)) for n in names]


def migrate(config):
    """Create the database if needed and apply pending migrations; returns their names."""
    database = database_name(config)
    make_client(config, database="default").execute(f"CREATE DATABASE IF NOT EXISTS `{database}`")
    # A backfill (INSERT ... SELECT over history, e.g. 0005) may run for minutes on a big
    # database: far longer than a query's socket timeout.
    client = make_client(config, send_receive_timeout=3600)
    client.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version String, applied_at DateTime DEFAULT now())"
        " ENGINE = ReplacingMergeTree ORDER BY version"
    )
    applied = {row[0] for row in client.execute("SELECT version FROM schema_migrations")}
    applied_now = []
    for version, path in migration_files():
        if version in applied:
            continue
        with open(path) as fh:
            for statement in statements(fh.read()):
                try:
                    client.execute(statement)
                except ServerException as exc:
                    if exc.code not in ALREADY_APPLIED or "already exists" not in exc.message:
                        raise
        client.execute("INSERT INTO schema_migrations (version) VALUES", [(version,)])
        log.info("applied clickhouse migration", extra={"database": database, "version": version})
        applied_now.append(version)
    client.disconnect()
    return applied_now


def drop_database(config):
    """Tests start from an empty analytics database, like their PostgreSQL ones."""
    make_client(config, database="default").execute(
        f"DROP DATABASE IF EXISTS `{database_name(config)}`")
