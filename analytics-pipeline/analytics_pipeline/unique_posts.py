"""`posts` and `post_deletions` hold one row per post: the pipeline drops, before the insert,
every post.created (post.deleted) whose post is already stored there, and keeps one per
post within the batch.

Why: posts/stats counts a period's posts (and deleted posts) per author. Exact counts of
rows that may hold copies cost a deduplication (uniqExact, FINAL, DISTINCT: 135-300 ms over
a year's 900 k posts on 2 cores); rows that are unique are counted with count() (35 ms).
Background merges of the ReplacingMergeTree would drop copies too, but only some time later.

Why the check cannot race: post events are keyed by post_id, so every copy of one (a batch
written twice, the relay re-sending after a broker outage) arrives on the same partition of
post-events, and one consumer holds a partition at a time. A batch is written before its
offsets are committed, and on a rebalance the batch in hand is flushed before the partition
moves (Pipeline._on_revoke), so a copy read later (by this consumer or the next owner) finds
the first one stored: a ClickHouse INSERT is visible to the next SELECT once it returns.
What would break it: two pipeline processes writing one partition at once, i.e. a consumer
cut off from the broker (its session expires after KAFKA_SESSION_TIMEOUT_MS) whose INSERT
still lands (up to send_receive_timeout, 30 s) after the partition's next owner checked;
or a change in post-events' partition count (keys move to other partitions). `imageboard
up` runs one pipeline process. docs/analytics.md ("Known limit") has the check and repair.
"""
from analytics_pipeline.rows import COLUMNS

DAY = COLUMNS["posts"].index("day")
POST_ID = COLUMNS["posts"].index("post_id")
DELETED_POST_ID = COLUMNS["post_deletions"].index("post_id")

# A copy has its first row's day (same event, same occurred_at), so the sorting key
# (day, post_id, ...) finds it in a few granules whatever the table's size.
STORED_POSTS = "SELECT DISTINCT post_id FROM posts WHERE day IN %(days)s AND post_id IN batch_posts"
# post_deletions is ordered by post_id.
STORED_DELETIONS = "SELECT DISTINCT post_id FROM post_deletions WHERE post_id IN batch_posts"


def batch_posts(ids):
    """The ids as an external table `batch_posts` for `post_id IN batch_posts`: sent as one
    column of data, where a literal list of a batch's ~1,400 ids cost ~10 ms to parse and
    analyse, more than the lookup itself (2.5 ms)."""
    return [{"name": "batch_posts", "structure": [("post_id", "UInt64")],
             "data": [{"post_id": post_id} for post_id in ids]}]


def _first_per_post(rows, column):
    first = {}
    for row in rows:
        first.setdefault(row[column], row)
    return first


def unstored_posts(client, rows):
    """The rows of `rows` (posts columns) whose post is not in `posts` yet, one per post_id."""
    first = _first_per_post(rows, POST_ID)
    if not first:
        return []
    days = tuple(sorted({row[DAY] for row in first.values()}))
    stored = {post_id for (post_id,) in client.execute(
        STORED_POSTS, {"days": days}, external_tables=batch_posts(first))}
    return [row for post_id, row in first.items() if post_id not in stored]


def unstored_deletions(client, rows):
    """The same for post_deletions: one row per deleted post, so posts/stats counts a
    period's deleted posts per author with count()."""
    first = _first_per_post(rows, DELETED_POST_ID)
    if not first:
        return []
    stored = {post_id for (post_id,) in client.execute(
        STORED_DELETIONS, {}, external_tables=batch_posts(first))}
    return [row for post_id, row in first.items() if post_id not in stored]
