"""What every service needs to erase a user (contract v2 section 6.3): which payload fields of
the event catalogue hold a user id, and the removal of published outbox rows that name one.

A published outbox row is only a copy of what Kafka holds (and Kafka's retention bounds that,
docs/events.md); an unpublished one is the only copy of its event, so it stays until the
relay has sent it (`pending_outbox_rows` lets a consumer wait for that and purge again).
"""
import time

# Payload fields (contracts/events.py, any type) whose value is a user id. A unit test
# (tests/unit/test_erasure_catalogue.py) fails on an id-like field of the catalogue that is
# neither here nor known to hold another kind of id.
USER_ID_FIELDS = ("user_id", "author_id", "post_author_id", "parent_author_id", "deleted_by",
                  "viewer_id", "reporter_id", "target_author_id", "resolved_by", "removed_by",
                  "restored_by", "banned_by", "unbanned_by")

_NAMES = "actor_id = %(uid)s OR " + " OR ".join(
    f"payload ->> '{name}' = %(uid)s" for name in USER_ID_FIELDS)
_NAMING = (f"SELECT id FROM (SELECT id, published_at, body::jsonb ->> 'actor_id' AS actor_id, "
           f"body::jsonb -> 'payload' AS payload FROM outbox) AS o WHERE ({_NAMES})")


def purge_published_outbox(db, user_id):
    """Delete the published outbox rows naming user_id (actor or payload); returns how many."""
    sql = f"DELETE FROM outbox WHERE id IN ({_NAMING} AND published_at IS NOT NULL)"
    return db.execute_sql(sql, {"uid": str(user_id)}).rowcount


def pending_outbox_rows(db, user_id):
    """How many unpublished outbox rows still name user_id."""
    sql = f"SELECT count(*) FROM ({_NAMING} AND published_at IS NULL) AS pending"
    return db.execute_sql(sql, {"uid": str(user_id)}).fetchone()[0]


def purge_outbox_when_published(db, user_id, wait_seconds=20.0, sleep=None):
    """Purge, wait for the relay to publish what names the user, purge again; raises
    OutboxNotDrained after `wait_seconds` (the consumer retries the event: Kafka down)."""
    sleep = sleep or time.sleep  # green under eventlet's monkey-patching
    deadline = time.monotonic() + wait_seconds
    purged = purge_published_outbox(db, user_id)
    while pending_outbox_rows(db, user_id):
        if time.monotonic() > deadline:
            raise OutboxNotDrained(f"outbox rows naming user {user_id} are not published yet")
        sleep(0.2)
        purged += purge_published_outbox(db, user_id)
    return purged


class OutboxNotDrained(RuntimeError):
    """Not one of the consumer's skip errors: the event is retried, never dead-lettered."""
