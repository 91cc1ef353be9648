"""imageboard.db.delete_older_than: batches until one comes back short."""
from imageboard.db import delete_older_than


def test_deletes_batch_after_batch_until_a_short_one():
    counts, calls = iter([3, 3, 1]), []

    def execute(sql, params):
        calls.append((sql, params))
        return next(counts)

    assert delete_older_than(execute, "outbox", "id", "published_at", 7, batch_size=3) == 7
    assert len(calls) == 3
    sql, params = calls[0]
    assert sql == ("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
                   " WHERE published_at < now() - %s * interval '1 day' LIMIT %s)")
    assert params == (7.0, 3)


def test_nothing_old_is_one_statement():
    calls = []
    assert delete_older_than(lambda sql, params: calls.append(1) or 0,
                             "processed_events", "event_id", "processed_at", 30) == 0
    assert calls == [1]
