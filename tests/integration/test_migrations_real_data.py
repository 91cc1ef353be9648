"""Migrations on real data (issue 16, item 3), against the real PostgreSQL and ClickHouse.

* Every database built at its first migration, filled through that old schema with rows
  like the services (or the pipeline) wrote then, upgraded to head: every row is still
  there with its values, what the later migrations add is there (and filled where they
  backfill), and the schema equals that of a database migrated from nothing.
* Two `imageboard migrate` processes started at once on fresh databases: both exit 0, and
  each version is applied once (PostgreSQL: an advisory lock; ClickHouse: no locks, so both
  may run the idempotent statements and record a version twice, which FINAL reads once).
* A migration that fails half-way: PostgreSQL rolls the whole file back (its statements
  and its schema_migrations row are one transaction); ClickHouse keeps what ran before the
  failure, records nothing, and the run after the fix completes it.
"""
import json
import os
import subprocess
from datetime import datetime, timedelta, timezone

import psycopg2
import pytest
from analytics_pipeline.rows import COLUMNS, parse, rows_for
from clickhouse_driver.errors import ServerException

import analytics_store.schema as ch_schema
import imageboard.migrations as pg_migrations
from analytics_store.client import make_client
from analytics_store.schema import migrate as migrate_clickhouse
from imageboard import PROJECT_ROOT
from imageboard.config import database_url
from imageboard.db import connect_kwargs, delete_older_than, drop_database
from imageboard.migrations import migrate
from imageboard.timefmt import utcnow
from services.analytics.dependencies import AnalyticsStore, ClientPool
from tests import synthetic_events as syn
from tests.analytics_truth import rounded
from tests.integration.test_analytics import periods, scripted

pytestmark = pytest.mark.integration

PG_SERVICES = ("users", "posts", "comments", "notifications")
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)


def files(service):
    folder = pg_migrations.migrations_dir(service)
    return sorted(n[:-4] for n in os.listdir(folder) if n.endswith(".sql"))


def connect(config, service):
    name, kwargs = connect_kwargs(database_url(config, service))
    conn = psycopg2.connect(dbname=name, **kwargs)
    conn.autocommit = True
    return conn


def rows(conn, sql, params=()):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else None


def fails(conn, sql, params=()):
    """The PostgreSQL error class a statement raises (None if it succeeds), undone either way."""
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
        return None
    except psycopg2.Error as exc:
        return type(exc)
    finally:
        conn.rollback()
        conn.autocommit = True


def pg_schema(conn):
    """Everything a migration can change, by name: columns with types, defaults and
    nullability, constraints, indexes, triggers, functions."""
    return {
        "columns": rows(conn, """
            SELECT table_name, column_name, data_type, character_maximum_length,
                   column_default, is_nullable
            FROM information_schema.columns WHERE table_schema = 'public'
            ORDER BY table_name, column_name"""),
        "constraints": rows(conn, """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
            FROM pg_constraint WHERE connamespace = 'public'::regnamespace
            ORDER BY 1, 2"""),
        "indexes": rows(conn, """
            SELECT tablename, indexname, indexdef FROM pg_indexes
            WHERE schemaname = 'public' ORDER BY 1, 2"""),
        "triggers": rows(conn, """
            SELECT tgrelid::regclass::text, tgname FROM pg_trigger
            WHERE NOT tgisinternal ORDER BY 1, 2"""),
        "functions": rows(conn, """
            SELECT proname, prosrc FROM pg_proc
            WHERE pronamespace = 'public'::regnamespace ORDER BY 1"""),
    }


