"""The analytics SQL on current ClickHouse as well as on the server here.

Compose runs a current ClickHouse; this machine's server is Debian's 18.16. chDB (PyPI
`chdb-core`) is the current ClickHouse engine in-process, so the same SQL is run on both:
every migration is applied to chDB, the same history goes through the pipeline's sink into
both, and the service's own queries must give the same answers on both, equal to the truth;
the example queries of docs/analytics.md must run on both and agree.
"""
import json
import os
import re
import tempfile
import uuid
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from chdb import session as chdb_session
from clickhouse_driver.util.escape import escape_param, escape_params

from analytics_pipeline.consumer import ClickHouseSink
from analytics_store.schema import ALREADY_APPLIED, migration_files, statements
from imageboard import PROJECT_ROOT
from imageboard.timefmt import utcnow
from services.analytics import queries
from services.analytics.dependencies import AnalyticsStore
from tests import synthetic_events as syn
from tests.analytics_truth import rounded
from tests.integration.test_analytics import periods, random_history, rows_of

pytestmark = pytest.mark.integration

# What clickhouse-driver's escaping needs of a connection: the server's time zone.
UTC_CONTEXT = SimpleNamespace(server_info=SimpleNamespace(get_timezone=lambda: "UTC"))


def _value(kind, value):
    """A JSONCompact value as clickhouse-driver would return it for that column type."""
    if value is None:
        return None
    if kind.startswith("Nullable("):
        kind = kind[len("Nullable("):-1]
    if kind.startswith(("UInt", "Int")):
        return int(value)
    if kind.startswith("Float"):
        return float(value)
    if kind == "Date":
        return date.fromisoformat(value)
    if kind.startswith("DateTime"):
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    if kind == "UUID":
        return uuid.UUID(value)
    return value


class ChdbClient:
    """The part of clickhouse_driver.Client that the sink and the analytics service use
    (execute with %(name)s parameters, columnar INSERT, external tables), over chDB."""

    def __init__(self, session):
        self.session = session

    def query(self, sql, fmt="JSONCompact"):
        return self.session.query(sql, fmt)

    def execute(self, sql, params=None, external_tables=None, columnar=False, **_settings):
        if sql.lstrip().upper().startswith("INSERT"):
            rows = zip(*params) if columnar else params
            values = ", ".join("(" + ", ".join(str(escape_param(v, UTC_CONTEXT)) for v in row) + ")"
                               for row in rows)
            self.query(f"{sql} {values}", "CSV")
            return None
        if params:
            sql = sql % escape_params(params, UTC_CONTEXT)
        for table in external_tables or ():
            # An external table is a temporary table of the query: a Memory table here.
            columns = ", ".join(f"{name} {kind}" for name, kind in table["structure"])
            self.query(f"DROP TABLE IF EXISTS {table['name']}", "CSV")
            self.query(f"CREATE TABLE {table['name']} ({columns}) ENGINE = Memory", "CSV")
            if table["data"]:
                names = [name for name, _ in table["structure"]]
                self.execute(f"INSERT INTO {table['name']} VALUES",
                             [[row[n] for n in names] for row in table["data"]])
        result = json.loads(self.query(sql).bytes() or b"{}")
        kinds = [column["type"] for column in result.get("meta", ())]
        rows = [tuple(_value(k, v) for k, v in zip(kinds, row)) for row in result.get("data", ())]
        if "totals" in result:  # clickhouse-driver appends the WITH TOTALS row
            rows.append(tuple(_value(k, v) for k, v in zip(kinds, result["totals"])))
        return rows


class SequentialPool:
    """AnalyticsStore's pool over one client: run_parallel runs the calls in turn."""

    def __init__(self, client):
        self.client = client

    def execute(self, sql, params):
        return self.client.execute(sql, params)

    def run_parallel(self, *calls):
        return [call() for call in calls]


@pytest.fixture(scope="module")
def current():
    """A chDB session with the project's schema applied to database `analytics`."""
    session = chdb_session.Session(tempfile.mkdtemp(prefix="ib-chdb-"))
    session.query("CREATE DATABASE IF NOT EXISTS analytics")
    session.query("USE analytics")
    version = session.query("SELECT version()", "CSV").bytes().decode().strip().strip('"')
    applied = []
    for name, path in migration_files():
        with open(path) as fh:
            for statement in statements(fh.read()):
                try:
                    session.query(statement)
                except Exception as exc:  # as schema.migrate: a column that is already there
                    code = re.match(r"Code: (\d+)", str(exc))
                    if not (code and int(code.group(1)) in ALREADY_APPLIED
                            and "already exists" in str(exc)):
                        raise
        applied.append(name)
    yield SimpleNamespace(session=session, client=ChdbClient(session),
                          version=version, applied=applied)
    session.close()


def test_every_migration_applies_on_current_clickhouse(current):
    assert int(current.version.split(".")[0]) >= 24, current.version
    assert current.applied == [name for name, _ in migration_files()]
    tables = {name for (name,) in current.client.execute("SHOW TABLES")}
    assert {"events", "posts", "post_deletions", "likes", "comments", "users", "user_actions",
            "post_likes", "post_like_totals", "post_day_ids"} <= tables, tables


