"""The access log: a source service's table of access changes (`access_changes`).

    AccessChange = access_log_model(database)                  # in models.py
    with db.atomic():
        user.save(...)
        record_access_change(AccessChange, {"kind": "admin", "user_id": 7, "is_admin": True})

`record_access_change` runs inside the writer's transaction and first takes a
transaction-scoped advisory lock, so rows get their seq in commit order: a reader that
fetches `seq > last_seen` can never skip a row that commits later with a smaller seq.
The writer's AccessFeed dependency publishes what was recorded once the worker finished
(feed.py). Rows older than the JWT lifetime are pruned: no token they could affect is
still valid, so a snapshot from what is left is complete.
"""
import json
import zlib

from peewee import BigAutoField, BigIntegerField, CharField, Model, TextField
from playhouse.postgres_ext import DateTimeTZField

from contracts.events import validate_access_change
from imageboard.access import recorded
from imageboard.db import delete_older_than

LOCK_ID = zlib.crc32(b"access-changes")  # one per database: each source has its own


def access_log_model(database):
    class AccessChange(Model):
        seq = BigAutoField()
        user_id = BigIntegerField()
        kind = CharField()
        payload = TextField()
        created_at = DateTimeTZField(null=True)

        class Meta:
            table_name = "access_changes"

    AccessChange._meta.set_database(database)
    return AccessChange


_RECORD_SQL = ("SELECT pg_advisory_xact_lock(%s); "
               "INSERT INTO access_changes (user_id, kind, payload) VALUES (%s, %s, %s) "
               "RETURNING seq")


def record_access_change(model, change):
    """Append one change (a dict declared in the feed catalogue, contracts/events.py);
    call inside the change's transaction. Returns the change with its `seq`."""
    change = validate_access_change(change)
    db = model._meta.database
    if not db.in_transaction():
        raise RuntimeError("record_access_change must run inside the writer's transaction")
    cursor = db.execute_sql(_RECORD_SQL, (LOCK_ID, change["user_id"], change["kind"],
                                          json.dumps(change)))
    seq = cursor.fetchone()[0]
    change = dict(change, seq=seq)
    recorded.add(change)
    return change


def changes_after(model, after_seq, limit=10000):
    """[change with seq] after `after_seq`, in seq order, or None when the reader needs a
    snapshot: after_seq 0, ahead of the log (a reset database), or older than what the
    log keeps (pruned; a rollback's unused seq at the start costs only a snapshot)."""
    db = model._meta.database
    oldest, newest = db.execute_sql("SELECT min(seq), max(seq) FROM access_changes").fetchone()
    if after_seq <= 0 or after_seq > (newest or 0) or (oldest is not None and after_seq < oldest - 1):
        return None
    rows = db.execute_sql("SELECT seq, payload FROM access_changes WHERE seq > %s "
                          "ORDER BY seq LIMIT %s", (after_seq, limit)).fetchall()
    return [dict(_decoded(payload), seq=seq) for seq, payload in rows]


def _decoded(payload):
    """psycopg2 decodes jsonb itself."""
    return payload if isinstance(payload, dict) else json.loads(payload)


def head(model):
    """The highest committed seq (0 for an empty log)."""
    return model._meta.database.execute_sql(
        "SELECT coalesce(max(seq), 0) FROM access_changes").fetchone()[0]


def all_changes(model):
    """Every change the log keeps, in seq order (the log part of a snapshot)."""
    rows = model._meta.database.execute_sql(
        "SELECT seq, payload FROM access_changes ORDER BY seq").fetchall()
    return [dict(_decoded(payload), seq=seq) for seq, payload in rows]


def prune(model, lifetime_seconds):
    """Deletes rows older than the JWT lifetime; returns how many."""
    db = model._meta.database

    def execute(sql, params):
        return db.execute_sql(sql, params).rowcount

    return delete_older_than(execute, "access_changes", "seq", "created_at",
                             lifetime_seconds / 86400.0)