def snapshot(conn, columns=None):
    """Every row of every table but schema_migrations, in primary-key order. With
    `columns` ({table: [column, ...]}) only those columns of those tables: what an upgrade
    must keep while later migrations add columns."""
    tables = [t for (t,) in rows(conn, "SELECT table_name FROM information_schema.tables"
                                       " WHERE table_schema = 'public' ORDER BY 1")
              if t != "schema_migrations"]
    if columns is not None:
        return {t: rows(conn, f"SELECT {', '.join(columns[t])} FROM {t} ORDER BY 1, 2")
                for t in columns}
    return {t: rows(conn, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables}


def columns_of(conn):
    """{table: its columns in order}, schema_migrations left out."""
    found = {}
    for table, column in rows(conn, "SELECT table_name, column_name FROM"
                                    " information_schema.columns WHERE table_schema = 'public'"
                                    " AND table_name <> 'schema_migrations'"
                                    " ORDER BY table_name, ordinal_position"):
        found.setdefault(table, []).append(column)
    return found


@pytest.fixture
def pg_configs(config, unique):
    """(config, reference config): the databases filled at 0001 and upgraded, and ones
    migrated straight to head; dropped afterwards."""
    made = dict(config, DB_PREFIX=f"{config['DB_PREFIX']}_rd{unique[:8]}")
    reference = dict(config, DB_PREFIX=f"{config['DB_PREFIX']}_rf{unique[:8]}")
    yield made, reference
    for cfg in (made, reference):
        for service in PG_SERVICES:
            drop_database(database_url(cfg, service))


# -- what each service's 0001 held, as the services wrote it -----------------------------

def fill_users(conn):
    for i, (name, admin) in enumerate((("Alice", True), ("bob", False), ("Carol_3", False),
                                       ("dave", False))):
        rows(conn, "INSERT INTO users (username, email, password_hash, first_name, last_name,"
                   " is_admin, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                   " RETURNING id",
             (name, f"{name.lower()}@example.com", f"pbkdf2_sha256$600000$salt{i}$hash{i}",
              name.title(), "Smith" if i % 2 else "", admin, T0 + timedelta(days=i),
              T0 + timedelta(days=i, hours=1)))


def check_users(conn, before):
    assert rows(conn, "SELECT id, username, is_admin FROM users ORDER BY id") == [
        (1, "Alice", True), (2, "bob", False), (3, "Carol_3", False), (4, "dave", False)]
    # Unique regardless of case (0001's indexes), ids go on from the same sequence.
    assert fails(conn, "INSERT INTO users (username, email, password_hash) VALUES"
                       " ('ALICE', 'other@example.com', 'x')") is psycopg2.errors.UniqueViolation
    assert rows(conn, "INSERT INTO users (username, email, password_hash) VALUES"
                      " ('erin', 'erin@example.com', 'x') RETURNING id") == [(6,)]  # 5: refused
    assert rows(conn, "SELECT count(*) FROM outbox") == [(0,)]  # 0002: there, empty
    # 0003: every existing user has the empty bio and no avatar.
    assert rows(conn, "SELECT DISTINCT bio, avatar FROM users WHERE id <= 4") == [("", None)]
    assert rows(conn, "SELECT count(*) FROM access_changes") == [(0,)]  # 0005: there, empty
    # 0004: every existing user at token version 0, so tokens they log in with are valid.
    assert rows(conn, "SELECT DISTINCT token_version FROM users") == [(0,)]


def fill_posts(conn):
    for i in range(1, 4):
        rows(conn, "INSERT INTO posts (title, content, image, author_id, author_username,"
                   " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
             (f"Post {i}", f"body of post {i}", f"{'ab' * 16}{i}.png" if i != 2 else None,
              i, f"user{i}", T0 + timedelta(hours=i), T0 + timedelta(hours=i)))
    for post_id, user_id in ((1, 2), (1, 3), (3, 1)):
        rows(conn, "INSERT INTO likes (post_id, user_id, username, created_at)"
                   " VALUES (%s, %s, %s, %s)", (post_id, user_id, f"user{user_id}", T0))
    rows(conn, "UPDATE posts SET likes_count = (SELECT count(*) FROM likes"
               " WHERE likes.post_id = posts.id), comments_count = id - 1")


def check_posts(conn, before):
    assert rows(conn, "SELECT id, likes_count, comments_count, image IS NULL FROM posts"
                      " ORDER BY id") == [(1, 2, 0, False), (2, 0, 1, True), (3, 1, 2, False)]
    assert rows(conn, "SELECT total FROM posts_total") == [(3,)]
    # 0001's triggers and foreign key still work after the upgrade.
    rows(conn, "INSERT INTO posts (title, content, author_id, author_username)"
               " VALUES ('new', 'x', 9, 'nine')")
    rows(conn, "DELETE FROM posts WHERE id = 1")
    assert rows(conn, "SELECT total FROM posts_total") == [(3,)]
    assert rows(conn, "SELECT post_id, user_id FROM likes ORDER BY 1, 2") == [(3, 1)]
    assert rows(conn, "SELECT count(*) FROM outbox") == [(0,)]


def fill_comments(conn):
    for post_id, parent_id, author in ((7, None, 1), (7, 1, 2), (7, 2, 1), (8, None, 3)):
        rows(conn, "INSERT INTO comments (post_id, parent_id, author_id, author_username,"
                   " content, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
             (post_id, parent_id, author, f"user{author}", f"comment by {author}", T0, T0))


def check_comments(conn, before):
    assert rows(conn, "SELECT id, post_id, parent_id FROM comments ORDER BY id") == [
        (1, 7, None), (2, 7, 1), (3, 7, 2), (4, 8, None)]
    rows(conn, "DELETE FROM comments WHERE id = 1")  # a thread goes with its first comment
    assert rows(conn, "SELECT id FROM comments ORDER BY id") == [(4,)]
    assert rows(conn, "SELECT count(*) FROM outbox") == [(0,)]


EVENTS = [f"5f0e7c1e-0000-4000-8000-0000000000{i:02d}" for i in range(1, 5)]


def fill_notifications(conn):
    for user_id, name in ((1, "alice"), (2, "bob"), (3, "carol")):
        rows(conn, "INSERT INTO known_users (id, username, updated_at) VALUES (%s, %s, %s)",
             (user_id, name, T0))
    for user_id, kind, message, data, read, source in (
            (1, "SYSTEM", "Welcome to the imageboard, alice!", {"actor_id": None}, True, EVENTS[0]),
            (1, "LIKE", 'bob liked your post "Sunset"', {"post_id": 7, "actor_id": 2}, False, EVENTS[1]),
            (1, "COMMENT", 'carol commented on your post "Sunset"',
             {"post_id": 7, "comment_id": 3, "actor_id": 3}, False, EVENTS[2]),
            (2, "REPLY", 'carol replied to your comment on "Sunset"',
             {"post_id": 7, "comment_id": 3, "actor_id": 3}, False, EVENTS[2])):
        rows(conn, "INSERT INTO notifications (user_id, type, message, data, read,"
                   " source_event_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
             (user_id, kind, message, json.dumps(data), read, source, T0))
    now = datetime.now(timezone.utc)
    for event_id, event_type, age in ((EVENTS[0], "user.registered", 40),
                                      (EVENTS[1], "post.liked", 2),
                                      (EVENTS[2], "comment.created", 1)):
        rows(conn, "INSERT INTO processed_events (event_id, event_type, processed_at)"
                   " VALUES (%s, %s, %s)", (event_id, event_type, now - timedelta(days=age)))


def check_notifications(conn, before):
    assert rows(conn, "SELECT user_id, type, read, data, source_event_id::text FROM notifications"
                      " ORDER BY id") == [
        (1, "SYSTEM", True, {"actor_id": None}, EVENTS[0]),
        (1, "LIKE", False, {"post_id": 7, "actor_id": 2}, EVENTS[1]),
        (1, "COMMENT", False, {"post_id": 7, "comment_id": 3, "actor_id": 3}, EVENTS[2]),
        (2, "REPLY", False, {"post_id": 7, "comment_id": 3, "actor_id": 3}, EVENTS[2])]
    # One notification per event and recipient still holds (a redelivered event).
    assert fails(conn, "INSERT INTO notifications (user_id, type, message, source_event_id)"
                       " VALUES (2, 'REPLY', 'again', %s)", (EVENTS[2],)) \
        is psycopg2.errors.UniqueViolation
    # 0003: pruning by age uses its index, and forgets exactly the old id.
    assert rows(conn, "SELECT indexdef FROM pg_indexes WHERE indexname"
                      " = 'processed_events_processed_at'") == [
        ("CREATE INDEX processed_events_processed_at ON public.processed_events"
         " USING btree (processed_at)",)]

    def execute(sql, params):
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.rowcount
    assert delete_older_than(execute, "processed_events", "event_id", "processed_at", 30) == 1
    assert [e for (e,) in rows(conn, "SELECT event_id::text FROM processed_events ORDER BY 1")] \
        == [EVENTS[1], EVENTS[2]]
    # 0002 and 0004: an empty outbox and an empty dead_letters table, ready for the consumer.
    assert rows(conn, "SELECT count(*) FROM outbox") == [(0,)]
    assert rows(conn, "SELECT count(*) FROM dead_letters") == [(0,)]
    rows(conn, "INSERT INTO dead_letters (consumer, topic, partition, \"offset\", kind, reason)"
               " VALUES ('notifications', 'post-events', 0, 12, 'not_json', 'not JSON')")


REAL_DATA = {"users": (fill_users, check_users), "posts": (fill_posts, check_posts),
             "comments": (fill_comments, check_comments),
             "notifications": (fill_notifications, check_notifications)}


@pytest.mark.parametrize("service", PG_SERVICES)
def test_postgres_upgrade_from_the_first_migration_keeps_every_row(pg_configs, service):
    cfg, reference = pg_configs
    fill, check = REAL_DATA[service]
    first, *later = files(service)
    assert later, f"{service} has only one migration: nothing to upgrade across"
    assert migrate(cfg, service, until=first) == [first]
    conn = connect(cfg, service)
    try:
        fill(conn)
        before, columns = snapshot(conn), columns_of(conn)
        assert all(before.values()), "every table of 0001 holds rows"

        assert migrate(cfg, service) == later
        assert migrate(cfg, service) == []
        after = snapshot(conn, columns)  # added columns aside, every value as it was
        for table, table_rows in before.items():
            # Columns a later migration adds come last (ADD COLUMN): the old ones are unchanged.
            width = len(table_rows[0])
            assert [row[:width] for row in after[table]] == table_rows, \
                f"{table} changed in the upgrade"
        assert rows(conn, "SELECT version FROM schema_migrations ORDER BY 1") == \
            [(v,) for v in files(service)]
        # The upgraded schema is the one a new database gets.
        assert migrate(reference, service) == files(service)
        fresh = connect(reference, service)
        try:
            assert pg_schema(conn) == pg_schema(fresh)
        finally:
            fresh.close()
        check(conn, before)
    finally:
        conn.close()


# -- ClickHouse ----------------------------------------------------------------------------

@pytest.fixture
def ch_fresh(config, unique):
    """A config for ClickHouse databases of this test's own (none created yet); every one
    made with it (suffixes) is dropped afterwards."""
    base, name = config["CLICKHOUSE_URL"].rsplit("/", 1)
    made = []

    def cfg(suffix=""):
        made.append(dict(config, CLICKHOUSE_URL=f"{base}/{name}_rd{unique}{suffix}"))
        return made[-1]
    yield cfg
    for c in made:
        ch_schema.drop_database(c)


def old_columns(ch, table):
    return [n for (n,) in ch.execute(
        "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = %(t)s",
        {"t": table})]


def insert_through_old_schema(ch, events, copies=()):
    """The pipeline's rows for these events (and the rows of `copies` once more: a batch
    written twice by a pipeline without the write-time checks of 0006), keeping to the
    columns the tables have now."""
    by_table = {}
    for offset, event in enumerate(list(events) + list(copies)):
        name, _, value = syn.encode(event)
        for table, row in rows_for(parse(value), name, 0, offset):
            by_table.setdefault(table, []).append(dict(zip(COLUMNS[table], row)))
    for table, table_rows in by_table.items():
        columns = [c for c in old_columns(ch, table) if c in COLUMNS[table]]
        ch.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES",
                   [tuple(row[c] for c in columns) for row in table_rows])
    return by_table


