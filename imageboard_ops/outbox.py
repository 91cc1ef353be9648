"""Operator tools for the transactional outbox (docs/operations.md). They talk to the
service's PostgreSQL database directly, so they work while the service or its relay is down,
e.g. from `nameko shell`:

    >>> from imageboard_ops import outbox
    >>> outbox.status(n.config, "posts")
    >>> outbox.republish(n.config, "posts", since="2026-11-27T10:00:00+00:00")

Re-publishing marks rows unsent again; the relay (imageboard.events.relay) sends them on its
next round, in id order. Consumers deduplicate on event_id, so a repeat costs nothing.
"""
from datetime import datetime

import psycopg2

from imageboard.config import database_url
from imageboard.db import connect_kwargs
from imageboard.events.outbox import NOTIFY_CHANNEL
from imageboard_ops.components import component, components



def _connect(config, service):
    if service not in config["SERVICES"] or not component(service).outbox:
        with_outbox = [c.name for c in components(config) if c.outbox]
        raise ValueError(f"{service!r} has no outbox; one of {', '.join(with_outbox)}")
    name, kwargs = connect_kwargs(database_url(config, service))
    return psycopg2.connect(dbname=name, **kwargs)


def _iso(value):
    return value.isoformat() if value is not None else None


def status(config, service):
    """{"pending", "oldest_pending_at", "last_published_at", "total"}."""
    conn = _connect(config, service)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FILTER (WHERE published_at IS NULL),"
                        " min(created_at) FILTER (WHERE published_at IS NULL),"
                        " max(published_at), count(*) FROM outbox")
            pending, oldest, last, total = cur.fetchone()
        return {"service": service, "pending": pending, "oldest_pending_at": _iso(oldest),
                "last_published_at": _iso(last), "total": total}
    finally:
        conn.close()


def pending(config, service, limit=20):
    """The oldest unsent events: what is stuck, and since when."""
    conn = _connect(config, service)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, event_id, event_type, event_key, created_at FROM outbox"
                        " WHERE published_at IS NULL ORDER BY id LIMIT %s", (limit,))
            return [{"id": r[0], "event_id": str(r[1]), "type": r[2], "key": r[3],
                     "created_at": _iso(r[4])} for r in cur.fetchall()]
    finally:
        conn.close()


def republish(config, service, since=None, event_ids=None):
    """Mark already-sent events unsent again: those published at or after `since` (ISO 8601
    with offset, or a datetime), or the given event_ids. Returns how many; the relay sends
    them within a second (it is woken by NOTIFY)."""
    if (since is None) == (not event_ids):
        raise ValueError("give either since=... or event_ids=[...]")
    if isinstance(since, str):
        since = datetime.fromisoformat(since)
        if since.tzinfo is None:
            raise ValueError("since needs a UTC offset, e.g. 2026-11-27T10:00:00+00:00")
    conn = _connect(config, service)
    try:
        with conn, conn.cursor() as cur:
            if since is not None:
                cur.execute("UPDATE outbox SET published_at = NULL"
                            " WHERE published_at IS NOT NULL AND published_at >= %s", (since,))
            else:
                cur.execute("UPDATE outbox SET published_at = NULL"
                            " WHERE published_at IS NOT NULL AND event_id::text = ANY(%s)",
                            ([str(e) for e in event_ids],))
            count = cur.rowcount
            cur.execute(f"NOTIFY {NOTIFY_CHANNEL}")
        return count
    finally:
        conn.close()