def test_the_same_history_gives_the_same_answers_on_18_16_and_current(current, ch, ch_config):
    """Posts, likes, unlikes, deletions and comments by 12 users over 60 days, half of them
    written twice (the sink's dedup paths), through the pipeline's sink into both engines."""
    today = utcnow().date()
    client = current.client
    history = random_history(today, seed=5)
    events = history.events
    first_half, second_half = rows_of(events[: len(events) // 2]), rows_of(events[len(events) // 2:])
    for target in (ch, client):
        sink = ClickHouseSink(target)
        sink.write(first_half)
        sink.write(first_half)  # written twice, as after a crash before the commit
        sink.write(second_half)
    moderation = rows_of(moderation_history(today))
    for target in (ch, client):
        ClickHouseSink(target).write(moderation)
    truth = history.truth
    old, new = AnalyticsStore(SequentialPool(ch)), AnalyticsStore(SequentialPool(client))
    for days in (1, 7, 30, 365):
        assert new.moderation_stats(days, today) == old.moderation_stats(days, today), days
    assert old.moderation_stats(30, today)["open_reports"] > 0

    compared = 0
    for start, end in periods(today) + [(today - timedelta(days=365), today)]:
        on_18, on_current = old.posts_stats(start, end), new.posts_stats(start, end)
        assert rounded(on_current) == rounded(on_18), (start, end)
        compared += on_18["total_posts"]
    for start, end in periods(today):
        assert rounded(new.posts_stats(start, end)) == rounded(truth.post_stats(start, end))
    assert compared > 100  # the comparison covered real posts, not empty periods
    for user_id in range(1, 13):
        assert new.user_activity(user_id, today) == old.user_activity(user_id, today), user_id
        assert new.user_activity(user_id, today) == truth.user_activity(user_id, today), user_id
        assert new.user_registered(user_id) and old.user_registered(user_id)
    assert not new.user_registered(999)

    # Every query of the service, the fallbacks that this history may not need included,
    # over a year and a wide id range: the same rows on both.
    params = {"start": today - timedelta(days=365), "end": today, "low": 1, "high": 10 ** 6,
              "outside": (3, 5), "days": (today - timedelta(days=400),), "candidates": (1, 2, 3),
              "threshold": 1, "authors": (1, 2, 3), "post_id": 1, "user_id": 1,
              "since": today - timedelta(days=29), "until": today}
    for name, sql in service_queries():
        on_18, on_current = ch.execute(sql, params), client.execute(sql, params)
        if name == "TOP_TOGGLES":  # the top likes_count rows: which of tied rows is free
            on_18, on_current = [r[1] for r in on_18], [r[1] for r in on_current]
        assert sorted(on_18) == sorted(on_current), name

    # The example queries of docs/analytics.md run on both and agree (now() aside).
    for statement in documented_queries():
        on_18, on_current = ch.execute(statement), client.execute(statement)
        if "now()" in statement:
            assert len(on_18) == len(on_current), statement
        elif "LIMIT" in statement and "ORDER BY" not in statement:  # any rows may be picked
            assert len(on_18) == len(on_current), statement
        else:
            assert sorted(on_18) == sorted(on_current), statement


def moderation_history(today):
    """Reports over 40 days, two thirds resolved a few hours later, and removals."""
    events = []
    for i in range(1, 61):
        made = syn.at(today - timedelta(days=i % 40), 600 + i * 97)
        reason = ("spam", "abuse", "illegal", "other")[i % 4]
        events.append(syn.envelope("report.created", i, 5, {
            "report_id": i, "target_type": "post", "target_id": i, "post_id": i,
            "target_author_id": 9, "reporter_id": 5, "reason": reason}, made))
        if i % 3:
            events.append(syn.envelope("report.resolved", i, 1, {
                "report_id": i, "target_type": "post", "target_id": i,
                "action": ("dismiss", "remove")[i % 2], "resolved_by": 1,
                "reported_at": made.isoformat()}, made + timedelta(seconds=3600 * (i % 7) + i)))
        if i % 2:
            events.append(syn.envelope("content.removed", i, 1, {
                "target_type": "post", "target_id": i, "post_id": i, "post_title": "t",
                "author_id": 9, "reason": reason, "removed_by": 1, "report_id": i}, made))
    return events


def documented_queries():
    """Every statement of the ```sql blocks of docs/analytics.md."""
    with open(os.path.join(PROJECT_ROOT, "docs", "analytics.md")) as fh:
        blocks = re.findall(r"```sql\n(.*?)```", fh.read(), flags=re.S)
    found = [s for block in blocks for s in statements(block)]
    assert len(found) >= 10, "docs/analytics.md lost its example queries"
    return found


def service_queries():
    """(name, SQL) of every complete query in services/analytics/queries.py."""
    found = [(name, sql) for name, sql in vars(queries).items()
             if name.isupper() and isinstance(sql, str) and "SELECT" in sql and "{" not in sql]
    assert len(found) >= 15, [name for name, _ in found]
    return found