def ch_tables(ch):
    return ch.execute("SELECT name, engine FROM system.tables WHERE database = currentDatabase()"
                      " ORDER BY name")


def ch_columns(ch):
    return ch.execute("SELECT table, name, type, default_kind, default_expression FROM system.columns"
                      " WHERE database = currentDatabase() ORDER BY table, name")


def test_clickhouse_upgrade_from_the_first_migration_backfills_and_answers_right(ch_fresh):
    """Events stored by the pipeline of 0001 (likes without occurred_us, copies of posts and
    likes from batches written twice), then 0002-0007: the answers of the analytics
    service over that history equal the truth computed from the actions, which needs
    0005's post_likes and 0006's post_like_totals and post_day_ids backfilled from the
    stored rows (with 0005 taking the microseconds of toggles from events.body)."""
    cfg = ch_fresh()
    assert migrate_clickhouse(cfg, until="0001") == ["0001_event_tables"]
    ch = make_client(cfg)
    assert "occurred_us" not in old_columns(ch, "likes")
    today = utcnow().date()
    r = scripted(today)
    # A burst of toggles on one post within one second: only microseconds order them.
    r.post(7, 4, today - timedelta(days=2))
    second, ticks = syn.at(today - timedelta(days=1), 50000), iter(range(1, 100))
    r.when = lambda day: second + timedelta(microseconds=next(ticks))
    for user in (1, 2, 3, 4, 2, 1, 2, 3):  # 2 and 4 still like it: 2 standing
        r.like(7, user, today - timedelta(days=1))
    copies = [e for e in r.events if e["type"] in ("post.created", "post.liked", "post.deleted")][::2]
    stored = insert_through_old_schema(ch, r.events, copies)
    assert ch.execute("SELECT count() > uniqExact(post_id) FROM posts")[0][0] == 1
    before = {t: ch.execute(f"SELECT count(), uniqExact(event_id) FROM {t}")[0] for t in stored}

    assert migrate_clickhouse(cfg) == [name for name, _ in ch_schema.migration_files()][1:]
    assert migrate_clickhouse(cfg) == []
    # Rows survived: every event is still there (0006 merged the posts' copies away).
    for table, (count, distinct) in before.items():
        now_count, now_distinct = ch.execute(f"SELECT count(), uniqExact(event_id) FROM {table}")[0]
        assert now_distinct == distinct, table
        if table in ("posts", "post_deletions"):
            assert now_count == distinct, table
        else:  # copies stay until a background merge drops them
            assert distinct <= now_count <= count, table
    # 0005: likes stored before it read occurred_us as their whole second; post_likes holds
    # each liked post's latest toggle, timed to the microsecond from events.body.
    assert ch.execute("SELECT countIf(occurred_us != toUInt64(occurred_at) * 1000000) FROM likes")[0][0] == 0
    latest = {post_id: (likes, us) for post_id, likes, us in ch.execute(
        "SELECT post_id, argMax(likes_count, toggled_us), max(toggled_us) FROM post_likes GROUP BY post_id")}
    assert latest[7] == (2, int(second.timestamp()) * 1_000_000 + 8)
    assert set(latest) == {e["payload"]["post_id"] for e in r.events
                           if e["type"] in ("post.liked", "post.unliked")}
    # 0006: one standing-likes sum and one `known` per live post; deleted ones sum to 0.
    totals = {p: (likes, known) for p, likes, known in ch.execute(
        "SELECT post_id, sum(likes), sum(known) FROM post_like_totals GROUP BY post_id")}
    for post_id, post in r.truth.posts.items():
        expected = (0, 0) if post["deleted"] else (r.truth.likes_count(post_id), 1)
        assert totals.get(post_id, (0, 0)) == expected, post_id
    days = {day: (low, high) for day, low, high in ch.execute(
        "SELECT day, minMerge(min_id), maxMerge(max_id) FROM post_day_ids GROUP BY day")}
    assert days == {p["day"]: (min(i for i, q in r.truth.posts.items() if q["day"] == p["day"]),
                               max(i for i, q in r.truth.posts.items() if q["day"] == p["day"]))
                    for p in r.truth.posts.values()}
    # The same schema as a database migrated from nothing.
    reference_cfg = ch_fresh("_ref")
    migrate_clickhouse(reference_cfg)
    reference = make_client(reference_cfg)
    assert ch_tables(ch) == ch_tables(reference) and ch_columns(ch) == ch_columns(reference)

    # And the analytics service's answers over the upgraded history are the truth.
    store = AnalyticsStore(ClientPool(lambda: make_client(cfg), 3))
    for start, end in periods(today):
        assert rounded(store.posts_stats(start, end)) == rounded(r.truth.post_stats(start, end)), \
            (start, end)
    for user_id in (1, 2, 3, 4):
        assert store.user_activity(user_id, today) == r.truth.user_activity(user_id, today), user_id


