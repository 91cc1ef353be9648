"""The project's ClickHouse schema: numbered SQL files in migrations/, applied in order to
the database named in CLICKHOUSE_URL and recorded in its schema_migrations table.

ClickHouse has no transactions or advisory locks, so every statement is idempotent
(IF NOT EXISTS): a run that died half-way, or two runs at once, simply re-apply it.

* A file that fails half-way keeps the statements that ran before the failure and is not
  recorded. Recovery: fix the cause and run `imageboard migrate` again; it runs the file
  from its first statement (tests/integration/test_migrations_real_data.py does).
* Two runs at once may both apply a file and both record it: schema_migrations, a
  ReplacingMergeTree keyed by version, holds the version twice until a merge. Read it with
  FINAL (or as a set, as migrate() does). The backfills tolerate overlapping runs (their
  copies are duplicates by event_id, or argMax/min/max ignore them) except 0006's
  post_like_totals history, which two runs at the very same time over stored events could
  add twice: on a database with data, run one migrate at a time (`imageboard up` and the
  compose `migrate` job each run one).
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


def migration_files(until=None):
    names = sorted(n for n in os.listdir(MIGRATIONS_DIR) if n.endswith(".sql"))
    return [(n[:-4], os.path.join(MIGRATIONS_DIR, n)) for n in names
            if until is None or _number(n[:-4]) <= _number(until)]


def _number(version):
    """7 of "0007_dead_letters" (a version, its number, or an int)."""
    return int(str(version).split("_", 1)[0])


def migrate(config, until=None):
    """Create the database if needed and apply pending migrations (those up to `until`
    only, e.g. "0001", if given); returns their names."""
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
    for version, path in migration_files(until):
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