# -- two migrate processes at once ---------------------------------------------------------

def test_two_migrate_processes_at_once_apply_each_version_once(config, pg_configs, ch_fresh):
    cfg, _ = pg_configs
    ch_cfg = ch_fresh()
    env = dict(os.environ, DB_PREFIX=cfg["DB_PREFIX"], CLICKHOUSE_URL=ch_cfg["CLICKHOUSE_URL"])
    argv = [os.path.join(PROJECT_ROOT, ".venv", "bin", "imageboard"), "migrate"]
    procs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=180) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-3000:]
    applied = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]

    for service in PG_SERVICES:
        # The advisory lock: the second run waits, then finds the versions applied. Each
        # version is applied by exactly one of the two runs.
        first, second = (a[service] for a in applied)
        assert sorted(first + second) == files(service), (service, first, second)
        conn = connect(cfg, service)
        try:
            assert rows(conn, "SELECT version FROM schema_migrations ORDER BY 1") == \
                [(v,) for v in files(service)]
        finally:
            conn.close()

    # ClickHouse: no lock. Both runs may apply a version (its statements are idempotent:
    # IF NOT EXISTS, an ADD COLUMN already there counts as applied) and record it: the
    # ReplacingMergeTree keyed by version holds a copy until it merges. A reader sees each
    # version once with FINAL (or as a set, which is how migrate() reads it); a plain
    # SELECT may see a version twice until then.
    versions = [name for name, _ in ch_schema.migration_files()]
    assert sorted(set(applied[0]["analytics"]) | set(applied[1]["analytics"])) == versions
    ch = make_client(ch_cfg)
    final = [v for (v,) in ch.execute("SELECT version FROM schema_migrations FINAL ORDER BY version")]
    assert final == versions
    plain = [v for (v,) in ch.execute("SELECT version FROM schema_migrations")]
    assert set(plain) == set(versions) and len(plain) <= 2 * len(versions)
    # The schema is whole and single: the same as one run makes.
    reference_cfg = ch_fresh("_ref")
    migrate_clickhouse(reference_cfg)
    reference = make_client(reference_cfg)
    assert ch_tables(ch) == ch_tables(reference) and ch_columns(ch) == ch_columns(reference)
    assert migrate_clickhouse(ch_cfg) == []


# -- a migration that fails half-way -------------------------------------------------------

GOOD = """CREATE TABLE keep (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO keep VALUES (1, 'one'), (2, 'two');
"""
# The last statement fails when it runs, after the others ran: a syntax error would not do,
# PostgreSQL parses a whole multi-statement string before running any of it.
HALF = """CREATE TABLE half (id INTEGER);
ALTER TABLE keep ADD COLUMN extra INTEGER NOT NULL DEFAULT 0;
CREATE INDEX keep_name ON keep (name);
UPDATE keep SET name = 'changed';
INSERT INTO keep VALUES (3, 'three');
INSERT INTO keep VALUES (1, 'one again');
"""


def test_postgres_migration_failing_half_way_leaves_the_schema_as_it_was(config, unique,
                                                                          tmp_path, monkeypatch):
    service = f"halfway{unique[:8]}"
    monkeypatch.setattr(pg_migrations, "migrations_dir", lambda _service: str(tmp_path))
    (tmp_path / "0001_keep.sql").write_text(GOOD)
    try:
        assert migrate(config, service) == ["0001_keep"]
        conn = connect(config, service)
        schema, data = pg_schema(conn), snapshot(conn)
        (tmp_path / "0002_half.sql").write_text(HALF)
        with pytest.raises(psycopg2.errors.UniqueViolation):
            migrate(config, service)
        assert pg_schema(conn) == schema
        assert snapshot(conn) == data == {"keep": [(1, "one"), (2, "two")]}
        assert rows(conn, "SELECT version FROM schema_migrations") == [("0001_keep",)]
        # The lock went with the failed run: nothing waits on it.
        assert rows(conn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                          " AND database = (SELECT oid FROM pg_database"
                          " WHERE datname = current_database())") == [(0,)]
        # Fixed, the next run applies the whole file.
        (tmp_path / "0002_half.sql").write_text(HALF.replace("(1, 'one again')", "(4, 'four')"))
        assert migrate(config, service) == ["0002_half"]
        assert rows(conn, "SELECT * FROM keep ORDER BY id") == [
            (1, "changed", 0), (2, "changed", 0), (3, "three", 0), (4, "four", 0)]
        conn.close()
    finally:
        drop_database(database_url(config, service))


CH_GOOD = """CREATE TABLE IF NOT EXISTS keep (id UInt32, name String) ENGINE = MergeTree ORDER BY id;
"""
CH_HALF = """CREATE TABLE IF NOT EXISTS half (id UInt32) ENGINE = MergeTree ORDER BY id;
ALTER TABLE keep ADD COLUMN extra UInt8 DEFAULT 1;
CREATE MATERIALIZED VIEW IF NOT EXISTS half_from_keep TO half AS SELECT id FROM keep;
SELEC 1;
CREATE TABLE IF NOT EXISTS after_the_error (id UInt32) ENGINE = MergeTree ORDER BY id;
"""


def test_clickhouse_migration_failing_half_way_is_completed_by_the_next_run(ch_fresh, tmp_path,
                                                                            monkeypatch):
    """ClickHouse has no transactional DDL: what ran before the failure stays, the version is
    not recorded, and the recovery is to fix the file and run migrate again, which re-runs
    the file from its first statement (each one idempotent) and records it."""
    monkeypatch.setattr(ch_schema, "MIGRATIONS_DIR", str(tmp_path))
    (tmp_path / "0001_keep.sql").write_text(CH_GOOD)
    cfg = ch_fresh()
    assert migrate_clickhouse(cfg) == ["0001_keep"]
    ch = make_client(cfg)
    ch.execute("INSERT INTO keep (id, name) VALUES", [(1, "one"), (2, "two")])
    (tmp_path / "0002_half.sql").write_text(CH_HALF)
    with pytest.raises(ServerException) as exc:
        migrate_clickhouse(cfg)
    assert exc.value.code == 62  # syntax error
    assert [t for t, _ in ch_tables(ch)] == ["half", "half_from_keep", "keep", "schema_migrations"]
    assert [v for (v,) in ch.execute("SELECT version FROM schema_migrations FINAL")] == ["0001_keep"]

    (tmp_path / "0002_half.sql").write_text(CH_HALF.replace("SELEC 1", "SELECT 1"))
    assert migrate_clickhouse(cfg) == ["0002_half"]
    assert migrate_clickhouse(cfg) == []
    # Exactly what one clean run of the fixed files makes, and the rows are untouched.
    reference_cfg = ch_fresh("_ref")
    migrate_clickhouse(reference_cfg)
    reference = make_client(reference_cfg)
    assert ch_tables(ch) == ch_tables(reference) and ch_columns(ch) == ch_columns(reference)
    assert ch.execute("SELECT id, name, extra FROM keep ORDER BY id") == [(1, "one", 1), (2, "two", 1)]
